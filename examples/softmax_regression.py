"""Softmax regression with the cross-entropy written as people write it.

The loss picks each sample's log-probability with advanced indexing,
`log_probs[np.arange(n), y]`, after a `scipy.special.logsumexp`-style
normalization written with NumPy. The labels `y` are an integer array: they
stay an input of the generated module (never baked in), and the gradient of
the indexing is a scatter-add (`np.add.at`).

Run it: python examples/softmax_regression.py
"""

import numpy as np

import symgrad


def make_data(n=150, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(k, d))
    y = rng.integers(0, k, size=n)
    X = centers[y] + rng.normal(size=(n, d))
    return X, y


def example():
    X, y = make_data()
    return {"W": np.zeros((X.shape[1], 3)), "b": np.zeros(3)}, X, y


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@symgrad.export(example=example)
def cross_entropy(params, X, y):
    log_probs = log_softmax(X @ params["W"] + params["b"])
    n = X.shape[0]
    nll = -log_probs[np.arange(n), y].mean()
    return nll + 1e-3 * np.sum(params["W"] ** 2)


def main(steps=100, lr=0.5):
    params, X, y = example()
    step = symgrad.value_and_grad(cross_entropy)
    for k in range(steps):
        value, grads = step(params, X, y)
        params = {key: params[key] - lr * grads[key] for key in params}
        if k % 25 == 0 or k == steps - 1:
            pred = np.argmax(X @ params["W"] + params["b"], axis=1)
            print(f"step {k:3d} loss {value:.6f} accuracy {np.mean(pred == y):.1%}")


if __name__ == "__main__":
    main()
