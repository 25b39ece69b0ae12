"""NumPy elementwise functions that are compositions: positive, square,
reciprocal, where, and dtype conversion (`astype`)."""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.numpy_api.args import (
    as_node,
)
from symgrad.ops.core import implements
from symgrad.source import fail


def astype(a, dtype):
    """`a` converted to `dtype` (float conversions only change the dtype)."""
    target = np.dtype(dtype)
    if target == a.dtype:
        return a
    if target.kind not in "biuf":
        fail(
            f"converting a traced value to {target} is not supported",
            "Convert to a float, int or bool dtype",
        )
    return ops.cast(a, target)


@implements(methods=("astype",))
def _astype_method(a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    return astype(a, dtype)


@implements("numpy.positive", operators=("__pos__",))
def positive(a, /):
    return as_node(a)


@implements("numpy.square")
def square(a, /):
    a = as_node(a)
    return ops.mul(a, a)


@implements("numpy.reciprocal")
def reciprocal(a, /):
    return ops.div(1.0, as_node(a))


@implements("numpy.where")
def where(condition, x=None, y=None, /):
    if x is None or y is None:
        fail(
            "np.where with one argument (the indices where a condition holds) is "
            "not supported",
            "Use np.where(cond, a, b) to choose values",
        )
    return ops.where(as_node(condition), as_node(x), as_node(y))
