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


def _call(fn: str):
    """A printer `fn(a, b, ...)`."""
    return lambda *args: f"{fn}({', '.join(args)})"


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


def _literal_operand(node, i):
    """The value of operand `i` if the printers see it as a number literal."""
    x = node.inputs[i]
    if x.op != "const" or x.shape != ():
        return None
    v = x.value.item()
    return v if v == v and abs(v) != float("inf") else None


def _div_helpers(node) -> tuple:
    return () if _literal_operand(node, 1) else ("_div",)


def _pow_helpers(node) -> tuple:
    return ("_sqrt",) if _literal_operand(node, 1) == 0.5 else ("_pow",)


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


# Arithmetic. "arithmetic": the result depends only on the operand values
# converted to the result type (CSE reads constants that way).
elementwise(
    "add",
    2,
    eval=np.add,
    vjp=lambda g, out, a, b: (g, g),
    numpy=_infix("+"),
    python=_infix("+"),
    sympy=lambda a, b: a + b,
    flags=("commutative", "arithmetic"),
    answers=("numpy.add",),
    operators=("__add__", "__radd__"),
)
elementwise(
    "sub",
    2,
    eval=np.subtract,
    vjp=lambda g, out, a, b: (g, neg(g)),
    numpy=_infix("-"),
    python=_infix("-"),
    sympy=lambda a, b: a - b,
    flags=("arithmetic",),
    answers=("numpy.subtract",),
    operators=("__sub__", "__rsub__"),
)
elementwise(
    "mul",
    2,
    eval=np.multiply,
    vjp=lambda g, out, a, b: (mul(g, b), mul(a, g)),
    numpy=_infix("*"),
    python=_infix("*"),
    sympy=lambda a, b: a * b,
    flags=("commutative", "arithmetic"),
    answers=("numpy.multiply",),
    operators=("__mul__", "__rmul__"),
)
elementwise(
    "div",
    2,
    eval=np.true_divide,
    # d(a/b)/db = -a/b**2 = -(a/b)/b, reusing the forward value.
    vjp=lambda g, out, a, b: (div(g, b), neg(div(mul(g, out), b))),
    numpy=_infix("/"),
    python=_div_py,
    python_helpers=_div_helpers,
    sympy=lambda a, b: a / b,
    dtype=dtype_float,
    flags=("arithmetic",),
    answers=("numpy.true_divide", "numpy.divide"),
    operators=("__truediv__", "__rtruediv__"),
)
elementwise(
    "pow",
    2,
    eval=np.power,
    vjp=_pow_vjp,
    numpy=_pow_src,
    python=_pow_py,
    python_helpers=_pow_helpers,
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
    numpy=_call("np.maximum"),
    python=_extreme_py(">", "<="),
    sympy=lambda a, b: _sympy().Max(a, b),
    flags=("arithmetic", "zero_sign_from_operands"),
    answers=("numpy.maximum",),
)
elementwise(
    "minimum",
    2,
    eval=np.minimum,
    vjp=_minmax_vjp(lt),
    numpy=_call("np.minimum"),
    python=_extreme_py("<", ">="),
    sympy=lambda a, b: _sympy().Min(a, b),
    flags=("arithmetic", "zero_sign_from_operands"),
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
        numpy=_infix(_sym),
        python=_infix(_sym),
        dtype=dtype_bool,
        flags=("comparison",),
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
        numpy=_call("np.where"),
        python=lambda c, a, b: f"{a} if {c} else {b}",
        sympy=lambda c, a, b: _sympy().Piecewise((a, c), (b, True)),
        flags=frozenset(("elementwise", "zero_sign_from_operands")),
    )
)

