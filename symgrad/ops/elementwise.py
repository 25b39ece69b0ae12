"""Elementwise primitives: arithmetic, transcendental functions, comparisons.

Contract: each primitive is one `Op` record registered in the table, plus a
builder function of the same name. Binary ops broadcast like NumPy; their VJP
rules return cotangents in the broadcast shape and `autodiff` sums them back to
each input's shape. The records hold semantics only: each target lowers them
in its package (`codegen/numpy/lower_elementwise.py`; the scalarizing targets
from the formulas of `codegen/scalar.py`), giving NumPy's value for every
input (inf and nan, never an exception).

Kink conventions (documented in the README and pinned by tests):
relu'(0) = 0, abs'(0) = sign(0) = 0, and for maximum/minimum a tie splits the
cotangent evenly between both arguments (as JAX and PyTorch do).
"""

from __future__ import annotations

import contextvars

import numpy as np

from symgrad.ops.core import (
    Op,
    apply,
    dtype_bool,
    dtype_float,
    dtype_promote,
    register,
    shape_broadcast,
    shape_same,
)


def _sympy():
    import sympy

    return sympy


def _sympy_relation(name):
    def build(a, b):
        sp = _sympy()
        relation = {"lt": sp.Lt, "le": sp.Le, "gt": sp.Gt, "ge": sp.Ge}.get(name)
        if relation is None:
            relation = sp.Eq if name == "eq" else sp.Ne
        return relation(a, b)

    return build


# ------------------------------------------------------------------ builders


def add(a, b):
    return apply("add", a, b)


def sub(a, b):
    return apply("sub", a, b)


def mul(a, b):
    return apply("mul", a, b)


def div(a, b):
    return apply("div", a, b)


def neg(a):
    return apply("neg", a)


def pow(a, b):  # noqa: A001 - the op is called pow, like operator.pow
    return apply("pow", a, b)


def exp(a):
    return apply("exp", a)


def log(a):
    return apply("log", a)


def tanh(a):
    return apply("tanh", a)


def sin(a):
    return apply("sin", a)


def cos(a):
    return apply("cos", a)


def sqrt(a):
    return apply("sqrt", a)


def abs(a):  # noqa: A001 - mirrors the builtin the tracer maps onto it
    return apply("abs", a)


def sign(a):
    return apply("sign", a)


def relu(a):
    return apply("relu", a)


def sigmoid(a):
    return apply("sigmoid", a)


def maximum(a, b):
    return apply("maximum", a, b)


def minimum(a, b):
    return apply("minimum", a, b)


def cast(a, dtype):
    return apply("cast", a, dtype=np.dtype(dtype).str)


def where(c, a, b):
    return apply("where", c, a, b)


def lt(a, b):
    return apply("lt", a, b)


def le(a, b):
    return apply("le", a, b)


def gt(a, b):
    return apply("gt", a, b)


def ge(a, b):
    return apply("ge", a, b)


def eq(a, b):
    return apply("eq", a, b)


def ne(a, b):
    return apply("ne", a, b)


# ------------------------------------------------------------------ records


def elementwise(name, nin, *, dtype=None, flags=(), **fields):
    """Register an elementwise primitive (shape: NumPy broadcasting).

    `dtype` defaults to float results for one operand (ints become float64)
    and NumPy promotion for more.
    """
    if dtype is None:
        dtype = dtype_float if nin == 1 else dtype_promote
    return register(
        Op(
            name=name,
            nin=nin,
            shape=shape_same if nin == 1 else shape_broadcast,
            dtype=dtype,
            flags=frozenset(("elementwise",) + tuple(flags)),
            **fields,
        )
    )


