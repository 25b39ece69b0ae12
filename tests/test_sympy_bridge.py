"""The SymPy bridge: our symbolic gradients equal sympy.diff, and from_sympy
agrees with sympy.diff + lambdify."""

from __future__ import annotations

import random
import sys
import traceback

import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad import ir
from symgrad.codegen import generate
from tests.test_codegen import run_isolated

# name -> (function on traced scalars, the same in SymPy, arguments)
FUNCTIONS = {
    "mul": (lambda x, y: x * y, lambda x, y: x * y, (0.5, 1.5)),
    "cube": (lambda x, y: x**3 * y, lambda x, y: x**3 * y, (0.5, 1.5)),
    "div": (lambda x, y: x / y - y / x, lambda x, y: x / y - y / x, (0.5, 1.5)),
    "trig": (
        lambda x, y: np.sin(x) * np.cos(y),
        lambda x, y: sp.sin(x) * sp.cos(y),
        (0.5, 1.5),
    ),
    "exp_log": (
        lambda x, y: np.exp(x * y) + np.log(x) * y,
        lambda x, y: sp.exp(x * y) + sp.log(x) * y,
        (0.5, 1.5),
    ),
    "tanh": (
        lambda x, y: x * np.tanh(y) + np.tanh(x * x),
        lambda x, y: x * sp.tanh(y) + sp.tanh(x * x),
        (0.5, 1.5),
    ),
    "sqrt": (
        lambda x, y: np.sqrt(x) * y + np.sqrt(x * y),
        lambda x, y: sp.sqrt(x) * y + sp.sqrt(x * y),
        (0.5, 1.5),
    ),
    "sigmoid": (
        lambda x, y: symgrad.sigmoid(x * y),
        lambda x, y: 1 / (1 + sp.exp(-x * y)),
        (0.5, 1.5),
    ),
    "powers": (
        lambda x, y: x**2.5 * y + y**-2.0,
        lambda x, y: x ** sp.Rational(5, 2) * y + y**-2,
        (0.5, 1.5),
    ),
    "rational": (
        lambda x, y: (x * x + 1.0) / (y * y + 2.0) - 0.5 * x,
        lambda x, y: (x * x + 1) / (y * y + 2) - x / 2,
        (0.5, 1.5),
    ),
    "neuron": (
        lambda x, y: (x * -3.0 + y * 1.0 + 6.5).tanh(),
        lambda x, y: sp.tanh(-3 * x + y + sp.Rational(13, 2)),
        (2.0, 0.0),
    ),
    "reuse": (
        lambda x, y: (x * y).tanh() * (x * y).exp() - np.sin(x) ** 2,
        lambda x, y: sp.tanh(x * y) * sp.exp(x * y) - sp.sin(x) ** 2,
        (0.5, 1.5),
    ),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradients_equal_sympy_diff(name):
    fun, reference, args = FUNCTIONS[name]
    c = symgrad.compile(fun, *args, argnums=(0, 1))
    value, grads = c.to_sympy()
    x, y = sp.symbols("x y")
    assert value.free_symbols <= {x, y}
    assert sp.simplify(value - reference(x, y)) == 0
    assert isinstance(grads, tuple) and len(grads) == 2
    for g, s in zip(grads, (x, y), strict=True):
        assert sp.simplify(g - sp.diff(value, s)) == 0


def test_abs_with_real_symbols():
    c = symgrad.compile(lambda x: np.abs(x) * x, -1.5)
    value, grad = c.to_sympy(real=True)
    (x,) = value.free_symbols
    assert x.is_real
    assert sp.simplify(grad - sp.diff(value, x)) == 0


def test_gradient_structure_follows_argnums_and_pytrees():
    c = symgrad.compile(lambda x, y: x * y, 1.0, 2.0)
    value, grad = c.to_sympy()
    x, y = sp.symbols("x y")
    assert grad == y  # an int argnums: one expression, not a tuple

    def f(params, scale):
        a, (b, c) = params
        return (a * b + c) * scale

    compiled = symgrad.compile(f, [1.0, (2.0, 3.0)], 0.5)
    value, grad = compiled.to_sympy()
    names = sorted(str(s) for s in value.free_symbols)
    assert names == ["params_0", "params_1_0", "params_1_1", "scale"]
    a, b, c, scale = sp.symbols("params_0 params_1_0 params_1_1 scale")
    assert isinstance(grad, list) and isinstance(grad[1], tuple)
    assert grad[0] == sp.diff(value, a) and grad[1][1] == sp.diff(value, c)


def test_where_and_maximum_become_piecewise_and_max():
    def f(x, y):
        return np.where(x > y, x * y, y) + np.maximum(x, 0.0)

    c = symgrad.compile(f, 0.5, 1.5, argnums=(0, 1))
    value, grads = c.to_sympy()
    x, y = sp.symbols("x y")
    assert value.has(sp.Piecewise) and value.has(sp.Max)
    # Away from the kinks, ours and SymPy's derivative agree.
    for point in ((0.5, 1.5), (2.0, 1.0), (-1.0, -3.0)):
        at = dict(zip((x, y), point, strict=True))
        for g, s in zip(grads, (x, y), strict=True):
            assert float(g.subs(at)) == pytest.approx(float(sp.diff(value, s).subs(at)))


def test_to_sympy_needs_scalars():
    c = symgrad.compile(lambda v: np.sum(v * v), np.ones(3))
    with pytest.raises(symgrad.SymgradError, match="scalars only"):
        c.to_sympy()


def test_latex_shows_value_and_partials():
    c = symgrad.compile(lambda x, y: x * np.tanh(y), 0.5, 1.5, argnums=(0, 1))
    text = c.latex()
    assert text.startswith("f = ") and "\\tanh" in text
    assert "\\frac{\\partial" in text and "\\partial x}" in text
    assert "\\partial y}" in text


# ------------------------------------------------------------------ from_sympy

x, y, z = sp.symbols("x y z", real=True)
EXPRESSIONS = [
    x * y + z,
    x**3 / y - sp.sqrt(z) + 1 / sp.sqrt(x),
    sp.exp(-x * y) * sp.sin(z) + sp.cos(x) ** 2,
    sp.tanh(x * y + z) ** 2 - sp.log(z) / x,
    x**y + 2**z - sp.pi * x / y**2,
    sp.Abs(x - z) + sp.sign(y) * x,
    sp.Max(x, y, 0) + sp.Min(y, z),
    sp.Piecewise((x**2, x > y), (y * z, sp.Le(z, 1)), (z, True)),
    (x - y) ** 2 / 2 + sp.Rational(1, 3) * z,
]
POINTS = [(0.7, 1.3, 0.4), (1.9, 0.2, 2.5), (0.3, 0.9, 0.6)]


# sympy.diff of sign, Max and Min gives DiracDelta and Heaviside, which
# lambdify's NumPy printer leaves undefined; the points below avoid the kinks.
_KINKS = {
    "DiracDelta": lambda *a: 0.0,
    "Heaviside": lambda a, h0=0.5: np.heaviside(a, h0),
}


def _sympy_reference(expr, wrt):
    derivatives = [expr] + [sp.diff(expr, s) for s in wrt]
    return sp.lambdify(wrt, derivatives, modules=[_KINKS, "numpy"])


@pytest.mark.parametrize("index", range(len(EXPRESSIONS)))
def test_from_sympy_agrees_with_sympy_diff_and_lambdify(index):
    expr = EXPRESSIONS[index]
    wrt = [x, y, z]
    c = symgrad.from_sympy(expr, wrt)
    reference = _sympy_reference(expr, wrt)
    for point in POINTS:
        value, grads = c.value_and_grad(*point)
        assert isinstance(value, float) and isinstance(grads, tuple)
        want = reference(*point)
        np.testing.assert_allclose(value, float(want[0]), rtol=1e-12)
        np.testing.assert_allclose(grads, [float(w) for w in want[1:]], rtol=1e-12)


def _mlp_loss(hidden, samples, seed=0):
    """A 2 -> hidden -> 1 tanh MLP's squared loss, weights as symbols."""
    rng = random.Random(seed)
    w1 = [[sp.Symbol(f"w1_{i}_{j}") for j in range(2)] for i in range(hidden)]
    b1 = [sp.Symbol(f"b1_{i}") for i in range(hidden)]
    w2 = [sp.Symbol(f"w2_{i}") for i in range(hidden)]
    b2 = sp.Symbol("b2")
    loss = 0
    for _ in range(samples):
        xs = [sp.Float(round(rng.uniform(-1, 1), 3)) for _ in range(2)]
        h = [
            sp.tanh(w1[i][0] * xs[0] + w1[i][1] * xs[1] + b1[i]) for i in range(hidden)
        ]
        out = sp.tanh(sum(w * v for w, v in zip(w2, h, strict=True)) + b2)
        loss += (out - rng.choice([-1, 1])) ** 2
    weights = [s for row in w1 for s in row] + b1 + w2 + [b2]
    return loss / samples, weights


def test_from_sympy_on_a_small_mlp_loss():
    loss, weights = _mlp_loss(hidden=3, samples=2)
    c = symgrad.from_sympy(loss, weights)
    assert c.stats["value_and_grad_ops"] <= 3 * c.stats["forward_ops"]
    reference = _sympy_reference(loss, weights)
    rng = np.random.default_rng(0)
    point = rng.uniform(-1, 1, size=len(weights))
    value, grads = c.value_and_grad(*point)
    want = [float(w) for w in reference(*point)]
    np.testing.assert_allclose(value, want[0], rtol=1e-12)
    np.testing.assert_allclose(grads, want[1:], rtol=1e-12)


def test_from_sympy_round_trips_through_to_sympy():
    expr = sp.exp(x) * sp.tanh(y) + x / y
    c = symgrad.from_sympy(expr, [x, y])
    value, grads = c.to_sympy()
    assert sp.simplify(value - expr) == 0
    for g, s in zip(grads, (x, y), strict=True):
        assert sp.simplify(g - sp.diff(expr, s)) == 0
    # A symbol the expression does not use gets a zero gradient.
    _, (gx, gz) = symgrad.from_sympy(x * 2, [x, z]).value_and_grad(1.0, 5.0)
    assert (gx, gz) == (2.0, 0.0)


def test_from_sympy_errors_say_what_to_do():
    with pytest.raises(symgrad.SymgradError, match="not in wrt"):
        symgrad.from_sympy(x * y, [x])
    with pytest.raises(symgrad.SymgradError, match="does not support besselj"):
        symgrad.from_sympy(sp.besselj(0, x), [x])
    with pytest.raises(symgrad.ArgumentError, match="SymPy symbols"):
        symgrad.from_sympy(x, [x * 2])
    with pytest.raises(symgrad.ArgumentError, match="twice"):
        symgrad.from_sympy(x, [x, x])
    with pytest.raises(symgrad.SymgradError, match="condition"):
        symgrad.from_sympy(x > y, [x, y])


def test_from_sympy_modules_are_black_stable_and_standalone(tmp_path):
    symbols = sp.symbols("alpha_0:25")
    expr = sum(s**2 for s in symbols) * sp.tanh(symbols[0])
    c = symgrad.from_sympy(expr, symbols)
    with ir.scope():
        assert generate(c.program, whole=False) == generate(c.program, whole=True)
    path = c.write(tmp_path / "swell_grad.py")
    args = [0.1 * (i + 1) for i in range(25)]
    out = run_isolated(
        str(path),
        f"""
        import swell_grad
        value, grads = swell_grad.value_and_grad(*{args!r})
        print(repr(value), repr(grads[0]))
        """,
    )
    value, grads = c.value_and_grad(*args)
    assert out.split() == [repr(value), repr(grads[0])]


def test_from_sympy_walks_deep_expressions_without_recursion():
    e = x
    for _ in range(300):
        e = sp.sin(e)
    depth = len(traceback.extract_stack())
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 150)
    try:
        c = symgrad.from_sympy(e, [x])
    finally:
        sys.setrecursionlimit(limit)
    value, (grad,) = c.value_and_grad(0.5)
    v, d = 0.5, 1.0
    for _ in range(300):
        v, d = np.sin(v), d * np.cos(v)
    assert value == pytest.approx(v, rel=1e-12)
    assert grad == pytest.approx(d, rel=1e-9)
