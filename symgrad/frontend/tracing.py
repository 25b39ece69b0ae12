"""The tracer: record what a Python function does into graph nodes.

Contract:
- `Tracer` wraps a node and behaves like a NumPy array or a micrograd `Value`.
  Its dispatch is derived from the op table (`ops.API`, `ops.METHODS`,
  `ops.OPERATORS`, filled by the op records and by `symgrad.numpy_api`):
  Python operators, methods (`.tanh() .sum(axis) .reshape()` ...), indexing,
  and NumPy / SciPy callables through `__array_ufunc__` and
  `__array_function__`. Handlers work on nodes: the tracer unwraps tracers in
  the arguments (also inside lists and tuples), calls the handler under the
  user's source location, and wraps the nodes it returns.
- Every node recorded gets a `Loc`: the user's file, line and statement run.
- Anything that would need a concrete value (`if`, `float()`, an unsupported
  function or attribute) raises `TraceError` naming the user's file:line,
  the real callable (`np.fft.rfft`) and what to use instead.
- `trace(fun, args)` runs `fun` on arguments that contain tracers and names the
  recorded nodes after the variables the user assigned them to.
"""

from __future__ import annotations

import builtins
import contextvars
import importlib
import linecache
import operator
import re
import sys
import threading
import weakref

import numpy as np

from symgrad import ir, numpy_api, ops
from symgrad.errors import (
    ConcretizationError,
    ShapeError,
    TracedAttributeError,
    TraceError,
)
from symgrad.frontend import ufunc_methods
from symgrad.ir import dims
from symgrad.ir.pytree import flatten, unflatten
from symgrad.ir.source import Recorder, fail, name_statements, user_frame, where_str
from symgrad.numpy_api.args import display
from symgrad.ops.checks import check

_recorder: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "symgrad_recorder", default=None
)

SUPPORTED = "see the README's 'Supported functions' section"


def is_tracing() -> bool:
    return _recorder.get() is not None


def _loc():
    rec = _recorder.get()
    return rec.loc() if rec is not None else None


def _record(builder, *args, **attrs) -> Tracer:
    """Apply `builder` to node-ified `args` with the user's location attached."""
    loc = _loc()
    nodes = [_to_node(a) for a in args]
    try:
        with ir.annotate(loc):
            node = builder(*nodes, **attrs)
    except ShapeError as exc:
        if getattr(exc, "located", False):
            raise
        fail(str(exc), "Check the shapes of the operands on this line", ShapeError)
    return Tracer(node)


def _to_node(x) -> ir.Node:
    if type(x) is Tracer:
        return x.node
    # (A list operand may hold tracers: `x * [a, 2.0]`.)
    return numpy_api.args.as_node(_unwrap(x))


# ------------------------------------------------------------------ dispatch


def _unwrap(x):
    """Arguments with every tracer replaced by its node (lists, tuples, dicts)."""
    kind = type(x)
    if kind is Tracer:
        return x.node
    if kind is list or kind is tuple:
        return kind(_unwrap(i) for i in x)
    if kind is dict:
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _wrap(x):
    """Results with every node wrapped in a tracer."""
    kind = type(x)
    if kind is ir.Node:
        return Tracer(x)
    if kind is list or kind is tuple:
        return kind(_wrap(i) for i in x)
    return x


_HANDLER_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_.<>]*\(\) ")


def call(entry: ops.Entry, args, kwargs):
    """Run a table entry's handler on unwrapped arguments; wrap the result."""
    loc = _loc()
    args = _unwrap(args)
    kwargs = _unwrap(kwargs) if kwargs else {}
    try:
        with ir.annotate(loc):
            out = entry.handler(*args, **kwargs)
    except ShapeError as exc:
        if getattr(exc, "located", False):
            raise
        fail(
            f"{display(entry.name)}: {exc}",
            "Check the shapes of the operands",
            ShapeError,
        )
    except TraceError:
        raise
    except TypeError as exc:
        # A call NumPy would reject too (unknown keyword, missing operand):
        # say it about the user's function, not about the handler.
        text = _HANDLER_PREFIX.sub("", str(exc))
        fail(f"{display(entry.name)}: {text}", "Check the arguments")
    return _wrap(out)


