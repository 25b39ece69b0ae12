"""NumPy shape functions and methods: reshape, transpose, flatten,
broadcast_to, shape, ndim, size."""

from __future__ import annotations

from symgrad import ops
from symgrad.numpy_api.args import (
    as_node,
    axes,
    shape_arg,
    static_int,
)
from symgrad.ops.core import implements
from symgrad.source import fail


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