def _pow_vjp(g, out, a, b):
    # d(a**b)/da = b * a**(b-1), and 0 where b == 0: a**0 is 1 for every a, so
    # x**0.0 has the gradient 0 also at x = 0 (and nan), as in autograd and
    # PyTorch, where b * a**(b-1) would be 0 * inf. That zero must hold at
    # every order, so no inf may wait in a branch that a `where` does not
    # pick (its derivative would be 0 * inf = nan): where a == b == 0 the base
    # is 1 instead, and b * 1**(b-1) is 0 with finite derivatives. Elsewhere
    # b * a**(b-1) is left alone, so that its derivative in b at b = 0 (1/a)
    # stays. An exponent that is a constant without zeros keeps the plain rule
    # (and one known to be 0 when the passes fold it loses the `where`s); one
    # that is all zeros has no gradient.
    if b.op == "const" and bool(np.all(b.value == 0)):
        ga = None
    else:
        base = a
        if not (b.op == "const" and bool(np.all(b.value != 0))):
            base = where(eq(b, 0.0), where(eq(a, 0.0), 1.0, a), a)
        ga = mul(g, mul(b, pow(base, sub(b, 1.0))))
    # d(a**b)/db = a**b * log(a), taking log(a) as 0 where a == 0 so that 0**b
    # (b > 0) gets the gradient 0 instead of NaN.
    gb = mul(mul(g, out), log(where(eq(a, 0.0), 1.0, a)))
    return ga, gb


# How np.maximum / np.minimum share the gradient at a tie when one operand
# is a constant (a ReLU written np.maximum(x, 0)): "strict" gives the traced
# operand the gradient only where it strictly wins (relu'(0) = 0, one masked
# select in the generated code); "split" shares it evenly as between two
# traced operands (JAX's rule). Between two traced operands ties always
# split. Set with `symgrad.tie_rule("split")`.
TIE_RULE: contextvars.ContextVar[str] = contextvars.ContextVar(
    "symgrad_tie_rule", default="strict"
)


def _minmax_vjp(first_wins):
    def vjp(g, out, a, b):
        if TIE_RULE.get() == "strict" and (a.op == "const") != (b.op == "const"):
            if b.op == "const":
                return where(first_wins(a, b), g, 0.0), None
            return None, where(first_wins(b, a), g, 0.0)
        # Ties split the cotangent evenly between both sides.
        half = where(eq(a, b), mul(g, 0.5), 0.0)
        return where(first_wins(a, b), g, half), where(first_wins(b, a), g, half)

    return vjp


# Arithmetic. "arithmetic": the result depends only on the operand values
# converted to the result type (CSE reads constants that way).
elementwise(
    "add",
    2,
    eval=np.add,
    vjp=lambda g, out, a, b: (g, g),
    sympy=lambda a, b: a + b,
    flags=("fresh", "commutative", "arithmetic"),
    answers=("numpy.add",),
    operators=("__add__", "__radd__"),
)
elementwise(
    "sub",
    2,
    eval=np.subtract,
    vjp=lambda g, out, a, b: (g, neg(g)),
    sympy=lambda a, b: a - b,
    flags=(
        "fresh",
        "arithmetic",
    ),
    answers=("numpy.subtract",),
    operators=("__sub__", "__rsub__"),
)
elementwise(
    "mul",
    2,
    eval=np.multiply,
    vjp=lambda g, out, a, b: (mul(g, b), mul(a, g)),
    sympy=lambda a, b: a * b,
    flags=("fresh", "commutative", "arithmetic"),
    answers=("numpy.multiply",),
    operators=("__mul__", "__rmul__"),
)
elementwise(
    "div",
    2,
    eval=np.true_divide,
    # d(a/b)/db = -a/b**2 = -(a/b)/b, reusing the forward value.
    vjp=lambda g, out, a, b: (div(g, b), neg(div(mul(g, out), b))),
    sympy=lambda a, b: a / b,
    dtype=dtype_float,
    flags=(
        "fresh",
        "arithmetic",
    ),
    answers=("numpy.true_divide", "numpy.divide"),
    operators=("__truediv__", "__rtruediv__"),
)
elementwise(
    "pow",
    2,
    eval=np.power,
    vjp=_pow_vjp,
    sympy=lambda a, b: a**b,
    dtype=dtype_float,
    flags=("expensive",),
    answers=("numpy.power",),
    operators=("__pow__", "__rpow__"),
)
elementwise(
    "maximum",
    2,
    eval=np.maximum,
    vjp=_minmax_vjp(gt),
    sympy=lambda a, b: _sympy().Max(a, b),
    flags=("fresh", "arithmetic", "zero_sign_from_operands"),
    answers=("numpy.maximum",),
)
elementwise(
    "minimum",
    2,
    eval=np.minimum,
    vjp=_minmax_vjp(lt),
    sympy=lambda a, b: _sympy().Min(a, b),
    flags=("fresh", "arithmetic", "zero_sign_from_operands"),
    answers=("numpy.minimum",),
)

