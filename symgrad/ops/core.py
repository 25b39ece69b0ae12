"""The op record, the one op table, and the machinery every op shares.

Contract:
- `OPS` maps an op name to its `Op` record, built by keywords: shape rule,
  dtype rule, NumPy evaluation, VJP rule, SymPy mapping,
  algebraic flags used by the passes, memory facts as flags, what it reads of
  its inputs where it ignores a part (`reads`: one triangle, as NumPy's
  cholesky and eigh), and the NumPy / SciPy / `math` callables, Tracer
  methods and Python operators the op answers to. Semantics only: how each
  target writes an op is that target's (the lowering registries of
  `codegen/numpy/` and `codegen/python/`). The tracer's dispatch, the SymPy
  bridge, the passes' facts and the supported-functions page are all
  derived from this table.
- `register(op)` adds a record; `implements(...)` adds a composite (a NumPy
  function written in terms of builders, see `symgrad.numpy_api`). Both feed
  the dispatch tables `API` (qualified callable name -> `Entry`), `METHODS`
  (Tracer method name -> `Entry`) and `OPERATORS` (dunder name -> `Entry`).
- `apply(name, *inputs, **attrs)` builds the interned node; `const` and
  `lift` turn Python numbers and NumPy arrays into constant nodes.
- VJP rules have the signature `vjp(g, out, *inputs) -> tuple` with one entry
  per input (None for no gradient). They build nodes and never compute
  numbers from runtime values. There are no JVP rules: forward mode is the
  transpose of the VJP (`symgrad.ad.transforms`).

Flags (the vocabulary passes and codegen read):
- "elementwise": computes each element from the same element of its
  (broadcast) operands; "commutative": f(a, b) == f(b, a) bit for bit;
- "comparison": a boolean result of comparing its operands;
- "view": moves or selects elements without arithmetic (reshape, getitem);
- "reduction": reduces over `axes` with `keepdims`; "leaf": input or const;
- "arithmetic": the result depends only on the operand values converted to
  the result type (CSE may identify constants by their converted value);
- "expensive": worth never evaluating twice (transcendental functions);
- "no_negative_zero": the result is never -0.0;
- "zero_sign_from_operands": the result is -0.0 only if some operand is;
- "region": holds nested graphs (`ir.Region` attributes: cond, switch, while);
- "effect": must run in program order where written (stack push and pop):
  never folded, merged or moved.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from symgrad import ir
from symgrad.ir import dims

FLAGS = frozenset(
    (
        "elementwise",
        "commutative",
        "comparison",
        "view",
        "reduction",
        "leaf",
        "arithmetic",
        "expensive",
        "no_negative_zero",
        "zero_sign_from_operands",
        "region",
        "effect",
        # Memory facts, for the planning of the targets that reuse buffers
        # (`codegen.memory`): "fresh": the result is a new array, never a view
        # of an operand; "c_contiguous": a C-contiguous one whatever its
        # operands' layouts; "out_when_big": computing into a dying operand's
        # buffer pays only for big arrays; "out_scratch_first": the form that
        # writes into a buffer may overwrite the first operand when that dies
        # too.
        "fresh",
        "c_contiguous",
        "out_when_big",
        "out_scratch_first",
    )
)


@dataclass(frozen=True, kw_only=True)
class Op:
    """Everything symgrad knows about one primitive."""

    name: str
    nin: int | None  # number of operands (None: any number)
    shape: Callable | None = None  # (shapes: list[tuple], **attrs) -> tuple
    dtype: Callable | None = None  # (nodes: list[Node], **attrs) -> np.dtype
    eval: Callable | None = None  # (*arrays, **attrs) -> ndarray
    # For ops whose value is not one array (several results, a stack):
    # (nodes, **attrs) -> ir.TupleType / ir.StackType, instead of shape/dtype.
    result_type: Callable | None = None
    vjp: Callable | None = None  # (g, out, *inputs) -> tuple[Node | None, ...]
    sympy: Callable | None = None  # (*sympy_args, **attrs) -> sympy expression
    # The SymPy function class of the same name (`sympy.exp`), if there is one:
    # it gives the SymPy form above by default and lets `from_sympy` map the
    # class back to this op.
    sympy_function: str | None = None
    flags: frozenset = field(default_factory=frozenset)
    # What the op reads of its inputs, where it ignores a part (as LAPACK's
    # symmetric routines ignore one triangle): (**attrs) -> a tuple with one
    # entry per input, None (all of it) or "lower" / "upper" (that triangle
    # of the last two axes, diagonal included; the op acts as if the matrix
    # were its symmetric completion). The VJP rule of such an op returns
    # exactly zero outside what was read; tests/test_linalg.py checks both
    # facts against NumPy for every op that declares them.
    reads: Callable | None = None
    # Dispatch: qualified names of callables ("numpy.exp", "math.exp",
    # "scipy.special.expit") that call `call` (default: the builder with the
    # operands positionally), Tracer methods (`x.tanh()`) and operators.
    answers: tuple = ()
    methods: tuple = ()
    operators: tuple = ()
    call: Callable | None = None
    doc: str = ""

    def __post_init__(self):
        unknown = set(self.flags) - FLAGS
        if unknown:
            raise ValueError(f"op {self.name!r}: unknown flags {sorted(unknown)}")
        if self.sympy is None and self.sympy_function is not None:
            object.__setattr__(self, "sympy", _sympy_call(self.sympy_function))

    @property
    def commutative(self) -> bool:
        return "commutative" in self.flags

    @property
    def elementwise(self) -> bool:
        return "elementwise" in self.flags

    def builder(self, *inputs, **attrs):
        return apply(self.name, *inputs, **attrs)


def _sympy_call(name: str):
    def form(*args, **_attrs):
        import sympy

        return getattr(sympy, name)(*args)

    form.__name__ = f"sympy_{name}"
    return form


OPS: dict[str, Op] = {}


@dataclass(frozen=True)
class Entry:
    """One callable, method or operator the tracer understands."""

    name: str  # "numpy.linalg.solve", "ndarray.sum", "__add__"
    handler: Callable  # node-level function with the callable's signature
    op: str | None = None  # the primitive it builds directly, or None (composite)


API: dict[str, Entry] = {}
METHODS: dict[str, Entry] = {}
OPERATORS: dict[str, Entry] = {}


def _add_entry(table: dict, key: str, entry: Entry):
    if key in table:
        raise ValueError(f"{key!r} is registered twice")
    table[key] = entry


def register(op: Op) -> Op:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    if op.commutative:
        _COMMUTATIVE.add(op.name)
    handler = op.call or _positional(op)
    for name in op.answers:
        _add_entry(API, name, Entry(name, handler, op.name))
    for name in op.methods:
        _add_entry(METHODS, name, Entry(f"ndarray.{name}", handler, op.name))
    for name in op.operators:
        _add_entry(OPERATORS, name, Entry(name, handler, op.name))
    return op


def _positional(op: Op):
    name = op.name

    def handler(*inputs):
        return apply(name, *inputs)

    handler.__name__ = name
    return handler


def implements(*names: str, methods=(), operators=()):
    """Register a composite: a node-level function with a NumPy signature.

    `names` are qualified callable names ("numpy.var"), `methods` Tracer
    method names ("var"), `operators` dunder names ("__mod__").
    """

    def mark(fn):
        for name in names:
            _add_entry(API, name, Entry(name, fn))
        for name in methods:
            _add_entry(METHODS, name, Entry(f"ndarray.{name}", fn))
        for name in operators:
            _add_entry(OPERATORS, name, Entry(name, fn))
        return fn

    return mark


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
    same_as = key if key is not inputs else None
    if op.result_type is not None:
        vtype = op.result_type(inputs, **attrs)
        if isinstance(vtype, ir.ArrayType):
            return ir.make(
                name, inputs, frozen, vtype.shape, vtype.dtype, same_as=same_as
            )
        return ir.make(name, inputs, frozen, (), OBJECT, same_as=same_as, vtype=vtype)
    shape = op.shape([x.shape for x in inputs], **attrs)
    dtype = op.dtype(inputs, **attrs)
    return ir.make(name, inputs, frozen, tuple(shape), dtype, same_as=same_as)


OBJECT = np.dtype(object)


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


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def dim_node(d) -> ir.Node:
    """The size `d` as a scalar int value: a `dim` node for a symbolic size
    (see `ops.leaves`), a weak constant for an int."""
    if not isinstance(d, dims.Dim):
        return lift(int(d))
    return ir.make("dim", (), (("dim", d),), (), np.int64, weak=True)


def lift(x) -> ir.Node:
    """Nodes pass through; Python scalars become weak constants (and
    symbolic sizes `dim` nodes)."""
    if isinstance(x, ir.Node):
        return x
    kind = type(x)
    if kind is dims.Dim:
        return dim_node(x)
    if kind is float or (kind is int and _INT64_MIN <= x <= _INT64_MAX):
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
        if not _INT64_MIN <= x <= _INT64_MAX:
            # Beyond 64 bits NumPy can only use the value as a float (as it
            # does when it meets float operands); take it as one.
            return const(float(x), weak=True)
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
    # cheap; `dims.broadcast_shapes` handles everything else.
    if len(shapes) == 2:
        second = shapes[1]
        if first == second or not second:
            return first
        if not first:
            return second
    return dims.broadcast_shapes(*shapes)


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
