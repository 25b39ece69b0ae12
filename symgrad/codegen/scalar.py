"""Elementwise ops as scalar formulas, shared by the targets that compute
element by element (the pure-Python target; C next).

Contract: an elementwise op is described once here when a scalarizing target
writes it as an operator or as one call:
- `INFIX`: op -> the operator between its two operands (`a + b`), the same
  in Python and C;
- `FUNCTIONS`: op -> the scalar function it is, named as C99's <math.h> names
  it where it has one (`atan2`, `lgamma`, `tgamma`, `fabs`) and as NumPy or
  SciPy do otherwise (`logaddexp`, `heaviside`, `ndtr`), with NumPy's
  semantics (inf and nan, never an exception).
A scalarizing target maps each function name to what it calls (`CALLEES`
in `codegen.python.scalar`: `math.tanh`, or a NumPy-faithful helper
`_exp`), and writes the few ops that are neither (division by zero, powers,
max and min that propagate nan, `where`, casts, logical operators) in its
own `SPECIAL` table. `tests/test_ops.py` checks every elementwise op has
exactly one of these on every scalarizing target.
"""

from __future__ import annotations

INFIX = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
}

FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "tanh": "tanh",
    "sin": "sin",
    "cos": "cos",
    "sqrt": "sqrt",
    "abs": "fabs",
    "sign": "sign",
    "tan": "tan",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "sinh": "sinh",
    "cosh": "cosh",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "log2": "log2",
    "log10": "log10",
    "log1p": "log1p",
    "expm1": "expm1",
    "cbrt": "cbrt",
    "floor": "floor",
    "ceil": "ceil",
    "trunc": "trunc",
    "rint": "rint",
    "fmod": "fmod",
    "arctan2": "atan2",
    "hypot": "hypot",
    "copysign": "copysign",
    "logaddexp": "logaddexp",
    "logaddexp2": "logaddexp2",
    "heaviside": "heaviside",
    "isfinite": "isfinite",
    "isnan": "isnan",
    "isinf": "isinf",
    "erf": "erf",
    "erfc": "erfc",
    "gammaln": "lgamma",
    "gamma": "tgamma",
    "digamma": "digamma",
    "ndtr": "ndtr",
    "log_ndtr": "log_ndtr",
    "logit": "logit",
    "xlogy": "xlogy",
    "xlog1py": "xlog1py",
}
