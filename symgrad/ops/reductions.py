"""Reductions and scans: sum, mean, max, min, prod over axes (with
keepdims), argmax/argmin, and the running cumsum/cumprod along one axis.

Contract: one `Op` record per primitive plus the `reduce`, `cumsum`,
`cumprod` and `argextreme` builders. Axes are stored sorted and non-negative,
a reduction over every axis as None.
Ties in `max`/`min` split the cotangent evenly among all maximal (minimal)
entries, matching the rule for `maximum`/`minimum`.
Zeros are exact in `prod` and `cumprod`: their VJPs never divide by an entry
that can be zero (the gradient of a product at a single zero is the product
of the other entries). `prod`'s VJP multiplies running products from the left
and from the right, so its second derivatives are exact at zeros too;
`cumprod`'s VJP divides by the entries before the first zero only, so its
first derivatives are exact everywhere and its second derivatives away from
zeros. argmax/argmin give int64 indices and no gradient.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.errors import ShapeError
from symgrad.ir import dims
from symgrad.ops.core import (
    Op,
    apply,
    const,
    dim_node,
    dtype_first,
    dtype_float,
    lift,
    register,
)
from symgrad.ops.elementwise import div, eq, mul, where
from symgrad.ops.shapes import broadcast_to, reshape, scalar_identity, transpose
from symgrad.ops.structure import concatenate, flip, slice_axis


def reduce(name, a, axes=None, keepdims=False):
    """Reduce over `axes` (None: all). Full reductions are stored as None."""
    if axes is not None:
        axes = tuple(sorted(axes))
        if axes == tuple(range(a.ndim)):
            axes = None
    return apply(name, a, axes=axes, keepdims=bool(keepdims))


def _all(a_ndim, axes):
    return tuple(range(a_ndim)) if axes is None else axes


def _kept(shape, axes):
    axes = _all(len(shape), axes)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g, a, axes, keepdims):
    """A reduction's cotangent reshaped with kept axes, ready to broadcast."""
    return g if keepdims else reshape(g, _kept(a.shape, axes))


def _reduce_shape(shapes, axes, keepdims):
    (shape,) = shapes
    if keepdims:
        return _kept(shape, axes)
    axes = _all(len(shape), axes)
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _reduce_dtype(nodes, **_):
    dt = nodes[0].dtype
    # NumPy sums bools and small ints in the default int type.
    return np.dtype(np.int64) if dt.kind in "bi" else dt


def _sum_vjp(g, out, a, axes, keepdims):
    return (broadcast_to(_expand(g, a, axes, keepdims), a.shape),)


def size_node(count) -> ir.Node:
    """An element count as a value: a float constant for a static count, a
    `dim` node (computed from the runtime shapes: `n`, `3 * n`) for a
    symbolic one, never a literal of one particular size."""
    if dims.is_symbolic(count):
        return dim_node(count)
    return lift(float(count))


def _mean_vjp(g, out, a, axes, keepdims):
    count = dims.prod([a.shape[i] for i in _all(a.ndim, axes)])
    share = div(g, size_node(count))
    return (broadcast_to(_expand(share, a, axes, keepdims), a.shape),)


def _extreme_vjp(g, out, a, axes, keepdims):
    # Every entry equal to the extreme gets an equal share of the cotangent.
    hits = eq(a, _expand(out, a, axes, keepdims))
    count = reduce("sum", hits, axes, keepdims=True)
    share = div(_expand(g, a, axes, keepdims), count)
    return (where(hits, share, 0.0),)


# NumPy sums start from +0.0 or the first element, and max/min select: the
# result is -0.0 only if an element is ("zero_sign_from_operands").
def _register_reduction(name, fn, vjp, dtype, flags=("zero_sign_from_operands",)):
    register(
        Op(
            name=name,
            nin=1,
            shape=_reduce_shape,
            dtype=dtype,
            eval=lambda a, axes, keepdims: fn(a, axis=axes, keepdims=keepdims),
            vjp=lambda g, out, a: vjp(g, out, a, **dict(out.attrs)),
            sympy=scalar_identity,
            # A reduction's NumPy result is a new C-contiguous array.
            flags=frozenset(("reduction", "fresh", "c_contiguous") + flags),
        )
    )


def _prod_vjp(g, out, a, axes, keepdims):
    # d prod / d x_j is the product of the other entries of x_j's group,
    # computed without dividing by x_j (which may be zero).
    g = _expand(g, a, axes, keepdims)
    reduced = _all(a.ndim, axes)
    count = dims.prod([a.shape[i] for i in reduced])
    if dims.known_equal(count, 1):
        return (broadcast_to(g, a.shape),)
    if dims.known_equal(count, 0):
        return (broadcast_to(const(0, dtype=a.dtype), a.shape),)
    return (mul(g, _others(a, reduced)),)