for _name, _fn, _sym, _ufunc, _dunder in (
    ("lt", np.less, "<", "less", "__lt__"),
    ("le", np.less_equal, "<=", "less_equal", "__le__"),
    ("gt", np.greater, ">", "greater", "__gt__"),
    ("ge", np.greater_equal, ">=", "greater_equal", "__ge__"),
    ("eq", np.equal, "==", "equal", "__eq__"),
    ("ne", np.not_equal, "!=", "not_equal", "__ne__"),
):
    elementwise(
        _name,
        2,
        eval=_fn,
        vjp=lambda g, out, a, b: (None, None),
        dtype=dtype_bool,
        flags=("comparison", "fresh"),
        sympy=_sympy_relation(_name),
        answers=(f"numpy.{_ufunc}",),
        operators=(_dunder,),
    )

register(
    Op(
        name="where",
        nin=3,
        shape=shape_broadcast,
        dtype=lambda nodes, **_: dtype_promote(nodes[1:]),
        eval=np.where,
        vjp=lambda g, out, c, a, b: (None, where(c, g, 0.0), where(c, 0.0, g)),
        sympy=lambda c, a, b: _sympy().Piecewise((a, c), (b, True)),
        flags=frozenset(
            (
                "elementwise",
                "zero_sign_from_operands",
                "fresh",
                # np.copyto(g, 0.0, where=...) costs more than np.where on
                # small arrays; its mask, when it dies, is negated in place.
                "out_when_big",
                "out_scratch_first",
            )
        ),
    )
)

elementwise(
    "neg",
    1,
    eval=np.negative,
    vjp=lambda g, out, a: (neg(g),),
    sympy=lambda a: -a,
    dtype=dtype_promote,
    answers=("numpy.negative",),
    operators=("__neg__",),
    flags=("fresh",),
)
elementwise(
    "exp",
    1,
    eval=np.exp,
    vjp=lambda g, out, a: (mul(g, out),),
    sympy_function="exp",
    flags=("fresh", "expensive", "no_negative_zero"),
    answers=("numpy.exp",),
    methods=("exp",),
)
elementwise(
    "log",
    1,
    eval=np.log,
    vjp=lambda g, out, a: (div(g, a),),
    sympy_function="log",
    flags=(
        "fresh",
        "expensive",
    ),
    answers=("numpy.log",),
    methods=("log",),
)
elementwise(
    "tanh",
    1,
    eval=np.tanh,
    # tanh' = 1 - tanh**2, from the forward output.
    vjp=lambda g, out, a: (mul(g, sub(1.0, mul(out, out))),),
    sympy_function="tanh",
    flags=("fresh", "expensive", "zero_sign_from_operands"),
    answers=("numpy.tanh",),
    methods=("tanh",),
)
elementwise(
    "sin",
    1,
    eval=np.sin,
    vjp=lambda g, out, a: (mul(g, cos(a)),),
    sympy_function="sin",
    flags=(
        "fresh",
        "expensive",
    ),
    answers=("numpy.sin",),
)
elementwise(
    "cos",
    1,
    eval=np.cos,
    vjp=lambda g, out, a: (neg(mul(g, sin(a))),),
    sympy_function="cos",
    flags=(
        "fresh",
        "expensive",
    ),
    answers=("numpy.cos",),
)
elementwise(
    "sqrt",
    1,
    eval=np.sqrt,
    # sqrt' = 1 / (2 sqrt(a)), from the forward output.
    vjp=lambda g, out, a: (div(mul(g, 0.5), out),),
    sympy_function="sqrt",
    flags=("fresh", "expensive", "zero_sign_from_operands"),
    answers=("numpy.sqrt",),
)
elementwise(
    "abs",
    1,
    eval=np.abs,
    vjp=lambda g, out, a: (mul(g, sign(a)),),
    sympy_function="Abs",
    dtype=dtype_promote,
    flags=(
        "fresh",
        "no_negative_zero",
    ),
    answers=("numpy.absolute",),
    operators=("__abs__",),
)
elementwise(
    "sign",
    1,
    eval=np.sign,
    # sign is flat almost everywhere: its derivative is zero.
    vjp=lambda g, out, a: (None,),
    sympy_function="sign",
    dtype=dtype_promote,
    answers=("numpy.sign",),
)
elementwise(
    "relu",
    1,
    eval=lambda a: np.maximum(a, 0.0),
    vjp=lambda g, out, a: (where(gt(a, 0.0), g, 0.0),),
    # As np.maximum(a, 0.0): nan stays nan, and -0.0 gives 0.0.
    sympy=lambda a: _sympy().Max(a, 0),
    methods=("relu",),
    flags=("fresh",),
)
elementwise(
    "sigmoid",
    1,
    eval=lambda a: 1.0 / (1.0 + np.exp(-a)),
    # sigmoid' = s * (1 - s), from the forward output.
    vjp=lambda g, out, a: (mul(g, mul(out, sub(1.0, out))),),
    sympy=lambda a: 1 / (1 + _sympy().exp(-a)),
    flags=("expensive", "no_negative_zero"),
    methods=("sigmoid",),
)


