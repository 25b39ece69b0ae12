"""Indexing: basic and advanced reads, their adjoints, and functional writes.

Contract: one `Op` record per primitive plus a builder of the same name.

- `getitem` (a basic index: a NumPy view) and `scatter`, its adjoint, which
  writes into zeros by assignment (a basic index picks each element once).
- `gather` (an advanced index, NumPy's integer-array indexing with its exact
  rules) and `scatter_add`, its adjoint: `np.add.at` into zeros, so that
  repeated indices add up (assignment where the positions are known to be
  distinct).
- `setitem`: `x[index] = v` as a new array (JAX's `.at[index].set(v)`), for
  basic and advanced indices; repeated positions keep the last write, as in
  NumPy.

Indices are normalized tuples ("templates"). A basic one holds ints,
`("slice", start, stop, step)` and None. An advanced one may also hold
`("array", shape, values)` (a constant integer index array, values flat and
as the user wrote them), `("iota", n, ndim, pos)` (`np.arange(n)` laid along
axis `pos` of `ndim` axes, as `np.take_along_axis` builds them),
`("index", j)` (the j-th index operand: an integer node that stays an input
of the generated code) and "..." (an Ellipsis standing for no axes, kept
because it separates advanced indices). Shapes are computed from templates
(`read_shape`, `slice_length`, `symgrad.ir.dims`), never probed.
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import ShapeError
from symgrad.ir import dims
from symgrad.ops.core import (
    Op,
    apply,
    const,
    dtype_first,
    register,
)
from symgrad.ops.elementwise import eq, where
from symgrad.ops.leaves import arange
from symgrad.ops.shapes import broadcast_to, reshape, scalar_identity


def getitem(a, index):
    return apply("getitem", a, index=index)


def scatter(g, shape, index):
    return apply("scatter", g, shape=tuple(shape), index=index)


def index_value(index):
    """The Python index object for a normalized index tuple."""
    return tuple(slice(*i[1:]) if isinstance(i, tuple) else i for i in index)


def slice_length(start, stop, step, n):
    """How many elements `[start:stop:step]` picks from an axis of length `n`.

    For a symbolic `n` the forms with step 1 or -1 have a length that is a
    dimension expression (non-negative bounds are taken to lie inside the
    axis, negative ones count from its end, and symbolic bounds such as
    `3 * n` from its front); other steps would need a rounded division, and
    are refused."""
    if isinstance(n, int):
        return len(range(*slice(start, stop, step).indices(n)))
    step = 1 if step is None else step
    if step not in (1, -1):
        raise ShapeError(
            f"a slice with step {step} of the symbolic axis {n!r} has a length "
            "symgrad cannot express (it rounds a division by the step); use "
            "step 1 or -1, or a static size for this axis"
        )

    def bound(b, default):
        if b is None:
            return default
        if dims.is_symbolic(b):
            return b  # a symbolic position counts from the front
        return b if b >= 0 else n + b

    if step == 1:
        first, end = bound(start, 0), bound(stop, n)
    else:  # [start:stop:-1] picks start, start - 1, ..., stop + 1
        first, end = bound(stop, -1) + 1, bound(start, n - 1) + 1
    if isinstance(end, int) and isinstance(first, int):
        return max(end - first, 0)
    return end - first


def full_slice(item, n) -> bool:
    """Does the slice item `("slice", start, stop, step)` pick a whole axis of
    length `n` in order (for a symbolic `n`: provably, for every size)?"""
    _, start, stop, step = item
    if isinstance(n, int):
        return slice(start, stop, step).indices(n) == (0, n, 1)
    return start in (None, 0) and stop is None and step in (None, 1)


def in_order(shape, index) -> bool:
    """Does basic `index` pick every element of `shape` in row-major order?"""
    axis = 0
    for item in index:
        if item is None:
            continue
        n = shape[axis]
        if isinstance(item, tuple):
            if not full_slice(item, n):
                return False
        elif n != 1:  # an int keeps everything only on an axis of length 1
            return False
        axis += 1
    return True


def flat_position(shape, index):
    """The flat position (an int, or a symbolic `Dim`) of the element an
    index of ints only (and None) picks from `shape`, or None for any other
    index."""
    ints = [i for i in index if i is not None]
    if len(ints) != len(shape) or any(type(i) is not int for i in ints):
        return None
    position, stride = 0, 1
    for i, n in zip(reversed(ints), reversed(shape), strict=True):
        position = position + (i if i >= 0 else n + i) * stride
        stride = stride * n
    return position


def _getitem_shape(shapes, index):
    (shape,) = shapes
    out = []
    axis = 0
    for item in index:
        if item is None:
            out.append(1)
            continue
        if axis >= len(shape):
            raise ShapeError(
                f"too many indices for an array of shape {dims.shape_str(shape)}"
            )
        n = shape[axis]
        if isinstance(item, tuple):
            out.append(slice_length(*item[1:], n))
        elif isinstance(n, int) and not -n <= item < n:
            raise ShapeError(
                f"index {item} is out of bounds for axis {axis} with size {n}"
            )
        axis += 1
    return tuple(out) + tuple(shape[axis:])


register(
    Op(
        name="getitem",
        nin=1,
        shape=_getitem_shape,
        dtype=dtype_first,
        eval=lambda a, index: a[index_value(index)],
        vjp=lambda g, out, a: (scatter(g, a.shape, out.attr("index")),),
        sympy=scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)


def _scatter_eval(g, shape, index):
    out = np.zeros(shape, dtype=np.result_type(g))
    out[index_value(index)] = g
    return out


register(
    Op(
        name="scatter",
        nin=1,
        shape=lambda shapes, shape, index: shape,
        dtype=dtype_first,
        eval=_scatter_eval,
        vjp=lambda g, out, a: (getitem(g, out.attr("index")),),
        sympy=scalar_identity,
        flags=frozenset(("zero_sign_from_operands", "fresh", "c_contiguous")),
    )
)


# ------------------------------------------------------------------ advanced


def gather(a, *indices, index):
    """`a[index]` for an advanced index (`indices`: its index operands)."""
    return apply("gather", a, *indices, index=index)


def scatter_add(g, *indices, shape, index, unique=None):
    """Zeros of `shape` with `g` added at `index` (`np.add.at`).

    `unique` says that the index picks each position at most once (then it is
    an assignment); None works it out for constant indices.
    """
    if unique is None:
        unique = not indices and distinct_positions(shape, index)
    return apply(
        "scatter_add", g, *indices, shape=tuple(shape), index=index, unique=unique
    )


def setitem(x, v, *indices, index):
    """A copy of `x` with `v` written at `index` (basic or advanced)."""
    return apply("setitem", x, v, *indices, index=index)


def read(a, *indices, index):
    """`a[index]` with the op the index needs: `getitem` or `gather`."""
    if is_advanced(index):
        return gather(a, *indices, index=index)
    return getitem(a, index)


_ADVANCED = ("array", "iota", "index")


def is_advanced(index) -> bool:
    return any(type(i) is tuple and i[0] in _ADVANCED for i in index)


def along(shape, axis: int, j: int = 0) -> tuple:
    """The index `np.take_along_axis` uses on `axis` (index operand `j`)."""
    nd = len(shape)
    return tuple(
        ("index", j) if k == axis else ("iota", shape[k], nd, k) for k in range(nd)
    )


def along_axis(index):
    """The axis of an index built by `along` for two or more axes, or None."""
    nd = len(index)
    if nd < 2:
        return None  # a[i]: a 1-d take_along_axis is plain indexing
    found = None
    for k, item in enumerate(index):
        if type(item) is tuple and item[0] == "iota" and item[2:] == (nd, k):
            continue
        if item == ("index", 0) and found is None:
            found = k
            continue
        return None
    return found


def iota_shape(item) -> tuple:
    _, n, nd, pos = item
    return (1,) * pos + (n,) + (1,) * (nd - pos - 1)


def _item_shape(item, operand_shapes):
    kind = item[0]
    if kind == "array":
        return item[1]
    if kind == "iota":
        return iota_shape(item)
    return operand_shapes[item[1]]


def _check_bound(i, n, axis):
    if isinstance(n, int) and not -n <= i < n:
        raise ShapeError(f"index {i} is out of bounds for axis {axis} with size {n}")


def layout(shape, index, operand_shapes=()):
    """NumPy's rule for an advanced index into `shape`.

    Returns `(out_shape, bshape, front, at)`: the result's shape, the
    broadcast shape of the index arrays (ints count as arrays of shape ()),
    whether their axes go first (advanced indices separated by a slice, None
    or an Ellipsis) and otherwise where in the result they go. Constant
    indices are checked against the axis lengths.
    """
    out = []
    bshapes = []
    at = None
    gap = front = False
    axis = 0
    for item in index:
        if item is None or item == "...":
            out += [1] if item is None else []
            gap = at is not None
            continue
        if axis >= len(shape):
            raise ShapeError(
                f"too many indices for an array of shape {dims.shape_str(shape)}"
            )
        n = shape[axis]
        if type(item) is tuple and item[0] == "slice":
            out.append(slice_length(*item[1:], n))
            gap = at is not None
            axis += 1
            continue
        if type(item) is int:
            _check_bound(item, n, axis)
            bshapes.append(())
        else:
            if item[0] == "array" and item[2]:
                _check_bound(min(item[2]), n, axis)
                _check_bound(max(item[2]), n, axis)
            elif item[0] == "iota" and isinstance(item[1], int) and item[1]:
                _check_bound(item[1] - 1, n, axis)
            bshapes.append(tuple(_item_shape(item, operand_shapes)))
        if at is None:
            at = len(out)
        elif gap:
            front = True
        axis += 1
    try:
        bshape = dims.broadcast_shapes(*bshapes) if bshapes else ()
    except ShapeError:
        raise ShapeError(
            "shape mismatch: indexing arrays could not be broadcast together with "
            "shapes " + " ".join(dims.shape_str(s) for s in bshapes)
        ) from None
    out += list(shape[axis:])
    pos = 0 if front else at
    return tuple(out[:pos]) + tuple(bshape) + tuple(out[pos:]), bshape, front, at


def read_shape(shape, index, operand_shapes=()):
    """The shape of `a[index]` for `a` of `shape` (basic or advanced)."""
    if is_advanced(index):
        return layout(shape, index, operand_shapes)[0]
    return _getitem_shape([shape], index)


def index_eval(index, operands=()) -> tuple:
    """The Python index object for a template (operands: NumPy arrays)."""
    items = []
    for item in index:
        if item is None or type(item) is int:
            items.append(item)
        elif item == "...":
            items.append(Ellipsis)
        elif item[0] == "slice":
            items.append(slice(*item[1:]))
        elif item[0] == "array":
            items.append(np.array(item[2], dtype=np.intp).reshape(item[1]))
        elif item[0] == "iota":
            items.append(np.arange(item[1]).reshape(iota_shape(item)))
        else:
            items.append(np.asarray(operands[item[1]]))
    return tuple(items)


def positions(shape, index):
    """The flat positions a constant index picks from a static `shape`, in the
    result's order (None when they depend on index operands or symbols)."""
    if not dims.is_static(shape):
        return None
    if any(type(i) is tuple and i[0] == "index" for i in index):
        return None
    grid = np.arange(dims.prod(shape), dtype=np.int64).reshape(shape)
    return grid[index_eval(index)].ravel()


