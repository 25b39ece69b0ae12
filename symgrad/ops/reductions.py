"""Reductions: sum, mean, max and min over axes, with keepdims.

Contract: one `Op` record per primitive plus the `reduce` builder. Axes are
stored sorted and non-negative, a reduction over every axis as None.
Ties in `max`/`min` split the cotangent evenly among all maximal (minimal)
entries, matching the rule for `maximum`/`minimum`.
"""

from __future__ import annotations

import numpy as np

from symgrad import dims, ir
from symgrad.errors import ShapeError
from symgrad.ops.core import (
    Op,
    apply,
    dtype_first,
    dtype_float,
    lift,
    register,
)
from symgrad.ops.elementwise import div, eq, where
from symgrad.ops.shapes import broadcast_to, reshape, scalar_identity


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


def _reduction_src(name):
    def printer(a, axes, keepdims):
        args = a
        if axes is not None:
            args += f", axis={axes[0] if len(axes) == 1 else axes}"
        if keepdims:
            args += ", keepdims=True"
        return f"np.{name}({args})"

    return printer


def _sum_vjp(g, out, a, axes, keepdims):
    return (broadcast_to(_expand(g, a, axes, keepdims), a.shape),)


def size_node(count) -> ir.Node:
    """A float constant for an element count (static counts only, for now)."""
    if not isinstance(count, int):
        raise ShapeError(f"a count of {count!r} elements is symbolic")
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


def _register_reduction(name, fn, vjp, dtype):
    register(
        Op(
            name=name,
            nin=1,
            shape=_reduce_shape,
            dtype=dtype,
            eval=lambda a, axes, keepdims: fn(a, axis=axes, keepdims=keepdims),
            vjp=lambda g, out, a: vjp(g, out, a, **dict(out.attrs)),
            numpy=_reduction_src(name),
            sympy=scalar_identity,
            # NumPy sums start from +0.0 or the first element, and max/min
            # select: the result is -0.0 only if an element is.
            flags=frozenset(("reduction", "zero_sign_from_operands")),
        )
    )


_register_reduction("sum", np.sum, _sum_vjp, _reduce_dtype)
_register_reduction("mean", np.mean, _mean_vjp, dtype_float)
_register_reduction("max", np.max, _extreme_vjp, dtype_first)
_register_reduction("min", np.min, _extreme_vjp, dtype_first)
