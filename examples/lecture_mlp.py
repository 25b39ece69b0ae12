"""The MLP from Karpathy's micrograd lecture, written micrograd-style.

MLP(3, [4, 4, 1]) with tanh on every layer, as plain Python lists of floats
and loops, fitted to the lecture's four points with a squared-error loss. No
arrays anywhere: symgrad unrolls the loops into one scalar operation per line.

Run it: python examples/lecture_mlp.py
"""

import random

import numpy as np

import symgrad

xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
ys = [1.0, -1.0, -1.0, 1.0]


def init_params(sizes=(3, 4, 4, 1), seed=1337):
    """Layers of neurons; a neuron is (weights, bias), all Python floats."""
    rng = random.Random(seed)
    return [
        [
            ([rng.uniform(-1, 1) for _ in range(nin)], rng.uniform(-1, 1))
            for _ in range(nout)
        ]
        for nin, nout in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def mlp(params, x):
    for layer in params:
        x = [
            np.tanh(sum(wi * xi for wi, xi in zip(w, x, strict=True)) + b)
            for w, b in layer
        ]
    return x[0]


@symgrad.export(example=lambda: (init_params(), xs, ys))
def loss(params, xs, ys):
    ypred = [mlp(params, x) for x in xs]
    return sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True))


def main(steps=20, lr=0.1):
    params = init_params()
    step = symgrad.value_and_grad(loss)
    for k in range(steps):
        value, grads = step(params, xs, ys)
        params = [
            [
                ([w - lr * gw for w, gw in zip(ws, gws, strict=True)], b - lr * gb)
                for (ws, b), (gws, gb) in zip(layer, glayer, strict=True)
            ]
            for layer, glayer in zip(params, grads, strict=True)
        ]
        print(f"step {k:2d} loss {value:.6f}")
    print("predictions:", [round(float(mlp(params, x)), 3) for x in xs], "targets:", ys)


if __name__ == "__main__":
    main()
