"""Indexing: basic getitem and its adjoint, scatter into zeros.

Contract: one `Op` record per primitive plus a builder of the same name.
Indices are normalized tuples of ints, `("slice", start, stop, step)` and
None; shapes are computed from them (`slice_length`), never probed.
"""

from __future__ import annotations

import numpy as np

from symgrad import dims, ir
from symgrad.errors import ShapeError
from symgrad.ops.core import (
    Op,
    apply,
    dtype_first,
    register,
)
from symgrad.ops.shapes import scalar_identity


def getitem(a, index):
    return apply("getitem", a, index=index)


def scatter(g, shape, index):
    return apply("scatter", g, shape=tuple(shape), index=index)


def index_value(index):
    """The Python index object for a normalized index tuple."""
    return tuple(slice(*i[1:]) if isinstance(i, tuple) else i for i in index)


def slice_length(start, stop, step, n):
    """How many elements `[start:stop:step]` picks from an axis of length `n`."""
    if isinstance(n, int):
        return len(range(*slice(start, stop, step).indices(n)))
    # A symbolic length: the forms whose length is a dimension expression.
    step = 1 if step is None else step
    if step != 1:
        raise ShapeError(
            f"a slice with step {step} of the symbolic axis {n!r} has a length "
            "symgrad cannot express; use step 1"
        )

    def bound(b, default):
        if b is None:
            return default
        return b if b >= 0 else n + b

    start, stop = bound(start, 0), bound(stop, n)
    if stop is n and isinstance(start, int):
        return n - start
    if isinstance(stop, int) and isinstance(start, int):
        return max(stop - start, 0)
    return stop - start


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
        numpy=lambda a, index: f"{a}[{ir.format_index(index)}]",
        sympy=scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)


def _scatter_eval(g, shape, index):
    out = np.zeros(shape, dtype=np.result_type(g))
    out[index_value(index)] = g
    return out


def _zeros_src(shape, dtype):
    suffix = "" if dtype == np.float64 else f", dtype=np.{dtype.name}"
    return f"np.zeros({dims.shape_str(shape)}{suffix})"


register(
    Op(
        name="scatter",
        nin=1,
        shape=lambda shapes, shape, index: shape,
        dtype=dtype_first,
        eval=_scatter_eval,
        vjp=lambda g, out, a: (getitem(g, out.attr("index")),),
        sympy=scalar_identity,
        flags=frozenset(("zero_sign_from_operands",)),
        # Basic indices select each element at most once, so assignment into
        # zeros is exact (no accumulation is needed).
        numpy_stmts=lambda out, g, shape, index, dtype: [
            f"{out} = {_zeros_src(shape, dtype)}",
            f"{out}[{ir.format_index(index)}] = {g}",
        ],
    )
)