class _Resolver:
    """Callable objects (np.exp, scipy.special.logsumexp) -> table entries.

    Names resolve lazily, a module at a time, and only for modules already
    imported: symgrad never imports SciPy itself, and a function the user
    reaches through SciPy has made SciPy importable by then.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.by_object: dict = {}
        self.done: set = set()
        self.seen = 0

    def lookup(self, obj):
        entry = self.by_object.get(obj)
        if entry is None and self._stale():
            with self.lock:
                self._refresh()
            entry = self.by_object.get(obj)
        return entry

    def _stale(self) -> bool:
        if len(ops.API) != self.seen:
            return True
        return any(m in sys.modules for m in self._pending_modules())

    def _pending_modules(self):
        for name in ops.API:
            module = name.rpartition(".")[0]
            if module not in self.done:
                yield module

    def _refresh(self):
        # Built aside and swapped in whole: lookups read `by_object` unlocked.
        if len(ops.API) != self.seen:
            # Entries were added or removed: resolve everything again.
            self.seen = len(ops.API)
            self.done = set()
            table = {}
        else:
            table = dict(self.by_object)
        groups: dict = {}
        for name, entry in ops.API.items():
            module, _, attr = name.rpartition(".")
            groups.setdefault(module, []).append((attr, entry))
        for module, items in groups.items():
            if module in self.done or module not in sys.modules:
                continue
            mod = importlib.import_module(module)
            for attr, entry in items:
                obj = getattr(mod, attr, None)
                if obj is not None:
                    table.setdefault(obj, entry)
            self.done.add(module)
        self.by_object = table


RESOLVER = _Resolver()


def entry_for(obj) -> ops.Entry | None:
    """The table entry for a callable object, or None."""
    try:
        return RESOLVER.lookup(obj)
    except TypeError:  # unhashable
        return None


def qualified_name(obj) -> str:
    """How users write a callable: `np.fft.rfft`, `scipy.special.zeta`."""
    if isinstance(obj, np.ufunc):
        name = obj.__name__
        if getattr(np, name, None) is obj:
            return f"np.{name}"
        special = sys.modules.get("scipy.special")
        if special is not None and getattr(special, name, None) is obj:
            return f"scipy.special.{name}"
        return name
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
    return display(f"{module}.{name}" if module else name)


def _unsupported(obj):
    fail(f"{qualified_name(obj)} is not supported by symgrad", SUPPORTED)


# ------------------------------------------------------------------ the tracer

_CONCRETE = "Use np.* functions or the methods (.tanh(), .exp(), .relu(), ...) instead"
_WHERE = "use np.where(cond, a, b) and np.maximum/np.minimum"


def _control_flow_fix() -> str:
    """Why the code testing a traced value was not converted, naming its
    function (from the front end, which is loaded whenever a function is
    traced), and what to do."""
    frontend = sys.modules.get("symgrad.frontend.resolve")
    why = None if frontend is None else frontend.unconverted_reason(user_frame())
    if why is None:
        # Converted code, where a builtin or library call took the truth of
        # a traced value itself (any(), all(), sorted(), a key function).
        return (
            "Python took the truth of a traced value inside a call symgrad does "
            "not stage (any(), all(), sorted(), ...): use np.any / np.all, "
            f"or {_WHERE.removeprefix('use ')}"
        )
    return f"{why}; or {_WHERE}"


def _known(node):
    """The value of `node` when it depends on no argument (an array the
    function built from sizes, such as np.zeros(40), which the trace keeps
    as a construction: see numpy_api.construct.SIZED), else None."""
    nodes = ir.toposort([node])
    for n in nodes:
        if n.op in ("input", "param") or "effect" in ops.OPS[n.op].flags:
            return None
        if n.vtype is not None or not dims.is_static(n.shape):
            return None
    (value,) = ops.evaluate(ir.Graph([], [node]), [])
    return np.asarray(value)


class Tracer:
    """A value being traced; wraps one graph node."""

    # `_base` and `_views` (set only by indexing) link NumPy views to the
    # array they look into; see `__getitem__` and `__setitem__`.
    __slots__ = ("node", "_base", "_views", "__weakref__")
    __array_priority__ = 1000
    __hash__ = None  # like arrays: == is elementwise, so not hashable

    def __init__(self, node: ir.Node):
        self.node = node

    # --- static facts -------------------------------------------------------
    shape = property(lambda self: self.node.shape)
    ndim = property(lambda self: self.node.ndim)
    size = property(lambda self: self.node.size)
    dtype = property(lambda self: self.node.dtype)

    @property
    def T(self):
        return self.transpose()

    def __repr__(self):
        return f"Tracer({ir.type_str(self.node)})"

    def __len__(self):
        n = length(self)
        if isinstance(n, dims.Dim):
            fail(
                f"Python's len() of an array whose first axis has the symbolic "
                f"size {n!r}: len() must return an int",
                f"Use x.shape[0], which is the size {n!r} (symgrad reads len(x) in "
                "your own functions so already)",
            )
        return n

    def __iter__(self):
        if not self.node.shape:
            fail("iterating over a traced scalar", "A scalar has no items")
        n = self.node.shape[0]
        if isinstance(n, dims.Dim):
            fail(
                f"iterating over the rows of an array whose first axis has the "
                f"symbolic size {n!r} (the loop would need the number of rows)",
                "Write it on whole arrays (vectorized), or compile with this size "
                "fixed (leave the argument out of batch=/shapes=)",
            )
        return (self[i] for i in range(n))

    def __getattr__(self, name):
        entry = ops.METHODS.get(name)
        if entry is None:
            if name.startswith("__"):
                raise AttributeError(name)
            fail(
                f"a traced array has no attribute .{name} that symgrad supports",
                SUPPORTED,
                TracedAttributeError,
            )
        node = self.node

        def method(*args, **kwargs):
            return call(entry, (node,) + args, kwargs)

        return method

    # --- things that need a concrete value ---------------------------------
    def __bool__(self):
        fail(
            "Python control flow (if, while, and/or, bool(), max()) on a traced value",
            _control_flow_fix(),
            ConcretizationError,
        )

    def __float__(self):
        fail("float() or math.* on a traced value", _CONCRETE)

    def __int__(self):
        fail("int() on a traced value", _CONCRETE, ConcretizationError)

    def __index__(self):
        fail(
            "a traced value used as an index or size",
            "Use Python ints for sizes and indices",
            ConcretizationError,
        )

    def __complex__(self):
        fail("complex() on a traced value", _CONCRETE)

    def item(self):
        value = _known(self.node)
        if value is not None:
            return value.item()
        fail(".item() on a traced value", _CONCRETE)

    def tolist(self):
        value = _known(self.node)
        if value is not None:
            return value.tolist()
        fail(".tolist() on a traced value", _CONCRETE)

    # --- indexing: views and writes ----------------------------------------
    def __getitem__(self, key):
        out = call(ops.OPERATORS["__getitem__"], (self, key), None)
        node = out.node
        if type(out) is Tracer and node.op == "getitem" and node.inputs[0] is self.node:
            index = node.attr("index")
            if len(index) != self.node.ndim or not all(type(i) is int for i in index):
                # A basic index gives a view in NumPy (not a scalar): writes
                # into the view reach this array, and writes into this array
                # show in the view.
                out._base = (self, index)
                _add_view(self, out)
        return out

    def __setitem__(self, key, value):
        """`x[key] = value`: `x` becomes the updated array (a new node).

        Every name bound to this Tracer sees the update (`y = x` aliases, as
        in NumPy). A view made by basic indexing (`row = x[0]`) writes
        through to the array it looks into, and views of an array that is
        written are read again, as NumPy's share memory. The generated code
        never writes into its arguments: it copies first.
        """
        new = call(ops.OPERATORS["__setitem__"], (self, key, value), None).node
        with ir.annotate(_loc()):
            _write(self, new)

    # --- NumPy protocols ----------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        fail("a traced value was converted to a NumPy array", _CONCRETE)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        entry = entry_for(ufunc)
        if entry is None:
            _unsupported(ufunc)
        if method != "__call__":

            return ufunc_methods.apply(ufunc, method, inputs, kwargs)
        out = kwargs.pop("out", None)
        if out is not None or kwargs:
            given = sorted(kwargs) + (["out"] if out is not None else [])
            fail(
                f"{qualified_name(ufunc)} with {', '.join(k + '=' for k in given)} "
                "is not supported",
                "Call it with its operands only",
            )
        return call(entry, inputs, None)

    def __array_function__(self, func, types, args, kwargs):
        entry = entry_for(func)
        if entry is None:
            _unsupported(func)
        return call(entry, args, kwargs)


def length(obj):
    """`len(obj)` as traced functions see it: the first axis of a traced
    array, which may be a symbolic size (a `Dim`, usable in arithmetic:
    `1.0 / len(x)`); Python's len for everything else. The front end binds
    `len` to this in the user's functions."""
    if type(obj) is Tracer:
        if not obj.node.shape:
            fail("len() of a traced scalar", "A scalar has no length")
        return obj.node.shape[0]
    return builtins.len(obj)


