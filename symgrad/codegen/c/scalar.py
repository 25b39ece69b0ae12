"""The C target's scalar formulas: one C expression per element.

Contract: `FORMULAS[op]` is a `Formula` for every elementwise op the C
target computes: the shared description (`codegen.scalar`) with each
<math.h> name mapped to C's own function (`CALLEES`), or to a helper of
`HELPERS` (NumPy's semantics where C has no such function), and the ops a
call is not enough for in `SPECIAL`. `REFUSED` names the shared functions
the C target does not compute yet. Operands are C expressions of type
`double`; a bool is 0.0 or 1.0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symgrad.codegen import scalar
from symgrad.codegen.c import vecmath


@dataclass(frozen=True)
class Formula:
    fn: Callable
    helpers: tuple = ()


# <math.h> name (see `codegen.scalar.FUNCTIONS`) -> what C calls.
CALLEES = {
    name: name
    for name in (
        "exp log tanh sin cos sqrt fabs tan asin acos atan sinh cosh asinh acosh "
        "atanh log2 log10 log1p expm1 cbrt floor ceil trunc rint fmod atan2 hypot "
        "copysign isfinite isnan isinf erf erfc lgamma tgamma"
    ).split()
}
CALLEES.update(
    {
        "sign": "sg_sign",
        "logaddexp": "sg_logaddexp",
        "logaddexp2": "sg_logaddexp2",
        "heaviside": "sg_heaviside",
        "ndtr": "sg_ndtr",
        "log_ndtr": "sg_log_ndtr",
        "logit": "sg_logit",
        "xlogy": "sg_xlogy",
        "xlog1py": "sg_xlog1py",
        "lgamma": "sg_lgamma",
        "tanh": "sg_tanh",  # vectorizes (codegen/c/vecmath.py)
    }
)
# Shared functions with no C formula yet.
REFUSED = {"digamma": "no C digamma yet"}

# Helpers generated code may call: name -> C source. NumPy's semantics for
# inf and nan (numpy/npy_math).
HELPERS = {
    "sg_sign": """static double sg_sign(double x)
{
    return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x == 0.0 ? 0.0 : x;
}""",
    "sg_logaddexp": """static double sg_logaddexp(double x, double y)
{
    if (x == y) {
        return x + 0.69314718055994530942; /* log(2): equal infinities too */
    }
    double d = x - y;
    if (d > 0.0) {
        return x + log1p(exp(-d));
    }
    if (d <= 0.0) {
        return y + log1p(exp(d));
    }
    return d; /* nan */
}""",
    "sg_logaddexp2": """static double sg_logaddexp2(double x, double y)
{
    if (x == y) {
        return x + 1.0;
    }
    double d = x - y;
    if (d > 0.0) {
        return x + log1p(exp2(-d)) * 1.44269504088896340736;
    }
    if (d <= 0.0) {
        return y + log1p(exp2(d)) * 1.44269504088896340736;
    }
    return d; /* nan */
}""",
    "sg_heaviside": """static double sg_heaviside(double x, double h0)
{
    return x != x ? x : x == 0.0 ? h0 : x < 0.0 ? 0.0 : 1.0;
}""",
    "sg_ndtr": """static double sg_ndtr(double x)
{
    double z = x * 0.70710678118654752440;
    if (fabs(z) < 0.70710678118654752440) {
        return 0.5 + 0.5 * erf(z);
    }
    return z > 0.0 ? 1.0 - 0.5 * erfc(z) : 0.5 * erfc(-z);
}""",
    # scipy.special.log_ndtr: log(Phi(x)) with Phi's tail kept relatively
    # accurate: log1p(-Q) on the right (Q = erfc(x / sqrt 2) / 2), log of
    # erfc on the left, and below -20 (where erfc heads for underflow) the
    # asymptotic series -x^2/2 - log(-x) - log(2 pi)/2 + log(1 + S),
    # S = sum_k (-1)^k (2k-1)!! / x^(2k): ten terms leave an error below
    # 1e-20 of log(1 + S) there. Where Q underflows (x > 37.5) SciPy's
    # erfc is 0 a little sooner: results differ only in subnormals.
    "sg_log_ndtr": """static double sg_log_ndtr(double x)
{
    if (x < -20.0) {
        double z = 1.0 / (x * x);
        double term = 1.0;
        double s = 0.0;
        for (int k = 1; k <= 10; k++) {
            term *= -(2.0 * k - 1.0) * z;
            s += term;
        }
        return -0.5 * x * x - log(-x) - 0.91893853320467274178 + log1p(s);
    }
    if (x < -1.0) {
        return log(0.5 * erfc(-x * 0.70710678118654752440));
    }
    return log1p(-0.5 * erfc(x * 0.70710678118654752440));
}""",
    # scipy.special.gammaln (cephes): -inf at -inf, and inf where 1/x
    # overflows, where C's lgamma gives inf and a finite log.
    "sg_lgamma": """static double sg_lgamma(double x)
{
    if (x == -INFINITY) {
        return -INFINITY;
    }
    if (x != 0.0 && fabs(x) < 5.562684646268003e-309) {
        return INFINITY;
    }
    return lgamma(x);
}""",
    "sg_logit": """static double sg_logit(double x)
{
    return log(x / (1.0 - x));
}""",
    "sg_xlogy": """static double sg_xlogy(double x, double y)
{
    return x == 0.0 && y == y ? 0.0 : x * log(y);
}""",
    "sg_xlog1py": """static double sg_xlog1py(double x, double y)
{
    return x == 0.0 && y == y ? 0.0 : x * log1p(y);
}""",
    # np.remainder and np.floor_divide (npy_divmod).
    "sg_remainder": """static double sg_remainder(double a, double b)
{
    double mod = fmod(a, b);
    if (b == 0.0) {
        return mod;
    }
    if (mod != 0.0) {
        if ((b < 0.0) != (mod < 0.0)) {
            mod += b;
        }
    } else {
        mod = copysign(0.0, b);
    }
    return mod;
}""",
    "sg_floor_divide": """static double sg_floor_divide(double a, double b)
{
    if (b == 0.0) {
        return a / b;
    }
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0 && (b < 0.0) != (mod < 0.0)) {
        div -= 1.0;
    }
    if (div == 0.0) {
        return copysign(0.0, a / b);
    }
    double floordiv = floor(div);
    if (div - floordiv > 0.5) {
        floordiv += 1.0;
    }
    return floordiv;
}""",
    "sg_nan_to_num": """static double sg_nan_to_num(double x, double nan, double posinf,
                            double neginf)
{
    return x != x ? nan : x == INFINITY ? posinf : x == -INFINITY ? neginf : x;
}""",
}


HELPERS.update(vecmath.HELPERS)


def literal(value) -> str:
    """A C literal of type double for a Python number (inf and nan by name)."""
    value = float(value)
    if value != value:
        return "NAN"
    if value in (float("inf"), float("-inf")):
        return "INFINITY" if value > 0 else "-INFINITY"
    text = repr(value)
    return text if any(c in text for c in ".en") else text + ".0"


def _infix(symbol: str):
    return lambda a, b: f"{a} {symbol} {b}"


def _call(callee: str):
    return lambda *args: f"{callee}({', '.join(args)})"


def _extreme(wins: str):
    # NumPy's maximum / minimum: nan from either side, the second on ties.
    return lambda a, b: f"({a} {wins} {b} || {a} != {a}) ? {a} : {b}"


def _cast(a, dtype):
    kind = np.dtype(dtype).kind
    return f"({a} != 0.0)" if kind == "b" else a


def _nan_to_num(a, nan, posinf, neginf):
    values = ", ".join(literal(v) for v in (nan, posinf, neginf))
    return f"sg_nan_to_num({a}, {values})"


SPECIAL = {
    "div": Formula(lambda a, b: f"{a} / {b}"),
    "pow": Formula(lambda a, b: f"pow({a}, {b})"),
    "maximum": Formula(_extreme(">")),
    "minimum": Formula(_extreme("<")),
    "remainder": Formula(_call("sg_remainder"), ("sg_remainder",)),
    "floor_divide": Formula(_call("sg_floor_divide"), ("sg_floor_divide",)),
    "where": Formula(lambda c, a, b: f"{c} != 0.0 ? {a} : {b}"),
    "neg": Formula(lambda a: f"-{a}"),
    # As np.maximum(a, 0.0): nan stays nan, and -0.0 gives 0.0.
    "relu": Formula(lambda a: f"{a} <= 0.0 ? 0.0 : {a}"),
    "sigmoid": Formula(lambda a: f"1.0 / (1.0 + exp(-{a}))"),
    "cast": Formula(_cast),
    "nan_to_num": Formula(_nan_to_num, ("sg_nan_to_num",)),
    "logical_and": Formula(lambda a, b: f"{a} != 0.0 && {b} != 0.0"),
    "logical_or": Formula(lambda a, b: f"{a} != 0.0 || {b} != 0.0"),
    "logical_xor": Formula(lambda a, b: f"({a} != 0.0) != ({b} != 0.0)"),
    "logical_not": Formula(lambda a: f"{a} == 0.0"),
    "stop_gradient": Formula(lambda a: a),
}


_CLASSIFIERS = ("isfinite", "isnan", "isinf")


def _from_shared() -> dict:
    out = {name: Formula(_infix(symbol)) for name, symbol in scalar.INFIX.items()}
    for name, function in scalar.FUNCTIONS.items():
        if name in REFUSED:
            continue
        callee = CALLEES[function]
        helpers = (callee,) if callee in HELPERS else ()
        if function in _CLASSIFIERS:
            # C's classification macros return any nonzero int (glibc's
            # isinf gives -1 for -inf): a bool is 0.0 or 1.0.
            out[name] = Formula(lambda a, callee=callee: f"({callee}({a}) != 0)")
        else:
            out[name] = Formula(_call(callee), helpers)
    return out


FORMULAS = {**_from_shared(), **SPECIAL}
