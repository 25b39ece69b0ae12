"""The expression graph: interned nodes and graphs of them.

Contract:
- A `Node` is one operation applied to earlier nodes. Nodes are interned per
  `scope()`: asking for the same op on the same inputs with the same attributes
  returns the same object, which makes common-subexpression elimination free.
- Every node gets a serial number (`id`) at creation. Inputs are always created
  before the nodes that use them, so sorting by `id` is a topological order that
  follows the user's program order; this is what makes output deterministic.
- `Graph` holds input nodes, output nodes and every node between them in
  topological order, and prints as one equation per line.
- This module never evaluates or differentiates anything: that is `ops` and
  `autodiff`.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import operator
from dataclasses import dataclass, field

import numpy as np

from symgrad.ir import dims


@dataclass(frozen=True, slots=True)
class Loc:
    """Where a node came from: a line of user source, or the gradient of one.

    `stmt` numbers the runs of consecutive operations recorded on one line, so
    that two executions of a loop body are told apart. (Slotted: a large trace
    holds one per statement executed.)
    """

    file: str
    line: int
    func: str
    stmt: int = 0
    grad: bool = False
    # The gradient twin, made once: autodiff asks for it once per node.
    _grad: Loc | None = field(default=None, compare=False, repr=False)

    def as_grad(self) -> Loc:
        cached = self._grad
        if cached is None:
            cached = Loc(self.file, self.line, self.func, self.stmt, True)
            object.__setattr__(self, "_grad", cached)
        return cached


@dataclass(frozen=True)
class ArrayType:
    """An array (or scalar) value: what most nodes hold."""

    shape: tuple
    dtype: np.dtype

    def __str__(self):
        return _type_str(self.shape, self.dtype)


@dataclass(frozen=True)
class StackType:
    """A stack (a Python list in generated code) of values of one array type,
    pushed in a loop's forward sweep and popped in its reverse sweep."""

    elem: ArrayType

    def __str__(self):
        return f"stack<{self.elem}>"


@dataclass(frozen=True)
class TupleType:
    """The results of an op with several (cond, while, pop, slogdet)."""

    items: tuple

    def __str__(self):
        return "(" + ", ".join(str(t) for t in self.items) + ")"


def type_of(node) -> ArrayType | StackType | TupleType:
    """The value type of a node."""
    return node.vtype or ArrayType(node.shape, node.dtype)


class Region:
    """A nested graph: the body of a branch or a loop.

    `params` are the region's own input nodes (op "param"), one per operand
    the region node passes in; `results` are nodes computed from params and
    constants only (regions are closed: outer values come in as operands).
    Compared by identity, so two region nodes never intern together.
    """

    __slots__ = ("params", "results", "__weakref__")

    def __init__(self, params, results):
        self.params = tuple(params)
        self.results = tuple(results)

    def nodes(self) -> list:
        """The body: every node the results need, params and constants too."""
        return toposort(self.results)

    def __repr__(self):
        return f"<Region {len(self.params)} params -> {len(self.results)} results>"


class Node:
    """One SSA value: `op(*inputs, **attrs)` with a static shape and dtype.

    `value` is set for constants only. `loc` and `hint` are annotations that do
    not take part in identity: where the node came from, and a naming hint
    (an input's name, or the primal node this node is the adjoint of).
    """

    __slots__ = (
        "op",
        "inputs",
        "attrs",
        "shape",
        "dtype",
        "value",
        "weak",
        "id",
        "loc",
        "hint",
        "adjoint_of",
        "order",
        "vtype",
    )

    def __init__(self, op, inputs, attrs, shape, dtype, value, weak, id_):
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self.shape = shape
        self.dtype = dtype
        self.value = value
        self.weak = weak
        self.id = id_
        self.loc = None
        self.hint = None
        self.adjoint_of = None
        self.order = id_
        # None for an array; a `StackType` or `TupleType` for the values of
        # stacks (lists pushed in a loop) and of ops with several results.
        self.vtype = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self):
        """The number of elements (an int, or a `Dim` for a symbolic shape)."""
        return dims.prod(self.shape)

    def attr(self, name, default=None):
        for key, value in self.attrs:
            if key == name:
                return value
        return default

    def __repr__(self) -> str:
        return f"<Node %{self.id} {self.op} {type_str(self)}>"


class _Scope:
    """An intern table plus the annotations given to nodes created in it."""

    def __init__(self):
        self.table: dict = {}
        # Builders may memoize lookups here (per scope, like the nodes).
        self.memo: dict = {}
        self.counter = 0
        self.loc: Loc | None = None
        self.order: int | None = None


_global_scope = _Scope()
_current: contextvars.ContextVar[_Scope] = contextvars.ContextVar(
    "symgrad_scope", default=_global_scope
)


@contextlib.contextmanager
def scope():
    """A fresh intern table: nodes made inside never alias nodes made outside.

    Each compilation runs in its own scope so that source locations and name
    hints of one trace can never leak into the output of another.
    """
    token = _current.set(_Scope())
    try:
        yield
    finally:
        _current.reset(token)


def current_scope() -> _Scope:
    return _current.get()


class annotate:
    """Nodes created inside get this `loc` (and emission `order`) if they are new.

    `order` lets a rewritten node take the place in program order of the node
    it replaces; by default a node's order is its id. (A class rather than a
    generator-based context manager: it is entered once per recorded or
    differentiated node, and this is several times cheaper.)
    """

    __slots__ = ("loc", "order", "scope", "saved")

    def __init__(self, loc: Loc | None, order: int | None = None):
        self.loc = loc
        self.order = order

    def __enter__(self):
        sc = self.scope = _current.get()
        self.saved = sc.loc, sc.order
        sc.loc, sc.order = self.loc, self.order
        return self

    def __exit__(self, *exc):
        sc = self.scope
        sc.loc, sc.order = self.saved
        return False