length.__name__ = "len"

_DIM_OPERANDS = (int, float, np.generic, np.ndarray)


def _dim_arithmetic(op, a, b):
    """`a <op> b` where one side is a symbolic size and the other is not a
    size (`1.0 / n`, `x * n`): the size becomes a traced scalar computed from
    the runtime shapes (a `dim` node). Only while tracing: elsewhere a size
    is not a value."""
    if not is_tracing():
        return NotImplemented
    operands = []
    for x in (a, b):
        if isinstance(x, dims.Dim):
            x = Tracer(ops.dim_node(x))
        elif type(x) is not Tracer and not isinstance(x, _DIM_OPERANDS):
            return NotImplemented
        operands.append(x)
    return getattr(operator, op)(*operands)


def _dim_failure(message):
    if is_tracing():
        exc = ShapeError(f"{where_str()}: {message}")
        exc.located = True
        raise exc


dims.set_hooks(mixed=_dim_arithmetic, fail=_dim_failure)


def _add_view(base: Tracer, view: Tracer):
    views = getattr(base, "_views", None)
    if views is None:
        base._views = views = []
    elif len(views) >= 8 and len(views) & (len(views) - 1) == 0:
        views[:] = [ref for ref in views if ref() is not None]
    views.append(weakref.ref(view))


