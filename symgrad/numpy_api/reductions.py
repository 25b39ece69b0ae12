"""NumPy reductions (functions and methods): sum, mean, max, min, prod, var,
std, average, ptp, cumsum, cumprod, argmax, argmin, any, all,
count_nonzero, and the NaN-ignoring nansum, nanmean, nanprod, nanmax,
nanmin, nancumsum, nancumprod, nanvar, nanstd."""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.numpy_api.args import (
    as_node,
    axes,
    one_axis,
    unsupported,
)
from symgrad.numpy_api.elementwise import astype
from symgrad.ops.core import implements
from symgrad.ops.reductions import argextreme, cumprod, cumsum
from symgrad.ops.structure import concatenate


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


@implements("numpy.prod", methods=("prod",))
def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    unsupported("numpy.prod", out=out, where=where)
    a = as_node(a)
    if dtype is not None:
        a = astype(a, dtype)
    result = ops.reduce("prod", a, axes(axis, a.ndim), keepdims=bool(keepdims))
    return result if initial is None else ops.mul(result, as_node(initial))


def _count(a, axes_):
    """How many entries each reduction over `axes_` sees."""
    return dims.prod([a.shape[i] for i in (range(a.ndim) if axes_ is None else axes_)])


def _as_float(a):
    return a if a.dtype.kind == "f" else astype(a, np.float64)


def _ddof(ddof, correction):
    if correction is not None:
        if ddof != 0:
            fail("np.var with both ddof= and correction=", "Give only one")
        ddof = correction
    if isinstance(ddof, (int, float, np.integer, np.floating)):
        return ddof
    fail("ddof must be a number, not a traced value", "Use a constant")


def _moment_operand(a, axis, dtype, ddof, correction):
    """(a as floats, ddof, axes) for the variance family."""
    a = as_node(a)
    if dtype is not None:
        a = astype(a, dtype)
    a = _as_float(a)
    return a, _ddof(ddof, correction), axes(axis, a.ndim)


@implements("numpy.var", methods=("var",))
def var(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=None,
    mean=None,
    correction=None,
):
    unsupported("numpy.var", out=out, where=where, mean=mean)
    a, ddof, axes_ = _moment_operand(a, axis, dtype, ddof, correction)
    # NumPy's own steps: the mean with kept axes, squared deviations, their
    # sum, divided by max(n - ddof, 0).
    center = ops.reduce("mean", a, axes_, keepdims=True)
    deviation = ops.sub(a, center)
    total = ops.reduce("sum", ops.mul(deviation, deviation), axes_, bool(keepdims))
    count = _count(a, axes_)
    if not isinstance(count, int):
        # max(n - ddof, 0), computed from the size when the code runs.
        divisor = ops.dim_node(count)
        if ddof != 0:
            divisor = ops.maximum(ops.sub(divisor, ddof), 0)
        return ops.div(total, astype(divisor, a.dtype))
    return ops.div(total, float(max(count - ddof, 0)))


@implements("numpy.std", methods=("std",))
def std(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=None,
    mean=None,
    correction=None,
):
    unsupported("numpy.std", out=out, where=where, mean=mean)
    v = var(a, axis, dtype, None, ddof, keepdims, correction=correction)
    a, _, axes_ = _moment_operand(a, axis, dtype, ddof, correction)
    count = _count(a, axes_)
    if isinstance(count, int):
        return _root(v, count == 1)
    return _root(v, ops.eq(ops.dim_node(count), 1))


def _root(v, single):
    """The standard deviation sqrt(v), where `single` (a bool, or a node) says
    which lanes hold one number. Such a lane's deviation is identically 0, so
    its gradient is 0; but sqrt's slope there is inf, and inf times the
    variance's zero slope would be nan. There v is +0.0 (or nan), the same
    value as v * 0.0, which has no square root to differentiate."""
    if single is False:
        return ops.sqrt(v)
    if single is True:
        return ops.mul(v, 0.0)
    # The other branch's square root sees 1 in those lanes: a branch `where`
    # does not pick still gets 0 times its derivative, which must be finite.
    return ops.where(single, ops.mul(v, 0.0), ops.sqrt(ops.where(single, 1.0, v)))


