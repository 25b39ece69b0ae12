"""Graph <-> SymPy: show derivatives as formulas, compile formulas to gradients.

Contract:
- `to_sympy(compiled)` returns `(value_expr, grad_exprs)` for a compiled
  function of scalars: SymPy expressions in symbols named after the
  function's parameters, `grad_exprs` shaped like the gradient (one
  expression for an int `argnums`, a tuple of them for a tuple, the argument's
  lists/tuples/dicts for a pytree of floats). Each op converts through the
  `sympy` field of its record in the op table.
- `sympy_program(expr, wrt)` (behind `symgrad.from_sympy`, which checks the
  arguments with `checked` and wraps the result in a `Compiled`) binds one
  float per symbol of `wrt`, builds the graph of a SymPy expression as the
  traced value and calls `compiler.build`: the same reverse mode and passes
  as `symgrad.compile`. The module's `value_and_grad(*values)` takes the
  values of `wrt` in order and returns `(value, tuple_of_gradients)`.
  Reverse mode on the graph keeps the gradient within a small factor of the
  expression, where `sympy.diff` of each symbol grows it without bound
  ("expression swell"): see symgrad/bench/swell.py (part of `symgrad bench`).
- `latex(compiled)` is a LaTeX block with the value and its derivatives.

Both directions walk iteratively (SymPy itself may recurse when it builds or
prints an expression). SymPy is imported here only, lazily, and is never on
the compile path of `symgrad.compile` or in generated code. This module
imports the compiler stage, never `symgrad.api`.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from symgrad import compiler, ir, ops
from symgrad.codegen.naming import sanitize
from symgrad.errors import ArgumentError, SymgradError
from symgrad.ir.pytree import LEAF, flatten, unflatten
from symgrad.program import Program


def _sympy():
    import sympy

    return sympy


# ------------------------------------------------------------------ to SymPy


def _number(value):
    """A SymPy number for a scalar constant, exact where that stays readable."""
    sp = _sympy()
    v = np.asarray(value).item()
    if isinstance(v, bool):
        return sp.true if v else sp.false
    if isinstance(v, int):
        return sp.Integer(v)
    if math.isnan(v):
        return sp.nan
    if math.isinf(v):
        return sp.oo if v > 0 else -sp.oo
    num, den = v.as_integer_ratio()
    if den == 1 or den <= 1024:
        # Integers and short binary fractions (0.5, 0.015625) stay exact.
        return sp.Rational(num, den)
    # Float(v) holds the double exactly and prints its shortest digits.
    return sp.Float(v)


def _scalar_only(node, what):
    if node.shape != ():
        raise SymgradError(
            f"to_sympy handles functions of scalars only, but {what} has shape "
            f"{node.shape}; compile a scalar version of the function (Python "
            "floats, not arrays) to see its derivative as a formula"
        )


def _depth(outputs) -> int:
    """The longest chain of ops from an input to one of `outputs` (iterative)."""
    depth: dict = {}
    for node in ir.toposort(outputs):
        depth[node] = 1 + max((depth[i] for i in node.inputs), default=0)
    return max((depth[o] for o in outputs), default=0)


def _too_deep(exc, outputs, doing) -> SymgradError:
    """SymPy builds, simplifies and prints expressions recursively, so an
    expression nested deep enough (a long recurrence such as y = sin(y) + x
    repeated 600 times) exhausts Python's stack inside SymPy: say so."""
    return SymgradError(
        f"SymPy cannot {doing} this expression: it nests {_depth(outputs)} "
        f"operations deep and SymPy recurses once or more per level (Python's "
        f"recursion limit is {sys.getrecursionlimit()}); show a shorter "
        "computation, or use the generated code (symgrad show --stage source)"
    )


def graph_to_sympy(outputs, symbols: dict) -> list:
    """SymPy expressions for `outputs`; `symbols` maps input nodes to symbols.

    The walk over the graph is iterative; SymPy's own recursion on a deep
    expression is a SymgradError (see `_too_deep`), never a RecursionError."""
    try:
        return _graph_to_sympy(outputs, symbols)
    except RecursionError as exc:
        raise _too_deep(exc, outputs, "build") from None


