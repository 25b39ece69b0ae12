"""NumPy shape functions and methods: reshape, transpose, flatten, ravel,
broadcast_to, broadcast_arrays, expand_dims, squeeze, swapaxes, moveaxis,
atleast_1d/2d/3d, shape, ndim, size. Each is a reshape, transpose or
broadcast_to (or nothing at all)."""

from __future__ import annotations

from symgrad import ops
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.numpy_api.args import (
    as_node,
    axes,
    shape_arg,
    static_int,
)
from symgrad.ops.core import implements


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


@implements("numpy.permute_dims")
def _permute_dims(a, /, axes=None):
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


@implements("numpy.ravel")
def ravel(a, order="C"):
    if order not in ("C", "K", "A"):
        fail("np.ravel with order other than 'C'", "Use the default order")
    return reshape(a, (-1,))


@implements("numpy.expand_dims")
def expand_dims(a, axis):
    a = as_node(a)
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    new = axes(items, a.ndim + len(items))
    rest = iter(a.shape)
    shape = tuple(1 if i in new else next(rest) for i in range(a.ndim + len(new)))
    return reshape(a, shape)


def squeeze(a, axis=None):
    a = as_node(a)
    if axis is None:
        gone = tuple(i for i, n in enumerate(a.shape) if dims.known_equal(n, 1))
    else:
        gone = axes(axis, a.ndim)
        for i in gone:
            if not dims.known_equal(a.shape[i], 1):
                fail(
                    f"cannot squeeze axis {i} of size {a.shape[i]!r} (only axes of "
                    "size one can be squeezed out)",
                    "Pick an axis of size one",
                )
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in gone))


@implements("numpy.squeeze", methods=("squeeze",))
def _squeeze(a, axis=None):
    return squeeze(a, axis)


@implements("numpy.swapaxes", methods=("swapaxes",))
def swapaxes(a, axis1, axis2):
    a = as_node(a)
    i, j = axes(axis1, a.ndim)[0], axes(axis2, a.ndim)[0]
    perm = list(range(a.ndim))
    perm[i], perm[j] = j, i
    return transpose(a, perm)


@implements("numpy.moveaxis")
def moveaxis(a, source, destination):
    a = as_node(a)
    src = axes(source, a.ndim)
    dst = axes(destination, a.ndim)
    if len(src) != len(dst):
        fail(
            "np.moveaxis: source and destination must have the same number of "
            "elements",
            "Name one destination per source axis",
        )
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(a, order)


def _atleast(ndim):
    def promote(a):
        a = as_node(a)
        if a.ndim >= ndim:
            return a
        if ndim == 3 and a.ndim == 2:
            return reshape(a, a.shape + (1,))
        if ndim == 3 and a.ndim == 1:
            return reshape(a, (1,) + a.shape + (1,))
        return reshape(a, (1,) * (ndim - a.ndim) + a.shape)

    def atleast(*arys):
        out = [promote(a) for a in arys]
        return out[0] if len(out) == 1 else tuple(out)

    atleast.__name__ = f"atleast_{ndim}d"
    return promote, atleast


atleast_1d, _atleast_1d = _atleast(1)
atleast_2d, _atleast_2d = _atleast(2)
atleast_3d, _atleast_3d = _atleast(3)
implements("numpy.atleast_1d")(_atleast_1d)
implements("numpy.atleast_2d")(_atleast_2d)
implements("numpy.atleast_3d")(_atleast_3d)


@implements("numpy.broadcast_arrays")
def broadcast_arrays(*args, subok=False):
    nodes = [as_node(a) for a in args]
    shape = dims.broadcast_shapes(*(n.shape for n in nodes))
    return tuple(n if n.shape == shape else ops.broadcast_to(n, shape) for n in nodes)
