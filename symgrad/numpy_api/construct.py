"""Making arrays: np.array / np.asarray / np.asanyarray of nested lists that
mix traced values and numbers, copies, and zeros_like & co.

Contract: `array` stacks nested lists and tuples (the numbers in them
become constants), so `np.array([a, b])` of traced scalars is
`np.stack([a, b])` (`args.as_node`, which every function's array arguments
go through). These callables do not dispatch through
`__array_function__` when given a list: they work through the front end,
which resolves `np.array` in the user's function to this table entry.
`zeros_like` & co. are constants of the traced array's shape (`empty_like`
gives zeros). `zeros`, `ones`, `full`, `empty`, `eye`, `identity` and
`arange`, `tri` are here for calls with a symbolic size (`np.zeros((len(X),
3))`), and for calls with plain ints made while tracing whose result has more
than `SIZED` numbers: the module then builds the array when it runs (`eye(1000)`
is `arange`, `==` and `astype` in the code, a few lines) instead of storing
a million numbers (10.7 MB of source). Smaller ones, and calls these
functions cannot write (`np.arange(0.0, 1.0, 0.1)`, `order="F"`), are
NumPy's own arrays, which become constants as any other. Each such handler
has a `static(made, args, kwargs)` attribute saying whether it writes that
call.
"""

from __future__ import annotations

import inspect

import numpy as np

from symgrad import ops
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.numpy_api.args import as_node, is_node, shape_arg, static_int
from symgrad.numpy_api.elementwise import astype
from symgrad.numpy_api.shapes import reshape
from symgrad.ops.core import implements

# Constructions with more numbers than this stay constructions when traced
# with plain sizes (the same bound as for stored constants: smaller arrays
# are readable literals).
SIZED = 16


def _static(check=None):
    """Mark a constructor as one the front end calls with plain sizes too:
    `fn.static(made, args, kwargs)` is true when NumPy's result `made` has
    more than SIZED numbers and `check(arguments)` (by parameter name;
    default: always) says this function can write the call."""

    def mark(fn):
        signature = inspect.signature(fn)

        def static(made, args, kwargs):
            if np.size(made) <= SIZED:
                return False
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return False  # NumPy took it, but not as this one reads it
            bound.apply_defaults()
            return check is None or check(bound.arguments)

        fn.static = static
        return fn

    return mark


def _plain_order(arguments):
    return arguments["order"] in (None, "K", "A", "C")


def _plain_full(arguments):
    return not np.ndim(arguments["fill_value"]) and _plain_order(arguments)


def _plain_arange(arguments):
    bounds = [arguments["start"], arguments["stop"]]
    return arguments["step"] in (None, 1) and all(
        b is None or (isinstance(b, (int, np.integer)) and not isinstance(b, bool))
        for b in bounds
    )


def _finish(node, dtype, ndmin):
    if dtype is not None:
        node = astype(node, dtype)
    ndmin = static_int(ndmin, "ndmin")
    if node.ndim < ndmin:
        node = reshape(node, (1,) * (ndmin - node.ndim) + node.shape)
    return node


def _refuse_order(name, order):
    if order not in (None, "K", "A", "C"):
        fail(f"np.{name} with order={order!r}", "Use the default (row-major) order")


@implements("numpy.array")
def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    _refuse_order("array", order)
    return _finish(as_node(object), dtype, ndmin)


@implements("numpy.asarray")
def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    _refuse_order("asarray", order)
    return _finish(as_node(a), dtype, 0)


@implements("numpy.asanyarray")
def asanyarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    _refuse_order("asanyarray", order)
    return _finish(as_node(a), dtype, 0)


@implements("numpy.ascontiguousarray")
def ascontiguousarray(a, dtype=None, *, like=None):
    node = _finish(as_node(a), dtype, 0)
    return node if node.ndim else reshape(node, (1,))


@implements("numpy.copy")
def copy(a, order="K", subok=False):
    # Values are immutable in the graph: a copy is the value itself.
    _refuse_order("copy", order)
    return as_node(a)


@implements(methods=("copy",))
def _copy_method(a, order="C"):
    _refuse_order("copy", order)
    return a


def _like(a, value, dtype, shape, name):
    a = as_node(a)
    dtype = a.dtype if dtype is None else np.dtype(dtype)
    shape = a.shape if shape is None else shape_arg(shape)
    if is_node(value):
        fill = astype(value, dtype)
    else:
        fill = ops.const(np.asarray(value, dtype=dtype))
        if fill.ndim:
            fail(f"np.{name} with an array fill value", "Use a number")
    return ops.broadcast_to(fill, shape) if shape != fill.shape else fill


@implements("numpy.zeros_like")
def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, 0, dtype, shape, "zeros_like")


