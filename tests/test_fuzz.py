"""Random programs over the op table, checked against finite differences.

A hypothesis strategy builds straight-line programs: a few inputs of shapes
(), (3,) and (2, 3), then up to 30 steps, each applying a primitive (or a
small composite that keeps values in a safe domain) to earlier values, reusing
them freely, with NumPy broadcasting, reductions, matmul and indexing. The
program runs as ordinary NumPy code (the oracle) and through symgrad on both
targets; the value must agree, the targets must agree with each other to
1e-12, and the gradient must match float64 central differences.

The normal suite runs a bounded number of examples; `-m slow` runs many more.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgrad
from tests.oracles import numeric_grad

SHAPES = [(), (3,), (2, 3)]

# name -> (function, shape rule) for one operand; the rule returns the result
# shape or None when the op does not apply to that shape.
UNARY = {
    "neg": (lambda a: -a, lambda s: s),
    "tanh": (np.tanh, lambda s: s),
    "sin": (np.sin, lambda s: s),
    "cos": (np.cos, lambda s: s),
    "sigmoid": (symgrad.sigmoid, lambda s: s),
    "abs": (abs, lambda s: s),
    "relu": (symgrad.relu, lambda s: s),
    "exp_tanh": (lambda a: np.exp(np.tanh(a)), lambda s: s),
    "log1sq": (lambda a: np.log(1.0 + a * a), lambda s: s),
    "sqrt1sq": (lambda a: np.sqrt(1.0 + a**2), lambda s: s),
    "cube": (lambda a: a**3 * 0.1, lambda s: s),
    "sum": (lambda a: np.sum(a), lambda s: ()),
    "mean0": (lambda a: a.mean(axis=0), lambda s: s[1:] if s else None),
    "sum_last": (
        lambda a: a.sum(axis=-1, keepdims=True),
        lambda s: s[:-1] + (1,) if s else None,
    ),
    "T": (lambda a: a.T, lambda s: s[::-1] if len(s) == 2 else None),
    "flat": (lambda a: a.reshape(-1), lambda s: (int(np.prod(s)),) if s else None),
    "row": (lambda a: a[0], lambda s: s[1:] if s else None),
    "tail": (
        lambda a: a[..., 1:],
        lambda s: s[:-1] + (s[-1] - 1,) if s and s[-1] > 1 else None,
    ),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.0 + b * b),
    "pow": lambda a, b: (1.0 + a * a) ** np.tanh(b),
}


def _broadcast(s, t):
    try:
        return np.broadcast_shapes(s, t)
    except ValueError:
        return None


def _matmul_shape(s, t):
    if not s or not t or len(s) > 2 or len(t) > 2:
        return None
    a = s if len(s) == 2 else (1,) + s
    b = t if len(t) == 2 else t + (1,)
    if a[1] != b[0]:
        return None
    return (a[0],) * (len(s) == 2) + (b[1],) * (len(t) == 2)


@st.composite
def programs(draw, max_steps=30):
    n_inputs = draw(st.integers(1, 3))
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(n_inputs)]
    steps = []
    for _ in range(draw(st.integers(1, max_steps))):
        i = draw(st.integers(0, len(shapes) - 1))
        kind = draw(st.sampled_from(["unary", "binary", "matmul"]))
        if kind == "unary":
            name = draw(st.sampled_from(sorted(UNARY)))
            out = UNARY[name][1](shapes[i])
            if out is None:
                continue
            steps.append(("unary", name, i, None))
        else:
            rule = _broadcast if kind == "binary" else _matmul_shape
            partners = [
                j for j, t in enumerate(shapes) if rule(shapes[i], t) is not None
            ]
            if not partners:
                continue
            j = draw(st.sampled_from(partners))
            name = (
                draw(st.sampled_from(sorted(BINARY))) if kind == "binary" else "matmul"
            )
            out = rule(shapes[i], shapes[j])
            steps.append((kind, name, i, j))
        shapes.append(out)
    inputs = [
        draw(
            st.lists(
                st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
                min_size=int(np.prod(s)),
                max_size=int(np.prod(s)),
            )
        )
        for s in shapes[:n_inputs]
    ]
    args = [
        float(v[0]) if s == () else np.array(v).reshape(s)
        for v, s in zip(inputs, shapes[:n_inputs], strict=True)
    ]
    return steps, args


KINKED = ("abs", "relu")


def run(steps, *args, kinks=None):
    """Execute a program on NumPy values or on symgrad tracers alike.

    `kinks`, a list, collects the operands of abs and relu (NumPy runs only)
    so that a check can stay away from points where they are not smooth.
    """
    values = list(args)
    for kind, name, i, j in steps:
        if kind == "unary":
            if kinks is not None and name in KINKED:
                kinks.append(np.abs(values[i]))
            values.append(UNARY[name][0](values[i]))
        elif kind == "binary":
            values.append(BINARY[name](values[i], values[j]))
        else:
            values.append(values[i] @ values[j])
    total = 0.0
    for k, v in enumerate(values):
        total = total + np.sum(v) * (0.5 + 0.1 * k)
    return total


def _check(program, optimize=True):
    steps, args = program
    kinks = []
    with np.errstate(all="ignore"):
        reference = run(steps, *args, kinks=kinks)
    assume(np.isfinite(reference) and abs(reference) < 1e6)
    # Finite differences are meaningless across a kink.
    assume(all(np.min(k) > 1e-4 for k in kinks))

    def loss(*xs):
        return run(steps, *xs)

    argnums = tuple(range(len(args)))
    value, grads = symgrad.value_and_grad(loss, argnums=argnums, optimize=optimize)(
        *args
    )
    # The forward value is the program's own, bit for bit (only gradients
    # may be summed in another order).
    assert value == float(reference)
    # The pure-Python target computes the same program to rounding.
    py_value, py_grads = symgrad.value_and_grad(
        loss, argnums=argnums, optimize=optimize, target="python"
    )(*args)
    assert py_value == pytest.approx(value, rel=1e-12, abs=1e-12)
    # (Its products sum in another order than BLAS; a cosine of a large
    # cube amplifies that rounding in the gradient, hence 1e-9.)
    for ours, theirs in zip(py_grads, grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    fd = numeric_grad(loss, args, argnums)
    scale = max(1.0, max(float(np.max(np.abs(g))) for g in fd))
    # Central differences are only an oracle where they have converged: a
    # step 4 times coarser has 16 times their truncation error, so agreeing
    # with it to 1e-4 bounds theirs well below the tolerance. (A cosine of
    # a cube of thousands oscillates too fast for them.)
    coarse = numeric_grad(loss, args, argnums, step=4e-6)
    for a, b in zip(coarse, fd, strict=True):
        assume(np.allclose(a, b, rtol=1e-4, atol=1e-5 * scale))
    for ours, theirs in zip(grads, fd, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6 * scale)


FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@FAST
@given(programs())
def test_random_programs_match_finite_differences(program):
    _check(program)


@FAST
@given(programs(max_steps=12))
def test_random_programs_unoptimized(program):
    _check(program, optimize=False)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs(max_steps=60))
def test_random_programs_long_run(program):
    _check(program)
