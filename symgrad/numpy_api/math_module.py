"""Python's `math` module on traced scalars: `math.exp(x)`, `from math import
log1p`, `math.log(x, 2)`, `math.atan2(y, x)`, ...

Contract: each `math.<name>` entry builds the same primitive as its NumPy
twin, for traced *scalars* only (an array is refused with the NumPy name to
use instead), with the operands read as floats, as the math module reads
them. On plain numbers the front end calls the real math function, so code
that is not traced behaves as before. math.floor, ceil and trunc give a
float (a traced value cannot be a Python int) with a zero gradient.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad import ops
from symgrad.ir.source import fail
from symgrad.numpy_api.args import as_node, is_node
from symgrad.numpy_api.elementwise import astype
from symgrad.ops.core import implements


def _float(name: str, numpy_name: str, x):
    """A math function's operand: a float scalar node."""
    if not is_node(x):
        if isinstance(x, (bool, int, float, np.integer, np.floating)):
            return ops.lift(float(x))
        x = as_node(x)
    if x.shape != ():
        fail(
            f"math.{name} of an array of shape {x.shape}",
            f"Use np.{numpy_name} for arrays",
        )
    return x if x.dtype.kind == "f" else astype(x, np.float64)


def _register(name: str, numpy_name: str, build):
    """math.<name>(x, ...) -> build(*float_scalars)."""

    def function(*args):
        return build(*[_float(name, numpy_name, x) for x in args])

    function.__name__ = name
    implements(f"math.{name}")(function)


def _op(op: str):
    return lambda *xs: ops.apply(op, *xs)


_SAME = {
    # math name: (NumPy name, op)
    "exp": ("exp", "exp"),
    "expm1": ("expm1", "expm1"),
    "log1p": ("log1p", "log1p"),
    "log2": ("log2", "log2"),
    "log10": ("log10", "log10"),
    "sqrt": ("sqrt", "sqrt"),
    "sin": ("sin", "sin"),
    "cos": ("cos", "cos"),
    "tan": ("tan", "tan"),
    "asin": ("arcsin", "arcsin"),
    "acos": ("arccos", "arccos"),
    "atan": ("arctan", "arctan"),
    "atan2": ("arctan2", "arctan2"),
    "sinh": ("sinh", "sinh"),
    "cosh": ("cosh", "cosh"),
    "tanh": ("tanh", "tanh"),
    "asinh": ("arcsinh", "arcsinh"),
    "acosh": ("arccosh", "arccosh"),
    "atanh": ("arctanh", "arctanh"),
    "pow": ("power", "pow"),
    "fabs": ("fabs", "abs"),
    "floor": ("floor", "floor"),
    "ceil": ("ceil", "ceil"),
    "trunc": ("trunc", "trunc"),
    "copysign": ("copysign", "copysign"),
    "fmod": ("fmod", "fmod"),
    "isnan": ("isnan", "isnan"),
    "isinf": ("isinf", "isinf"),
    "isfinite": ("isfinite", "isfinite"),
    "erf": ("erf", "erf"),
    "erfc": ("erfc", "erfc"),
    "lgamma": ("gammaln", "gammaln"),
    "gamma": ("gamma", "gamma"),
    # (math.cbrt and math.exp2 are left out: they exist from Python 3.11 on,
    # and the table, like the supported-functions page, is the same on all.)
}

for _name, (_numpy, _opname) in _SAME.items():
    _register(_name, _numpy, _op(_opname))


@implements("math.log")
def log(x, base=None):
    """math.log(x) and math.log(x, base) = log(x) / log(base)."""
    x = _float("log", "log", x)
    if base is None:
        return ops.log(x)
    return ops.div(ops.log(x), ops.log(_float("log", "log", base)))


@implements("math.hypot")
def hypot(*coordinates):
    """The Euclidean norm; more than two coordinates are nested np.hypot calls."""
    xs = [_float("hypot", "hypot", x) for x in coordinates]
    if len(xs) == 1:
        return ops.abs(xs[0])
    out = ops.apply("hypot", xs[0], xs[1])
    for x in xs[2:]:
        out = ops.apply("hypot", out, x)
    return out


@implements("math.degrees")
def degrees(x):
    # CPython: x * (180 / pi), the same product as np.rad2deg.
    return ops.mul(_float("degrees", "degrees", x), 180.0 / math.pi)


@implements("math.radians")
def radians(x):
    return ops.mul(_float("radians", "radians", x), math.pi / 180.0)
