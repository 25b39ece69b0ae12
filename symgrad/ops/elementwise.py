"""Elementwise primitives: arithmetic, transcendental functions, comparisons.

Contract: each primitive is one `Op` record registered in the table, plus a
builder function of the same name. Binary ops broadcast like NumPy; their VJP
rules return cotangents in the broadcast shape and `autodiff` sums them back to
each input's shape. The `python` printer of each record is its scalar lowering
for the pure-Python target: it must give NumPy's value for every input (inf and
nan instead of exceptions), calling helpers the target copies into the module
(`_exp`, `_div`, ...) where the math module would raise.

Kink conventions (documented in the README and pinned by tests):
relu'(0) = 0, abs'(0) = sign(0) = 0, and for maximum/minimum a tie splits the
cotangent evenly between both arguments (as JAX and PyTorch do).
"""

from __future__ import annotations

import re

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


def _binary(
    name, evaluate, vjp, numpy, python, sympy=None, dtype=dtype_promote, flags=()
):
    register(
        Op(
            name,
            2,
            shape_broadcast,
            dtype,
            evaluate,
            vjp,
            numpy,
            python=python,
            sympy=sympy,
            flags=frozenset(("elementwise",) + tuple(flags)),
        )
    )


def _unary(name, evaluate, vjp, numpy, python, sympy=None, dtype=dtype_float, flags=()):
    register(
        Op(
            name,
            1,
            shape_same,
            dtype,
            evaluate,
            vjp,
            numpy,
            python=python,
            sympy=sympy,
            flags=frozenset(("elementwise",) + tuple(flags)),
        )
    )


_SIMPLE = re.compile(r"-?(?:[A-Za-z_][A-Za-z0-9_.]*|[0-9][0-9.e+-]*)")


def _pow_src(a: str, b: str) -> str:
    # Only ** binds tighter than unary minus, so a negative literal base needs
    # parentheses: -2.0 ** x means -(2.0 ** x).
    if a.startswith("-"):
        a = f"({a})"
    # Black writes x**2 without spaces when both operands are simple.
    if _SIMPLE.fullmatch(a) and _SIMPLE.fullmatch(b):
        return f"{a}**{b}"
    return f"{a} ** {b}"


def _infix(symbol: str):
    return lambda a, b: f"{a} {symbol} {b}"


def _number(src: str):
    """The value of a source that is a plain number literal, else None."""
    try:
        return float(src)
    except ValueError:
        return None


def _div_py(a: str, b: str) -> str:
    # Python raises on a zero divisor where NumPy gives inf or nan; a literal
    # nonzero divisor cannot be zero, so it keeps the plain operator.
    if _number(b):
        return f"{a} / {b}"
    return f"_div({a}, {b})"


def _pow_py(a: str, b: str) -> str:
    # NumPy computes a power with the scalar exponent 0.5 as sqrt, which
    # differs from pow at -inf (nan, not inf) and -0.0.
    if _number(b) == 0.5:
        return f"_sqrt({a})"
    return f"_pow({a}, {b})"


def _extreme_py(wins: str, loses: str):
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


def _pow_vjp(g, out, a, b):
    # d(a**b)/da = b * a**(b-1);  d(a**b)/db = a**b * log(a), taking log(a) as 0
    # where a == 0 so that 0**b (b > 0) gets the gradient 0 instead of NaN.
    ga = mul(g, mul(b, pow(a, sub(b, 1.0))))
    gb = mul(mul(g, out), log(where(eq(a, 0.0), 1.0, a)))
    return ga, gb


def _minmax_vjp(first_wins):
    # Ties split the cotangent evenly between both sides.
    def vjp(g, out, a, b):
        half = where(eq(a, b), mul(g, 0.5), 0.0)
        return where(first_wins(a, b), g, half), where(first_wins(b, a), g, half)

    return vjp


_binary(
    "add",
    np.add,
    lambda g, out, a, b: (g, g),
    _infix("+"),
    _infix("+"),
    lambda a, b: a + b,
    flags=("commutative",),
)
_binary(
    "sub",
    np.subtract,
    lambda g, out, a, b: (g, neg(g)),
    _infix("-"),
    _infix("-"),
    lambda a, b: a - b,
)
_binary(
    "mul",
    np.multiply,
    lambda g, out, a, b: (mul(g, b), mul(a, g)),
    _infix("*"),
    _infix("*"),
    lambda a, b: a * b,
    flags=("commutative",),
)
_binary(
    "div",
    np.true_divide,
    # d(a/b)/db = -a/b**2 = -(a/b)/b, reusing the forward value.
    lambda g, out, a, b: (div(g, b), neg(div(mul(g, out), b))),
    lambda a, b: f"{a} / {b}",
    _div_py,
    lambda a, b: a / b,
    dtype=dtype_float,
)
_binary(
    "pow",
    np.power,
    _pow_vjp,
    _pow_src,
    _pow_py,
    lambda a, b: a**b,
    dtype=dtype_float,
)
_binary(
    "maximum",
    np.maximum,
    _minmax_vjp(gt),
    lambda a, b: f"np.maximum({a}, {b})",
    _extreme_py(">", "<="),
    lambda a, b: _sympy().Max(a, b),
)
_binary(
    "minimum",
    np.minimum,
    _minmax_vjp(lt),
    lambda a, b: f"np.minimum({a}, {b})",
    _extreme_py("<", ">="),
    lambda a, b: _sympy().Min(a, b),
)

