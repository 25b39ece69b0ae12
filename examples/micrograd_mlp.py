"""micrograd's MLP demo written the micrograd way: lists of floats, one
`np.tanh` per neuron, Python loops; symgrad unrolls it into straight-line
scalar code with its gradient.

Run it: python examples/micrograd_mlp.py
It trains MLP(3, [4, 4, 1]) on the four examples of micrograd's README and
prints the loss, the predictions, and the size of the generated functions.
"""

import random

import numpy as np

import symgrad

# micrograd's README data set: four inputs and their targets.
XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]
SIZES = [3, 4, 4, 1]


def init(seed=0):
    """Per layer, per neuron: ([weights], bias), uniform in [-1, 1]."""
    rng = random.Random(seed)
    return [
        [
            ([rng.uniform(-1, 1) for _ in range(nin)], rng.uniform(-1, 1))
            for _ in range(nout)
        ]
        for nin, nout in zip(SIZES[:-1], SIZES[1:], strict=True)
    ]


def neuron(params, x):
    w, b = params
    act = sum((wi * xi for wi, xi in zip(w, x, strict=True)), b)
    return np.tanh(act)


def mlp(layers, x):
    for layer in layers:
        x = [neuron(n, x) for n in layer]
    return x[0]


def loss(layers, xs, ys):
    return sum((mlp(layers, x) - y) ** 2 for x, y in zip(xs, ys, strict=True))


EXAMPLE = (init(), XS, YS)


def main(steps=20, lr=0.05):
    layers = init()
    step = symgrad.value_and_grad(loss)
    for k in range(steps):
        value, grads = step(layers, XS, YS)
        layers = [
            [
                ([w - lr * gw for w, gw in zip(ws, gws, strict=True)], b - lr * gb)
                for (ws, b), (gws, gb) in zip(layer, glayer, strict=True)
            ]
            for layer, glayer in zip(layers, grads, strict=True)
        ]
        print(f"step {k:2d} loss {value:.6f}")
    print("predictions", [round(float(mlp(layers, x)), 3) for x in XS])
    stats = step.compiled.stats
    print(
        f"forward: {stats['forward_ops']} ops, value_and_grad: "
        f"{stats['value_and_grad_ops']} ops "
        f"({stats['value_and_grad_ops'] / stats['forward_ops']:.2f}x)"
    )


if __name__ == "__main__":
    main()
