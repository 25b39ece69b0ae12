"""The tracer: record what a Python function does into graph nodes.

Contract:
- `Tracer` wraps a node and behaves like a NumPy array or a micrograd `Value`:
  Python operators on both sides, comparisons that give boolean nodes, methods
  (`.tanh() .relu() .sum(axis) .T .reshape()` ...), indexing, and NumPy ufuncs
  and functions through `__array_ufunc__` / `__array_function__`.
- Every node recorded gets a `Loc`: the user's file, line and statement run.
- Anything that would need a concrete value (`if`, `float()`, `math.*`, an
  unsupported NumPy function) raises `TraceError` naming the user's file:line
  and what to use instead.
- `trace(fun, args)` runs `fun` on arguments that contain tracers and names the
  recorded nodes after the variables the user assigned them to.
"""

from __future__ import annotations

import contextvars

import numpy as np

from symgrad import ir, ops
from symgrad.errors import ShapeError, TraceError
from symgrad.pytree import flatten
from symgrad.source import Recorder, fail, name_statements

_recorder: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "symgrad_recorder", default=None
)


def is_tracing() -> bool:
    return _recorder.get() is not None


def _record(builder, *args, **attrs) -> Tracer:
    """Apply `builder` to node-ified `args` with the user's location attached."""
    rec = _recorder.get()
    loc = rec.loc() if rec is not None else None
    nodes = [_to_node(a) for a in args]
    try:
        with ir.annotate(loc):
            node = builder(*nodes, **attrs)
    except ShapeError as exc:
        fail(str(exc), "Check the shapes of the operands on this line", ShapeError)
    return Tracer(node)


def _to_node(x) -> ir.Node:
    if isinstance(x, Tracer):
        return x.node
    if isinstance(x, ir.Node):
        return x
    if isinstance(x, (bool, int, float, np.ndarray, np.generic)):
        return ops.lift(x)
    if isinstance(x, (list, tuple)):
        if any(isinstance(i, Tracer) for i in _walk(x)):
            fail(
                "a list of traced values cannot be used as an array",
                "Combine traced values with operators (sum(), +, *) instead",
            )
        return ops.const(np.asarray(x, dtype=np.float64))
    fail(
        f"cannot use a {type(x).__name__} in traced arithmetic",
        "Use floats, ints or NumPy arrays",
    )


def _walk(items):
    stack = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            yield item


def _int(x, what: str) -> int:
    if isinstance(x, Tracer):
        fail(f"{what} must be a Python int, not a traced value", "Use a constant")
    return int(x)


def _axes(axis, ndim):
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = _int(a, "axis")
        if not -ndim <= a < ndim:
            fail(f"axis {a} is out of range for {ndim} dimensions", "Pick a valid axis")
        out.append(a % ndim)
    return tuple(out)


def _shape_arg(shape, size):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = [_int(s, "a shape entry") for s in shape]
    if shape.count(-1) > 1:
        fail("only one -1 is allowed in a shape", "Give the other sizes")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        shape[shape.index(-1)] = size // known if known else 0
    return tuple(shape)


def _index(key, shape):
    """Normalize a basic index into the hashable form ops use."""
    items = key if isinstance(key, tuple) else (key,)
    n_real = sum(1 for i in items if i is not None and i is not Ellipsis)
    out = []
    for item in items:
        if item is Ellipsis:
            out.extend([("slice", None, None, None)] * (len(shape) - n_real))
        elif item is None:
            out.append(None)
        elif isinstance(item, slice):
            parts = [item.start, item.stop, item.step]
            for p in parts:
                if p is not None and not isinstance(p, (int, np.integer)):
                    fail("slice bounds must be Python ints", "Use constant bounds")
            out.append(("slice",) + tuple(None if p is None else int(p) for p in parts))
        elif isinstance(item, (bool, np.bool_)):
            fail(
                "boolean indexing is not supported", "Use np.where(mask, x, 0) instead"
            )
        elif isinstance(item, (int, np.integer)):
            out.append(int(item))
        elif isinstance(item, Tracer):
            fail(
                "indexing with a traced value is not supported",
                "Index with Python ints or slices",
            )
        else:
            fail(
                f"indexing with {type(item).__name__} (advanced indexing) is not "
                "supported",
                "Index with Python ints, slices, None or ...",
            )
    return tuple(out)


_CONTROL_FLOW = (
    "Use np.where(cond, a, b) for a choice, np.maximum/np.minimum for max/min, "
    "and Python ints for loop counts"
)
_CONCRETE = "Use np.* functions or the methods (.tanh(), .exp(), .relu(), ...) instead"