for _name, _fn, _sym in (
    ("lt", np.less, "<"),
    ("le", np.less_equal, "<="),
    ("gt", np.greater, ">"),
    ("ge", np.greater_equal, ">="),
    ("eq", np.equal, "=="),
    ("ne", np.not_equal, "!="),
):
    _binary(
        _name,
        _fn,
        lambda g, out, a, b: (None, None),
        _infix(_sym),
        _infix(_sym),
        dtype=dtype_bool,
        flags=("comparison",),
        sympy=_sympy_relation(_name),
    )

register(
    Op(
        "where",
        3,
        shape_broadcast,
        lambda nodes, **_: dtype_promote(nodes[1:]),
        np.where,
        lambda g, out, c, a, b: (None, where(c, g, 0.0), where(c, 0.0, g)),
        lambda c, a, b: f"np.where({c}, {a}, {b})",
        python=lambda c, a, b: f"{a} if {c} else {b}",
        sympy=lambda c, a, b: _sympy().Piecewise((a, c), (b, True)),
        flags=frozenset(("elementwise",)),
    )
)

_unary(
    "neg",
    np.negative,
    lambda g, out, a: (neg(g),),
    lambda a: f"-{a}",
    lambda a: f"-{a}",
    lambda a: -a,
    dtype=dtype_promote,
)
_unary(
    "exp",
    np.exp,
    lambda g, out, a: (mul(g, out),),
    lambda a: f"np.exp({a})",
    lambda a: f"_exp({a})",
    lambda a: _sympy().exp(a),
)
_unary(
    "log",
    np.log,
    lambda g, out, a: (div(g, a),),
    lambda a: f"np.log({a})",
    lambda a: f"_log({a})",
    lambda a: _sympy().log(a),
)
_unary(
    "tanh",
    np.tanh,
    # tanh' = 1 - tanh**2, from the forward output.
    lambda g, out, a: (mul(g, sub(1.0, mul(out, out))),),
    lambda a: f"np.tanh({a})",
    lambda a: f"math.tanh({a})",
    lambda a: _sympy().tanh(a),
)
_unary(
    "sin",
    np.sin,
    lambda g, out, a: (mul(g, cos(a)),),
    lambda a: f"np.sin({a})",
    lambda a: f"_sin({a})",
    lambda a: _sympy().sin(a),
)
_unary(
    "cos",
    np.cos,
    lambda g, out, a: (neg(mul(g, sin(a))),),
    lambda a: f"np.cos({a})",
    lambda a: f"_cos({a})",
    lambda a: _sympy().cos(a),
)
_unary(
    "sqrt",
    np.sqrt,
    # sqrt' = 1 / (2 sqrt(a)), from the forward output.
    lambda g, out, a: (div(mul(g, 0.5), out),),
    lambda a: f"np.sqrt({a})",
    lambda a: f"_sqrt({a})",
    lambda a: _sympy().sqrt(a),
)
_unary(
    "abs",
    np.abs,
    lambda g, out, a: (mul(g, sign(a)),),
    lambda a: f"np.abs({a})",
    lambda a: f"abs({a})",
    lambda a: _sympy().Abs(a),
    dtype=dtype_promote,
)
_unary(
    "sign",
    np.sign,
    # sign is flat almost everywhere: its derivative is zero.
    lambda g, out, a: (None,),
    lambda a: f"np.sign({a})",
    lambda a: f"_sign({a})",
    lambda a: _sympy().sign(a),
    dtype=dtype_promote,
)
_unary(
    "relu",
    lambda a: np.maximum(a, 0.0),
    lambda g, out, a: (where(gt(a, 0.0), g, 0.0),),
    lambda a: f"np.maximum({a}, 0.0)",
    # As np.maximum(a, 0.0): nan stays nan, and -0.0 gives 0.0.
    lambda a: f"0.0 if {a} <= 0.0 else {a}",
    lambda a: _sympy().Max(a, 0),
)
_unary(
    "sigmoid",
    lambda a: 1.0 / (1.0 + np.exp(-a)),
    # sigmoid' = s * (1 - s), from the forward output.
    lambda g, out, a: (mul(g, mul(out, sub(1.0, out))),),
    lambda a: f"1.0 / (1.0 + np.exp(-{a}))",
    lambda a: f"1.0 / (1.0 + _exp(-{a}))",
    lambda a: 1 / (1 + _sympy().exp(-a)),
)