_SUBSCRIPT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[")


def _write(tracer: Tracer, node: ir.Node):
    """Rebind `tracer` to `node`, write it through to the arrays it is a view
    of, and read the views of those arrays again."""
    if node.hint is None and node.op == "setitem":
        node.hint = _assigned_name() or tracer.node.hint
    tracer.node = node
    path = [tracer]
    base = getattr(tracer, "_base", None)
    while base is not None:
        parent, index = base
        old = parent.node
        parent.node = numpy_api.indexing.write(old, index, path[-1].node)
        if parent.node.hint is None and parent.node.op == "setitem":
            parent.node.hint = old.hint
        path.append(parent)
        base = getattr(parent, "_base", None)
    written = {id(t) for t in path}
    stack = [path[-1]]
    while stack:
        t = stack.pop()
        for ref in getattr(t, "_views", ()):
            view = ref()
            if view is None:
                continue
            if id(view) not in written:
                view.node = ops.getitem(t.node, view._base[1])
            stack.append(view)


def _assigned_name():
    """`x` for a statement `x[...] = ...` (the name generated code gives the
    updated array)."""
    loc = _loc()
    if loc is None:
        return None
    match = _SUBSCRIPT.match(linecache.getline(loc.file, loc.line))
    return match.group(1) if match else None


def _install_operators():
    """Python operators on Tracer, from the table's `operators` entries."""
    reflected = {
        "__radd__",
        "__rsub__",
        "__rmul__",
        "__rtruediv__",
        "__rfloordiv__",
        "__rmod__",
        "__rpow__",
        "__rmatmul__",
    }
    for dunder, entry in ops.OPERATORS.items():
        if dunder in ("__getitem__", "__setitem__"):
            continue  # defined on Tracer: indexing keeps track of views
        if entry.op is not None:
            # Primitive operators take the fast path: no argument unwrapping.
            builder = ops.OPS[entry.op].builder
            if dunder in reflected:
                method = _fast_reflected(builder)
            else:
                method = _fast(builder)
        elif dunder in reflected:
            method = _slow_reflected(entry)
        else:
            method = _slow(entry)
        method.__name__ = dunder
        setattr(Tracer, dunder, method)


def _fast(builder):
    def method(self, *others):
        return _record(builder, self, *others)

    return method


def _fast_reflected(builder):
    def method(self, other):
        return _record(builder, other, self)

    return method


def _slow(entry):
    def method(self, *others):
        return call(entry, (self,) + others, None)

    return method


def _slow_reflected(entry):
    def method(self, other):
        return call(entry, (other, self), None)

    return method


_install_operators()


# ------------------------------------------------------------------ tracing a call


def trace(fun, args):
    """Call `fun(*args)` recording every operation on tracers; return its result.

    Afterwards the last node of each assignment statement gets the assigned
    name as a hint (`h = np.tanh(z)` names the tanh node `h`).
    """
    recorder = _recorder.get() or Recorder()
    token = _recorder.set(recorder)
    checks_token = _checks.set([])
    try:
        out = fun(*args)
        out = _attach_checks(out, _checks.get())
    finally:
        _checks.reset(checks_token)
        _recorder.reset(token)
        recorder.frames.clear()
    leaves, _, _ = flatten(out)
    nodes = [x.node for x in leaves if isinstance(x, Tracer)]
    name_statements(ir.toposort(nodes))
    return out


# The checks (`raise` / `assert` on traced conditions) of the function being
# traced: (failed node, exception name, message, loc), in program order.
_checks: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "symgrad_checks", default=None
)


