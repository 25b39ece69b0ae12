"""NumPy's structural functions: joining, splitting, flipping, rolling,
tiling, repeating, padding, triangles, diagonals, differences, cross
products and select.

Contract: NumPy signatures on graph nodes, built from the primitives
`concatenate`, `stack`, `diagonal`, `embed_diagonal`, `triu`, `tril`
(symgrad.ops.structure), reshape, transpose, broadcast_to, getitem and
where; no VJPs here. Splits return lists of slices (`x[:, 2:4]`), flips are
reversed slices (`x[::-1]`), rolls and pads concatenate slices, tiles and
repeats broadcast and reshape.
Arguments that fix shapes (sections, shifts, repeats, pad widths) must be
Python ints; a symbolic size where a static one is needed is a ShapeError.
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.errors import ConcretizationError, ShapeError
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.numpy_api.args import (
    TRACED_SIZE,
    as_node,
    axes,
    is_node,
    one_axis,
    static_int,
    unsupported,
)
from symgrad.numpy_api.elementwise import astype
from symgrad.numpy_api.shapes import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    moveaxis,
    reshape,
)
from symgrad.ops import structure as prim
from symgrad.ops.core import implements

# ------------------------------------------------------------------ joining


def _sequence(arrays, what):
    """The arrays of a sequence argument as nodes (a traced array is a
    sequence of its rows, as in NumPy)."""
    if is_node(arrays):
        if arrays.ndim == 0:
            fail(f"{what} needs a sequence of arrays, not a scalar", "Pass a list")
        return [ops.getitem(arrays, (i,)) for i in range(_length(arrays))]
    if not isinstance(arrays, (list, tuple)):
        fail(f"{what} needs a sequence of arrays", "Pass a list or tuple of arrays")
    if not arrays:
        fail(f"{what} needs at least one array", "Pass a non-empty list")
    return [as_node(a) for a in arrays]


def _length(node):
    n = node.shape[0]
    if dims.is_symbolic(n):
        raise ShapeError(f"a sequence of {n!r} arrays needs a static length")
    return n


def _with_dtype(parts, dtype):
    return parts if dtype is None else [astype(p, dtype) for p in parts]


def join(parts, axis: int):
    """`parts` concatenated along `axis` (non-negative), or the one part."""
    return parts[0] if len(parts) == 1 else prim.concatenate(parts, axis)


@implements("numpy.concatenate")
def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    unsupported("numpy.concatenate", out=out)
    parts = _with_dtype(_sequence(arrays, "np.concatenate"), dtype)
    if axis is None:
        parts = [reshape(p, (-1,)) for p in parts]
        axis = 0
    if any(p.ndim == 0 for p in parts):
        fail("zero-dimensional arrays cannot be concatenated", "Use np.stack")
    return join(parts, one_axis(axis, parts[0].ndim))


@implements("numpy.concat")
def concat(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    return concatenate(arrays, axis, out, dtype=dtype, casting=casting)


@implements("numpy.block")
def block(arrays):
    """Nested lists joined from the inside out: the innermost lists along the
    last axis, their parents along the one before, and so on."""

    def depth(x):
        if isinstance(x, (list, tuple)):
            if not x:
                fail("np.block with an empty list", "Give every list an array")
            inner = {depth(i) for i in x}
            if len(inner) != 1:
                fail(
                    "np.block: the lists are nested to different depths", "Nest evenly"
                )
            return 1 + inner.pop()
        return 0

    levels = depth(arrays)
    leaves = [as_node(x) for x in _leaves(arrays)]
    ndim = max([levels] + [x.ndim for x in leaves])

    def build(x, level):
        if not isinstance(x, (list, tuple)):
            x = as_node(x)
            return reshape(x, (1,) * (ndim - x.ndim) + x.shape)
        parts = [build(i, level + 1) for i in x]
        return join(parts, ndim - levels + level)

    if not isinstance(arrays, (list, tuple)):
        return as_node(arrays)
    return build(arrays, 0)


def _leaves(x):
    if isinstance(x, (list, tuple)):
        for i in x:
            yield from _leaves(i)
    else:
        yield x


@implements("numpy.unstack")
def unstack(x, /, *, axis=0):
    x = as_node(x)
    if x.ndim == 0:
        fail("np.unstack of a 0-d array", "Pass an array")
    axis = one_axis(axis, x.ndim)
    n = _static(x.shape[axis], "np.unstack")
    whole = ("slice", None, None, None)
    return tuple(ops.getitem(x, (whole,) * axis + (i,)) for i in range(n))


@implements("numpy.stack")
def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    unsupported("numpy.stack", out=out)
    parts = _with_dtype(_sequence(arrays, "np.stack"), dtype)
    return prim.stack(parts, one_axis(axis, parts[0].ndim + 1))


@implements("numpy.hstack")
def hstack(tup, *, dtype=None, casting="same_kind"):
    parts = _with_dtype([atleast_1d(p) for p in _sequence(tup, "np.hstack")], dtype)
    return join(parts, 0 if parts[0].ndim == 1 else 1)


@implements("numpy.row_stack")
def row_stack(tup, *, dtype=None, casting="same_kind"):
    return vstack(tup, dtype=dtype, casting=casting)


@implements("numpy.vstack")
def vstack(tup, *, dtype=None, casting="same_kind"):
    parts = _with_dtype([atleast_2d(p) for p in _sequence(tup, "np.vstack")], dtype)
    return join(parts, 0)


@implements("numpy.dstack")
def dstack(tup):
    return join([atleast_3d(p) for p in _sequence(tup, "np.dstack")], 2)


@implements("numpy.column_stack")
def column_stack(tup):
    parts = []
    for p in _sequence(tup, "np.column_stack"):
        if p.ndim < 2:
            # Scalars and vectors become columns.
            p = reshape(p, (p.size, 1))
        parts.append(p)
    return join(parts, 1)


@implements("numpy.append")
def append(arr, values, axis=None):
    arr, values = as_node(arr), as_node(values)
    if axis is None:
        return join([reshape(arr, (-1,)), reshape(values, (-1,))], 0)
    return join([arr, values], one_axis(axis, arr.ndim))


# ------------------------------------------------------------------ splitting


def _static(n, what):
    if not isinstance(n, int):
        raise ShapeError(
            f"{what} of an axis of symbolic length {n!r} needs a static length"
        )
    return n


def _pieces(a, bounds, axis):
    out = []
    n = a.shape[axis]
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        start = min(max(start, 0), n)
        stop = min(max(stop, start), n)
        if start == 0 and stop == n:
            out.append(a)
            continue
        if start == stop:
            # An empty piece: nothing of `a` is in it.
            empty = a.shape[:axis] + (0,) + a.shape[axis + 1 :]
            out.append(ops.broadcast_to(ops.const(0, dtype=a.dtype), empty))
            continue
        out.append(
            prim.slice_axis(
                a, axis, start if start else None, stop if stop != n else None
            )
        )
    return out


def _split(a, sections, axis, even, name):
    a = as_node(a)
    if a.ndim == 0:
        fail(f"{name} of a 0-d array", "Split an array with at least one axis")
    axis = one_axis(axis, a.ndim)
    n = a.shape[axis]
    if isinstance(sections, (list, tuple, np.ndarray)):
        indices = [static_int(i, "a split index") for i in np.asarray(sections).ravel()]
        bounds = [0] + [
            i if i >= 0 else _static(n, "a negative split index") + i for i in indices
        ]
        if isinstance(n, int):
            bounds.append(n)
            return _pieces(a, bounds, axis)
        raise ShapeError(f"{name} at indices of an axis of symbolic length {n!r}")
    count = static_int(sections, "the number of sections")
    if count <= 0:
        fail("the number of sections must be larger than 0", "Use a positive count")
    n = _static(n, f"{name} into {count} sections")
    if even and n % count:
        fail(
            f"{name}: an axis of length {n} does not split into {count} equal parts",
            "Use np.array_split for unequal parts",
        )
    size, extra = divmod(n, count)
    bounds = [0]
    for k in range(count):
        bounds.append(bounds[-1] + size + (1 if k < extra else 0))
    return _pieces(a, bounds, axis)


@implements("numpy.split")
def split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, True, "np.split")


@implements("numpy.array_split")
def array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, False, "np.array_split")


@implements("numpy.hsplit")
def hsplit(ary, indices_or_sections):
    a = as_node(ary)
    if a.ndim == 0:
        fail("np.hsplit only works on arrays of 1 or more dimensions", "Pass an array")
    return _split(a, indices_or_sections, 1 if a.ndim > 1 else 0, True, "np.hsplit")


@implements("numpy.vsplit")
def vsplit(ary, indices_or_sections):
    a = as_node(ary)
    if a.ndim < 2:
        fail("np.vsplit only works on arrays of 2 or more dimensions", "Pass a matrix")
    return _split(a, indices_or_sections, 0, True, "np.vsplit")


@implements("numpy.dsplit")
def dsplit(ary, indices_or_sections):
    a = as_node(ary)
    if a.ndim < 3:
        fail(
            "np.dsplit only works on arrays of 3 or more dimensions", "Pass a 3-D array"
        )
    return _split(a, indices_or_sections, 2, True, "np.dsplit")


# ------------------------------------------------------------------ flip, roll


def _flip_axes(a, axes_):
    index = tuple(
        ("slice", None, None, -1) if i in axes_ else ("slice", None, None, None)
        for i in range(max(axes_) + 1)
    )
    return ops.getitem(a, index)


@implements("numpy.flip")
def flip(m, axis=None):
    m = as_node(m)
    if m.ndim == 0:
        return m
    axes_ = tuple(range(m.ndim)) if axis is None else axes(axis, m.ndim)
    return _flip_axes(m, axes_) if axes_ else m


@implements("numpy.fliplr")
def fliplr(m):
    m = as_node(m)
    if m.ndim < 2:
        fail("np.fliplr needs an array with at least 2 dimensions", "Use np.flip")
    return _flip_axes(m, (1,))


@implements("numpy.flipud")
def flipud(m):
    m = as_node(m)
    if m.ndim < 1:
        fail("np.flipud needs an array with at least 1 dimension", "Use np.flip")
    return _flip_axes(m, (0,))


@implements("numpy.rot90")
def rot90(m, k=1, axes=(0, 1)):
    m = as_node(m)
    if m.ndim < 2:
        fail("np.rot90 needs an array with at least 2 dimensions", "Pass a matrix")
    first, second = (one_axis(a, m.ndim) for a in axes)
    if first == second:
        fail("np.rot90: the axes must be different", "Name two axes")
    k = static_int(k, "k") % 4
    if k == 0:
        return m
    if k == 2:
        return _flip_axes(m, (first, second))
    perm = list(range(m.ndim))
    perm[first], perm[second] = perm[second], perm[first]
    if k == 1:
        return ops.transpose(_flip_axes(m, (second,)), perm)
    return _flip_axes(ops.transpose(m, perm), (second,))


@implements("numpy.rollaxis")
def rollaxis(a, axis, start=0):
    a = as_node(a)
    axis = one_axis(axis, a.ndim)
    start = static_int(start, "start")
    if not -a.ndim <= start <= a.ndim:
        fail(f"start {start} is out of range", "Pick a valid position")
    start %= a.ndim + 1
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = [i for i in range(a.ndim) if i != axis]
    order.insert(start, axis)
    return ops.transpose(a, order)


@implements("numpy.roll")
def roll(a, shift, axis=None):
    a = as_node(a)
    if axis is None:
        flat = reshape(a, (-1,))
        return reshape(roll(flat, shift, 0), a.shape)
    shifts = shift if isinstance(shift, (list, tuple)) else (shift,)
    axes_ = axis if isinstance(axis, (list, tuple)) else (axis,)
    if len(shifts) == 1:
        shifts = shifts * len(axes_)
    if len(axes_) == 1:
        axes_ = axes_ * len(shifts)
    if len(shifts) != len(axes_):
        fail("np.roll: shift and axis must have the same length", "Pair them up")
    total: dict = {}
    for s, ax in zip(shifts, axes_, strict=True):
        ax = one_axis(ax, a.ndim)
        total[ax] = total.get(ax, 0) + static_int(s, "the shift")
    out = a
    for ax, s in sorted(total.items()):
        n = _static(a.shape[ax], "np.roll")
        k = s % n if n else 0
        if k:
            # The last k entries come first.
            out = prim.concatenate(
                [
                    prim.slice_axis(out, ax, n - k),
                    prim.slice_axis(out, ax, None, n - k),
                ],
                ax,
            )
    return out


# ------------------------------------------------------------------ tile, repeat


@implements("numpy.tile")
def tile(A, reps):
    a = as_node(A)
    reps = tuple(reps) if isinstance(reps, (list, tuple)) else (reps,)
    reps = tuple(static_int(r, "a repetition count") for r in reps)
    if any(r < 0 for r in reps):
        fail("np.tile: negative repetition counts", "Use counts >= 0")
    ndim = max(len(reps), a.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - a.ndim) + a.shape
    # Each repeated axis gets a new axis of length `r` in front of it to
    # broadcast along; merging the pairs lays the copies one after another.
    spread, wide, final = [], [], []
    for r, n in zip(reps, shape, strict=True):
        if r != 1:
            spread.append(1)
            wide.append(r)
        spread.append(n)
        wide.append(n)
        final.append(r * n)
    # broadcast_to adds leading axes itself.
    while spread and dims.known_equal(spread[0], 1) and len(spread) > a.ndim:
        spread.pop(0)
    out = reshape(a, tuple(spread))
    if out.shape != tuple(wide):
        out = ops.broadcast_to(out, tuple(wide))
    return reshape(out, tuple(final))


def _repeat_each(a, count, axis):
    """Every entry along `axis` repeated `count` times (count a Python int)."""
    n = a.shape[axis]
    spread = a.shape[: axis + 1] + (1,) + a.shape[axis + 1 :]
    wide = a.shape[: axis + 1] + (count,) + a.shape[axis + 1 :]
    out = ops.broadcast_to(reshape(a, spread), wide)
    return reshape(out, a.shape[:axis] + (n * count,) + a.shape[axis + 1 :])


def repeat(a, repeats, axis=None):
    a = as_node(a)
    if axis is None:
        a = reshape(a, (-1,))
        axis = 0
    elif a.ndim == 0:
        fail("np.repeat of a 0-d array along an axis", "Use axis=None")
    else:
        axis = one_axis(axis, a.ndim)
    if is_node(repeats):
        fail(
            "np.repeat with traced repeat counts",
            TRACED_SIZE,
            ConcretizationError,
        )
    counts = [static_int(r, "a repeat count") for r in np.asarray(repeats).ravel()]
    if any(c < 0 for c in counts):
        fail("np.repeat: negative repeat counts", "Use counts >= 0")
    n = a.shape[axis]
    if len(counts) == 1 or (len(set(counts)) == 1 and len(counts) == n):
        return _repeat_each(a, counts[0], axis)
    n = _static(n, "np.repeat with a count per entry")
    if len(counts) != n:
        fail(
            f"np.repeat: {len(counts)} counts for an axis of length {n}",
            "Give one count, or one per entry",
        )
    # Runs of entries with the same count are repeated together.
    parts = []
    start = 0
    while start < n:
        stop = start
        while stop < n and counts[stop] == counts[start]:
            stop += 1
        if counts[start]:
            block = _pieces(a, [start, stop], axis)[0]
            parts.append(_repeat_each(block, counts[start], axis))
        start = stop
    if not parts:
        return _repeat_each(a, 0, axis)
    return join(parts, axis)


@implements("numpy.repeat")
def _np_repeat(a, repeats, axis=None):
    return repeat(a, repeats, axis)


@implements(methods=("repeat",))
def _repeat_method(a, repeats, axis=None):
    return repeat(a, repeats, axis)


# ------------------------------------------------------------------ pad


def _pad_pairs(pad_width, ndim, what):
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=object), (ndim, 2))
    except ValueError:
        fail(
            f"{what} does not fit an array with {ndim} dimensions",
            "Give (before, after) pairs",
        )
    return [tuple(static_int(w, "a pad width") for w in row) for row in widths]


def _source_index(p, n, mode):
    """The entry of an axis of length n that pad position p (may be < 0 or
    >= n) copies in `mode`."""
    if mode == "edge":
        return min(max(p, 0), n - 1)
    if mode == "wrap":
        return p % n
    if mode == "symmetric":
        q = p % (2 * n)
        return q if q < n else 2 * n - 1 - q
    # reflect
    if n == 1:
        return 0
    q = p % (2 * (n - 1))
    return q if q < n else 2 * (n - 1) - q


def _gather_runs(a, axis, indices):
    """a's entries at `indices` along `axis`, as pieces to concatenate: a
    slice per run of consecutive entries (forwards or backwards), and a
    broadcast of one entry per run of repeats."""
    parts = []
    i = 0
    while i < len(indices):
        first = indices[i]
        j = i + 1
        step = indices[j] - first if j < len(indices) else 1
        step = step if step in (-1, 0, 1) else 1
        while j < len(indices) and indices[j] - indices[j - 1] == step:
            j += 1
        last = indices[j - 1]
        if step == -1:
            parts.append(
                prim.slice_axis(a, axis, first, last - 1 if last else None, -1)
            )
        elif step == 1:
            parts.append(_pieces(a, [first, last + 1], axis)[0])
        else:
            one = _pieces(a, [first, first + 1], axis)[0]
            wide = a.shape[:axis] + (j - i,) + a.shape[axis + 1 :]
            parts.append(ops.broadcast_to(one, wide))
        i = j
    return parts


def _widened(x, axis, width):
    """`x` (of length 1 along `axis`) repeated `width` times along it."""
    return ops.broadcast_to(x, x.shape[:axis] + (width,) + x.shape[axis + 1 :])


def _fill(value, dtype):
    """A pad value in the array's type (a constant unless it is traced)."""
    if is_node(value):
        return astype(value, dtype)
    return ops.const(np.asarray(value, dtype=dtype))


