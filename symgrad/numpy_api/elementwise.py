"""NumPy elementwise functions that are compositions: positive, square,
reciprocal, where, dtype conversion (`astype`), exp2, float_power, fabs,
deg2rad/rad2deg, clip, round, fix, sinc, nan_to_num, divmod, and the logical
functions and operators (&, |, ^, ~ on booleans)."""

from __future__ import annotations

import math

import numpy as np

from symgrad import ops
from symgrad.ir.source import fail
from symgrad.numpy_api.args import (
    as_node,
    is_node,
    static_int,
    unsupported,
)
from symgrad.ops import elementwise as _ew
from symgrad.ops.core import implements


def astype(a, dtype):
    """`a` converted to `dtype` (float conversions only change the dtype)."""
    target = np.dtype(dtype)
    if target == a.dtype:
        return a
    if target.kind not in "biuf":
        fail(
            f"converting a traced value to {target} is not supported",
            "Convert to a float, int or bool dtype",
        )
    return ops.cast(a, target)


def as_float(x):
    """`x` as a node of floats: integers and booleans become float64, as
    NumPy's float functions (linalg, interp, ...) convert them."""
    x = as_node(x)
    return x if x.dtype.kind == "f" else astype(x, np.float64)


@implements(methods=("astype",))
def _astype_method(a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    return astype(a, dtype)


@implements("numpy.positive", operators=("__pos__",))
def positive(a, /):
    return as_node(a)


@implements("numpy.square")
def square(a, /):
    a = as_node(a)
    return ops.mul(a, a)


@implements("numpy.reciprocal")
def reciprocal(a, /):
    return ops.div(1.0, as_node(a))


@implements("numpy.where")
def where(condition, x=None, y=None, /):
    if x is None or y is None:
        fail(
            "np.where with one argument (the indices where a condition holds) is "
            "not supported",
            "Use np.where(cond, a, b) to choose values",
        )
    return ops.where(as_node(condition), as_node(x), as_node(y))


# ------------------------------------------------------------------ more ufuncs


@implements("numpy.exp2")
def exp2(x, /):
    return ops.pow(2.0, as_node(x))


@implements("numpy.float_power")
def float_power(x1, x2, /):
    # NumPy computes in float64 whatever the operands' types.
    return ops.pow(astype(as_node(x1), np.float64), astype(as_node(x2), np.float64))


@implements("numpy.fabs")
def fabs(x, /):
    x = as_node(x)
    return ops.abs(x if x.dtype.kind == "f" else astype(x, np.float64))


@implements("numpy.deg2rad", "numpy.radians")
def deg2rad(x, /):
    # The same product np.deg2rad computes: x * (pi / 180).
    return ops.mul(as_node(x), math.pi / 180.0)


@implements("numpy.rad2deg", "numpy.degrees")
def rad2deg(x, /):
    return ops.mul(as_node(x), 180.0 / math.pi)


@implements("numpy.clip", methods=("clip",))
def clip(
    a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs
):  # noqa: A002
    """np.clip(a, lo, hi) = np.minimum(np.maximum(a, lo), hi), as NumPy 2
    defines it (a bound may be None); at a bound the gradient is shared
    half and half with the bound, as for np.maximum."""
    unsupported("numpy.clip", out=out, **kwargs)
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    a = as_node(a)
    if lo is not None:
        a = ops.maximum(a, as_node(lo))
    if hi is not None:
        a = ops.minimum(a, as_node(hi))
    return a


def _power_of_ten(n: int) -> float:
    # As NumPy's np.round makes its scale: exact up to 1e22, then by products.
    if n < 9:
        return float(10**n)
    scale = 1e9
    for _ in range(n - 9):
        scale *= 10.0
    return scale


@implements("numpy.round", "numpy.around", methods=("round",))
def round_(a, decimals=0, out=None):
    """NumPy's rounding: rint(a * 10**d) / 10**d (half to even); zero gradient."""
    unsupported("numpy.round", out=out)
    a = as_node(a)
    d = static_int(decimals, "decimals")
    if a.dtype.kind in "biu":
        if d >= 0:
            return a
        fail(
            "np.round of integers with negative decimals is not supported",
            "Round a float array",
        )
    if d == 0:
        return _ew.rint(a)
    scale = _power_of_ten(abs(d))
    if d > 0:
        return ops.div(_ew.rint(ops.mul(a, scale)), scale)
    return ops.mul(_ew.rint(ops.div(a, scale)), scale)


@implements("numpy.fix")
def fix(x, out=None):
    unsupported("numpy.fix", out=out)
    return ops.apply("trunc", as_node(x))


@implements("numpy.sinc")
def sinc(x):
    """sin(pi x) / (pi x) as NumPy computes it, and at 0 its Taylor
    polynomial 1 - y**2/6 + y**4/120 (y = pi x), which is exactly 1.0 there,
    as NumPy's value, and has sinc's derivatives at 0 up to the fourth
    (0, -pi**2/3, 0, ...). The quotient's branch sees 1 at 0 instead of 0:
    `where` differentiates the branch it does not pick too (times 0), and
    0 times the slope of sin(y) / y at y = 0 would be nan."""
    y = ops.mul(math.pi, as_node(x))
    if y.dtype.kind != "f":
        y = astype(y, np.float64)
    zero = ops.eq(y, 0.0)
    safe = ops.where(zero, 1.0, y)
    square = ops.mul(y, y)
    taylor = ops.add(
        ops.sub(1.0, ops.div(square, 6.0)), ops.div(ops.mul(square, square), 120.0)
    )
    return ops.where(zero, taylor, ops.div(ops.sin(safe), safe))


@implements("numpy.nan_to_num")
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    x = as_node(x)
    if x.dtype.kind != "f":
        return x
    big = float(np.finfo(x.dtype).max)
    values = {}
    for key, value, default in (
        ("nan", nan, 0.0),
        ("posinf", posinf, big),
        ("neginf", neginf, -big),
    ):
        if value is None:
            value = default
        if is_node(value):
            fail(f"np.nan_to_num with a traced {key}=", "Pass a number")
        values[key] = float(value)
    return ops.apply("nan_to_num", x, **values)


@implements("numpy.divmod", operators=("__divmod__",))
def divmod_(x1, x2, /):
    a, b = as_node(x1), as_node(x2)
    return _ew.floor_divide(a, b), ops.apply("remainder", a, b)


@implements(operators=("__rdivmod__",))
def _rdivmod(x1, x2):
    return divmod_(x2, x1)


# ------------------------------------------------------------------ logic


def _truth(x):
    """A boolean operand as NumPy's logical functions read it: x != 0."""
    x = as_node(x)
    return x if x.dtype.kind == "b" else ops.ne(x, 0)


@implements("numpy.logical_and")
def logical_and(x1, x2, /):
    return _ew.logical_and(_truth(x1), _truth(x2))


@implements("numpy.logical_or")
def logical_or(x1, x2, /):
    return _ew.logical_or(_truth(x1), _truth(x2))


@implements("numpy.logical_xor")
def logical_xor(x1, x2, /):
    return _ew.logical_xor(_truth(x1), _truth(x2))


@implements("numpy.logical_not")
def logical_not(x, /):
    return _ew.logical_not(_truth(x))


def _booleans(symbol: str, *xs):
    """Operands of &, |, ^, ~: booleans only (on numbers they are bitwise)."""
    nodes = [as_node(x) for x in xs]
    if any(n.dtype.kind != "b" for n in nodes):
        fail(
            f"{symbol} on traced numbers (bitwise arithmetic) is not supported",
            "Use it on booleans (comparisons), or np.logical_and / np.logical_or",
        )
    return nodes


@implements("numpy.bitwise_and", operators=("__and__",))
def bitwise_and(x1, x2, /):
    return _ew.logical_and(*_booleans("&", x1, x2))


@implements("numpy.bitwise_or", operators=("__or__",))
def bitwise_or(x1, x2, /):
    return _ew.logical_or(*_booleans("|", x1, x2))


@implements("numpy.bitwise_xor", operators=("__xor__",))
def bitwise_xor(x1, x2, /):
    return _ew.logical_xor(*_booleans("^", x1, x2))


@implements("numpy.invert", "numpy.bitwise_not", operators=("__invert__",))
def invert(x, /):
    return _ew.logical_not(*_booleans("~", x))


# The tracer calls reflected operators with the traced operand first.
@implements(operators=("__rand__",))
def _rand(x1, x2):
    return bitwise_and(x2, x1)


@implements(operators=("__ror__",))
def _ror(x1, x2):
    return bitwise_or(x2, x1)


@implements(operators=("__rxor__",))
def _rxor(x1, x2):
    return bitwise_xor(x2, x1)


# ------------------------------------------------------------------ real numbers


@implements("numpy.real")
def real(val, /):
    # Traced values are real: their real part is themselves, the imaginary 0.
    return as_node(val)


@implements("numpy.imag")
def imag(val, /):
    val = as_node(val)
    return (
        ops.mul(val, 0)
        if val.dtype.kind == "f"
        else ops.mul(astype(val, np.float64), 0)
    )


@implements("numpy.conjugate", "numpy.conj", methods=("conjugate", "conj"))
def conjugate(x, /):
    return as_node(x)


@implements("numpy.angle")
def angle(z, deg=False):
    # The argument of a real number: pi for negatives (and -0.0), 0 otherwise,
    # as np.arctan2(0.0, z) gives it; nan stays nan.
    z = as_node(z)
    z = z if z.dtype.kind == "f" else astype(z, np.float64)
    out = ops.apply("arctan2", ops.const(0.0, dtype=z.dtype), z)
    return ops.mul(out, 180.0 / math.pi) if deg else out


@implements("numpy.fmax")
def fmax(x1, x2, /):
    # maximum, except that a NaN loses to a number.
    a, b = as_node(x1), as_node(x2)
    both = ops.maximum(a, b)
    return ops.where(_ew.isnan(b), a, ops.where(_ew.isnan(a), b, both))


@implements("numpy.fmin")
def fmin(x1, x2, /):
    a, b = as_node(x1), as_node(x2)
    both = ops.minimum(a, b)
    return ops.where(_ew.isnan(b), a, ops.where(_ew.isnan(a), b, both))


@implements("numpy.ldexp")
def ldexp(x1, x2, /):
    # x * 2**n: scaling by a power of two rounds once, as ldexp does.
    x, n = as_node(x1), as_node(x2)
    if n.dtype.kind not in "iub":
        fail("np.ldexp with a non-integer exponent", "Pass integer exponents")
    x = x if x.dtype.kind == "f" else astype(x, np.float64)
    return ops.mul(x, ops.pow(ops.const(2.0, dtype=x.dtype), astype(n, x.dtype)))


@implements("numpy.isclose")
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = as_node(a), as_node(b)
    a = a if a.dtype.kind == "f" else astype(a, np.float64)
    b = b if b.dtype.kind == "f" else astype(b, np.float64)
    # NumPy's test: |a - b| <= atol + rtol * |b|, infinities equal only to
    # themselves, NaN equal to NaN only with equal_nan.
    finite = ops.le(ops.abs(ops.sub(a, b)), ops.add(atol, ops.mul(rtol, ops.abs(b))))
    same = ops.eq(a, b)
    out = _ew.logical_or(same, _ew.logical_and(finite, ops.apply("isfinite", b)))
    if equal_nan:
        out = _ew.logical_or(out, _ew.logical_and(_ew.isnan(a), _ew.isnan(b)))
    return out