@implements("numpy.average")
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if returned:
        fail(
            "np.average with returned=True is not supported",
            "Compute the sum of the weights with np.sum",
        )
    a = _as_float(as_node(a))
    if weights is None:
        return mean(a, axis, keepdims=keepdims)
    w = as_node(weights)
    axes_ = axes(axis, a.ndim)
    if w.shape != a.shape:
        if axes_ is None:
            fail(
                "np.average: weights of another shape than the array need axis=",
                "Give axis= (or weights of the array's shape)",
            )
        if w.ndim != len(axes_) or any(
            not dims.known_equal(w.shape[k], a.shape[i]) for k, i in enumerate(axes_)
        ):
            fail(
                f"np.average: weights of shape {dims.shape_str(w.shape)} do not "
                f"match the axes {axes_} of an array of shape "
                f"{dims.shape_str(a.shape)}",
                "Give weights of the array's shape or of the reduced axes' shape",
            )
        # NumPy lines the weights up with the reduced axes.
        order = sorted(range(len(axes_)), key=lambda k: axes_[k])
        if order != list(range(len(order))):
            w = ops.transpose(w, order)
        shape = tuple(n if i in axes_ else 1 for i, n in enumerate(a.shape))
        w = ops.reshape(w, shape)
    scale = ops.reduce("sum", w, axes_, bool(keepdims))
    total = ops.reduce("sum", ops.mul(a, w), axes_, bool(keepdims))
    return ops.div(total, scale)


@implements("numpy.ptp", methods=("ptp",))
def ptp(a, axis=None, out=None, keepdims=False):
    unsupported("numpy.ptp", out=out)
    a = as_node(a)
    axes_ = axes(axis, a.ndim)
    high = ops.reduce("max", a, axes_, bool(keepdims))
    low = ops.reduce("min", a, axes_, bool(keepdims))
    return ops.sub(high, low)


def _scan(build, qualname):
    def scan(a, axis=None, dtype=None, out=None):
        unsupported(qualname, out=out)
        a = as_node(a)
        if dtype is not None:
            a = astype(a, dtype)
        if axis is None:
            # NumPy runs over the flattened array.
            if a.ndim != 1:
                a = ops.reshape(a, (a.size,))
            return build(a, 0)
        if a.ndim == 0:
            fail("an axis of a 0-d array", "Use axis=None")
        return build(a, one_axis(axis, a.ndim))

    scan.__name__ = qualname.rpartition(".")[2]
    return scan


implements("numpy.cumsum", methods=("cumsum",))(_scan(cumsum, "numpy.cumsum"))
implements("numpy.cumprod", methods=("cumprod",))(_scan(cumprod, "numpy.cumprod"))


def _cumulative(build, qualname, start):
    # The array API's versions: a 1-D array may leave out the axis, and
    # `include_initial` puts the empty sum (product) first.
    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        unsupported(qualname, out=out)
        x = as_node(x)
        if axis is None:
            if x.ndim != 1:
                fail(
                    f"{qualname.replace('numpy.', 'np.')} of an array with "
                    f"{x.ndim} dimensions needs axis=",
                    "Give the axis",
                )
            axis = 0
        axis = one_axis(axis, x.ndim)
        if dtype is not None:
            x = astype(x, dtype)
        out = build(x, axis)
        if not include_initial:
            return out
        shape = out.shape[:axis] + (1,) + out.shape[axis + 1 :]
        first = ops.broadcast_to(ops.const(start, dtype=out.dtype), shape)
        return concatenate([first, out], axis)

    cumulative.__name__ = qualname.rpartition(".")[2]
    return cumulative


implements("numpy.cumulative_sum")(_cumulative(cumsum, "numpy.cumulative_sum", 0))
implements("numpy.cumulative_prod")(_cumulative(cumprod, "numpy.cumulative_prod", 1))


def _arg(name):
    qualname = f"numpy.{name}"

    def arg(a, axis=None, out=None, *, keepdims=False):
        unsupported(qualname, out=out)
        a = as_node(a)
        if axis is None:
            return argextreme(name, a, None, keepdims)
        if a.ndim == 0:
            fail(f"np.{name} of a 0-d array along an axis", "Use axis=None")
        return argextreme(name, a, one_axis(axis, a.ndim), keepdims)

    arg.__name__ = name
    return arg


implements("numpy.argmax", methods=("argmax",))(_arg("argmax"))
implements("numpy.argmin", methods=("argmin",))(_arg("argmin"))


def _truth(a):
    """`a != 0` (a itself for booleans)."""
    return a if a.dtype.kind == "b" else ops.ne(a, 0)


def _logical(op, empty, qualname):
    def reduction(a, axis=None, out=None, keepdims=False, *, where=None):
        unsupported(qualname, out=out, where=where)
        a = as_node(a)
        axes_ = axes(axis, a.ndim)
        if dims.known_equal(_count(a, axes_), 0):
            # Nothing to look at: any() is False and all() is True.
            gone = range(a.ndim) if axes_ is None else axes_
            shape = tuple(
                1 if i in gone else n
                for i, n in enumerate(a.shape)
                if keepdims or i not in gone
            )
            value = ops.const(empty)
            return ops.broadcast_to(value, shape) if shape else value
        return ops.reduce(op, _truth(a), axes_, bool(keepdims))

    reduction.__name__ = qualname.rpartition(".")[2]
    return reduction


implements("numpy.any", methods=("any",))(_logical("max", False, "numpy.any"))
implements("numpy.all", methods=("all",))(_logical("min", True, "numpy.all"))


