"""Shape primitives: reshape, transpose, broadcast_to, and undoing broadcasts.

Contract: one `Op` record per primitive plus a builder of the same name.
Shapes are concrete tuples of dimensions (`symgrad.ir.dims`), axes are
non-negative ints. `sum_to` is the reverse of broadcasting, used by autodiff.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.errors import ShapeError
from symgrad.ir import dims
from symgrad.ops.core import (
    Op,
    apply,
    dtype_first,
    register,
)


def scalar_identity(a, **_attrs):
    # The SymPy form of a shape op or reduction applied to a scalar, the only
    # case the SymPy bridge converts (it rejects every non-scalar node).
    return a


def reshape(a, shape):
    return apply("reshape", a, shape=tuple(shape))


def transpose(a, axes):
    return apply("transpose", a, axes=tuple(axes))


def broadcast_to(a, shape):
    return apply("broadcast_to", a, shape=tuple(shape))


def sum_to(g: ir.Node, shape: tuple) -> ir.Node:
    """Undo broadcasting: sum `g` down to `shape` (NumPy's rules in reverse)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    if axes:
        full = axes == tuple(range(g.ndim))
        summed = apply("sum", g, axes=None if full else axes, keepdims=False)
    else:
        summed = g
    return summed if summed.shape == shape else reshape(summed, shape)


def _reshape_shape(shapes, shape):
    if dims.prod(shapes[0]) != dims.prod(shape):
        raise ShapeError(
            f"cannot reshape an array of shape {dims.shape_str(shapes[0])} into "
            f"{dims.shape_str(shape)}"
        )
    return shape


def _transpose_shape(shapes, axes):
    if sorted(axes) != list(range(len(shapes[0]))):
        raise ShapeError(f"axes {axes} do not match an array of shape {shapes[0]}")
    return tuple(shapes[0][i] for i in axes)


def _broadcast_shape(shapes, shape):
    if not dims.can_broadcast_to(shapes[0], shape):
        raise ShapeError(
            f"cannot broadcast shape {dims.shape_str(shapes[0])} to "
            f"{dims.shape_str(shape)}"
        )
    return shape


register(
    Op(
        name="reshape",
        nin=1,
        shape=_reshape_shape,
        dtype=dtype_first,
        eval=lambda a, shape: np.reshape(a, shape),
        vjp=lambda g, out, a: (reshape(g, a.shape),),
        sympy=scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)
register(
    Op(
        name="transpose",
        nin=1,
        shape=_transpose_shape,
        dtype=dtype_first,
        eval=lambda a, axes: np.transpose(a, axes),
        vjp=lambda g, out, a: (
            transpose(g, tuple(np.argsort(out.attr("axes")).tolist())),
        ),
        sympy=scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)
register(
    Op(
        name="broadcast_to",
        nin=1,
        shape=_broadcast_shape,
        dtype=dtype_first,
        eval=lambda a, shape: np.broadcast_to(a, shape),
        vjp=lambda g, out, a: (sum_to(g, a.shape),),
        sympy=scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)