def _block_keys(shape, index):
    """One key per entry of the index arrays' broadcast shape: which position
    the advanced items pick together (slices and None never pick a position
    twice). None when an index operand or a symbolic axis is involved."""
    arrays, lengths = [], []
    axis = 0
    for item in index:
        if item is None or item == "...":
            continue
        n = shape[axis]
        axis += 1
        if type(item) is tuple and item[0] == "slice":
            continue
        if (type(item) is tuple and item[0] == "index") or not isinstance(n, int):
            return None
        if type(item) is int:
            arr = np.array(item)
        elif item[0] == "array":
            arr = np.array(item[2], dtype=np.int64).reshape(item[1])
        else:
            arr = np.arange(item[1]).reshape(iota_shape(item))
        arrays.append(arr % max(n, 1))  # in bounds (checked by `layout`)
        lengths.append(max(n, 1))
    arrays = np.broadcast_arrays(*arrays)
    return np.ravel_multi_index(arrays, lengths).ravel(), arrays[0].shape


def distinct_positions(shape, index) -> bool:
    """True if the index provably picks each position at most once."""
    if not is_advanced(index):
        return True
    block = _block_keys(shape, index)
    return block is not None and np.unique(block[0]).size == block[0].size


def last_writes(shape, index):
    """For a constant index that repeats positions: a boolean array that
    broadcasts to the read shape, True where a write is the last one to its
    position (the one NumPy keeps). None when no position repeats or the
    index is not constant."""
    block = _block_keys(shape, index)
    if block is None:
        return None
    keys, bshape = block
    if np.unique(keys).size == keys.size:
        return None
    last = {}
    for k, key in enumerate(keys.tolist()):
        last[key] = k
    keep = np.zeros(keys.size, dtype=bool)
    keep[list(last.values())] = True
    out, _, front, at = layout(shape, index)
    pos = 0 if front else at
    rest = len(out) - len(bshape)
    return keep.reshape((1,) * pos + tuple(bshape) + (1,) * (rest - pos))


