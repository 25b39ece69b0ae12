"""The op record, the one op table, and the machinery every op shares.

Contract:
- `OPS` maps an op name to its `Op` record: shape rule, dtype rule, NumPy
  evaluation, VJP rule, printers per target and SymPy mapping. Nothing outside
  the records knows anything op-specific (targets whose lowering is too big for
  a one-line printer keep their own table keyed by op name).
- `apply(name, *inputs, **attrs)` builds the interned node; `const` and
  `lift` turn Python numbers and NumPy arrays into constant nodes.
- VJP rules have the signature `vjp(g, out, *inputs) -> tuple` with one entry
  per input (None for no gradient). They build nodes and never compute numbers
  from runtime values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from symgrad import ir
from symgrad.errors import ShapeError

Printer = Callable[..., str]


@dataclass(frozen=True)
class Op:
    """Everything symgrad knows about one primitive."""

    name: str
    nin: int
    shape: Callable  # (shapes: list[tuple], **attrs) -> tuple
    dtype: Callable  # (nodes: list[Node], **attrs) -> np.dtype
    eval: Callable  # (*arrays, **attrs) -> ndarray
    vjp: Callable | None  # (g, out, *inputs) -> tuple[Node | None, ...]
    numpy: Printer  # (*arg_sources, **attrs) -> expression source
    python: Printer | None = None  # scalar lowering for the pure-Python target
    sympy: Callable | None = None  # (*sympy_args, **attrs) -> sympy expression
    # Algebraic and structural facts used by passes and codegen.
    flags: frozenset = field(default_factory=frozenset)
    # Statement-form lowering: (out_name, *arg_sources, **attrs) -> list of lines.
    numpy_stmts: Callable | None = None

    @property
    def commutative(self) -> bool:
        return "commutative" in self.flags


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    if op.commutative:
        _COMMUTATIVE.add(op.name)
    return op


_COMMUTATIVE: set = set()


_Node = ir.Node


def apply(name: str, *inputs: ir.Node, **attrs) -> ir.Node:
    """Build (or find) the node `name(*inputs, **attrs)`."""
    op = OPS[name]
    for x in inputs:
        if type(x) is not _Node:
            inputs = tuple([lift(x) for x in inputs])
            break
    key = inputs
    if name in _COMMUTATIVE and inputs[0].id > inputs[1].id:
        # a*b and b*a are the same IEEE value: identify both by one order so
        # interning merges them (the VJP of x*x builds both); the node keeps
        # the operand order it was first written with.
        key = (inputs[1], inputs[0])
    frozen = tuple(sorted(attrs.items())) if attrs else ()
    node = ir.find(name, key, frozen)
    if node is not None:
        # Shape and dtype follow from the structure, so an existing node
        # needs no inference.
        return node
    shape = op.shape([x.shape for x in inputs], **attrs)
    dtype = op.dtype(inputs, **attrs)
    same_as = key if key is not inputs else None
    return ir.make(name, inputs, frozen, tuple(shape), dtype, same_as=same_as)


# ----------------------------------------------------------------- constants


def const(value, dtype=None, weak=False) -> ir.Node:
    """A constant node. `weak` marks a Python scalar, which does not promote."""
    arr = np.asarray(value, dtype=dtype)
    if arr.dtype == object:
        raise TypeError(f"cannot make a constant from {type(value).__name__}")
    arr = arr.copy()
    arr.flags.writeable = False
    key = (arr.dtype.str, arr.shape, arr.tobytes())
    return ir.make("const", (), (), arr.shape, arr.dtype, arr, weak, key)


def lift(x) -> ir.Node:
    """Nodes pass through; Python scalars become weak constants."""
    if isinstance(x, ir.Node):
        return x
    kind = type(x)
    if kind is float or kind is int:
        # A loop like `x = x * 0.999` lifts the same number again and again:
        # remember its node per scope. The sign is part of the key because
        # 0.0 == -0.0 (NaN never matches itself, so it is simply not reused).
        memo = ir.current_scope().memo
        key = (kind, x, math.copysign(1.0, x) if kind is float else 1.0)
        node = memo.get(key)
        if node is None:
            node = memo[key] = const(x, weak=True)
        return node
    if isinstance(x, bool):
        return const(x)
    if isinstance(x, int):
        return const(x, weak=True)
    if isinstance(x, float):
        return const(x, weak=True)
    return const(x)


def is_const(node: ir.Node, value=None) -> bool:
    """True for a constant (equal everywhere to `value`, if given)."""
    if node.op != "const":
        return False
    if value is None:
        return True
    v = node.value
    if v.ndim == 0:
        return v.item() == value
    return bool(v.size > 0 and np.all(v == value))


# ----------------------------------------------------------------- shared rules


def broadcast_shapes(*shapes) -> tuple:
    first = shapes[0]
    # Fast paths for the common cases (same shape, or scalars) keep tracing
    # cheap; NumPy's rule handles everything else.
    if len(shapes) == 2:
        second = shapes[1]
        if first == second or not second:
            return first
        if not first:
            return second
    elif all(s == first or s == () for s in shapes):
        return first if first or all(s == () for s in shapes) else _widest(shapes)
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(
            "operands could not be broadcast together with shapes "
            + " ".join(str(tuple(s)) for s in shapes)
        ) from None


def _widest(shapes):
    return max(shapes, key=len)


def shape_broadcast(shapes, **_):
    return broadcast_shapes(*shapes)


def shape_same(shapes, **_):
    return shapes[0]


def promote(nodes) -> np.dtype:
    """NumPy's promotion with Python scalars weak, as NumPy 2 does (NEP 50)."""
    first = nodes[0].dtype
    if len(nodes) == 1 or all(n.dtype == first for n in nodes):
        return first
    strong = [n.dtype for n in nodes if not n.weak]
    weak = [n.dtype for n in nodes if n.weak]
    if not strong:
        return np.result_type(*weak)
    dt = np.result_type(*strong)
    if dt.kind in "biu" and any(w.kind == "f" for w in weak):
        return np.dtype(np.float64)
    if dt.kind == "b" and weak:
        return np.result_type(*weak)
    return dt


def dtype_promote(nodes, **_):
    return promote(nodes)


def dtype_float(nodes, **_):
    """Result of a float function: ints and bools become float64."""
    dt = promote(nodes)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def dtype_bool(nodes, **_):
    return np.dtype(bool)


def dtype_first(nodes, **_):
    return nodes[0].dtype


def is_float(node: ir.Node) -> bool:
    return node.dtype.kind == "f"
