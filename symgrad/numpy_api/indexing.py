"""Indexing traced arrays: `x[...]`, `x[...] = v`, `np.take`, `np.take_along_axis`.

Contract: NumPy's indexing rules on graph nodes. A basic index (ints, slices,
None, ...) builds `getitem` (a view in NumPy); an index with integer arrays
or a constant boolean mask builds `gather` (NumPy's advanced indexing, a
copy). `setitem(a, key, value)` is the array `a` with `value` written at
`key` (what `Tracer.__setitem__` rebinds the traced array to).
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.numpy_api.args import (
    as_node,
    is_node,
    one_axis,
    parse_index,
    unsupported,
)
from symgrad.ops.core import implements
from symgrad.ops.indexing import along, gather, is_advanced, read, read_shape


@implements(operators=("__getitem__",))
def getitem(a, key):
    a = as_node(a)
    index = parse_index(key, a.shape)
    return read(a, *index.operands, index=index.template)


@implements(operators=("__setitem__",))
def setitem(a, key, value):
    """`a` with `value` written at `key`, as NumPy's `a[key] = value` leaves it."""
    a = as_node(a)
    mask = _traced_mask(key)
    if mask is not None:
        return _masked_write(a, mask, value)
    index = parse_index(key, a.shape)
    v = as_node(value)
    if v.dtype != a.dtype:
        # NumPy converts the value to the array's type (floats into an int
        # array are truncated).
        v = ops.cast(v, a.dtype)
    return write(a, index.template, v, index.operands)


def write(a, template, v, operands=()):
    """`a` with node `v` (of `a`'s dtype) written at a normalized index."""
    target = read_shape(a.shape, template, [i.shape for i in operands])
    v = _fit(v, target)
    if not is_advanced(template) and _covers_all(a.shape, template):
        # Every element is written in order: the result is the value itself.
        return v if v.shape == a.shape else ops.broadcast_to(v, a.shape)
    return ops.apply("setitem", a, v, *operands, index=template)


def _fit(v, target):
    """`v` as NumPy broadcasts a value into an index of shape `target` (it
    may have extra leading axes of length 1)."""
    extra = v.ndim - len(target)
    if extra > 0 and all(d == 1 for d in v.shape[:extra]):
        v = ops.reshape(v, v.shape[extra:])
    if not dims.can_broadcast_to(v.shape, target):
        fail(
            f"could not broadcast input array from shape {dims.shape_str(v.shape)} "
            f"into shape {dims.shape_str(target)}",
            "Give a value that broadcasts to the indexed part",
        )
    return v


def _covers_all(shape, template) -> bool:
    """Does a basic index write every element of `shape`, in order?"""
    axis = 0
    for item in template:
        if item is None:
            continue
        n = shape[axis]
        if type(item) is int:
            if n != 1:
                return False
        elif item[1:] != (None, None, None):
            if not isinstance(n, int) or slice(*item[1:]).indices(n) != (0, n, 1):
                return False
        axis += 1
    return True


def _traced_mask(key):
    """A traced boolean mask that is the whole index (`x[mask]`, `x[mask, ...]`)."""
    items = key if type(key) is tuple else (key,)
    if items and is_node(items[0]) and items[0].dtype.kind == "b":
        if items[0].op != "const" and all(i is Ellipsis for i in items[1:]):
            return items[0]
    return None


def _masked_write(a, mask, value):
    """`a[mask] = value` for a traced mask: where the mask holds, the value."""
    n = mask.ndim
    if mask.shape != a.shape[:n]:
        fail(
            f"a boolean mask of shape {dims.shape_str(mask.shape)} cannot index an "
            f"array of shape {dims.shape_str(a.shape)}",
            "Use a mask with the shape of the leading axes",
        )
    v = as_node(value)
    if v.dtype != a.dtype:
        v = ops.cast(v, a.dtype)
    rest = a.shape[n:]
    if v.ndim > len(rest) or not dims.can_broadcast_to(v.shape, rest):
        fail(
            "x[mask] = v with a mask computed from traced values needs a v that "
            f"fills each selected entry alike (shape {dims.shape_str(rest)} or "
            f"smaller), not one of shape {dims.shape_str(v.shape)}: which entries "
            "are selected is only known when the code runs",
            "Give a scalar v, or use np.where(mask, v, x)",
        )
    if rest:
        mask = ops.reshape(mask, mask.shape + (1,) * len(rest))
    return ops.where(mask, v, a)


# ------------------------------------------------------------------ take


@implements("numpy.take", methods=("take",))
def take(a, indices, axis=None, out=None, mode="raise"):
    unsupported("numpy.take", out=out)
    a = as_node(a)
    if axis is None:
        a = a if a.ndim == 1 else ops.reshape(a, (a.size,))
        axis = 0
    else:
        axis = one_axis(axis, a.ndim)
    if is_node(indices) and indices.dtype.kind == "b":
        indices = ops.cast(indices, np.intp)  # np.take reads booleans as 0 and 1
    elif not is_node(indices) and np.asarray(indices).dtype.kind == "b":
        indices = np.asarray(indices).astype(np.intp)
    if mode not in ("raise", None):
        indices = _wrap_or_clip(indices, a.shape[axis], mode)
    key = (slice(None),) * axis + (indices,)
    return getitem(a, key)


def _wrap_or_clip(indices, n, mode):
    if mode not in ("wrap", "clip"):
        fail(f"np.take with mode={mode!r} is not supported", "Use 'raise'")
    if is_node(indices) and indices.op != "const":
        fail(
            f"np.take with mode={mode!r} needs constant indices",
            "Bring traced indices in range yourself, or use mode='raise'",
        )
    if not isinstance(n, int):
        fail(f"np.take with mode={mode!r} on a symbolic axis", "Use mode='raise'")
    values = np.asarray(indices.value if is_node(indices) else indices)
    return np.mod(values, n) if mode == "wrap" else np.clip(values, 0, n - 1)


@implements("numpy.take_along_axis")
def take_along_axis(arr, indices, axis=-1):
    a = as_node(arr)
    idx = as_node(indices)
    if axis is None:
        a = a if a.ndim == 1 else ops.reshape(a, (a.size,))
        if idx.ndim != 1:
            fail(
                "np.take_along_axis with axis=None needs 1-d indices",
                "Flatten the indices",
            )
        axis = 0
    else:
        axis = one_axis(axis, a.ndim)
    if idx.dtype.kind not in "iu":
        fail(
            f"np.take_along_axis needs integer indices, not {idx.dtype}",
            "Convert them with .astype(int)",
        )
    if idx.ndim != a.ndim:
        fail(
            "np.take_along_axis needs indices with as many dimensions as the array "
            f"({a.ndim}), not {idx.ndim}",
            "Add axes of length 1 with None",
        )
    n = a.shape[axis]
    if idx.op == "const" and idx.size and isinstance(n, int):
        for value in (int(idx.value.min()), int(idx.value.max())):
            if not -n <= value < n:
                fail(
                    f"index {value} is out of bounds for axis {axis} with size {n}",
                    "Use indices within the axis",
                )
    return gather(a, idx, index=along(a.shape, axis))
