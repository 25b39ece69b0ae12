"""micrograd's demo, compiled: a 2-16-16-1 ReLU MLP on the two moons.

This is Karpathy's micrograd demo (demo.ipynb) exactly: the same data, the same
initial weights, the same loss and the same 100 SGD steps, so the compiled
trainer reproduces micrograd's printed losses (step 0: 0.8958441028683222,
step 99: 0.010978370135492717) and reaches 100% accuracy. The only difference
is that the gradient comes from a module symgrad generated, not from a runtime.

Run the whole thing with `symgrad demo`, or compile it yourself:
`symgrad compile examples/moons.py:loss --trainer sgd -o moons_trainer.py`.
"""

import random

import numpy as np

import symgrad

SIZES = (2, 16, 16, 1)


def make_moons(n_samples=100, noise=0.1):
    """scikit-learn's make_moons with the global NumPy RNG, bit for bit."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.append(np.cos(outer), 1 - np.cos(inner)),
            np.append(np.sin(outer), 1 - np.sin(inner) - 0.5),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    np.random.shuffle(order)
    X, y = X[order], y[order]
    X += np.random.normal(scale=noise, size=X.shape)
    return X, y


def init_params(sizes=SIZES):
    """micrograd's MLP initialization: uniform(-1, 1) weights neuron by neuron,
    zero biases, drawn from Python's `random`."""
    params = []
    for nin, nout in zip(sizes[:-1], sizes[1:], strict=True):
        W = np.array([[random.uniform(-1, 1) for _ in range(nin)] for _ in range(nout)])
        params.append((W, np.zeros(nout)))
    return params


def example():
    """The demo's starting point: seeds, data (labels in -1/+1), model."""
    np.random.seed(1337)
    random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y * 2.0 - 1
    return init_params(), X, y


def scores(params, X):
    """The MLP: ReLU on every layer but the last, one score per sample."""
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = symgrad.relu(h)
    return h[:, 0]


@symgrad.export(example=example, predict=scores)
def loss(params, X, y):
    """micrograd's loss: mean hinge loss plus 1e-4 L2 regularization."""
    margins = symgrad.relu(1 + -y * scores(params, X))
    data_loss = margins.sum() * (1.0 / len(margins))
    reg_loss = 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in params)
    return data_loss + reg_loss