class Tracer:
    """A value being traced; wraps one graph node."""

    __slots__ = ("node",)
    __array_priority__ = 1000
    __hash__ = None  # like arrays: == is elementwise, so not hashable

    def __init__(self, node: ir.Node):
        self.node = node

    # --- static facts -------------------------------------------------------
    shape = property(lambda self: self.node.shape)
    ndim = property(lambda self: self.node.ndim)
    size = property(lambda self: self.node.size)
    dtype = property(lambda self: self.node.dtype)

    def __repr__(self):
        return f"Tracer({ir.type_str(self.node)})"

    def __len__(self):
        if not self.node.shape:
            fail("len() of a traced scalar", "A scalar has no length")
        return self.node.shape[0]

    def __iter__(self):
        if not self.node.shape:
            fail("iterating over a traced scalar", "A scalar has no items")
        return (self[i] for i in range(self.node.shape[0]))

    # --- things that need a concrete value ---------------------------------
    def __bool__(self):
        fail(
            "Python control flow (if, while, and/or, bool(), max()) on a traced value",
            _CONTROL_FLOW,
        )

    def __float__(self):
        fail("float() or math.* on a traced value", _CONCRETE)

    def __int__(self):
        fail("int() on a traced value", _CONCRETE)

    def __index__(self):
        fail(
            "a traced value used as an index or size",
            "Use Python ints for sizes and indices",
        )

    def __complex__(self):
        fail("complex() on a traced value", _CONCRETE)

    def item(self):
        fail(".item() on a traced value", _CONCRETE)

    def __setitem__(self, key, value):
        fail(
            "in-place assignment into a traced array",
            "Build the new array with np.where or arithmetic instead",
        )

    # --- arithmetic -----------------------------------------------------------
    def __add__(self, o):
        return _record(ops.add, self, o)

    def __radd__(self, o):
        return _record(ops.add, o, self)

    def __sub__(self, o):
        return _record(ops.sub, self, o)

    def __rsub__(self, o):
        return _record(ops.sub, o, self)

    def __mul__(self, o):
        return _record(ops.mul, self, o)

    def __rmul__(self, o):
        return _record(ops.mul, o, self)

    def __truediv__(self, o):
        return _record(ops.div, self, o)

    def __rtruediv__(self, o):
        return _record(ops.div, o, self)

    def __pow__(self, o):
        return _record(ops.pow, self, o)

    def __rpow__(self, o):
        return _record(ops.pow, o, self)

    def __matmul__(self, o):
        return _record(ops.matmul, self, o)

    def __rmatmul__(self, o):
        return _record(ops.matmul, o, self)

    def __neg__(self):
        return _record(ops.neg, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _record(ops.abs, self)

    def __floordiv__(self, o):
        fail("// on a traced value (its gradient is zero almost everywhere)", "Use /")

    __rfloordiv__ = __mod__ = __rmod__ = __floordiv__

    def __lt__(self, o):
        return _record(ops.lt, self, o)

    def __le__(self, o):
        return _record(ops.le, self, o)

    def __gt__(self, o):
        return _record(ops.gt, self, o)

    def __ge__(self, o):
        return _record(ops.ge, self, o)

    def __eq__(self, o):
        return _record(ops.eq, self, o)

    def __ne__(self, o):
        return _record(ops.ne, self, o)

    # --- micrograd-style methods ----------------------------------------------
    def relu(self):
        return _record(ops.relu, self)

    def tanh(self):
        return _record(ops.tanh, self)

    def exp(self):
        return _record(ops.exp, self)

    def log(self):
        return _record(ops.log, self)

    def sigmoid(self):
        return _record(ops.sigmoid, self)

    # --- NumPy-style methods ----------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _reduce("sum", self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _reduce("mean", self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _reduce("max", self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _reduce("min", self, axis, keepdims)

    @property
    def T(self):
        return self.transpose()

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = _axes(axes, self.ndim) if axes else tuple(reversed(range(self.ndim)))
        if axes == tuple(range(self.ndim)):
            return self
        return _record(ops.transpose, self, axes=axes)

    def reshape(self, *shape):
        shape = _shape_arg(shape, self.size)
        if shape == self.shape:
            return self
        return _record(ops.reshape, self, shape=shape)

    def flatten(self):
        return self.reshape(-1)

    ravel = flatten

    def dot(self, other):
        return _dot(self, other)

    def __getitem__(self, key):
        index = _index(key, self.shape)
        return _record(ops.getitem, self, index=index)

    # --- NumPy protocols ----------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        fail("a traced value was converted to a NumPy array", _CONCRETE)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = f"np.{ufunc.__name__}"
        if method != "__call__":
            fail(f"{name}.{method} is not supported", "Call the function directly")
        if kwargs:
            fail(
                f"{name} with {', '.join(sorted(kwargs))}= is not supported",
                "Call it with positional operands only",
            )
        builder = UFUNCS.get(ufunc.__name__)
        if builder is None:
            fail(f"{name} is not supported by symgrad", f"Supported: {_supported()}")
        return _record(builder, *inputs)

    def __array_function__(self, func, types, args, kwargs):
        handler = FUNCTIONS.get(func)
        if handler is None:
            fail(
                f"np.{func.__name__} is not supported by symgrad",
                f"Supported: {_supported()}",
            )
        try:
            return handler(*args, **kwargs)
        except TypeError as exc:
            if isinstance(exc, TraceError):
                raise
            fail(f"np.{func.__name__}: {exc}", "Check the arguments", TraceError)


def _reduce(name, x, axis, keepdims):
    x = _tracer(x)
    axes = _axes(axis, x.ndim)
    return _record(
        lambda n: ops.reduce(name, n, axes, keepdims=bool(keepdims)),
        x,
    )


def _tracer(x) -> Tracer:
    return x if isinstance(x, Tracer) else Tracer(_to_node(x))


def _dot(a, b):
    a, b = _tracer(a), _tracer(b)
    if a.ndim == 0 or b.ndim == 0:
        return _record(ops.mul, a, b)
    if a.ndim > 2 or b.ndim > 2:
        fail("np.dot of arrays with more than 2 dimensions", "Use np.matmul or @")
    return _record(ops.matmul, a, b)


def _np_reduce(name):
    def handler(a, axis=None, keepdims=False):
        return _reduce(name, a, axis, keepdims)

    return handler


def _np_where(cond, a=None, b=None):
    if a is None or b is None:
        fail("np.where with one argument", "Use np.where(cond, a, b)")
    return _record(ops.where, cond, a, b)


def _np_reshape(a, shape, order="C"):
    if order != "C":
        fail("np.reshape with order other than 'C'", "Use the default order")
    return _tracer(a).reshape(shape)


def _np_transpose(a, axes=None):
    return _tracer(a).transpose() if axes is None else _tracer(a).transpose(axes)


def _np_broadcast_to(a, shape):
    shape = tuple(_int(s, "a shape entry") for s in shape)
    return _record(ops.broadcast_to, a, shape=shape)


UFUNCS = {
    "add": ops.add,
    "subtract": ops.sub,
    "multiply": ops.mul,
    "divide": ops.div,
    "true_divide": ops.div,
    "negative": ops.neg,
    "positive": lambda a: a,
    "power": ops.pow,
    "exp": ops.exp,
    "log": ops.log,
    "tanh": ops.tanh,
    "sin": ops.sin,
    "cos": ops.cos,
    "sqrt": ops.sqrt,
    "absolute": ops.abs,
    "sign": ops.sign,
    "maximum": ops.maximum,
    "minimum": ops.minimum,
    "greater": ops.gt,
    "greater_equal": ops.ge,
    "less": ops.lt,
    "less_equal": ops.le,
    "equal": ops.eq,
    "not_equal": ops.ne,
    "matmul": ops.matmul,
    "square": lambda a: ops.mul(a, a),
    "reciprocal": lambda a: ops.div(1.0, a),
}

FUNCTIONS = {
    np.sum: _np_reduce("sum"),
    np.mean: _np_reduce("mean"),
    np.max: _np_reduce("max"),
    np.min: _np_reduce("min"),
    np.amax: _np_reduce("max"),
    np.amin: _np_reduce("min"),
    np.dot: _dot,
    np.where: _np_where,
    np.reshape: _np_reshape,
    np.transpose: _np_transpose,
    np.broadcast_to: _np_broadcast_to,
    np.shape: lambda a: _tracer(a).shape,
    np.ndim: lambda a: _tracer(a).ndim,
    np.size: lambda a: _tracer(a).size,
}


def _supported() -> str:
    names = sorted({f"np.{n}" for n in UFUNCS if n != "true_divide"})
    names += sorted({f"np.{f.__name__}" for f in FUNCTIONS})
    return ", ".join(sorted(set(names)))


# ------------------------------------------------------------------ tracing a call


def trace(fun, args):
    """Call `fun(*args)` recording every operation on tracers; return its result.

    Afterwards the last node of each assignment statement gets the assigned
    name as a hint (`h = np.tanh(z)` names the tanh node `h`).
    """
    recorder = _recorder.get() or Recorder()
    token = _recorder.set(recorder)
    try:
        out = fun(*args)
    finally:
        _recorder.reset(token)
        recorder.frames.clear()
    leaves, _, _ = flatten(out)
    nodes = [x.node for x in leaves if isinstance(x, Tracer)]
    name_statements(ir.toposort(nodes))
    return out


def output_node(value, fun_name: str, scalar: bool = True) -> ir.Node:
    """The scalar node a function under `grad` returned, or a clear error.

    With `scalar=False` any float array is accepted (a model's forward pass).
    """
    leaves, _, _ = flatten(value)
    if len(leaves) != 1 or isinstance(value, (list, tuple, dict)):
        raise TraceError(
            f"{fun_name} returned {type(value).__name__}; a function under grad "
            "must return a single scalar. Return the loss itself (add several "
            "terms into one)"
        )
    node = _to_node(value) if not isinstance(value, Tracer) else value.node
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
