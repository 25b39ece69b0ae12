"""NumPy lowerings of the elementwise primitives (`ops.elementwise`, and
`stop_gradient`): operators where NumPy's read as Python's, `np.<ufunc>(...)`
calls otherwise, and the `out=` forms memory planning writes into buffers.
"""

from __future__ import annotations

import re

import numpy as np

from symgrad.codegen.naming import scalar_literal
from symgrad.codegen.numpy.lowering import call, infix, lower, ufunc_into

_SIMPLE = re.compile(r"-?(?:[A-Za-z_][A-Za-z0-9_.]*|[0-9][0-9.e+-]*)")


def _pow(a: str, b: str) -> str:
    # Only ** binds tighter than unary minus, so a negative literal base needs
    # parentheses: -2.0 ** x means -(2.0 ** x).
    if a.startswith("-"):
        a = f"({a})"
    # Black writes x**2 without spaces when both operands are simple.
    if _SIMPLE.fullmatch(a) and _SIMPLE.fullmatch(b):
        return f"{a}**{b}"
    return f"{a} ** {b}"


def _where_into(dest: str, c: str, a: str, b: str, scratch=None) -> list:
    """`np.where(c, a, b)` written into `a`'s or `b`'s buffer: the other
    operand copied over where it is chosen. Each entry is the one np.where
    picks, so the bits are the same; the result is then `dest`. A mask that
    dies here (`scratch`) is negated in place rather than into a new array."""
    if dest == a:
        if scratch == c:
            return [
                f"np.logical_not({c}, out={c})",
                f"np.copyto({dest}, {b}, where={c})",
            ]
        return [f"np.copyto({dest}, {b}, where=np.logical_not({c}))"]
    if dest == b:
        return [f"np.copyto({dest}, {a}, where={c})"]
    return f"np.where({c}, {a}, {b})"  # the condition's buffer: a fresh array


def _cast(a, dtype):
    dtype = np.dtype(dtype)
    # np.float64(x) converts arrays and scalars alike, also Python ints and
    # bools (a loop counter starts as one), which have no .astype; np.bool_
    # names the boolean type on NumPy 1.x and 2.x alike.
    name = "np.bool_" if dtype.kind == "b" else "np." + dtype.name
    return f"{name}({a})"


def _nan_to_num(a, nan, posinf, neginf):
    args = [a]
    big = np.finfo(np.float64).max
    for key, value, default in (
        ("nan", nan, 0.0),
        ("posinf", posinf, big),
        ("neginf", neginf, -big),
    ):
        if not (value == default and np.signbit(value) == np.signbit(default)):
            args.append(f"{key}={scalar_literal(float(value), 'np')}")
    return f"np.nan_to_num({', '.join(args)})"


# Operators, and the ufunc each one's `out=` form calls.
for _name, _symbol, _ufunc in (
    ("add", "+", "np.add"),
    ("sub", "-", "np.subtract"),
    ("mul", "*", "np.multiply"),
    ("div", "/", "np.true_divide"),
    ("lt", "<", None),
    ("le", "<=", None),
    ("gt", ">", None),
    ("ge", ">=", None),
    ("eq", "==", None),
    ("ne", "!=", None),
    ("remainder", "%", None),
    ("floor_divide", "//", None),
    # The bool operators of arrays (`~` is not one for Python's own bools).
    ("logical_and", "&", None),
    ("logical_or", "|", None),
    ("logical_xor", "^", None),
):
    lower(_name, infix(_symbol), into=_ufunc and ufunc_into(_ufunc))

lower("pow", _pow)
lower("neg", lambda a: f"-{a}", into=ufunc_into("np.negative"))
lower("where", call("np.where"), into=_where_into)
lower("abs", call("np.abs"), into=ufunc_into("np.absolute"))
lower("relu", lambda a: f"np.maximum({a}, 0.0)", into=ufunc_into("np.maximum", "0.0"))
lower("sigmoid", lambda a: f"1.0 / (1.0 + np.exp(-{a}))")
lower("cast", _cast)
lower("nan_to_num", _nan_to_num)
lower("stop_gradient", lambda a: a)

# `np.<name>(...)`, with an `out=` form where memory planning uses one.
for _name in ("maximum", "minimum", "exp", "log", "tanh", "sin", "cos", "sqrt"):
    lower(_name, call(f"np.{_name}"), into=ufunc_into(f"np.{_name}"))
for _name in (
    "sign",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "log2",
    "log10",
    "log1p",
    "expm1",
    "cbrt",
    "floor",
    "ceil",
    "trunc",
    "rint",
    "fmod",
    "arctan2",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "copysign",
    "heaviside",
    "isfinite",
    "isnan",
    "isinf",
    "logical_not",
):
    lower(_name, call(f"np.{_name}"))