def _others(a, reduced):
    """Per entry, the product of the other entries of its group (the entries
    that differ from it only along the `reduced` axes)."""
    kept = [i for i in range(a.ndim) if i not in reduced]
    if len(reduced) == 1:
        (axis,) = reduced
        return exclusive_products(a, axis)
    # Several axes: gather each group into one last axis, and back.
    perm = tuple(kept) + tuple(reduced)
    moved = transpose(a, perm)
    flat = reshape(
        moved, moved.shape[: len(kept)] + (dims.prod(moved.shape[len(kept) :]),)
    )
    others = reshape(exclusive_products(flat, len(kept)), moved.shape)
    return transpose(others, tuple(int(i) for i in np.argsort(perm)))


def exclusive_products(x, axis):
    """Entry j: x_0 * ... * x_(j-1) times x_(j+1) * ... x_(n-1) along `axis`."""
    one = broadcast_to(
        const(1, dtype=x.dtype), x.shape[:axis] + (1,) + x.shape[axis + 1 :]
    )
    left = cumprod(slice_axis(x, axis, None, -1), axis)
    right = flip(cumprod(slice_axis(x, axis, None, 0, -1), axis), axis)
    return mul(concatenate([one, left], axis), concatenate([right, one], axis))


_register_reduction("sum", np.sum, _sum_vjp, _reduce_dtype)
# 0.0 * -1.0 is -0.0: a product can be -0.0 with no -0.0 among its factors.
_register_reduction("prod", np.prod, _prod_vjp, _reduce_dtype, flags=())
_register_reduction("mean", np.mean, _mean_vjp, dtype_float)
_register_reduction("max", np.max, _extreme_vjp, dtype_first)
_register_reduction("min", np.min, _extreme_vjp, dtype_first)


# ------------------------------------------------------------------ scans


def cumsum(a, axis: int):
    return apply("cumsum", a, axis=int(axis))


def cumprod(a, axis: int):
    return apply("cumprod", a, axis=int(axis))


def _scan_shape(shapes, axis):
    (shape,) = shapes
    if axis >= len(shape):
        raise ShapeError(
            f"axis {axis} is out of bounds for an array of dimension {len(shape)}"
        )
    return shape


def _reverse_cumsum(g, axis):
    """Entry j: g_j + g_(j+1) + ... along `axis` (the adjoint of cumsum)."""
    return flip(cumsum(flip(g, axis), axis), axis)


def _cumsum_vjp(g, out, a):
    return (_reverse_cumsum(g, out.attr("axis")),)


def _cumprod_vjp(g, out, a):
    # d y_i / d x_j = prod_(k <= i, k != j) x_k for j <= i. Before the first
    # zero that is y_i / x_j; at the first zero it is the running product
    # with that zero left out; after it, every term has the zero as a factor.
    axis = out.attr("axis")
    zero = eq(a, 0)
    # Counted in floats (exact below 2**53), not NumPy's int64 cumsum of
    # bools: every value of the gradient stays a double (the C target).
    zeros_so_far = cumsum(where(zero, 1.0, 0.0), axis)
    before = eq(zeros_so_far, 0)
    first = mul(zero, eq(zeros_so_far, 1))
    safe = where(before, a, 1)
    part_before = div(_reverse_cumsum(mul(g, out), axis), safe)
    skipped = cumprod(where(first, 1, a), axis)
    part_first = _reverse_cumsum(mul(g, skipped), axis)
    return (where(before, part_before, where(first, part_first, 0)),)


def _scan_dtype(nodes, **_):
    dt = nodes[0].dtype
    # Like sums: bools and small ints accumulate in the default int type.
    return np.dtype(np.int64) if dt.kind in "bi" else dt


register(
    Op(
        name="cumsum",
        nin=1,
        shape=_scan_shape,
        dtype=_scan_dtype,
        eval=lambda a, axis: np.cumsum(a, axis=axis),
        vjp=_cumsum_vjp,
        # Running sums start from the first element: -0.0 only if one is.
        flags=frozenset(("zero_sign_from_operands",)),
    )
)
register(
    Op(
        name="cumprod",
        nin=1,
        shape=_scan_shape,
        dtype=_scan_dtype,
        eval=lambda a, axis: np.cumprod(a, axis=axis),
        vjp=_cumprod_vjp,
    )
)


# ------------------------------------------------------------------ argmax


def argextreme(name, a, axis=None, keepdims=False):
    """argmax/argmin over one axis (None: of the flattened array)."""
    return apply(name, a, axis=axis, keepdims=bool(keepdims))


def _arg_shape(shapes, axis, keepdims):
    (shape,) = shapes
    if axis is None:
        size = dims.prod(shape)
        axes = tuple(range(len(shape)))
    else:
        size = shape[axis]
        axes = (axis,)
    if dims.known_equal(size, 0):
        raise ShapeError("attempt to get argmax or argmin of an empty sequence")
    return _reduce_shape(shapes, axes, keepdims)


for _name in ("argmax", "argmin"):
    register(
        Op(
            name=_name,
            nin=1,
            shape=_arg_shape,
            dtype=lambda nodes, **_: np.dtype(np.int64),
            eval=getattr(np, _name),
            vjp=lambda g, out, a: (None,),
        )
    )
