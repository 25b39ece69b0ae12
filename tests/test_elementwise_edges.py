"""Edges of the elementwise functions: NumPy's special values on both targets,
the kink and domain-edge conventions, the zero-sign flags, readable output,
the math module on traced scalars, and logic on booleans only."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symgrad
from symgrad import TraceError, ops
from tests.test_targets import PAIRS, SPECIAL, assert_agree, both

INF, NAN = math.inf, math.nan
EXTRA = [0.3, 0.65, 1.5, -0.5, 2.5, 1e-310, -7.5]

UNARY_FUNCTIONS = {
    "tan": np.tan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "arcsinh": np.arcsinh,
    "arccosh": np.arccosh,
    "arctanh": np.arctanh,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "exp2": np.exp2,
    "cbrt": np.cbrt,
    "rounding": lambda a: np.floor(a) + np.ceil(a) * np.rint(a) - np.trunc(a),
    "round": lambda a: np.round(a, 2) + np.round(a, -1),
    "nan_to_num": lambda a: np.nan_to_num(a) * 1e-300,
    "tests": lambda a: np.where(np.isnan(a) | np.isinf(a), 1.0, a)
    + np.where(np.isfinite(a), a, 2.0),
    "sinc": np.sinc,
    "clip": lambda a: np.clip(a, -1.0, 2.0),
}

BINARY_FUNCTIONS = {
    "arctan2": np.arctan2,
    "hypot": np.hypot,
    "logaddexp": np.logaddexp,
    "logaddexp2": np.logaddexp2,
    "remainder": lambda a, b: a % b,
    "floor_divide": lambda a, b: a // b,
    "fmod": np.fmod,
    "copysign": np.copysign,
    "heaviside": np.heaviside,
    "power_zero": lambda a, b: a ** (b * 0.0),
    "logic": lambda a, b: np.where(
        np.logical_and(a, b) | np.logical_xor(a > b, ~(b < 0.5)), 1.0, 0.0
    ),
}


@pytest.mark.parametrize("name", sorted(UNARY_FUNCTIONS))
def test_unary_special_values_agree(name):
    fn = UNARY_FUNCTIONS[name]
    values = np.array(SPECIAL + EXTRA)
    python, numpy = both(lambda v: fn(v).sum(), (values,), 0)
    assert_agree(python, numpy)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(python[0], fn(values).sum())


@pytest.mark.parametrize("name", sorted(BINARY_FUNCTIONS))
def test_binary_special_values_agree(name):
    fn = BINARY_FUNCTIONS[name]
    grid = np.array(PAIRS + [-3.5, 7.0])
    python, numpy = both(lambda u, v: fn(u, v).sum(), (grid[:, None], grid), (0, 1))
    assert_agree(python, numpy)


def test_remainder_with_a_literal_divisor_and_ints():
    # Python's own % and // on a nonzero literal; integers stay integers.
    grid = np.array(PAIRS + [-3.5, 7.0])
    for fn in (lambda a: (a % 2.5).sum(), lambda a: (a // -0.75).sum()):
        assert_agree(*both(fn, (grid,), 0))
    ints = np.array([-7, -1, 0, 3, 8])

    def f(x, k):
        return (x * (k % 3) + x * (k // -2) + x * np.fmod(k, 3)).sum()

    for target in ("numpy", "python"):
        g = symgrad.grad(f, target=target)(np.ones(5), ints)
        np.testing.assert_array_equal(g, ints % 3 + ints // -2 + np.fmod(ints, 3))
    with np.errstate(all="ignore"):
        zero = np.zeros(5, dtype=int)
        expect = ints % zero + ints // zero + np.fmod(ints, zero)
    for target in ("numpy", "python"):
        g = symgrad.grad(
            lambda x, k, z: (x * (k % z + k // z + np.fmod(k, z))).sum(),
            target=target,
        )
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(g(np.ones(5), ints, zero), expect)


# ------------------------------------------------------------------ kinks


def _grad(f, *args, target="numpy", argnums=0):
    return symgrad.grad(f, argnums=argnums, target=target)(*args)


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_power_zero_exponent_has_gradient_zero(target):
    # d/dx x**0.0 is 0 everywhere, also at x = 0 (autograd and PyTorch agree).
    assert _grad(lambda x: x**0.0, 0.0, target=target) == 0.0
    xs = np.array([0.0, -0.0, 2.0, -3.0, INF, NAN])
    g = _grad(lambda x: (x**0.0).sum(), xs, target=target)
    np.testing.assert_array_equal(g, np.zeros(6))
    # A traced exponent that is 0: the same; other values keep b * a**(b-1).
    gx, gy = _grad(lambda x, y: x**y, 0.0, 0.0, target=target, argnums=(0, 1))
    assert (gx, gy) == (0.0, 0.0)
    assert _grad(lambda x, y: x**y, 0.0, 2.0, target=target) == 0.0
    assert _grad(lambda x, y: x**y, 0.0, 0.5, target=target) == INF
    assert _grad(lambda x: x**0.5, 0.0, target=target) == INF
    assert _grad(lambda x: x**-1.0, 0.0, target=target) == -INF
    assert _grad(lambda x: x**2, -0.0, target=target) == 0.0


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_sinc_at_zero_has_its_taylor_derivatives(target):
    # NumPy's value (exactly 1.0 at 0), and sinc's derivatives there: 0,
    # -pi**2/3 and 0, not those of a constant.
    d1 = symgrad.grad(np.sinc, target=target)
    d2 = symgrad.grad(d1, target=target)
    d3 = symgrad.grad(d2, target=target)
    assert (d1(0.0), d3(0.0)) == (0.0, 0.0)
    assert d2(0.0) == pytest.approx(-(math.pi**2) / 3, rel=1e-12)
    # The value is NumPy's, bit for bit (the sign of a zero included).
    xs = np.array([0.0, -0.0, 1e-300, 0.25, -3.0, INF, NAN])
    value, _ = symgrad.jvp(np.sinc, (xs,), (np.zeros(7),), target=target)
    with np.errstate(invalid="ignore"):  # sin(inf)
        expected = np.sinc(xs)
    np.testing.assert_array_equal(np.asarray(value), expected)
    finite = np.isfinite(xs)
    assert np.array_equal(np.signbit(value)[finite], np.signbit(expected)[finite])


def test_constant_exponent_keeps_its_plain_gradient_code():
    source = symgrad.compile(lambda x: x**3, 2.0).source
    assert "where" not in source


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_kinks_and_edges(target):
    # hypot at the origin: 0 (as abs'(0)).
    g = _grad(lambda a, b: np.hypot(a, b), 0.0, 0.0, target=target, argnums=(0, 1))
    assert g == (0.0, 0.0)
    # sinc at 0: gradient 0 (exact), and the value 1.
    assert _grad(np.sinc, 0.0, target=target) == 0.0
    # x % y: d/dx = 1, d/dy = -(x // y) (NumPy's floor division).
    for x, y in [(5.5, 2.0), (-5.5, 2.0), (5.5, -2.0)]:
        g = _grad(lambda a, b: a % b, x, y, target=target, argnums=(0, 1))
        assert g == (1.0, -(x // y))
        # fmod: d/dy = -trunc(x / y).
        g = _grad(np.fmod, x, y, target=target, argnums=(0, 1))
        assert g == (1.0, -math.trunc(x / y))
    # floor_divide, rounding, sign: zero gradients.
    for fn in (np.floor, np.ceil, np.rint, np.trunc, np.fix, np.round):
        assert _grad(lambda a, f=fn: f(a) + a, 1.7, target=target) == 1.0
    assert _grad(lambda a: a // 0.3 + a, 1.7, target=target) == 1.0
    # clip at a constant bound: no gradient (the strict tie rule of
    # np.maximum(x, c)); half of it under symgrad.tie_rule("split").
    assert _grad(lambda a: np.clip(a, 0.0, 1.0), 1.0, target=target) == 0.0
    with symgrad.tie_rule("split"):
        assert _grad(lambda a: np.clip(a, 0.0, 1.0), 1.0, target=target) == 0.5
    assert _grad(lambda a: np.clip(a, 0.0, 1.0), 0.5, target=target) == 1.0
    # copysign: sign(a) * copysign(1, b), 0 at a = 0.
    assert _grad(lambda a: np.copysign(a, -2.0), 3.0, target=target) == -1.0
    assert _grad(lambda a: np.copysign(a, -2.0), 0.0, target=target) == 0.0
    # nan_to_num: no gradient where the value was replaced.
    g = _grad(
        lambda a: (np.nan_to_num(a) * 2.0).sum(),
        np.array([1.0, INF, NAN, -INF]),
        target=target,
    )
    np.testing.assert_array_equal(g, [2.0, 0.0, 0.0, 0.0])
    # heaviside: the gradient of h at x == 0 only.
    g = _grad(
        lambda x, h: np.heaviside(x, h).sum(),
        np.array([-1.0, 0.0, 1.0]),
        np.array([0.3, 0.3, 0.3]),
        target=target,
        argnums=1,
    )
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_stable_numerics(target):
    # logaddexp of large equal values: finite, half and half.
    g = _grad(lambda a, b: np.logaddexp(a, b), 1e3, 1e3, target=target, argnums=(0, 1))
    assert g == pytest.approx((0.5, 0.5), rel=1e-13)
    # expm1' = exp(x), not expm1(x) + 1 (which is 0 at -40).
    assert _grad(np.expm1, -40.0, target=target) == pytest.approx(
        math.exp(-40.0), rel=1e-14
    )
    # log1p near 0 keeps its digits, and its gradient is 1 / (1 + x).
    value, g = symgrad.value_and_grad(np.log1p, target=target)(1e-20)
    assert value == 1e-20 and g == 1.0
    # arctanh and arccosh near their edges: (1 - x)(1 + x), (x - 1)(x + 1).
    x = 1.0 - 2.0**-30
    assert _grad(np.arctanh, x, target=target) == pytest.approx(
        1.0 / ((1.0 - x) * (1.0 + x)), rel=1e-15
    )
    y = 1.0 + 2.0**-30
    assert _grad(np.arccosh, y, target=target) == pytest.approx(
        1.0 / math.sqrt((y - 1.0) * (y + 1.0)), rel=1e-15
    )


@pytest.mark.parametrize(
    "fn,x,expect",
    [
        (np.arcsin, 2.0, NAN),
        (np.log1p, -1.0, -INF),
        (np.log1p, -2.0, NAN),
        (np.arctanh, 1.0, INF),
        (np.arccosh, 0.5, NAN),
        (np.log2, 0.0, -INF),
        (np.log10, -1.0, NAN),
        (np.tan, INF, NAN),
        (np.sinh, 1e3, INF),
        (np.cosh, -1e3, INF),
        (np.expm1, 1e3, INF),
        (np.cbrt, -8.0, -2.0),
        (lambda x: x % 0.0, 1.0, NAN),
        (lambda x: np.floor_divide(x, 0.0), -1.0, -INF),
    ],
)
def test_python_target_edge_values(fn, x, expect):
    value = symgrad.compile(fn, x, target="python").forward(x)
    np.testing.assert_equal(value, expect)


# ------------------------------------------------------------------ flags


def test_zero_sign_flags_are_true():
    # "no_negative_zero": never -0.0; "zero_sign_from_operands": -0.0 only
    # from a -0.0 operand. Checked on a grid with NumPy's own evaluation.
    grid = np.array(
        [0.0, -0.0, 1e-310, -1e-310, 0.3, -0.3, 1.0, -1.0, 2.0, -2.0, 1e300, INF, -INF]
    )
    from symgrad.ops import OPS

    for name, op in OPS.items():
        zero_flags = {"no_negative_zero", "zero_sign_from_operands"} & op.flags
        if not zero_flags or op.nin not in (1, 2) or "elementwise" not in op.flags:
            continue
        if name == "cast":  # needs a dtype attribute; keeps the value
            continue
        args = [grid] if op.nin == 1 else [grid[:, None], grid[None, :]]
        with np.errstate(all="ignore"):
            out = np.asarray(op.eval(*args), dtype=float)
        negative_zero = (out == 0) & np.signbit(out)
        if "no_negative_zero" in zero_flags:
            assert not negative_zero.any(), name
        else:
            from_operand = np.zeros(out.shape, dtype=bool)
            for a in args:
                from_operand |= np.broadcast_to((a == 0) & np.signbit(a), out.shape)
            assert not (negative_zero & ~from_operand).any(), name


# ------------------------------------------------------------------ output


def test_generated_code_reads_as_written():
    def f(x, y):
        return (
            np.arctan(x) + np.arctan2(y, x) + x % y + np.log1p(x) + np.hypot(x, y)
        ).sum()

    source = symgrad.compile(f, np.ones(3), np.ones(3)).source
    for text in ("np.arctan(x)", "np.arctan2(y, x)", "x % y", "np.log1p(x)"):
        assert text in source
    assert "scipy" not in source
    pure = symgrad.compile(f, np.ones(3), np.ones(3), target="python").source
    assert "math.atan(_x)" in pure and "import numpy" not in pure


# ------------------------------------------------------------------ math


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_math_functions_imported_by_name(target):
    from math import atan2, exp, log

    def f(x, y):
        return exp(x) * log(y, 2) + atan2(x, y) + math.floor(x) + exp(1.0)

    value, (gx, gy) = symgrad.value_and_grad(f, (0, 1), target=target)(0.5, 3.0)
    assert value == pytest.approx(f(0.5, 3.0), rel=1e-14)
    r2 = 0.5**2 + 3.0**2
    assert gx == pytest.approx(math.exp(0.5) * math.log(3.0, 2) + 3.0 / r2, rel=1e-14)
    assert gy == pytest.approx(
        math.exp(0.5) / (3.0 * math.log(2)) - 0.5 / r2, rel=1e-14
    )


def test_math_on_an_array_names_the_numpy_function():
    with pytest.raises(TraceError, match=r"math.exp of an array.*np.exp"):
        symgrad.grad(lambda x: math.exp(x).sum())(np.ones(3))
    with pytest.raises(TraceError, match=r"np.arcsin"):
        symgrad.grad(lambda x: math.asin(x).sum())(np.ones(3))


def test_math_on_plain_numbers_is_untouched():
    def f(x):
        return x * math.exp(2.0) + math.floor(2.7)

    assert symgrad.grad(f)(1.0) == math.exp(2.0)
    assert f(1.0) == math.exp(2.0) + 2


# ------------------------------------------------------------------ logic


def test_logic_on_numbers_and_booleans():
    def f(x):
        m = (x > 0) & (x < 2) | ~(x == 1.0) ^ np.logical_and(x, True)
        return np.where(m | (True & (x > 5)), x * x, x).sum()

    x = np.array([-1.0, 0.0, 0.5, 1.0, 3.0])
    for target in ("numpy", "python"):
        np.testing.assert_allclose(
            symgrad.grad(f, target=target)(x), np.where(_mask(x), 2 * x, 1.0)
        )


def _mask(x):
    m = (x > 0) & (x < 2) | ~(x == 1.0) ^ np.logical_and(x, True)
    return m | (True & (x > 5))


def test_bitwise_operators_on_numbers_are_refused():
    with pytest.raises(TraceError, match=r"& on traced numbers.*logical_and"):
        symgrad.grad(lambda x: (x & 1).sum() * x.sum())(np.ones(2))
    with pytest.raises(TraceError, match=r"~ on traced numbers"):
        symgrad.grad(lambda x: (~x).sum())(np.ones(2))


def test_every_new_ufunc_dispatches():
    for name in (
        "arctan2 hypot logaddexp logaddexp2 remainder mod fmod floor_divide "
        "copysign heaviside float_power divmod logical_and logical_or "
        "logical_xor bitwise_and bitwise_or bitwise_xor"
    ).split():
        assert f"numpy.{name}" in ops.API, name
