"""The lecture's neuron and MLP as Karpathy writes them: Python floats,
`math.exp` / `math.tanh`, classes with `__call__`.

The neuron gives the lecture's numbers; the MLP gives the numbers of
examples/lecture_mlp.py (the same network with np.tanh) and of running the
code itself as plain Python.
"""

from __future__ import annotations

import math
import os
import sys

import pytest

import symgrad
from symgrad import ops
from tests.oracles import assert_close

pytestmark = pytest.mark.skipif(
    "math.exp" not in ops.API or "math.tanh" not in ops.API,
    reason="needs the math.* entries of the op table",
)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import lecture_mlp  # noqa: E402

TARGETS = ("numpy", "python")
B = 6.8813735870195432


def neuron_exp(x1, x2, w1, w2, b):
    n = x1 * w1 + x2 * w2 + b
    e = math.exp(2 * n)
    return (e - 1) / (e + 1)


def neuron_tanh(x1, x2, w1, w2, b):
    return math.tanh(x1 * w1 + x2 * w2 + b)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("neuron", [neuron_exp, neuron_tanh])
def test_lecture_neuron_with_math(neuron, target):
    value, grads = symgrad.value_and_grad(neuron, argnums=(0, 1, 2, 3), target=target)(
        2.0, 0.0, -3.0, 1.0, B
    )
    assert value == pytest.approx(math.sqrt(0.5), rel=1e-9)
    for got, want in zip(grads, (-1.5, 0.5, 1.0, 0.0), strict=True):
        assert got == pytest.approx(want, abs=1e-9)


class Neuron:
    def __init__(self, w, b):
        self.w = w
        self.b = b

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return math.tanh(act)


class Layer:
    def __init__(self, neurons):
        self.neurons = neurons

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs


class MLP:
    def __init__(self, params):
        self.layers = [Layer([Neuron(w, b) for w, b in layer]) for layer in params]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def loss(params, xs, ys):
    model = MLP(params)
    ypred = [model(x) for x in xs]
    return sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True))


@pytest.mark.parametrize("target", TARGETS)
def test_lecture_mlp_with_math_and_classes(target):
    params = lecture_mlp.init_params()
    xs, ys = lecture_mlp.xs, lecture_mlp.ys
    value, grads = symgrad.value_and_grad(loss, target=target)(params, xs, ys)
    assert value == pytest.approx(loss(params, xs, ys), rel=1e-12)
    ref_value, ref_grads = symgrad.value_and_grad(lecture_mlp.loss, target=target)(
        params, xs, ys
    )
    assert value == pytest.approx(ref_value, rel=1e-12)
    flat = [g for layer in grads for ws, b in layer for g in [*ws, b]]
    ref = [g for layer in ref_grads for ws, b in layer for g in [*ws, b]]
    assert_close(flat, ref, rtol=1e-10, atol=1e-12)


def test_lecture_mlp_trains():
    params = lecture_mlp.init_params()
    xs, ys = lecture_mlp.xs, lecture_mlp.ys
    step = symgrad.value_and_grad(loss)
    first = None
    for _ in range(20):
        value, grads = step(params, xs, ys)
        first = value if first is None else first
        params = [
            [
                ([w - 0.1 * gw for w, gw in zip(ws, gws, strict=True)], b - 0.1 * gb)
                for (ws, b), (gws, gb) in zip(layer, glayer, strict=True)
            ]
            for layer, glayer in zip(params, grads, strict=True)
        ]
    assert value < first / 2
    assert len(step._cache) == 1