def _cast_vjp(g, out, a):
    # Only float-to-float conversions carry a gradient (autodiff skips the
    # rest): the cotangent goes back in the operand's precision.
    return (cast(g, a.dtype) if g.dtype != a.dtype else g,)


elementwise(
    "cast",
    1,
    eval=lambda a, dtype: np.asarray(a).astype(np.dtype(dtype)),
    vjp=_cast_vjp,
    sympy=lambda a, dtype: a,
    dtype=lambda nodes, dtype: np.dtype(dtype),
    flags=("zero_sign_from_operands", "fresh"),
)


# ------------------------------------------------------------------ more functions
# Trigonometric, hyperbolic, logarithmic and rounding functions, and the
# NumPy ufuncs that need a primitive for their numerics (log1p, expm1, hypot,
# logaddexp) or for code that reads as written (np.arctan(x), x % y). Kinks
# and edges:
# - x % y (np.remainder) has d/dx = 1 and d/dy = -(x // y) (NumPy's floor
#   division, the quotient np.remainder uses); np.fmod has d/dy = -trunc(x/y).
# - floor, ceil, rint, trunc, floor_divide, sign, copysign's second operand
#   and the boolean functions have a zero gradient (None).
# - hypot'(0, 0) = (0, 0); copysign(a, b) has d/da = sign(a) * copysign(1, b)
#   (0 at a = 0, as abs); nan_to_num passes the gradient where x is finite.

_LN2 = 0.6931471805599453
_LN10 = 2.302585092994046


def tan(a):
    return apply("tan", a)


def sinh(a):
    return apply("sinh", a)


def cosh(a):
    return apply("cosh", a)


def floor_divide(a, b):
    return apply("floor_divide", a, b)


def rint(a):
    return apply("rint", a)


def copysign(a, b):
    return apply("copysign", a, b)


def isfinite(a):
    return apply("isfinite", a)


def isnan(a):
    return apply("isnan", a)


def logical_and(a, b):
    return apply("logical_and", a, b)


def logical_or(a, b):
    return apply("logical_or", a, b)


def logical_xor(a, b):
    return apply("logical_xor", a, b)


def logical_not(a):
    return apply("logical_not", a)


def _unary(name, fn, vjp, flags=("expensive",), **fields):
    """A float function of one operand, NumPy's ufunc `fn`."""
    elementwise(
        name,
        1,
        eval=fn,
        vjp=vjp,
        flags=flags,
        answers=(f"numpy.{fn.__name__}",),
        **fields,
    )


def _one_minus_square(a):
    # 1 - a*a as (1 - a) * (1 + a): no cancellation near |a| = 1.
    return mul(sub(1.0, a), add(1.0, a))


