"""The pure-Python target's scalar formulas: one expression per element.

Contract: `formula(node)` is the `Formula` of an elementwise op: the
operator or call of the shared description (`codegen.scalar`), with each
function name mapped to what this target calls (`CALLEES`: the math module
where it already gives NumPy's value, else a helper of `helpers*.py` that
does), or the op's entry in `SPECIAL` where a call is not enough. A
`Formula` prints `fn(*operand_sources, **attrs)` and declares the helpers it
calls: a tuple, or a function of the node returning one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symgrad.codegen import scalar
from symgrad.codegen.naming import scalar_literal


@dataclass(frozen=True)
class Formula:
    fn: Callable
    helpers: tuple | Callable = ()


# Function name (see `codegen.scalar.FUNCTIONS`) -> the callee.
CALLEES = {
    "exp": "_exp",
    "log": "_log",
    "tanh": "math.tanh",
    "sin": "_sin",
    "cos": "_cos",
    "sqrt": "_sqrt",
    "fabs": "abs",
    "sign": "_sign",
    "tan": "_tan",
    "asin": "_asin",
    "acos": "_acos",
    "atan": "math.atan",
    "sinh": "_sinh",
    "cosh": "_cosh",
    "asinh": "math.asinh",
    "acosh": "_acosh",
    "atanh": "_atanh",
    "log2": "_log2",
    "log10": "_log10",
    "log1p": "_log1p",
    "expm1": "_expm1",
    "cbrt": "_cbrt",
    "floor": "_floor",
    "ceil": "_ceil",
    "trunc": "_trunc",
    "rint": "_rint",
    "fmod": "_fmod",
    "atan2": "math.atan2",
    "hypot": "math.hypot",
    "copysign": "math.copysign",
    "logaddexp": "_logaddexp",
    "logaddexp2": "_logaddexp2",
    "heaviside": "_heaviside",
    "isfinite": "math.isfinite",
    "isnan": "math.isnan",
    "isinf": "math.isinf",
    "erf": "math.erf",
    "erfc": "math.erfc",
    "lgamma": "_lgamma",
    "tgamma": "_gamma",
    "digamma": "_digamma",
    "ndtr": "_ndtr",
    "log_ndtr": "_log_ndtr",
    "logit": "_logit",
    "xlogy": "_xlogy",
    "xlog1py": "_xlog1py",
}


def _infix(symbol: str):
    return lambda a, b: f"{a} {symbol} {b}"


def _call(fn: str):
    return lambda *args: f"{fn}({', '.join(args)})"


def _number(src: str):
    """The value of a source that is a plain number literal, else None."""
    try:
        return float(src)
    except ValueError:
        return None


def _literal_operand(node, i):
    """The value of operand `i` if the printers see it as a number literal."""
    x = node.inputs[i]
    if x.op != "const" or x.shape != ():
        return None
    v = x.value.item()
    return v if v == v and abs(v) != float("inf") else None


def _div(a: str, b: str) -> str:
    # Python raises on a zero divisor where NumPy gives inf or nan; a literal
    # nonzero divisor cannot be zero, so it keeps the plain operator.
    if _number(b):
        return f"{a} / {b}"
    return f"_div({a}, {b})"


def _div_helpers(node) -> tuple:
    return () if _literal_operand(node, 1) else ("_div",)


def _pow(a: str, b: str) -> str:
    # NumPy computes a power with the scalar exponent 0.5 as sqrt, which
    # differs from pow at -inf (nan, not inf) and -0.0.
    if _number(b) == 0.5:
        return f"_sqrt({a})"
    return f"_pow({a}, {b})"


def _pow_helpers(node) -> tuple:
    return ("_sqrt",) if _literal_operand(node, 1) == 0.5 else ("_pow",)


def _extreme(wins: str, loses: str):
    # NumPy's maximum / minimum propagate nan from either side and return the
    # second operand on ties (visible only as the sign of a zero). A literal
    # operand is never nan, which saves a test.
    def printer(a: str, b: str) -> str:
        if _number(b) is not None:
            return f"{b} if {a} {loses} {b} else {a}"
        if _number(a) is not None:
            return f"{a} if {a} {wins} {b} else {b}"
        return f"{a} if {a} {wins} {b} or {a} != {a} else {b}"

    return printer


def _literal_divisor(symbol: str, helper: str) -> Formula:
    # A nonzero literal divisor cannot raise ZeroDivisionError, and Python's
    # float % and // compute what np.remainder and np.floor_divide do.
    def printer(a: str, b: str) -> str:
        if _number(b):
            return f"{a} {symbol} {b}"
        return f"{helper}({a}, {b})"

    def helpers(node) -> tuple:
        return () if _literal_operand(node, 1) else (helper,)

    return Formula(printer, helpers)


def _cast(a, dtype):
    kind = np.dtype(dtype).kind
    return {"f": f"float({a})", "b": f"bool({a})"}.get(kind, f"int({a})")


def _nan_to_num(a, nan, posinf, neginf):
    values = ", ".join(scalar_literal(float(v), "math") for v in (nan, posinf, neginf))
    return f"_nan_to_num({a}, {values})"


# Ops a call is not enough for.
SPECIAL = {
    "div": Formula(_div, _div_helpers),
    "pow": Formula(_pow, _pow_helpers),
    "maximum": Formula(_extreme(">", "<=")),
    "minimum": Formula(_extreme("<", ">=")),
    "remainder": _literal_divisor("%", "_mod"),
    "floor_divide": _literal_divisor("//", "_floordiv"),
    "where": Formula(lambda c, a, b: f"{a} if {c} else {b}"),
    "neg": Formula(lambda a: f"-{a}"),
    # As np.maximum(a, 0.0): nan stays nan, and -0.0 gives 0.0.
    "relu": Formula(lambda a: f"0.0 if {a} <= 0.0 else {a}"),
    "sigmoid": Formula(lambda a: f"1.0 / (1.0 + _exp(-{a}))", ("_exp",)),
    "cast": Formula(_cast),
    "nan_to_num": Formula(_nan_to_num, ("_nan_to_num",)),
    "polygamma": Formula(lambda a, n: f"_polygamma({n}, {a})", ("_polygamma",)),
    # Python's bool operators (`~True` is -2); the results are bools already.
    "logical_and": Formula(lambda a, b: f"{a} and {b}"),
    "logical_or": Formula(lambda a, b: f"{a} or {b}"),
    "logical_xor": Formula(lambda a, b: f"{a} != {b}"),
    "logical_not": Formula(lambda a: f"not {a}"),
    "stop_gradient": Formula(lambda a: a),
}


def _from_shared() -> dict:
    out = {name: Formula(_infix(symbol)) for name, symbol in scalar.INFIX.items()}
    for name, function in scalar.FUNCTIONS.items():
        callee = CALLEES[function]
        helpers = (callee,) if callee.startswith("_") else ()
        out[name] = Formula(_call(callee), helpers)
    return out


FORMULAS = {**_from_shared(), **SPECIAL}