def _graph_to_sympy(outputs, symbols: dict) -> list:
    exprs: dict = {}
    for node in ir.toposort(outputs):
        if node.op == "input":
            _scalar_only(node, f"argument {node.hint!r}")
            exprs[node] = symbols[node]
            continue
        _scalar_only(node, f"an intermediate {node.op} value")
        if node.op == "const":
            exprs[node] = _number(node.value)
            continue
        rule = ops.OPS[node.op].sympy
        if rule is None:
            raise SymgradError(f"the op {node.op!r} has no SymPy form")
        args = [exprs[i] for i in node.inputs]
        exprs[node] = rule(*args, **dict(node.attrs))
    return [exprs[o] for o in outputs]


def _leaf_symbols(program, real: bool) -> list:
    """A symbol per input leaf, named like the parameter (or leaf) it stands for."""
    sp = _sympy()
    names = []
    for leaf in program.leaves:
        if leaf.node is None:
            names.append(None)
            continue
        pos, *keys = leaf.path
        names.append(program.params[pos] if not keys else leaf.node.hint)
    kwargs = {"real": True} if real else {}
    return [None if n is None else sp.Symbol(n, **kwargs) for n in names]


def _symbols(compiled, real: bool) -> list:
    """Per leaf: the symbols `from_sympy` was given, or new ones."""
    given = getattr(compiled, "sympy_symbols", None)
    return list(given) if given is not None else _leaf_symbols(compiled.program, real)


def to_sympy(compiled, real: bool = False):
    """(value_expr, grad_exprs) of a compiled function of scalars.

    `real=True` makes the symbols real (SymPy then simplifies |x|, sign and
    max further); by default they are plain symbols, equal to
    `sympy.Symbol(name)`.
    """
    program = compiled.program
    both = program.function("value_and_grad")
    if both is None:
        raise SymgradError(
            "to_sympy reads the value and the gradient; compile the function "
            "with value_and_grad among its functions"
        )
    symbols = _symbols(compiled, real)
    by_node = {
        leaf.node: s
        for leaf, s in zip(program.leaves, symbols, strict=True)
        if leaf.node is not None
    }
    return unflatten(both.tree, graph_to_sympy(both.outputs, by_node))


def latex(compiled, simplify: bool = False) -> str:
    """LaTeX lines `f = ...` and `\\frac{\\partial f}{\\partial x} = ...`."""
    sp = _sympy()
    value, grads = to_sympy(compiled)
    flat, _, _ = flatten(grads)
    program = compiled.program
    symbols = _symbols(compiled, False)
    wrt = [
        symbols[i]
        for a in program.argnums
        for i, leaf in enumerate(program.leaves)
        if leaf.path[0] == a and leaf.node is not None
    ]
    tidy = sp.simplify if simplify else (lambda e: e)
    fun = program.fun_name if program.fun_name.isidentifier() else "f"
    name = sp.latex(sp.Symbol(fun))
    try:
        lines = [f"{name} = {sp.latex(tidy(value))}"]
        for sym, grad in zip(wrt, flat, strict=True):
            part = f"\\frac{{\\partial {name}}}{{\\partial {sp.latex(sym)}}}"
            lines.append(f"{part} = {sp.latex(tidy(grad))}")
    except RecursionError as exc:
        outputs = program.function("value_and_grad").outputs
        doing = "simplify and print" if simplify else "print"
        raise _too_deep(exc, outputs, doing) from None
    return " \\\\\n".join(lines)


# ------------------------------------------------------------------ from SymPy


def _function_builders() -> dict:
    """SymPy function class -> op, from the table's `sympy_function` fields."""
    sp = _sympy()
    out = {}
    for op in ops.OPS.values():
        if op.sympy_function is not None:
            cls = getattr(sp, op.sympy_function)
            if isinstance(cls, type):  # sympy.sqrt is a Pow, handled as a power
                out[cls] = op
    return out