def find(op, inputs, attrs) -> Node | None:
    """The existing non-constant node with this structure, or None.

    Lets builders skip shape and dtype inference for nodes that exist already
    (rewrites rebuild many of them).
    """
    return _current.get().table.get((op, inputs, attrs, None, False))


def make(
    op,
    inputs,
    attrs,
    shape,
    dtype,
    value=None,
    weak=False,
    key=None,
    same_as=None,
    vtype=None,
) -> Node:
    """The interned node for this structure (created if it does not exist yet).

    `key` stands in for `value` in the identity of constants (arrays are not
    hashable). `same_as` is the input tuple used for identity when it differs
    from `inputs` (commutative ops: b*a finds a*b, which keeps its order).
    """
    sc = _current.get()
    ident = (op, same_as or inputs, attrs, key, weak)
    node = sc.table.get(ident)
    if node is None:
        sc.counter += 1
        if type(dtype) is not np.dtype:
            dtype = np.dtype(dtype)
        node = Node(op, inputs, attrs, shape, dtype, value, weak, sc.counter)
        node.vtype = vtype
        node.loc = sc.loc
        if sc.order is not None:
            node.order = sc.order
        sc.table[ident] = node
    return node


def toposort(outputs) -> list[Node]:
    """Every node the outputs depend on, inputs first (iteratively, by id)."""
    seen = dict.fromkeys(outputs)
    stack = list(seen)
    push, pop = stack.append, stack.pop
    while stack:
        for inp in pop().inputs:
            if inp not in seen:
                seen[inp] = None
                push(inp)
    # Inputs are always created before their users, so ids are topological.
    return sorted(seen, key=_by_id)


_by_id = operator.attrgetter("id")
_by_order = operator.attrgetter("order", "id")


def program_order(outputs) -> list[Node]:
    """A topological order that follows each node's `order` where it can.

    Kahn's algorithm with the ready nodes kept in a heap by (order, id): valid
    for any graph, and equal to the user's program order when nothing was
    rewritten.
    """
    nodes = toposort(outputs)
    # Fast path, same answer: when sorting by (order, id) already puts every
    # node after its inputs, Kahn's heap would pop exactly that sequence (the
    # smallest remaining node is always ready), so no heap is needed.
    by_order = sorted(nodes, key=_by_order)
    position = {node: i for i, node in enumerate(by_order)}
    if all(position[inp] < i for i, node in enumerate(by_order) for inp in node.inputs):
        return by_order
    waiting = {}
    users: dict = {}
    ready = []
    for node in nodes:
        distinct = list(dict.fromkeys(node.inputs))
        waiting[node] = len(distinct)
        for inp in distinct:
            users.setdefault(inp, []).append(node)
        if not distinct:
            ready.append((node.order, node.id, node))
    heapq.heapify(ready)
    out = []
    while ready:
        *_, node = heapq.heappop(ready)
        out.append(node)
        for user in users.get(node, ()):
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (user.order, user.id, user))
    return out


def type_str(node: Node) -> str:
    """Short type like `f64[3,4]` used in dumps and error messages."""
    if node.vtype is not None:
        return str(node.vtype)
    return _type_str(node.shape, node.dtype)


def _type_str(shape, dtype) -> str:
    dt = np.dtype(dtype)
    short = {"f": "f", "i": "i", "u": "u", "b": "bool"}.get(dt.kind, dt.kind)
    if short != "bool":
        short += str(dt.itemsize * 8)
    return f"{short}[{','.join(str(d) for d in shape)}]"


@dataclass
class Graph:
    """Inputs, outputs and the nodes between them in topological order."""

    inputs: list[Node]
    outputs: list[Node]
    nodes: list[Node] = field(default=None)

    def __post_init__(self):
        if self.nodes is None:
            self.nodes = toposort(self.outputs)

    def __str__(self) -> str:
        return dump(self)


def _fmt_attr(key, value) -> str:
    return (
        format_index(value)
        if key == "index" and isinstance(value, tuple)
        else repr(value)
    )


def format_index(index) -> str:
    """An indexing tuple as Python source: `1:3, None, ...`."""
    parts = []
    for item in index:
        if isinstance(item, tuple) and item[0] == "slice":
            start, stop, step = item[1:]
            text = f"{'' if start is None else start}:{'' if stop is None else stop}"
            if step is not None:
                text += f":{step}"
            parts.append(text)
        elif item is None:
            parts.append("None")
        else:
            parts.append(str(item))
    # x[a] and x[(a,)] are the same basic index, so no trailing comma is needed.
    return ", ".join(parts) if parts else "()"


def dump(graph: Graph) -> str:
    """A jaxpr-like listing: `%3:f64[4] = mul %1 %2` one equation per line."""
    names = {}
    for i, node in enumerate(graph.inputs):
        names[node] = node.hint or f"in{i}"

    def ref(node):
        if node.op == "const":
            value = node.value
            if value.ndim == 0:
                return repr(value.item())
            return f"const{type_str(node)}"
        return names[node]

    head = ", ".join(f"{names[n]}:{type_str(n)}" for n in graph.inputs)
    lines = [f"graph({head}):"]
    for node in graph.nodes:
        if node.op in ("input", "const"):
            continue
        names[node] = f"%{node.id}"
        args = " ".join(ref(i) for i in node.inputs)
        attrs = " ".join(f"{k}={_fmt_attr(k, v)}" for k, v in node.attrs)
        eq = f"  %{node.id}:{type_str(node)} = {node.op} {args}".rstrip()
        lines.append(f"{eq} {attrs}".rstrip())
    lines.append("  return " + ", ".join(ref(n) for n in graph.outputs))
    return "\n".join(lines)