def add_check(failed: ir.Node, exception: str, message: str) -> bool:
    """Record a check for the function being traced (False: none is)."""
    checks = _checks.get()
    if checks is None:
        return False
    recorder = _recorder.get()
    checks.append((failed, exception, message, recorder.loc() if recorder else None))
    return True


def _attach_checks(out, checks):
    """`out` with the checks attached to its first traced leaf (so they run
    before the function's value is returned)."""
    if not checks:
        return out

    leaves, _, treedef = flatten(out)
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, Tracer):
            node = leaf.node
            for failed, exception, message, loc in checks:
                with ir.annotate(loc):
                    node = check(node, failed, exception, message)
            leaves[i] = Tracer(node)
            return unflatten(treedef, leaves)
    return out


def output_leaf(value, fun_name: str) -> ir.Node:
    """One leaf of a traced function's output pytree, as a node."""
    if isinstance(value, Tracer):
        return value.node
    if isinstance(value, (bool, int, float, np.ndarray, np.generic)):
        return ops.lift(value)
    what = "None" if value is None else f"a {type(value).__name__}"
    raise TraceError(
        f"{fun_name} returned {what} among its results; return numbers, arrays, "
        "or lists/tuples/dicts of them"
    )


def output_node(value, fun_name: str, scalar: bool = True) -> ir.Node:
    """The scalar node a function under `grad` returned, or a clear error.

    With `scalar=False` any float array is accepted (a model's forward pass).
    """
    if value is None:
        raise TraceError(
            f"{fun_name} returned None; a function under grad must return its "
            "value (is a `return` statement missing?)"
        )
    leaves, _, _ = flatten(value)
    if len(leaves) != 1 or isinstance(value, (list, tuple, dict)):
        raise TraceError(
            f"{fun_name} returned {type(value).__name__}; a function under grad "
            "must return a single scalar. Return the loss itself (add several "
            "terms into one)"
        )
    if isinstance(value, Tracer):
        node = value.node
    elif isinstance(value, (bool, int, float, np.ndarray, np.generic)):
        node = ops.lift(value)
    else:
        raise TraceError(
            f"{fun_name} returned a {type(value).__name__}; a function under grad "
            "must return a float or a NumPy array"
        )
    if scalar and node.shape != ():
        raise TraceError(
            f"{fun_name} returned an array of shape {node.shape}; a function under "
            "grad must return a scalar. Reduce it with .sum() or .mean(), or index "
            "it (x[0])"
        )
    if node.dtype.kind != "f":
        raise TraceError(
            f"{fun_name} returned a {node.dtype} value; a function under grad must "
            "return a float"
        )
    return node


def relu(x):
    """max(x, 0) with relu'(0) = 0, on tracers and on plain NumPy values."""
    if isinstance(x, Tracer):
        return x.relu()
    return np.maximum(x, 0.0)


def sigmoid(x):
    """1 / (1 + exp(-x)), on tracers and on plain NumPy values."""
    if isinstance(x, Tracer):
        return x.sigmoid()
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))
