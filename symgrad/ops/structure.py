"""Structure primitives: joining arrays (concatenate, stack), diagonals
(diagonal and its adjoint embed_diagonal) and triangles (triu, tril).

Contract: one `Op` record per primitive plus a builder of the same name, and
the small node-level helpers other rules share (`slice_axis`, `flip`).
Every other structural NumPy function (split, pad, tile, repeat, roll, flip,
diag, ...) is a composite in `symgrad.numpy_api.structure` built from these,
reshape, transpose, broadcast_to and getitem. VJPs are slices (`g[:, 3:5]`,
`g[..., 1]`) of the cotangent; `diagonal` and `embed_diagonal` are each
other's adjoints, and triu/tril their own.
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import ShapeError
from symgrad.ir import dims
from symgrad.ops.core import Op, apply, register
from symgrad.ops.indexing import getitem
from symgrad.ops.shapes import transpose

_ALL = ("slice", None, None, None)


def concatenate(parts, axis: int):
    """`parts` joined along an existing `axis` (non-negative)."""
    return apply("concatenate", *parts, axis=int(axis))


def stack(parts, axis: int):
    """`parts` (all of one shape) joined along a new `axis` (non-negative)."""
    return apply("stack", *parts, axis=int(axis))


def diagonal(a, offset: int = 0, axis1: int = 0, axis2: int = 1):
    return apply("diagonal", a, offset=int(offset), axis1=int(axis1), axis2=int(axis2))


def slice_axis(x, axis: int, start=None, stop=None, step=None):
    """`x[..., start:stop:step, ...]` with the slice on `axis`."""
    index = (_ALL,) * axis + (("slice", start, stop, step),)
    return getitem(x, index)


def flip(x, axis: int):
    """`x` reversed along `axis` (`x[:, ::-1]`)."""
    return slice_axis(x, axis, None, None, -1)


def _dtype_joined(nodes, **_):
    # NumPy converts every part to an array first, Python numbers included,
    # so the result type is that of the arrays (no weak scalars).
    return np.result_type(*(n.dtype for n in nodes))


# ------------------------------------------------------------------ concatenate


def _concatenate_shape(shapes, axis):
    if not shapes:
        raise ShapeError("need at least one array to concatenate")
    first = shapes[0]
    if not first:
        raise ShapeError("zero-dimensional arrays cannot be concatenated")
    if axis >= len(first):
        raise ShapeError(
            f"axis {axis} is out of bounds for arrays of dimension {len(first)}"
        )
    out = list(first)
    for k, shape in enumerate(shapes[1:], 1):
        if len(shape) != len(first):
            raise ShapeError(
                "all the input arrays must have the same number of dimensions, "
                f"but got shapes {dims.shape_str(first)} and {dims.shape_str(shape)}"
            )
        for i, n in enumerate(shape):
            if i == axis:
                out[i] = out[i] + n
            elif not dims.known_equal(out[i], n):
                raise ShapeError(
                    "all the input array dimensions except for the concatenation "
                    f"axis must match exactly, but along dimension {i}, the array "
                    f"at index 0 has size {out[i]!r} and the array at index {k} "
                    f"has size {n!r}"
                )
    return tuple(out)


def _slice_bound(pos, total, end: bool):
    """A slice bound for flat position `pos` of an axis of length `total`:
    None at either end, a count from the front or from the back, or else a
    symbolic position (`x[3 * n:5 * n]`, computed when the code runs)."""
    if dims.known_equal(pos, total if end else 0):
        return None
    if isinstance(pos, int):
        return pos
    back = pos - total
    if isinstance(back, int):
        return back
    return pos


def _concatenate_vjp(g, out, *parts):
    axis = out.attr("axis")
    total = out.shape[axis]
    cotangents = []
    start = 0
    for part in parts:
        stop = start + part.shape[axis]
        if dims.known_equal(part.size, 0):
            cotangents.append(None)  # nothing to carry back
        else:
            lo = _slice_bound(start, total, False)
            hi = _slice_bound(stop, total, True)
            cotangents.append(slice_axis(g, axis, lo, hi))
        start = stop
    return tuple(cotangents)


register(
    Op(
        name="concatenate",
        nin=None,
        shape=_concatenate_shape,
        dtype=_dtype_joined,
        eval=lambda *parts, axis: np.concatenate(parts, axis=axis),
        vjp=_concatenate_vjp,
        # Moves elements: the result is -0.0 only where an operand was.
        flags=frozenset(("zero_sign_from_operands",)),
    )
)


# ------------------------------------------------------------------ stack


def _stack_shape(shapes, axis):
    if not shapes:
        raise ShapeError("need at least one array to stack")
    first = shapes[0]
    for shape in shapes[1:]:
        if len(shape) != len(first) or any(
            not dims.known_equal(a, b) for a, b in zip(first, shape, strict=True)
        ):
            raise ShapeError(
                "all input arrays must have the same shape, but got shapes "
                f"{dims.shape_str(first)} and {dims.shape_str(shape)}"
            )
    if axis > len(first):
        raise ShapeError(
            f"axis {axis} is out of bounds for a result of dimension {len(first) + 1}"
        )
    return first[:axis] + (len(shapes),) + first[axis:]


def _stack_vjp(g, out, *parts):
    axis = out.attr("axis")
    if dims.known_equal(g.size, 0):
        return (None,) * len(parts)  # nothing to carry back
    return tuple(getitem(g, (_ALL,) * axis + (i,)) for i in range(len(parts)))


register(
    Op(
        name="stack",
        nin=None,
        shape=_stack_shape,
        dtype=_dtype_joined,
        eval=lambda *parts, axis: np.stack(parts, axis=axis),
        vjp=_stack_vjp,
        # Moves elements: the result is -0.0 only where an operand was.
        flags=frozenset(("zero_sign_from_operands",)),
    )
)


# ------------------------------------------------------------------ diagonal


def diagonal_length(m, n, offset):
    """How many entries the `offset` diagonal of an (m, n) matrix has."""
    if offset >= 0:
        rows, cols = m, n - offset
    else:
        rows, cols = m + offset, n
    if dims.known_equal(rows, cols):
        return rows if not isinstance(rows, int) else max(rows, 0)
    if isinstance(rows, int) and isinstance(cols, int):
        return max(min(rows, cols), 0)
    # Symbolic: the smaller one where it is provably smaller (and never
    # negative, every size being at least 1).
    for small, large in ((rows, cols), (cols, rows)):
        if dims.known_ge(large, small) and dims.known_ge(small, 0):
            return small
    raise ShapeError(
        f"the length of diagonal {offset} of a ({m!r}, {n!r}) matrix is "
        f"min({rows!r}, {cols!r}), which symgrad cannot express for symbolic sizes"
    )


def _diagonal_shape(shapes, offset, axis1, axis2):
    (shape,) = shapes
    if len(shape) < 2:
        raise ShapeError("diagonal requires an array of at least two dimensions")
    if axis1 == axis2:
        raise ShapeError("axis1 and axis2 cannot be the same")
    rest = tuple(n for i, n in enumerate(shape) if i not in (axis1, axis2))
    return rest + (diagonal_length(shape[axis1], shape[axis2], offset),)


def _diagonal_vjp(g, out, a):
    offset, axis1, axis2 = (out.attr(k) for k in ("offset", "axis1", "axis2"))
    m, n = a.shape[axis1], a.shape[axis2]
    full = embed_diagonal(g, m, n, offset)
    # `full` has the diagonal's axes last; put them back where they were.
    rest = [i for i in range(a.ndim) if i not in (axis1, axis2)]
    order = rest + [axis1, axis2]
    perm = tuple(int(i) for i in np.argsort(order))
    if perm == tuple(range(a.ndim)):
        return (full,)
    return (transpose(full, perm),)


register(
    Op(
        name="diagonal",
        nin=1,
        shape=_diagonal_shape,
        dtype=lambda nodes, **_: nodes[0].dtype,
        eval=lambda a, offset, axis1, axis2: np.diagonal(a, offset, axis1, axis2),
        vjp=_diagonal_vjp,
        # np.diagonal returns a read-only view; selects without arithmetic.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)


# ------------------------------------------------------------------ embed_diagonal


def embed_diagonal(d, m, n, offset: int = 0):
    """An (..., m, n) array holding `d` (..., L) on diagonal `offset`, else 0
    (`np.diag(d, offset)` for a vector; the adjoint of `diagonal`)."""
    shape = tuple(d.shape[:-1]) + (m, n)
    return apply("embed_diagonal", d, shape=shape, offset=int(offset))


def _embed_shape(shapes, shape, offset):
    (given,) = shapes
    if not given or len(shape) != len(given) + 1:
        raise ShapeError("a diagonal to embed needs at least one dimension")
    length = diagonal_length(shape[-2], shape[-1], offset)
    dims.same(given[-1], length, "the diagonal's length and the matrix's")
    return shape


def diagonal_positions(length, offset):
    first_row, first_col = max(-offset, 0), max(offset, 0)
    return (first_row, first_row + length), (first_col, first_col + length)


def _embed_eval(d, shape, offset):
    out = np.zeros(shape, dtype=d.dtype)
    rows, cols = diagonal_positions(d.shape[-1], offset)
    out[..., np.arange(*rows), np.arange(*cols)] = d
    return out


register(
    Op(
        name="embed_diagonal",
        nin=1,
        shape=_embed_shape,
        dtype=lambda nodes, **_: nodes[0].dtype,
        eval=_embed_eval,
        vjp=lambda g, out, d: (
            diagonal(g, out.attr("offset"), g.ndim - 2, g.ndim - 1),
        ),
        # The entries off the diagonal are +0.0; the others are d's.
        flags=frozenset(("zero_sign_from_operands",)),
    )
)


# ------------------------------------------------------------------ triu, tril


def triangle(name, a, k: int = 0):
    """`np.triu(a, k)` or `np.tril(a, k)` of an array with >= 2 dimensions."""
    return apply(name, a, k=int(k))


def _triangle_shape(shapes, k):
    (shape,) = shapes
    if len(shape) < 2:
        raise ShapeError("triu and tril need an array with at least 2 dimensions")
    return shape


for _name in ("triu", "tril"):
    register(
        Op(
            name=_name,
            nin=1,
            shape=_triangle_shape,
            dtype=lambda nodes, **_: nodes[0].dtype,
            eval=getattr(np, _name),
            # Keeping a fixed set of entries is its own adjoint.
            vjp=lambda g, out, a: (triangle(out.op, g, out.attr("k")),),
            # The entries set to zero are +0.0; the others are the operand's.
            flags=frozenset(("zero_sign_from_operands",)),
        )
    )
