"""The NumPy functions and array methods of symgrad's first dialect.

Contract: each function here has the NumPy signature of the callables it is
registered for (`implements`), works on graph nodes (the tracer unwraps
tracers before calling and wraps the nodes it gets back), and builds its
result from primitive builders. Reductions, reshapes, transposes, `where`,
`dot` and basic indexing live here; other areas have their own modules.
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.numpy_api.args import (
    as_node,
    axes,
    basic_index,
    shape_arg,
    static_int,
    unsupported,
)
from symgrad.ops.core import implements
from symgrad.source import fail


def _reducer(op: str, qualname: str):
    def reduction(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
        unsupported(qualname, out=out, **rest)
        a = as_node(a)
        if dtype is not None:
            a = astype(a, dtype)
        return ops.reduce(op, a, axes(axis, a.ndim), keepdims=bool(keepdims))

    reduction.__name__ = op
    return reduction


def _extreme(op: str, qualname: str):
    def reduction(a, axis=None, out=None, keepdims=False, **rest):
        unsupported(qualname, out=out, **rest)
        a = as_node(a)
        return ops.reduce(op, a, axes(axis, a.ndim), keepdims=bool(keepdims))

    reduction.__name__ = op
    return reduction


implements("numpy.sum", methods=("sum",))(_reducer("sum", "numpy.sum"))


@implements("numpy.mean", methods=("mean",))
def mean(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
    unsupported("numpy.mean", out=out, **rest)
    a = as_node(a)
    if dtype is not None:
        a = astype(a, dtype)
    axes_ = axes(axis, a.ndim)
    kept = range(a.ndim) if axes_ is None else axes_
    if any(a.shape[i] == 0 for i in kept):
        # The mean of nothing is nan; written as 0/0 it needs no NumPy call
        # that warns ("Mean of empty slice") despite np.errstate.
        total = ops.reduce("sum", astype(a, np.float64), axes_, bool(keepdims))
        return ops.div(total, 0.0)
    return ops.reduce("mean", a, axes_, keepdims=bool(keepdims))


implements("numpy.max", "numpy.amax", methods=("max",))(_extreme("max", "numpy.max"))
implements("numpy.min", "numpy.amin", methods=("min",))(_extreme("min", "numpy.min"))


def astype(a, dtype):
    """`a` converted to `dtype` (float conversions only change the dtype)."""
    target = np.dtype(dtype)
    if target == a.dtype:
        return a
    if target.kind not in "biuf":
        fail(
            f"converting a traced value to {target} is not supported",
            "Convert to a float, int or bool dtype",
        )
    return ops.cast(a, target)


@implements(methods=("astype",))
def _astype_method(a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    return astype(a, dtype)


@implements("numpy.positive", operators=("__pos__",))
def positive(a, /):
    return as_node(a)


@implements("numpy.square")
def square(a, /):
    a = as_node(a)
    return ops.mul(a, a)


@implements("numpy.reciprocal")
def reciprocal(a, /):
    return ops.div(1.0, as_node(a))


@implements("numpy.dot", methods=("dot",))
def dot(a, b, out=None):
    unsupported("numpy.dot", out=out)
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    if a.ndim > 2 or b.ndim > 2:
        fail("np.dot of arrays with more than 2 dimensions", "Use np.matmul or @")
    return ops.matmul(a, b)


@implements("numpy.where")
def where(condition, x=None, y=None, /):
    if x is None or y is None:
        fail(
            "np.where with one argument (the indices where a condition holds) is "
            "not supported",
            "Use np.where(cond, a, b) to choose values",
        )
    return ops.where(as_node(condition), as_node(x), as_node(y))


def reshape(a, shape):
    a = as_node(a)
    shape = shape_arg(shape, a.size)
    return a if shape == a.shape else ops.reshape(a, shape)


@implements("numpy.reshape")
def _np_reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        fail("np.reshape with order other than 'C'", "Use the default order")
    return reshape(a, newshape if shape is None else shape)


@implements(methods=("reshape",))
def _reshape_method(a, *shape, order="C", copy=None):
    if order != "C":
        fail(".reshape() with order other than 'C'", "Use the default order")
    return reshape(a, shape)


def transpose(a, axes_=None):
    a = as_node(a)
    if axes_ is None:
        perm = tuple(reversed(range(a.ndim)))
    else:
        perm = axes(axes_, a.ndim)
        if len(perm) != a.ndim:
            fail(
                f"axes {tuple(axes_)} do not match an array with {a.ndim} dimensions",
                "Name every axis once",
            )
    return a if perm == tuple(range(a.ndim)) else ops.transpose(a, perm)


@implements("numpy.transpose")
def _np_transpose(a, axes=None):
    return transpose(a, axes)


@implements(methods=("transpose",))
def _transpose_method(a, *axes_):
    if len(axes_) == 1 and isinstance(axes_[0], (tuple, list)):
        axes_ = tuple(axes_[0])
    return transpose(a, axes_ or None)


@implements(methods=("flatten", "ravel"))
def _flatten_method(a, order="C"):
    if order not in ("C", "K", "A"):
        fail("flattening with order other than 'C'", "Use the default order")
    return reshape(a, (-1,))


@implements("numpy.broadcast_to")
def broadcast_to(array, shape, subok=False):
    a = as_node(array)
    shape = shape_arg(shape)
    return a if shape == a.shape else ops.broadcast_to(a, shape)


@implements(operators=("__getitem__",))
def getitem(a, key):
    a = as_node(a)
    return ops.getitem(a, basic_index(key, a.shape))


@implements("numpy.shape")
def shape(a):
    return as_node(a).shape


@implements("numpy.ndim")
def ndim(a):
    return as_node(a).ndim


@implements("numpy.size")
def size(a, axis=None):
    a = as_node(a)
    return a.size if axis is None else a.shape[static_int(axis, "axis")]