# ------------------------------------------------------------------ records


def _no_index_grads(n):
    return (None,) * n


register(
    Op(
        name="gather",
        nin=None,
        shape=lambda shapes, index: layout(shapes[0], index, shapes[1:])[0],
        dtype=dtype_first,
        eval=lambda a, *idx, index: a[index_eval(index, idx)],
        vjp=lambda g, out, a, *idx: (
            scatter_add(g, *idx, shape=a.shape, index=out.attr("index")),
        )
        + _no_index_grads(len(idx)),
        # Selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)


def _scatter_add_shape(shapes, shape, index, unique):
    expected = layout(shape, index, shapes[1:])[0]
    if tuple(shapes[0]) != tuple(expected):
        raise ShapeError(
            f"scatter_add of shape {dims.shape_str(shapes[0])} into the index "
            f"{dims.shape_str(expected)}"
        )
    return shape


def _scatter_add_eval(g, *idx, shape, index, unique):
    out = np.zeros(shape, dtype=np.result_type(g))
    key = index_eval(index, idx)
    if unique:
        out[key] = g
    else:
        np.add.at(out, key, g)
    return out


register(
    Op(
        name="scatter_add",
        nin=None,
        shape=_scatter_add_shape,
        dtype=dtype_first,
        eval=_scatter_add_eval,
        vjp=lambda g, out, a, *idx: (gather(g, *idx, index=out.attr("index")),)
        + _no_index_grads(len(idx)),
        # Zeros plus the operand (+0.0 + -0.0 is +0.0), or the operand
        # assigned: -0.0 only where the operand has one.
        flags=frozenset(("zero_sign_from_operands",)),
    )
)


def _setitem_shape(shapes, index):
    x, v = shapes[0], shapes[1]
    target = read_shape(x, index, shapes[2:])
    if not dims.can_broadcast_to(v, target):
        raise ShapeError(
            f"could not broadcast input array from shape {dims.shape_str(v)} into "
            f"shape {dims.shape_str(target)}"
        )
    return x


def _setitem_eval(x, v, *idx, index):
    out = np.array(x, copy=True)
    out[index_eval(index, idx)] = v
    return out


def _winners(x, index, idx, target):
    """True where a write through `index` is the one NumPy keeps (the last to
    its position), or None if no two writes can meet."""
    if not is_advanced(index):
        return None
    if not idx:
        keep = last_writes(x.shape, index)
        return None if keep is None else const(keep)
    # Index operands: write each write's number, read back who won.
    count = dims.prod(target)
    if dims.is_static(target):
        numbers = const(np.arange(count, dtype=np.int64).reshape(target))
    else:  # a symbolic count: the numbers are made when the code runs
        numbers = reshape(arange(count), target)
    board = broadcast_to(const(np.int64(-1)), x.shape)
    won = gather(setitem(board, numbers, *idx, index=index), *idx, index=index)
    return eq(won, numbers)


def _setitem_vjp(g, out, x, v, *idx):
    index = out.attr("index")
    zero = const(0, dtype=g.dtype)
    dx = setitem(g, zero, *idx, index=index)
    dv = read(g, *idx, index=index)
    keep = _winners(x, index, idx, dv.shape)
    if keep is not None:
        dv = where(keep, dv, zero)
    return (dx, dv) + _no_index_grads(len(idx))


register(
    Op(
        name="setitem",
        nin=None,
        shape=_setitem_shape,
        dtype=dtype_first,
        eval=_setitem_eval,
        vjp=_setitem_vjp,
        # Each element is one of the operands' elements.
        flags=frozenset(("zero_sign_from_operands",)),
    )
)
