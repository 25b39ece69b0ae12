"""Indexing and sorting helpers copied into pure-Python modules.

Contract: plain Python on flat row-major lists (see `helpers`), valid
on Python 3.8. An advanced index is given item by item: None, a slice, an
int, or an index array as `(flat ints, shape)`; the lowering passes the
broadcast shape of the index arrays and whether their axes go first, both
static. Out-of-range indices raise IndexError as NumPy does; a negative index
counts from the end. Sorting puts NaN last and keeps equal values in order
(NumPy's `kind="stable"`).
"""

import math

from symgrad.codegen.python.helpers import _broadcast, _strides


def _adv_positions(shape, index, bshape, front):
    """Flat positions NumPy's advanced `index` picks from `shape`, in order."""
    strides = _strides(shape)
    size = math.prod(bshape)
    block = [0] * size  # the offsets the index arrays add, together
    groups = []  # per result axis (the index arrays' axes as one): offsets
    at = None
    axis = 0
    for item in index:
        if item is None:
            groups.append([0])
            continue
        n = shape[axis]
        if isinstance(item, slice):
            groups.append([i * strides[axis] for i in range(n)[item]])
            axis += 1
            continue
        values, ishape = ([item], ()) if isinstance(item, int) else item
        if list(ishape) != list(bshape):
            values = _broadcast(values, ishape, bshape)
        stride = strides[axis]
        for k in range(size):
            i = values[k]
            if not -n <= i < n:
                raise IndexError(
                    f"index {i} is out of bounds for axis {axis} with size {n}"
                )
            block[k] += (i % n) * stride
        if at is None:
            at = len(groups)
        axis += 1
    for rest in range(axis, len(shape)):
        groups.append([i * strides[rest] for i in range(shape[rest])])
    groups.insert(0 if front else at, block)
    offsets = [0]
    for group in groups:
        offsets = [o + p for o in offsets for p in group]
    return offsets


def _gather(a, positions):
    """The entries of `a` at `positions`."""
    return [a[p] for p in positions]


def _scatter_add(values, positions, size, zero):
    """`size` zeros with `values` added at `positions` (repeats add up)."""
    out = [zero] * size
    for p, x in zip(positions, values):  # noqa: B905
        out[p] += x
    return out


def _assign(a, positions, values):
    """A copy of `a` with `values` written at `positions` (the last write wins)."""
    out = list(a)
    for p, x in zip(positions, values):  # noqa: B905
        out[p] = x
    return out


def _nan_last(x):
    """A sort key that orders numbers as NumPy does: NaN after everything."""
    return (x != x, x)


def _lanes(shape, axis):
    """The flat positions of each line of entries along `axis`."""
    n = shape[axis]
    inner = math.prod(shape[axis + 1 :])
    outer = math.prod(shape[:axis])
    return [
        [o * n * inner + k * inner + i for k in range(n)]
        for o in range(outer)
        for i in range(inner)
    ]


def _sort(a, shape, axis):
    """`a` sorted along `axis` (NaN last, stable)."""
    out = list(a)
    for lane in _lanes(shape, axis):
        ordered = sorted([a[p] for p in lane], key=_nan_last)
        for p, x in zip(lane, ordered):  # noqa: B905
            out[p] = x
    return out


def _argsort(a, shape, axis):
    """NumPy's argsort(a, axis, kind="stable"): NaN last, ties in order."""
    out = list(a)
    for lane in _lanes(shape, axis):
        order = sorted(range(len(lane)), key=lambda k: _nan_last(a[lane[k]]))
        for p, k in zip(lane, order):  # noqa: B905
            out[p] = k
    return out


# What each helper calls (other helpers): the target copies these in with it.
NEEDS = {
    "_adv_positions": ("_strides", "_broadcast"),
    "_sort": ("_lanes", "_nan_last"),
    "_argsort": ("_lanes", "_nan_last"),
}