@implements("numpy.pad")
def pad(array, pad_width, mode="constant", **kwargs):
    a = as_node(array)
    widths = _pad_pairs(pad_width, a.ndim, "np.pad: pad_width")
    if any(w < 0 for pair in widths for w in pair):
        fail("np.pad: negative pad widths", "Use widths >= 0")
    if mode == "constant":
        given = kwargs.pop("constant_values", 0)
        unsupported("numpy.pad", **kwargs)
        if is_node(given):
            values = [(given, given)] * a.ndim
        else:
            values = np.broadcast_to(
                np.asarray(given, dtype=object), (a.ndim, 2)
            ).tolist()
        out = a
        for axis, ((before, after), (vb, va)) in enumerate(
            zip(widths, values, strict=True)
        ):
            if not before and not after:
                continue
            parts = []
            for width, value in ((before, vb), (after, va)):
                block = out.shape[:axis] + (width,) + out.shape[axis + 1 :]
                fill = _fill(value, a.dtype)
                parts.append(ops.broadcast_to(fill, block) if width else None)
            pieces = [p for p in (parts[0], out, parts[1]) if p is not None]
            out = join(pieces, axis)
        return out
    if mode in ("edge", "reflect", "symmetric", "wrap"):
        reflect_type = kwargs.pop("reflect_type", "even")
        unsupported("numpy.pad", **kwargs)
        if reflect_type != "even":
            fail("np.pad with reflect_type='odd'", "Use the default reflect_type")
        out = a
        for axis, (before, after) in enumerate(widths):
            if not before and not after:
                continue
            if mode == "edge" and dims.is_symbolic(out.shape[axis]):
                # The first and last entries repeated: no length needed.
                pieces = [out]
                if before:
                    first = prim.slice_axis(out, axis, 0, 1)
                    pieces.insert(0, _widened(first, axis, before))
                if after:
                    last = prim.slice_axis(out, axis, -1, None)
                    pieces.append(_widened(last, axis, after))
                out = join(pieces, axis)
                continue
            n = _static(out.shape[axis], f"np.pad in mode {mode!r}")
            if n == 0:
                fail(f"np.pad in mode {mode!r} of an empty axis", "Use mode='constant'")
            head = [_source_index(p, n, mode) for p in range(-before, 0)]
            tail = [_source_index(p, n, mode) for p in range(n, n + after)]
            parts = _gather_runs(out, axis, head) + [out]
            out = join(parts + _gather_runs(out, axis, tail), axis)
        return out
    fail(
        f"np.pad with mode={mode!r} is not supported",
        "Use mode 'constant', 'edge', 'reflect', 'symmetric' or 'wrap'",
    )


