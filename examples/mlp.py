"""A two-layer ReLU MLP with a hinge loss, written in plain NumPy, trained with
the gradient module symgrad generates from it.

Run it: python examples/mlp.py
"""

import numpy as np

import symgrad


def make_problem(n=64, seed=0):
    """Two interleaved clusters labelled -1 / +1, and a small random MLP."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    sizes = [2, 16, 16, 1]
    params = [
        (rng.uniform(-1, 1, size=(o, i)), np.zeros(o))
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    return params, X, y


@symgrad.export(example=make_problem)
def mlp_loss(params, X, y):
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
    score = h[:, 0]
    data_loss = np.maximum(1 - y * score, 0).mean()
    reg_loss = 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in params)
    return data_loss + reg_loss


EXAMPLE = make_problem()


def main(steps=100):
    params, X, y = make_problem()
    step = symgrad.value_and_grad(mlp_loss)
    for k in range(steps):
        loss, grads = step(params, X, y)
        lr = 1.0 - 0.9 * k / steps
        params = [
            (W - lr * gW, b - lr * gb)
            for (W, b), (gW, gb) in zip(params, grads, strict=True)
        ]
        if k % 10 == 0 or k == steps - 1:
            acc = np.mean((forward_scores(params, X) > 0) == (y > 0))
            print(f"step {k:3d} loss {loss:.6f} accuracy {acc:.0%}")


def forward_scores(params, X):
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
    return h[:, 0]


if __name__ == "__main__":
    main()