elementwise(
    "neg",
    1,
    eval=np.negative,
    vjp=lambda g, out, a: (neg(g),),
    numpy=lambda a: f"-{a}",
    python=lambda a: f"-{a}",
    sympy=lambda a: -a,
    dtype=dtype_promote,
    answers=("numpy.negative",),
    operators=("__neg__",),
)
elementwise(
    "exp",
    1,
    eval=np.exp,
    vjp=lambda g, out, a: (mul(g, out),),
    numpy=_call("np.exp"),
    python=_call("_exp"),
    python_helpers=("_exp",),
    sympy_function="exp",
    flags=("expensive", "no_negative_zero"),
    answers=("numpy.exp",),
    methods=("exp",),
)
elementwise(
    "log",
    1,
    eval=np.log,
    vjp=lambda g, out, a: (div(g, a),),
    numpy=_call("np.log"),
    python=_call("_log"),
    python_helpers=("_log",),
    sympy_function="log",
    flags=("expensive",),
    answers=("numpy.log",),
    methods=("log",),
)
elementwise(
    "tanh",
    1,
    eval=np.tanh,
    # tanh' = 1 - tanh**2, from the forward output.
    vjp=lambda g, out, a: (mul(g, sub(1.0, mul(out, out))),),
    numpy=_call("np.tanh"),
    python=_call("math.tanh"),
    sympy_function="tanh",
    flags=("expensive", "zero_sign_from_operands"),
    answers=("numpy.tanh",),
    methods=("tanh",),
)
elementwise(
    "sin",
    1,
    eval=np.sin,
    vjp=lambda g, out, a: (mul(g, cos(a)),),
    numpy=_call("np.sin"),
    python=_call("_sin"),
    python_helpers=("_sin",),
    sympy_function="sin",
    flags=("expensive",),
    answers=("numpy.sin",),
)
elementwise(
    "cos",
    1,
    eval=np.cos,
    vjp=lambda g, out, a: (neg(mul(g, sin(a))),),
    numpy=_call("np.cos"),
    python=_call("_cos"),
    python_helpers=("_cos",),
    sympy_function="cos",
    flags=("expensive",),
    answers=("numpy.cos",),
)
elementwise(
    "sqrt",
    1,
    eval=np.sqrt,
    # sqrt' = 1 / (2 sqrt(a)), from the forward output.
    vjp=lambda g, out, a: (div(mul(g, 0.5), out),),
    numpy=_call("np.sqrt"),
    python=_call("_sqrt"),
    python_helpers=("_sqrt",),
    sympy_function="sqrt",
    flags=("expensive", "zero_sign_from_operands"),
    answers=("numpy.sqrt",),
)
elementwise(
    "abs",
    1,
    eval=np.abs,
    vjp=lambda g, out, a: (mul(g, sign(a)),),
    numpy=_call("np.abs"),
    python=_call("abs"),
    sympy_function="Abs",
    dtype=dtype_promote,
    flags=("no_negative_zero",),
    answers=("numpy.absolute",),
    operators=("__abs__",),
)
elementwise(
    "sign",
    1,
    eval=np.sign,
    # sign is flat almost everywhere: its derivative is zero.
    vjp=lambda g, out, a: (None,),
    numpy=_call("np.sign"),
    python=_call("_sign"),
    python_helpers=("_sign",),
    sympy_function="sign",
    dtype=dtype_promote,
    answers=("numpy.sign",),
)
elementwise(
    "relu",
    1,
    eval=lambda a: np.maximum(a, 0.0),
    vjp=lambda g, out, a: (where(gt(a, 0.0), g, 0.0),),
    numpy=lambda a: f"np.maximum({a}, 0.0)",
    # As np.maximum(a, 0.0): nan stays nan, and -0.0 gives 0.0.
    python=lambda a: f"0.0 if {a} <= 0.0 else {a}",
    sympy=lambda a: _sympy().Max(a, 0),
    methods=("relu",),
)
elementwise(
    "sigmoid",
    1,
    eval=lambda a: 1.0 / (1.0 + np.exp(-a)),
    # sigmoid' = s * (1 - s), from the forward output.
    vjp=lambda g, out, a: (mul(g, mul(out, sub(1.0, out))),),
    numpy=lambda a: f"1.0 / (1.0 + np.exp(-{a}))",
    python=lambda a: f"1.0 / (1.0 + _exp(-{a}))",
    python_helpers=("_exp",),
    sympy=lambda a: 1 / (1 + _sympy().exp(-a)),
    flags=("expensive", "no_negative_zero"),
    methods=("sigmoid",),
)


def _cast_numpy(a, dtype):
    # np.float64(x) converts arrays and scalars alike, also Python ints and
    # bools (a loop counter starts as one), which have no .astype.
    return f"np.{np.dtype(dtype).name}({a})"


def _cast_python(a, dtype):
    kind = np.dtype(dtype).kind
    return {"f": f"float({a})", "b": f"bool({a})"}.get(kind, f"int({a})")


def _cast_vjp(g, out, a):
    # Only float-to-float conversions carry a gradient (autodiff skips the
    # rest): the cotangent goes back in the operand's precision.
    return (cast(g, a.dtype) if g.dtype != a.dtype else g,)


elementwise(
    "cast",
    1,
    eval=lambda a, dtype: np.asarray(a).astype(np.dtype(dtype)),
    vjp=_cast_vjp,
    numpy=_cast_numpy,
    python=_cast_python,
    sympy=lambda a, dtype: a,
    dtype=lambda nodes, dtype: np.dtype(dtype),
    flags=("zero_sign_from_operands",),
)