# ------------------------------------------------------------------ diagonals


def _triangle(m, k, name):
    m = as_node(m)
    if m.ndim == 0:
        fail(f"np.{name} of a 0-d array", "Pass a matrix")
    if m.ndim == 1:
        # NumPy reads a vector as the rows of a square matrix.
        m = ops.broadcast_to(m, m.shape * 2)
    return prim.triangle(name, m, static_int(k, "k"))


@implements("numpy.triu")
def triu(m, k=0):
    return _triangle(m, k, "triu")


@implements("numpy.tril")
def tril(m, k=0):
    return _triangle(m, k, "tril")


def diagonal(a, offset=0, axis1=0, axis2=1):
    a = as_node(a)
    if a.ndim < 2:
        fail("diagonal requires an array of at least two dimensions", "Pass a matrix")
    i, j = one_axis(axis1, a.ndim), one_axis(axis2, a.ndim)
    if i == j:
        fail("axis1 and axis2 cannot be the same", "Name two different axes")
    return prim.diagonal(a, static_int(offset, "offset"), i, j)


@implements("numpy.diagonal", methods=("diagonal",))
def _np_diagonal(a, offset=0, axis1=0, axis2=1):
    return diagonal(a, offset, axis1, axis2)


@implements("numpy.trace", methods=("trace",))
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    unsupported("numpy.trace", out=out)
    d = diagonal(a, offset, axis1, axis2)
    if dtype is not None:
        d = astype(d, dtype)
    return ops.reduce("sum", d, (d.ndim - 1,))