def supported() -> str:
    """What `from_sympy` converts, for its error messages (from the table)."""
    functions = sorted(cls.__name__ for cls in _function_builders())
    return (
        "numbers, symbols, +, *, ** (powers, sqrt), Max, Min, Piecewise, "
        "comparisons (<, <=, >, >=, Eq, Ne) and " + ", ".join(functions)
    )


def _relations():
    sp = _sympy()
    return {
        sp.StrictLessThan: ops.lt,
        sp.LessThan: ops.le,
        sp.StrictGreaterThan: ops.gt,
        sp.GreaterThan: ops.ge,
        sp.Equality: ops.eq,
        sp.Unequality: ops.ne,
    }


class _Converter:
    """SymPy expression -> graph nodes, bottom-up with a memo per subtree."""

    def __init__(self, inputs: dict):
        self.sp = _sympy()
        self.nodes: dict = dict(inputs)  # sympy expression -> node
        self.functions = _function_builders()
        self.relations = _relations()

    def convert(self, root) -> ir.Node:
        # Iterative post-order: a node is built once all its children are.
        stack = [(root, False)]
        nodes = self.nodes
        while stack:
            e, ready = stack.pop()
            if e in nodes:
                continue
            if ready:
                nodes[e] = self.build(e)
                continue
            stack.append((e, True))
            for child in e.args:
                if child not in nodes:
                    stack.append((child, False))
        return nodes[root]

    def number(self, e) -> ir.Node:
        sp = self.sp
        if e is sp.true or e is sp.false:
            return ops.const(bool(e))
        try:
            value = float(e)
        except TypeError:
            raise SymgradError(
                f"from_sympy: {e} is not a real number; only real-valued "
                "expressions can be compiled"
            ) from None
        return ops.lift(value)

    def build(self, e) -> ir.Node:
        from sympy.functions.elementary.piecewise import ExprCondPair

        sp = self.sp
        get = self.nodes.__getitem__
        if e.is_Symbol:
            raise SymgradError(
                f"from_sympy: the expression contains the symbol {e}, which is not "
                "in wrt; add it to wrt or substitute a value (expr.subs)"
            )
        if not e.args and (e.is_number or e is sp.true or e is sp.false):
            # Number atoms (2, 1/3, 0.5, pi, E, oo). Constant subtrees such as
            # sqrt(2) or pi/2 become ops on constants, which the folding pass
            # evaluates (asking SymPy `is_number` would walk every subtree).
            return self.number(e)
        if e.is_Add:
            total = get(e.args[0])
            for term in e.args[1:]:
                total = ops.add(total, get(term))
            return total
        if e.is_Mul:
            return self.product(e)
        if e.is_Pow:
            return self.power(get(e.base), e.exp)
        op = self.functions.get(e.func)
        if op is not None and op.nin == len(e.args):
            return op.builder(*[get(a) for a in e.args])
        if e.func in (sp.Max, sp.Min):
            pick = ops.maximum if e.func is sp.Max else ops.minimum
            out = get(e.args[0])
            for arg in e.args[1:]:
                out = pick(out, get(arg))
            return out
        relation = self.relations.get(e.func)
        if relation is not None:
            return relation(get(e.lhs), get(e.rhs))
        if isinstance(e, sp.Piecewise):
            return self.piecewise(e)
        if isinstance(e, ExprCondPair):
            return get(e.expr)  # read through by `piecewise`
        raise SymgradError(
            f"from_sympy does not support {e.func.__name__} (in {e}); supported: "
            f"{supported()}"
        )

    def product(self, e) -> ir.Node:
        # Factors with negative integer powers go to a denominator (x*y**-2
        # becomes x / y**2), and a coefficient of -1 becomes a negation.
        sp = self.sp
        negate = False
        num, den = [], []
        for f in e.args:
            if f == sp.S.NegativeOne:
                negate = not negate
            elif f.is_Pow and f.exp.is_Integer and f.exp < 0:
                den.append(self.power(self.nodes[f.base], -f.exp))
            else:
                num.append(self.nodes[f])
        out = num[0] if num else ops.lift(1.0)
        for n in num[1:]:
            out = ops.mul(out, n)
        if den:
            below = den[0]
            for d in den[1:]:
                below = ops.mul(below, d)
            out = ops.div(out, below)
        return ops.neg(out) if negate else out

    def power(self, base: ir.Node, exponent) -> ir.Node:
        sp = self.sp
        if exponent == sp.S.Half:
            return ops.sqrt(base)
        if exponent == -sp.S.Half:
            return ops.div(1.0, ops.sqrt(base))
        if exponent == sp.S.One:
            return base
        if exponent == sp.S.NegativeOne:
            return ops.div(1.0, base)
        if exponent.is_number:
            return ops.pow(base, self.number(exponent))
        return ops.pow(base, self.nodes[exponent])

    def piecewise(self, e) -> ir.Node:
        # Piecewise((a, c1), (b, c2), (d, True)) = where(c1, a, where(c2, b, d)).
        sp = self.sp
        pairs = list(e.args)
        out = None
        for pair in reversed(pairs):
            value = self.nodes[pair.expr]
            if out is None:
                if pair.cond is not sp.true:
                    # No branch matches: SymPy leaves the value undefined.
                    value = ops.where(self.nodes[pair.cond], value, math.nan)
                out = value
            else:
                out = ops.where(self.nodes[pair.cond], value, out)
        return out


