"""NumPy reductions: sum, mean, max, min (functions and methods)."""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.numpy_api.args import (
    as_node,
    axes,
    unsupported,
)
from symgrad.numpy_api.elementwise import astype
from symgrad.ops.core import implements


def _reducer(op: str, qualname: str):
    def reduction(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
        unsupported(qualname, out=out, **rest)
        a = as_node(a)
        if dtype is not None:
            a = astype(a, dtype)
        return ops.reduce(op, a, axes(axis, a.ndim), keepdims=bool(keepdims))

    reduction.__name__ = op
    return reduction


def _extreme(op: str, qualname: str):
    def reduction(a, axis=None, out=None, keepdims=False, **rest):
        unsupported(qualname, out=out, **rest)
        a = as_node(a)
        return ops.reduce(op, a, axes(axis, a.ndim), keepdims=bool(keepdims))

    reduction.__name__ = op
    return reduction


implements("numpy.sum", methods=("sum",))(_reducer("sum", "numpy.sum"))


@implements("numpy.mean", methods=("mean",))
def mean(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
    unsupported("numpy.mean", out=out, **rest)
    a = as_node(a)
    if dtype is not None:
        a = astype(a, dtype)
    axes_ = axes(axis, a.ndim)
    kept = range(a.ndim) if axes_ is None else axes_
    if any(a.shape[i] == 0 for i in kept):
        # The mean of nothing is nan; written as 0/0 it needs no NumPy call
        # that warns ("Mean of empty slice") despite np.errstate.
        total = ops.reduce("sum", astype(a, np.float64), axes_, bool(keepdims))
        return ops.div(total, 0.0)
    return ops.reduce("mean", a, axes_, keepdims=bool(keepdims))


implements("numpy.max", "numpy.amax", methods=("max",))(_extreme("max", "numpy.max"))
implements("numpy.min", "numpy.amin", methods=("min",))(_extreme("min", "numpy.min"))