@implements("numpy.count_nonzero")
def count_nonzero(a, axis=None, *, keepdims=False):
    a = as_node(a)
    return ops.reduce("sum", _truth(a), axes(axis, a.ndim), bool(keepdims))


def _not_nan(a):
    return ops.eq(a, a)  # false exactly at nan


@implements("numpy.nansum")
def nansum(
    a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None
):
    unsupported("numpy.nansum", out=out, initial=initial, where=where)
    a = as_node(a)
    if dtype is not None:
        a = astype(a, dtype)
    if a.dtype.kind == "f":
        a = ops.where(_not_nan(a), a, 0)
    return ops.reduce("sum", a, axes(axis, a.ndim), bool(keepdims))


@implements("numpy.nanmean")
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    unsupported("numpy.nanmean", out=out, where=where)
    a = as_node(a)
    if dtype is not None:
        a = astype(a, dtype)
    if a.dtype.kind != "f":
        return mean(a, axis, keepdims=keepdims)
    axes_ = axes(axis, a.ndim)
    keep = _not_nan(a)
    total = ops.reduce("sum", ops.where(keep, a, 0), axes_, bool(keepdims))
    count = ops.reduce("sum", keep, axes_, bool(keepdims))
    # All nan: 0 / 0 is nan, as NumPy's value (without its warning).
    return ops.div(total, count)


def _nan_filled(a, fill):
    """`a` with its NaNs replaced by `fill` (floats only; others as they are)."""
    a = as_node(a)
    return ops.where(_not_nan(a), a, fill) if a.dtype.kind == "f" else a


@implements("numpy.nanprod")
def nanprod(
    a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None
):
    unsupported("numpy.nanprod", out=out, initial=initial, where=where)
    a = as_node(a)
    if dtype is not None:
        a = astype(a, dtype)
    return ops.reduce("prod", _nan_filled(a, 1), axes(axis, a.ndim), bool(keepdims))


def _nan_extreme(op: str, fill: float, qualname: str):
    def reduction(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        unsupported(qualname, out=out, initial=initial, where=where)
        a = as_node(a)
        axes_ = axes(axis, a.ndim)
        out_ = ops.reduce(op, _nan_filled(a, fill), axes_, bool(keepdims))
        if a.dtype.kind != "f":
            return out_
        # A slice of NaNs only is NaN (NumPy warns; the value is the same).
        seen = ops.reduce("max", _not_nan(a), axes_, bool(keepdims))
        return ops.where(seen, out_, np.nan)

    reduction.__name__ = qualname.rpartition(".")[2]
    return reduction


implements("numpy.nanmax")(_nan_extreme("max", -np.inf, "numpy.nanmax"))
implements("numpy.nanmin")(_nan_extreme("min", np.inf, "numpy.nanmin"))


def _nan_scan(qualname: str, fill: int, scan):
    def nan_scan(a, axis=None, dtype=None, out=None):
        return scan(_nan_filled(a, fill), axis, dtype, out)

    nan_scan.__name__ = qualname.rpartition(".")[2]
    return nan_scan


implements("numpy.nancumsum")(
    _nan_scan("numpy.nancumsum", 0, _scan(cumsum, "numpy.nancumsum"))
)
implements("numpy.nancumprod")(
    _nan_scan("numpy.nancumprod", 1, _scan(cumprod, "numpy.nancumprod"))
)


@implements("numpy.nanvar")
def nanvar(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=None,
    mean=None,
    correction=None,
):
    unsupported("numpy.nanvar", out=out, where=where, mean=mean)
    a, ddof, axes_ = _moment_operand(a, axis, dtype, ddof, correction)
    # NumPy's steps: the mean of the numbers, squared deviations with the
    # NaNs as 0, their sum over count - ddof (nan where that is <= 0).
    keep = _not_nan(a)
    count = ops.reduce("sum", keep, axes_, True)
    center = ops.div(ops.reduce("sum", ops.where(keep, a, 0), axes_, True), count)
    deviation = ops.where(keep, ops.sub(a, center), 0)
    total = ops.reduce("sum", ops.mul(deviation, deviation), axes_, bool(keepdims))
    left = ops.sub(ops.reduce("sum", keep, axes_, bool(keepdims)), ddof)
    return ops.where(ops.gt(left, 0), ops.div(total, left), np.nan)


@implements("numpy.nanstd")
def nanstd(
    a,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    where=None,
    mean=None,
    correction=None,
):
    unsupported("numpy.nanstd", out=out, where=where, mean=mean)
    v = nanvar(a, axis, dtype, None, ddof, keepdims, correction=correction)
    a, _, axes_ = _moment_operand(a, axis, dtype, ddof, correction)
    numbers = ops.reduce("sum", _not_nan(a), axes_, bool(keepdims))
    return _root(v, ops.eq(numbers, 1))