def _param_names(wrt) -> list:
    names, taken = [], set()
    for sym in wrt:
        base = sanitize(str(sym), "x")
        name, k = base, 0
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        names.append(name)
    return names


def checked(expr, wrt) -> tuple:
    """`(expr, wrt)` as SymPy objects: an expression and a list of distinct
    symbols, or an error saying what to pass."""
    sp = _sympy()
    expr = sp.sympify(expr)
    wrt = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    if not wrt:
        raise ArgumentError("from_sympy needs at least one symbol in wrt")
    for s in wrt:
        if not isinstance(s, sp.Symbol):
            raise ArgumentError(f"wrt must hold SymPy symbols, got {s!r}")
    if len(set(wrt)) != len(wrt):
        raise ArgumentError("wrt names a symbol twice")
    return expr, wrt


def sympy_program(expr, wrt, optimize=True) -> Program:
    """The gradient compilation of `expr` (see `checked`) with respect to the
    symbols `wrt`: the expression is the traced value of a function of one
    float per symbol, and `compiler.build` does the rest."""
    t0 = time.perf_counter()
    sig = compiler.bind(
        None,
        tuple(0.0 for _ in wrt),
        tuple(range(len(wrt))),
        name="expr",
        params=_param_names(wrt),
        filename="<sympy>",
    )
    try:
        value = _Converter(dict(zip(wrt, sig.inputs, strict=True))).convert(expr)
    except RecursionError:
        # The walk is iterative; SymPy's own hashing and comparisons of a
        # deep expression recurse.
        raise SymgradError(
            "from_sympy: SymPy cannot take this expression apart: it nests "
            "too deep for Python's recursion limit "
            f"({sys.getrecursionlimit()}); build it from shorter pieces"
        ) from None
    if value.shape != () or value.dtype.kind != "f":
        value = _as_float(value)
    stats = {"trace_s": time.perf_counter() - t0}
    traced = compiler.Traced(sig, [value], LEAF, stats=stats)
    return compiler.build(traced, None, optimize)


def _as_float(node: ir.Node) -> ir.Node:
    if node.shape != ():
        raise SymgradError("from_sympy needs a scalar expression")
    if node.dtype.kind == "b":
        raise SymgradError(
            "from_sympy needs a real-valued expression, not a condition; use "
            "Piecewise to turn conditions into values"
        )
    return ops.mul(node, 1.0)
