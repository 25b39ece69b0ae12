"""Sorting: `sort` and `argsort` along one axis.

Contract: one `Op` record per primitive plus a builder of the same name; the
axis attribute counts from the end (-1 is the last axis), which is how the
printers write it (`np.sort(x)`, `np.sort(x, axis=-2)`); builders take any
valid axis. Both print `kind="stable"`. Both sort NaN last and are stable: equal values
(0.0 and -0.0 too) keep their order, so `argsort` is NumPy's with
`kind="stable"` whatever kind the user asked for (NumPy's default kind does
not promise an order for ties). `argsort` is an integer result with no
gradient. The gradient of `sort` sends the k-th cotangent to the element that
ended up k-th: among tied elements, in their index order.
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import ShapeError
from symgrad.ops.core import Op, apply, dtype_first, register
from symgrad.ops.indexing import along, scatter_add


def _from_end(a, axis: int) -> int:
    if not -a.ndim <= axis < a.ndim:
        raise ShapeError(f"axis {axis} is out of bounds for {a.ndim} dimensions")
    return axis - a.ndim if axis >= 0 else axis


def sort(a, axis: int):
    return apply("sort", a, axis=_from_end(a, axis))


def argsort(a, axis: int):
    return apply("argsort", a, axis=_from_end(a, axis))


def _shape(shapes, axis):
    (shape,) = shapes
    if not -len(shape) <= axis < 0:
        raise ShapeError(f"axis {axis} is out of bounds for {len(shape)} dimensions")
    return shape


def _sort_vjp(g, out, a):
    axis = a.ndim + out.attr("axis")
    order = argsort(a, axis)
    # A permutation along the axis: each position is written once.
    index = along(a.shape, axis)
    return (scatter_add(g, order, shape=a.shape, index=index, unique=True),)


register(
    Op(
        name="sort",
        nin=1,
        shape=_shape,
        dtype=dtype_first,
        eval=lambda a, axis: np.sort(a, axis=axis, kind="stable"),
        vjp=_sort_vjp,
        # Stable, as everywhere: NumPy's default kind may order 0.0 and -0.0
        # either way, and the targets must agree on the sign of every zero.
        # Moves elements: the result is -0.0 only where one was.
        flags=frozenset(("expensive", "zero_sign_from_operands")),
    )
)


register(
    Op(
        name="argsort",
        nin=1,
        shape=_shape,
        dtype=lambda nodes, **_: np.dtype(np.intp),
        eval=lambda a, axis: np.argsort(a, axis=axis, kind="stable"),
        vjp=lambda g, out, a: (None,),
        flags=frozenset(("expensive",)),
    )
)
