"""Compiled.stats: time per stage, operation counts, and the cheap-gradient
bound (value_and_grad costs at most 3x the forward) on the examples."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

import symgrad
from symgrad.cli.load import load_function

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


STAGES = ("trace_s", "differentiate_s", "passes_s", "codegen_s", "format_s")


def test_stats_has_every_stage_and_both_op_counts():
    c = symgrad.compile(lambda x, y: x * y + np.tanh(x), 1.0, 2.0, argnums=(0, 1))
    for key in STAGES:
        assert c.stats[key] >= 0.0, key
    assert "load_s" not in c.stats  # the module loads on first use
    c.value_and_grad(1.0, 2.0)
    assert c.stats["load_s"] >= 0.0
    # forward: x*y, tanh(x), +. Backward (the seed 1.0 folds away): y's
    # gradient is x itself; x's is y + (1 - t*t), three ops.
    assert c.stats["forward_ops"] == 3
    assert c.stats["value_and_grad_ops"] == 6


def test_op_counts_are_the_statements_emitted():
    def f(x, y):
        return np.sin(x) * y - x

    c = symgrad.compile(f, 0.5, 2.0, argnums=(0, 1))

    def body(fn):
        text = c.source.split(f"def {fn}(")[1].split("\n\n\ndef ")[0]
        lines = [ln.strip() for ln in text.splitlines()[2:]]
        return [ln for ln in lines if " = " in ln and "_arguments(" not in ln]

    # The forward pass is written once, in _forward, which both call.
    shared = [ln for ln in body("_forward") if "_forward(" not in ln]
    own = [ln for ln in body("value_and_grad") if "_forward(" not in ln]
    assert len(shared) == c.stats["forward_ops"]
    assert len(shared) + len(own) == c.stats["value_and_grad_ops"]


def test_counts_without_optimization():
    c = symgrad.compile(lambda x: x * 1.0 + 0.0, 2.0, optimize=False)
    assert c.stats["forward_ops"] == 2
    assert symgrad.compile(lambda x: x * 1.0 - 0.0, 2.0).stats["forward_ops"] == 0


def _ratio(c):
    return c.stats["value_and_grad_ops"] / c.stats["forward_ops"]


EXAMPLES = [
    "neuron.py:neuron",
    "mlp.py:mlp_loss",
    "lecture_mlp.py:loss",
    "projectile.py:flight_range",
    "logistic.py:logistic_loss",
    "moons.py:loss",
]


@pytest.mark.parametrize("spec", EXAMPLES)
def test_cheap_gradient_bound_on_the_examples(spec):
    fun, record = load_function(os.path.join(ROOT, "examples", spec))
    c = symgrad.compile(fun, *record.example_args(), argnums=record.argnums)
    assert c.stats["value_and_grad_ops"] <= 3 * c.stats["forward_ops"], _ratio(c)


def _scalar_mlp(params, xs, ys):
    # micrograd-style: lists of Python floats, np.tanh on scalars, loops.
    loss = 0.0
    for x, y in zip(xs, ys, strict=True):
        h = x
        for layer in params:
            h = [
                np.tanh(sum(w * v for w, v in zip(ws, h, strict=True)) + b)
                for ws, b in layer
            ]
        loss = loss + (h[0] - y) ** 2
    return loss / len(xs)


@pytest.mark.parametrize("sizes", [[2, 3, 1], [3, 8, 8, 1], [4, 16, 16, 1]])
def test_cheap_gradient_bound_on_an_unrolled_scalar_mlp(sizes):
    rng = random.Random(len(sizes))
    params = [
        [([rng.uniform(-1, 1) for _ in range(i)], rng.uniform(-1, 1)) for _ in range(o)]
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    xs = [[rng.uniform(-1, 1) for _ in range(sizes[0])] for _ in range(4)]
    ys = [rng.choice([-1.0, 1.0]) for _ in xs]
    c = symgrad.compile(_scalar_mlp, params, xs, ys)
    assert c.stats["value_and_grad_ops"] <= 3 * c.stats["forward_ops"], _ratio(c)
    # and the gradient is right: one weight against central differences
    value, grads = c.value_and_grad(params, xs, ys)
    h = 1e-6
    bumped = [[(list(ws), b) for ws, b in layer] for layer in params]
    bumped[0][0][0][0] += h
    up = _scalar_mlp(bumped, xs, ys)
    bumped[0][0][0][0] -= 2 * h
    down = _scalar_mlp(bumped, xs, ys)
    assert grads[0][0][0][0] == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_the_benchmark_scripts_run():
    # Tiny sizes: this checks the scripts work, not how fast anything is.
    from symgrad.bench import swell

    row = swell.measure(1, 2)
    assert row["max_rel_diff"] < 1e-12
    assert row["ours_grad_ops"] <= 3 * row["ours_forward_ops"]