@implements("numpy.diag")
def diag(v, k=0):
    v = as_node(v)
    k = static_int(k, "k")
    if v.ndim == 2:
        return prim.diagonal(v, k, 0, 1)
    if v.ndim != 1:
        fail("np.diag needs a 1-D or 2-D array", "Pass a vector or a matrix")
    n = v.shape[0] + abs(k)
    return prim.embed_diagonal(v, n, n, k)


@implements("numpy.ediff1d")
def ediff1d(ary, to_end=None, to_begin=None):
    a = reshape(as_node(ary), (-1,))
    out = ops.sub(prim.slice_axis(a, 0, 1), prim.slice_axis(a, 0, None, -1))
    parts = [out]
    if to_begin is not None:
        parts.insert(0, reshape(_fill(to_begin, a.dtype), (-1,)))
    if to_end is not None:
        parts.append(reshape(_fill(to_end, a.dtype), (-1,)))
    return join(parts, 0)


# ------------------------------------------------------------------ diff, cross, select


class _NoValue:
    pass


_NO_VALUE = _NoValue()


def _edge_block(value, a, axis):
    value = as_node(value)
    if value.ndim == 0:
        shape = a.shape[:axis] + (1,) + a.shape[axis + 1 :]
        value = ops.broadcast_to(value, shape)
    return value


