"""The NumPy and pure-Python targets agree.

Every op row (value and gradient) to 1e-12 relative, and every elementwise
primitive on the values where Python's math module raises and NumPy does not
(overflow, log(0), 1/0, inf, nan): the Python target must give NumPy's values
and never raise. For scalar arguments the oracle is the reference interpreter
(`ops.evaluate`) on 1-element arrays: the NumPy target binds scalars as Python
floats, so it raises on some of these inputs itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import symgrad
from symgrad import ir
from symgrad.api import build_program
from symgrad.errors import SymgradError
from symgrad.ops import evaluate
from tests.test_ops import ROWS, _cases, _setup

RTOL = 1e-12


def assert_agree(python, numpy):
    """Same structure and types as documented, same numbers to RTOL (nan == nan)."""
    if isinstance(numpy, tuple):
        assert isinstance(python, tuple) and len(python) == len(numpy)
        for p, n in zip(python, numpy, strict=True):
            assert_agree(p, n)
        return
    if np.ndim(numpy) == 0:
        assert type(python) is float
    else:
        assert type(python) is list
    np.testing.assert_allclose(
        np.asarray(python, dtype=float), numpy, rtol=RTOL, atol=0, equal_nan=True
    )


def both(fun, args, argnums):
    out = {}
    for target in ("numpy", "python"):
        f = symgrad.value_and_grad(fun, argnums=argnums, target=target)
        with np.errstate(all="ignore"):
            out[target] = f(*args)
    return out["python"], out["numpy"]


def reference(fun, args, argnums):
    """(value, gradients) from the reference interpreter, as NumPy computes them.

    Each scalar becomes a 1-element array: NumPy's scalar and array code paths
    differ at a few points (np.power(-inf, 0.5) is nan for a scalar and inf,
    as C99 says, for an array), and the NumPy target computes on arrays.
    """
    arrays = [np.array([a], dtype=float) for a in args]
    with ir.scope():
        program = build_program(lambda *v: fun(*v).sum(), arrays, argnums)
        value, *grads = evaluate(program.grad_graph(), arrays)
    grads = tuple(float(g[0]) for g in grads)
    return float(value), grads if isinstance(argnums, tuple) else grads[0]


@pytest.mark.parametrize("name,shapes", list(_cases()))
def test_targets_agree_on_every_op_row(name, shapes):
    _, args, loss = _setup(name, shapes, seed=3)
    if "python" not in ROWS[name].targets:
        # The pure-Python target refuses when it generates the module, and
        # says which function and what to do.
        with pytest.raises(SymgradError, match='pure-Python target.*target="numpy"'):
            symgrad.value_and_grad(loss, tuple(range(len(args))), target="python")(
                *args
            )
        return
    python, numpy = both(loss, args, tuple(range(len(args))))
    assert_agree(python, numpy)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_targets_agree_with_passes_off(name):
    if "python" not in ROWS[name].targets:
        pytest.skip(f"{name} is not implemented on the python target")
    # Unsimplified graphs keep identity reshapes and broadcasts of scalars.
    _, args, loss = _setup(name, ROWS[name].shapes[0], seed=4)
    argnums = tuple(range(len(args)))
    out = [
        symgrad.value_and_grad(loss, argnums, target=t, optimize=False)(*args)
        for t in ("python", "numpy")
    ]
    assert_agree(*out)


# ------------------------------------------------------------------ special values

INF, NAN = math.inf, math.nan
SPECIAL = [0.0, -0.0, 0.5, -1.0, 2.0, -3.0, 800.0, -800.0, 1e300, INF, -INF, NAN]
PAIRS = [0.0, -0.0, 1.0, -2.0, 0.5, 3.0, 1e300, INF, -INF, NAN]

UNARY = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": lambda a: np.sign(a) * a,
    "neg": lambda a: -a,
    "relu": symgrad.relu,
    "sigmoid": symgrad.sigmoid,
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "root": lambda a: a**0.5,
    "inverse": lambda a: 1.0 / a,
    "rpow": lambda a: 2.0**a,
    "rpow_neg": lambda a: (-2.0) ** a,
    "maximum_0": lambda a: np.maximum(a, 0.0),
    "minimum_0": lambda a: np.minimum(0.0, a),
    "where": lambda a: np.where(a > 0.5, a, -a),
}

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "compare": lambda a, b: np.where(a <= b, 1.0, 0.0) + np.where(a == b, a, b),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_special_values(name):
    fn = UNARY[name]
    scalar = symgrad.value_and_grad(fn, target="python")
    for x in SPECIAL:
        assert_agree(scalar(x), reference(fn, (x,), 0))
    # Arrays: the gradient shows every element's derivative.
    python, numpy = both(lambda v: fn(v).sum(), (np.array(SPECIAL),), 0)
    assert_agree(python, numpy)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_special_values(name):
    fn = BINARY[name]
    scalar = symgrad.value_and_grad(fn, (0, 1), target="python")
    for a in PAIRS:
        for b in PAIRS:
            assert_agree(scalar(a, b), reference(fn, (a, b), (0, 1)))
    # Arrays, broadcast against each other.
    grid = np.array(PAIRS)
    python, numpy = both(lambda u, v: fn(u, v).sum(), (grid[:, None], grid), (0, 1))
    assert_agree(python, numpy)


@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
def test_reductions_propagate_nan_and_inf(reduction):
    def fn(a):
        return getattr(np, reduction)(a, axis=0).sum() + getattr(a, reduction)()

    for column in ([1.0, NAN, 3.0], [NAN, 1.0, 2.0], [INF, 1.0, -INF], [2.0, 2.0, 1.0]):
        x = np.array([column, [0.0, 1.0, 2.0]]).T
        python, numpy = both(fn, (x,), 0)
        assert_agree(python, numpy)