@implements("numpy.ones_like")
def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, 1, dtype, shape, "ones_like")


@implements("numpy.empty_like")
def empty_like(
    prototype, dtype=None, order="K", subok=True, shape=None, *, device=None
):
    # Any contents are valid for empty_like; zeros are deterministic.
    return _like(prototype, 0, dtype, shape, "empty_like")


@implements("numpy.full_like")
def full_like(
    a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None
):
    if is_node(fill_value) and fill_value.ndim:
        fill_value = as_node(fill_value)
        dtype_ = as_node(a).dtype if dtype is None else np.dtype(dtype)
        shape_ = as_node(a).shape if shape is None else shape_arg(shape)
        return ops.broadcast_to(astype(fill_value, dtype_), shape_)
    return _like(a, fill_value, dtype, shape, "full_like")


# ------------------------------------------------------------------ sizes
# NumPy's constructors, for calls with a symbolic size among the arguments
# (`np.zeros((n, 3))` with `n = len(X)`): the front end calls these only
# then, and NumPy itself for plain ints.


def _dtype(dtype, default=np.float64):
    return np.dtype(default if dtype is None else dtype)


def _filled(shape, value, dtype):
    shape = shape_arg(shape)
    fill = ops.const(np.asarray(value, dtype=dtype))
    return ops.broadcast_to(fill, shape) if shape else fill


@implements("numpy.zeros")
@_static(_plain_order)
def zeros(shape, dtype=float, order="C", *, device=None, like=None):
    _refuse_order("zeros", order)
    return _filled(shape, 0, _dtype(dtype))


@implements("numpy.empty")
@_static(_plain_order)
def empty(shape, dtype=float, order="C", *, device=None, like=None):
    # Any contents are valid for empty; zeros are deterministic.
    _refuse_order("empty", order)
    return _filled(shape, 0, _dtype(dtype))


@implements("numpy.ones")
@_static(_plain_order)
def ones(shape, dtype=None, order="C", *, device=None, like=None):
    _refuse_order("ones", order)
    return _filled(shape, 1, _dtype(dtype))


@implements("numpy.full")
@_static(_plain_full)
def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    _refuse_order("full", order)
    if is_node(fill_value):
        shape = shape_arg(shape)
        dtype = fill_value.dtype if dtype is None else np.dtype(dtype)
        return ops.broadcast_to(astype(fill_value, dtype), shape)
    dtype = np.asarray(fill_value).dtype if dtype is None else np.dtype(dtype)
    if np.ndim(fill_value):
        fail("np.full with an array fill value and a symbolic size", "Use a number")
    return _filled(shape, fill_value, dtype)


def _size(n, what):
    return n if dims.is_symbolic(n) else static_int(n, what)


@implements("numpy.arange")
@_static(_plain_arange)
def arange(start, stop=None, step=None, dtype=None, *, device=None, like=None):
    if stop is None:
        start, stop = 0, start
    for bound in (start, stop, step):
        if is_node(bound) and not dims.is_symbolic(bound):
            static_int(bound, "a bound of np.arange")  # says why it cannot
    if step not in (None, 1) or not all(
        dims.is_symbolic(b) or isinstance(b, (int, np.integer)) for b in (start, stop)
    ):
        fail(
            "np.arange with a symbolic size takes int bounds and step 1",
            "Write np.arange(n) (+ start) or make the size static",
        )
    start, stop = _size(start, "start"), _size(stop, "stop")
    dtype = np.dtype(np.int64) if dtype is None else np.dtype(dtype)
    out = ops.arange(stop - start, dtype if start == 0 else np.int64)
    if start != 0:
        out = astype(ops.add(out, start), dtype)
    return out


@implements("numpy.eye")
@_static(_plain_order)
def eye(N, M=None, k=0, dtype=float, order="C", *, device=None, like=None):
    _refuse_order("eye", order)
    rows = _size(N, "N")
    cols = rows if M is None else _size(M, "M")
    k = static_int(k, "k")
    i = reshape(ops.arange(rows), (rows, 1))
    j = reshape(ops.arange(cols), (1, cols))
    hit = ops.eq(ops.add(i, k) if k else i, j)
    return astype(hit, _dtype(dtype))


@implements("numpy.identity")
@_static()
def identity(n, dtype=None, *, like=None):
    return eye(n, dtype=dtype)


@implements("numpy.tri")
@_static()
def tri(N, M=None, k=0, dtype=float, *, like=None):
    rows = _size(N, "N")
    cols = rows if M is None else _size(M, "M")
    k = static_int(k, "k")
    i = reshape(ops.arange(rows), (rows, 1))
    j = reshape(ops.arange(cols), (1, cols))
    return astype(ops.le(j, ops.add(i, k) if k else i), _dtype(dtype))
