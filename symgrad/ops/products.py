"""Products: matrix multiplication (with NumPy's batching and 1-D rules).

Contract: one `Op` record per primitive plus a builder of the same name; VJP
rules build products of the cotangent with the other operand.
"""

from __future__ import annotations

import numpy as np

from symgrad import dims
from symgrad.errors import ShapeError
from symgrad.ops.core import (
    Op,
    apply,
    dtype_promote,
    register,
)
from symgrad.ops.shapes import reshape, sum_to, transpose


def matmul(a, b):
    return apply("matmul", a, b)


def _matmul_shape(shapes):
    a, b = shapes
    if not a or not b:
        raise ShapeError("matmul needs arrays with at least one dimension, not scalars")
    a2 = a if len(a) > 1 else (1,) + a
    b2 = b if len(b) > 1 else b + (1,)
    if a2[-1] != b2[-2]:
        raise ShapeError(
            f"matmul: shapes {dims.shape_str(a)} and {dims.shape_str(b)} do not "
            f"align ({a2[-1]!r} != {b2[-2]!r})"
        )
    batch = dims.broadcast_shapes(a2[:-2], b2[:-2])
    out = batch + a2[-2:-1] * (len(a) > 1) + b2[-1:] * (len(b) > 1)
    return out


def _swap_last(x):
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(x, axes)


def _matmul_vjp(g, out, a, b):
    # Promote 1-D operands to matrices the way matmul does, then use
    # dA = G @ B^T and dB = A^T @ G; autodiff sums broadcast batch axes away.
    a2 = a if a.ndim > 1 else reshape(a, (1,) + a.shape)
    b2 = b if b.ndim > 1 else reshape(b, b.shape + (1,))
    batch = dims.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    g2 = reshape(g, batch + (a2.shape[-2], b2.shape[-1]))
    ga = sum_to(matmul(g2, _swap_last(b2)), a2.shape)
    gb = sum_to(matmul(_swap_last(a2), g2), b2.shape)
    return reshape(ga, a.shape), reshape(gb, b.shape)


register(
    Op(
        name="matmul",
        nin=2,
        shape=_matmul_shape,
        dtype=dtype_promote,
        eval=np.matmul,
        vjp=_matmul_vjp,
        numpy=lambda a, b: f"{a} @ {b}",
        operators=("__matmul__", "__rmatmul__"),
        answers=("numpy.matmul",),
    )
)
