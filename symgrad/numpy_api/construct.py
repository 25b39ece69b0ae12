"""Making arrays: np.array / np.asarray / np.asanyarray of nested lists that
mix traced values and numbers, copies, and zeros_like & co.

Contract: `array` stacks nested lists and tuples (the numbers in them
become constants), so `np.array([a, b])` of traced scalars is
`np.stack([a, b])`. These callables do not dispatch through
`__array_function__` when given a list: they work through the front end,
which resolves `np.array` in the user's function to this table entry.
`zeros_like` & co. are constants of the traced array's shape (`empty_like`
gives zeros).
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.numpy_api.args import as_node, is_node, shape_arg, static_int, walk
from symgrad.numpy_api.elementwise import astype
from symgrad.numpy_api.shapes import reshape
from symgrad.ops.core import implements
from symgrad.ops.structure import stack
from symgrad.source import fail


def nested(obj):
    """A node for `obj`: nested lists and tuples are stacked along new
    leading axes; numbers and NumPy arrays become constants."""
    if is_node(obj):
        return obj
    if isinstance(obj, (list, tuple)):
        if not any(is_node(x) for x in walk(obj)):
            return ops.const(np.asarray(obj))
        if not obj:
            return ops.const(np.asarray(obj))
        parts = [nested(x) for x in obj]
        first = parts[0].shape
        if any(p.shape != first for p in parts):
            shapes = ", ".join(str(p.shape) for p in parts)
            fail(
                "setting an array element with a sequence: the requested array "
                f"has an inhomogeneous shape (parts of shapes {shapes})",
                "Give every element the same shape",
            )
        return stack(parts, 0)
    return as_node(obj)


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
    return _finish(nested(object), dtype, ndmin)


@implements("numpy.asarray")
def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    _refuse_order("asarray", order)
    return _finish(nested(a), dtype, 0)


@implements("numpy.asanyarray")
def asanyarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    _refuse_order("asanyarray", order)
    return _finish(nested(a), dtype, 0)


@implements("numpy.ascontiguousarray")
def ascontiguousarray(a, dtype=None, *, like=None):
    node = _finish(nested(a), dtype, 0)
    return node if node.ndim else reshape(node, (1,))


@implements("numpy.copy")
def copy(a, order="K", subok=False):
    # Values are immutable in the graph: a copy is the value itself.
    _refuse_order("copy", order)
    return nested(a)


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
