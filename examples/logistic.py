"""Logistic regression in plain NumPy, trained with a generated gradient.

Labels are -1 / +1 and the loss is the mean logistic loss
log(1 + exp(-y * (X @ w + b))) plus a small L2 penalty.

Run it: python examples/logistic.py
"""

import numpy as np

import symgrad


def make_data(n=200, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    true_w = np.array([2.0, -1.0, 0.5])[:d]
    y = np.where(X @ true_w + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


def example():
    X, y = make_data()
    return {"w": np.zeros(X.shape[1]), "b": 0.0}, X, y


@symgrad.export(example=example)
def logistic_loss(params, X, y):
    z = X @ params["w"] + params["b"]
    data = np.log(1 + np.exp(-y * z)).mean()
    return data + 1e-3 * (params["w"] ** 2).sum()


def main(steps=200, lr=0.5):
    params, X, y = example()
    step = symgrad.value_and_grad(logistic_loss)
    for k in range(steps):
        value, grads = step(params, X, y)
        params = {
            "w": params["w"] - lr * grads["w"],
            "b": params["b"] - lr * grads["b"],
        }
        if k % 50 == 0 or k == steps - 1:
            acc = np.mean(np.sign(X @ params["w"] + params["b"]) == y)
            print(f"step {k:3d} loss {value:.6f} accuracy {acc:.1%}")
    print("w =", np.round(params["w"], 3), " b =", round(params["b"], 3))


if __name__ == "__main__":
    main()