@implements("numpy.diff")
def diff(a, n=1, axis=-1, prepend=_NO_VALUE, append=_NO_VALUE):
    a = as_node(a)
    n = static_int(n, "n")
    if n == 0:
        return a
    if n < 0:
        fail(f"order must be non-negative but got {n}", "Use n >= 0")
    if a.ndim == 0:
        fail("np.diff requires input that is at least one dimensional", "Pass an array")
    axis = one_axis(axis, a.ndim)
    parts = []
    if prepend is not _NO_VALUE:
        parts.append(_edge_block(prepend, a, axis))
    parts.append(a)
    if append is not _NO_VALUE:
        parts.append(_edge_block(append, a, axis))
    out = join(parts, axis)
    sub = ops.ne if out.dtype.kind == "b" else ops.sub
    for _ in range(n):
        out = sub(prim.slice_axis(out, axis, 1), prim.slice_axis(out, axis, None, -1))
    return out


def _component(x, i):
    """`x[..., i]`."""
    return ops.getitem(x, (("slice", None, None, None),) * (x.ndim - 1) + (i,))


@implements("numpy.cross")
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    a, b = as_node(a), as_node(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    if a.ndim == 0 or b.ndim == 0:
        fail("np.cross of scalars", "Pass vectors of length 2 or 3")
    a = moveaxis(a, axisa, -1)
    b = moveaxis(b, axisb, -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        fail(
            "incompatible dimensions for cross product (dimension must be 2 or 3)",
            "Pass vectors of length 2 or 3",
        )
    a0, a1 = _component(a, 0), _component(a, 1)
    b0, b1 = _component(b, 0), _component(b, 1)
    # NumPy's formulas, term for term.
    z = ops.sub(ops.mul(a0, b1), ops.mul(a1, b0))
    if na == 2 and nb == 2:
        return z
    if na == 3 and nb == 3:
        a2, b2 = _component(a, 2), _component(b, 2)
        x = ops.sub(ops.mul(a1, b2), ops.mul(a2, b1))
        y = ops.sub(ops.mul(a2, b0), ops.mul(a0, b2))
    elif na == 2:
        b2 = _component(b, 2)
        x = ops.mul(a1, b2)
        y = ops.neg(ops.mul(a0, b2))
    else:
        a2 = _component(a, 2)
        x = ops.neg(ops.mul(a2, b1))
        y = ops.mul(a2, b0)
    shape = dims.broadcast_shapes(x.shape, y.shape, z.shape)
    parts = [p if p.shape == shape else ops.broadcast_to(p, shape) for p in (x, y, z)]
    out = prim.stack(parts, len(shape))
    return moveaxis(out, -1, axisc)


@implements("numpy.select")
def select(condlist, choicelist, default=0):
    if not isinstance(condlist, (list, tuple)) or not isinstance(
        choicelist, (list, tuple)
    ):
        fail("np.select needs lists of conditions and choices", "Pass two lists")
    if len(condlist) != len(choicelist):
        fail(
            "list of cases must be same length as list of conditions",
            "Give one choice per condition",
        )
    conds = [as_node(c) for c in condlist]
    choices = [as_node(c) for c in choicelist]
    default = as_node(default)
    for c in conds:
        if c.dtype.kind != "b":
            fail(
                f"invalid entry in condlist: should be boolean, not {c.dtype}",
                "Pass comparisons (x > 0) as conditions",
            )
    # NumPy's result type treats the default and the choices as arrays.
    dtype = np.result_type(*(c.dtype for c in choices), default.dtype)
    out = default
    for cond, choice in zip(reversed(conds), reversed(choices), strict=True):
        out = ops.where(cond, choice, out)
    shape = dims.broadcast_shapes(*(n.shape for n in conds + choices + [default]))
    if out.shape != shape:
        out = ops.broadcast_to(out, shape)
    return out if out.dtype == dtype else astype(out, dtype)


@implements("numpy.diagflat")
def diagflat(v, k=0):
    return diag(reshape(as_node(v), (-1,)), k)