_unary(
    "tan",
    np.tan,
    # tan' = 1 + tan**2, from the forward output.
    lambda g, out, a: (mul(g, add(1.0, mul(out, out))),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy_function="tan",
)
_unary(
    "arcsin",
    np.arcsin,
    lambda g, out, a: (div(g, sqrt(_one_minus_square(a))),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy_function="asin",
)
_unary(
    "arccos",
    np.arccos,
    lambda g, out, a: (neg(div(g, sqrt(_one_minus_square(a)))),),
    flags=("expensive", "no_negative_zero"),
    sympy_function="acos",
)
_unary(
    "arctan",
    np.arctan,
    lambda g, out, a: (div(g, add(1.0, mul(a, a))),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy_function="atan",
)
_unary(
    "sinh",
    np.sinh,
    lambda g, out, a: (mul(g, cosh(a)),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy_function="sinh",
)
_unary(
    "cosh",
    np.cosh,
    lambda g, out, a: (mul(g, sinh(a)),),
    flags=("expensive", "no_negative_zero"),
    sympy_function="cosh",
)
_unary(
    "arcsinh",
    np.arcsinh,
    lambda g, out, a: (div(g, sqrt(add(mul(a, a), 1.0))),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy_function="asinh",
)
_unary(
    "arccosh",
    np.arccosh,
    # 1 / sqrt(a*a - 1), with a*a - 1 as (a - 1) * (a + 1) (exact near 1).
    lambda g, out, a: (div(g, sqrt(mul(sub(a, 1.0), add(a, 1.0)))),),
    flags=("expensive", "no_negative_zero"),
    sympy_function="acosh",
)
_unary(
    "arctanh",
    np.arctanh,
    lambda g, out, a: (div(g, _one_minus_square(a)),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy_function="atanh",
)
_unary(
    "log2",
    np.log2,
    lambda g, out, a: (div(g, mul(a, _LN2)),),
    sympy=lambda a: _sympy().log(a, 2),
)
_unary(
    "log10",
    np.log10,
    lambda g, out, a: (div(g, mul(a, _LN10)),),
    sympy=lambda a: _sympy().log(a, 10),
)
_unary(
    "log1p",
    np.log1p,
    lambda g, out, a: (div(g, add(1.0, a)),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy=lambda a: _sympy().log(1 + a),
)
_unary(
    "expm1",
    np.expm1,
    # exp(a), not out + 1: for a << 0, out + 1 has lost every digit.
    lambda g, out, a: (mul(g, exp(a)),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy=lambda a: _sympy().exp(a) - 1,
)
_unary(
    "cbrt",
    np.cbrt,
    # cbrt' = 1 / (3 cbrt**2), from the forward output.
    lambda g, out, a: (div(g, mul(3.0, mul(out, out))),),
    flags=("expensive", "zero_sign_from_operands"),
    sympy=lambda a: _sympy().real_root(a, 3),
)


def _zero_gradient(*_):
    return (None,)


def _rounding(name, fn, flags=(), dtype=None, **fields):
    # Flat almost everywhere: the gradient is zero (None).
    elementwise(
        name,
        1,
        eval=fn,
        vjp=_zero_gradient,
        # NumPy 2 keeps integers integers under floor, ceil and trunc.
        dtype=dtype or dtype_promote,
        flags=flags,
        answers=(f"numpy.{fn.__name__}",),
        **fields,
    )


_rounding("floor", np.floor, ("zero_sign_from_operands",), sympy_function="floor")
_rounding("ceil", np.ceil, sympy_function="ceiling")
_rounding(
    "trunc",
    np.trunc,
    sympy=lambda a: _sympy().sign(a) * _sympy().floor(abs(a)),
)
_rounding("rint", np.rint, dtype=dtype_float)


def _remainder_vjp(g, out, a, b):
    return g, neg(mul(g, floor_divide(a, b)))


def _fmod_vjp(g, out, a, b):
    # The quotient trunc(a / b), read exactly from the result: (a - out) / b
    # is an integer up to rounding, which rint removes.
    return g, neg(mul(g, rint(div(sub(a, out), b))))


elementwise(
    "remainder",
    2,
    eval=np.remainder,
    vjp=_remainder_vjp,
    sympy=lambda a, b: _sympy().Mod(a, b),
    answers=("numpy.remainder", "numpy.mod"),
    operators=("__mod__", "__rmod__"),
)
elementwise(
    "floor_divide",
    2,
    eval=np.floor_divide,
    vjp=lambda g, out, a, b: (None, None),
    sympy=lambda a, b: _sympy().floor(a / b),
    answers=("numpy.floor_divide",),
    operators=("__floordiv__", "__rfloordiv__"),
)
elementwise(
    "fmod",
    2,
    eval=np.fmod,
    vjp=_fmod_vjp,
    answers=("numpy.fmod",),
)


def _hypot_vjp(g, out, a, b):
    # a / hypot(a, b), with the gradient 0 at the origin (as abs'(0) = 0).
    r = where(eq(out, 0.0), 1.0, out)
    return mul(g, div(a, r)), mul(g, div(b, r))


def _arctan2_vjp(g, out, y, x):
    # d atan2(y, x) = (x dy - y dx) / (x*x + y*y).
    r2 = add(mul(x, x), mul(y, y))
    return div(mul(g, x), r2), neg(div(mul(g, y), r2))


def _logaddexp_vjp(g, out, a, b):
    # The weights exp(a - out) and exp(b - out): never overflow.
    return mul(g, exp(sub(a, out))), mul(g, exp(sub(b, out)))


def _logaddexp2_vjp(g, out, a, b):
    return mul(g, pow(2.0, sub(a, out))), mul(g, pow(2.0, sub(b, out)))


elementwise(
    "arctan2",
    2,
    eval=np.arctan2,
    vjp=_arctan2_vjp,
    sympy_function="atan2",
    dtype=dtype_float,
    flags=("expensive",),
    answers=("numpy.arctan2",),
)
elementwise(
    "hypot",
    2,
    eval=np.hypot,
    vjp=_hypot_vjp,
    sympy=lambda a, b: _sympy().sqrt(a * a + b * b),
    dtype=dtype_float,
    flags=("expensive", "commutative", "no_negative_zero"),
    answers=("numpy.hypot",),
)
elementwise(
    "logaddexp",
    2,
    eval=np.logaddexp,
    vjp=_logaddexp_vjp,
    sympy=lambda a, b: _sympy().log(_sympy().exp(a) + _sympy().exp(b)),
    dtype=dtype_float,
    flags=("expensive", "commutative"),
    answers=("numpy.logaddexp",),
)
elementwise(
    "logaddexp2",
    2,
    eval=np.logaddexp2,
    vjp=_logaddexp2_vjp,
    sympy=lambda a, b: _sympy().log(2**a + 2**b, 2),
    dtype=dtype_float,
    flags=("expensive", "commutative"),
    answers=("numpy.logaddexp2",),
)
elementwise(
    "copysign",
    2,
    eval=np.copysign,
    vjp=lambda g, out, a, b: (mul(g, mul(sign(a), copysign(1.0, b))), None),
    sympy=lambda a, b: abs(a) * _sympy().sign(b),
    dtype=dtype_float,
    answers=("numpy.copysign",),
)
elementwise(
    "heaviside",
    2,
    eval=np.heaviside,
    vjp=lambda g, out, x, h: (None, where(eq(x, 0.0), g, 0.0)),
    sympy_function="Heaviside",
    dtype=dtype_float,
    answers=("numpy.heaviside",),
)


elementwise(
    "nan_to_num",
    1,
    eval=lambda a, nan, posinf, neginf: np.nan_to_num(
        a, nan=nan, posinf=posinf, neginf=neginf
    ),
    vjp=lambda g, out, a: (where(isfinite(a), g, 0.0),),
    dtype=dtype_promote,
)

# Boolean functions: no gradient. "comparison": a bool result.
for _name, _fn in (
    ("isfinite", np.isfinite),
    ("isnan", np.isnan),
    ("isinf", np.isinf),
):
    elementwise(
        _name,
        1,
        eval=_fn,
        vjp=_zero_gradient,
        dtype=dtype_bool,
        flags=("comparison",),
        answers=(f"numpy.{_name}",),
    )

# Logical functions of booleans (numpy_api.elementwise turns numbers into
# booleans first, as NumPy does: x != 0).
for _name, _fn, _sympy_name in (
    ("logical_and", np.logical_and, "And"),
    ("logical_or", np.logical_or, "Or"),
    ("logical_xor", np.logical_xor, "Xor"),
):
    elementwise(
        _name,
        2,
        eval=_fn,
        vjp=lambda g, out, a, b: (None, None),
        sympy_function=_sympy_name,
        dtype=dtype_bool,
        flags=("comparison", "commutative"),
    )
elementwise(
    "logical_not",
    1,
    eval=np.logical_not,
    vjp=_zero_gradient,
    sympy_function="Not",
    dtype=dtype_bool,
    flags=("comparison",),
)
