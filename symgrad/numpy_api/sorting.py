"""Sorting and order statistics: np.sort, np.argsort, np.median,
np.percentile, np.quantile.

Contract: NumPy's signatures and values. Order statistics sort (the `sort`
primitive: NaN last, stable) and read the entries they need with an index,
so the gradient flows to the selected entries only. Among equal entries the
one that sorts first by index (a stable sort) is the one selected, and it
gets the whole cotangent. A lane holding a NaN gives NaN, as in NumPy.
Quantiles are static (Python numbers or NumPy arrays); `method` is one of
"linear" (the default), "lower", "higher", "midpoint" and "nearest", with
NumPy's exact interpolation formula. `x.sort()` sorts in place in NumPy and
is refused: write `x = np.sort(x)`.
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.numpy_api.args import as_node, axes, is_node, one_axis, unsupported
from symgrad.numpy_api.indexing import take_along_axis
from symgrad.ops.core import implements
from symgrad.ops.indexing import gather
from symgrad.ops.sorting import argsort as _argsort
from symgrad.ops.sorting import sort as _sort

_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def _check_kind(name, kind, order):
    unsupported(name, order=order)
    if kind not in _KINDS:
        fail(f"{name}: unknown kind {kind!r}", f"Use one of {_KINDS[1:]}")


def _flat(a):
    return a if a.ndim == 1 else ops.reshape(a, (a.size,))


@implements("numpy.sort")
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    _check_kind("np.sort", kind, order)
    a = as_node(a)
    if axis is None:
        a, axis = _flat(a), 0
    return _sort(a, one_axis(axis, a.ndim))


@implements("numpy.argsort", methods=("argsort",))
def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    # Ties come out in index order (kind="stable") whatever the kind.
    _check_kind("np.argsort", kind, order)
    a = as_node(a)
    if axis is None:
        a, axis = _flat(a), 0
    return _argsort(a, one_axis(axis, a.ndim))


@implements(methods=("sort",))
def _sort_method(a, axis=-1, kind=None, order=None, *, stable=None):
    fail(
        "x.sort() sorts a traced array in place, which symgrad does not follow",
        "Write x = np.sort(x) instead",
    )


# ------------------------------------------------------------------ order statistics


def _lanes(a, axis):
    """`a` with the reduced axes moved last and merged into one; the shape of
    the other axes, the `keepdims` shape, and the number of entries per lane."""
    ax = axes(axis, a.ndim)
    if ax is None:
        ax = tuple(range(a.ndim))
    rest = [k for k in range(a.ndim) if k not in ax]
    kept = tuple(a.shape[k] for k in rest)
    keep = tuple(1 if k in ax else a.shape[k] for k in range(a.ndim))
    n = dims.prod([a.shape[k] for k in ax])
    order = tuple(rest + sorted(ax))
    x = a
    if order != tuple(range(a.ndim)):
        x = ops.transpose(x, order)
    if len(ax) != 1:
        x = ops.reshape(x, kept + (n,))
    return x, kept, keep, n


def _sorted_lanes(name, a, axis):
    a = as_node(a)
    x, kept, keep, n = _lanes(a, axis)
    if not isinstance(n, int):
        fail(f"{name} over a symbolic axis", "Use axes of static size")
    if n == 0:
        fail(f"{name} of an empty array", "Give at least one entry")
    return _sort(x, x.ndim - 1), kept, keep, n


_ALL = ("slice", None, None, None)


def _entry(s, k):
    """Entry `k` of every lane of `s` (basic indexing)."""
    return ops.getitem(s, (_ALL,) * (s.ndim - 1) + (k,))


def _entries(s, ks):
    """Entries `ks` (one per quantile) of every lane, as a last axis."""
    values = tuple(int(k) for k in ks)
    item = ("array", (len(values),), values)
    return gather(s, index=(_ALL,) * (s.ndim - 1) + (item,))


def _nan_lanes(s, r, scalar_q):
    """`r`, but the lane's NaN where the lane holds one (sorted last)."""
    if s.dtype.kind != "f":
        return r
    last = _entry(s, -1)
    if not scalar_q:
        last = ops.reshape(last, last.shape + (1,))
    return ops.where(ops.ne(last, last), last, r)


def _as_float(r):
    return r if r.dtype.kind == "f" else ops.cast(r, np.float64)


@implements("numpy.median")
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    unsupported("numpy.median", out=out)
    s, kept, keep, n = _sorted_lanes("np.median", a, axis)
    half = n // 2
    if n % 2:
        m = _entry(s, half)
    else:
        # NumPy's mean of the two middle entries.
        m = ops.div(ops.add(_entry(s, half - 1), _entry(s, half)), 2.0)
    m = _as_float(_nan_lanes(s, m, True))
    return ops.reshape(m, keep) if keepdims else m


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _plan(n: int, q: np.ndarray, method: str):
    """NumPy's neighbours and weights for quantiles `q` of `n` sorted entries:
    (previous indices, next indices, gamma), or (indices, None, None) where
    NumPy reads an entry without interpolating."""
    if method == "lower":
        return np.floor((n - 1) * q).astype(np.intp), None, None
    if method == "higher":
        return np.ceil((n - 1) * q).astype(np.intp), None, None
    if method == "nearest":
        return np.around((n - 1) * q).astype(np.intp), None, None
    if method == "linear":
        virtual = np.asarray((n - 1) * q)
        if virtual.dtype.kind in "iu":
            return virtual.astype(np.intp), None, None
    else:  # midpoint
        virtual = np.asarray(0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q)))
    prev = np.atleast_1d(np.floor(virtual))
    nxt = prev + 1
    above = np.atleast_1d(virtual >= n - 1)
    prev[above] = -1
    nxt[above] = -1
    below = np.atleast_1d(virtual < 0)
    prev[below] = 0
    nxt[below] = 0
    prev, nxt = prev.reshape(virtual.shape), nxt.reshape(virtual.shape)
    gamma = np.asarray(virtual - prev)
    if method == "midpoint":
        gamma = np.where(virtual % 1 == 0, 0.0, 0.5)
    return prev.astype(np.intp), nxt.astype(np.intp), gamma


def _lerp(a, b, gamma, weak):
    """NumPy's `_lerp`: a + (b - a) * t, but b - (b - a) * (1 - t) for t >= 0.5."""
    diff = ops.sub(b, a)
    up = np.asarray(gamma >= 0.5)

    def number(v):
        return ops.lift(float(v)) if weak else ops.const(np.asarray(v, np.float64))

    low = ops.add(a, ops.mul(diff, number(gamma)))
    if not up.any():
        return low
    high = ops.sub(b, ops.mul(diff, number(1 - gamma)))
    if up.all():
        return high
    return ops.where(ops.const(up), high, low)


def _quantiles(name, a, q, axis, out, method, keepdims, weights, interpolation):
    unsupported(name, out=out, weights=weights, interpolation=interpolation)
    if method not in _METHODS:
        fail(
            f"{name} with method={method!r} is not supported",
            f"Use one of {', '.join(_METHODS)}",
        )
    s, kept, keep, n = _sorted_lanes(name, a, axis)
    scalar = q.ndim == 0
    prev, nxt, gamma = _plan(n, q, method)
    pick = (
        (lambda ks: _entry(s, int(ks)))
        if scalar
        else (lambda ks: _entries(s, ks.ravel()))
    )
    r = pick(prev)
    if gamma is not None:
        r = _lerp(r, pick(nxt), gamma if scalar else gamma.ravel(), scalar)
    r = _as_float(_nan_lanes(s, r, scalar))
    lead = keep if keepdims else kept
    if not scalar and r.ndim > 1:
        # The quantiles are the last axis here; NumPy puts them first.
        r = ops.transpose(r, (r.ndim - 1,) + tuple(range(r.ndim - 1)))
    shape = q.shape + tuple(lead)
    return r if r.shape == shape else ops.reshape(r, shape)


def _static_q(name, q, what):
    if is_node(q):
        if q.op != "const":
            fail(f"{name} with traced {what}", f"Give the {what} as numbers")
        q = q.value
    q = np.asarray(q)
    if q.dtype.kind not in "biuf":
        fail(f"{name}: {what} must be numbers", f"Give the {what} as numbers")
    return q


@implements("numpy.percentile")
def percentile(
    a,
    q,
    axis=None,
    out=None,
    overwrite_input=False,
    method="linear",
    keepdims=False,
    *,
    weights=None,
    interpolation=None,
):
    q = _static_q("np.percentile", q, "percentages")
    if not np.all((q >= 0) & (q <= 100)):
        fail("np.percentile: percentiles must be in the range [0, 100]", "Check q")
    q = np.true_divide(q, 100)
    args = (axis, out, method, keepdims, weights, interpolation)
    return _quantiles("np.percentile", a, q, *args)


@implements("numpy.quantile")
def quantile(
    a,
    q,
    axis=None,
    out=None,
    overwrite_input=False,
    method="linear",
    keepdims=False,
    *,
    weights=None,
    interpolation=None,
):
    q = _static_q("np.quantile", q, "quantiles")
    if not np.all((q >= 0) & (q <= 1)):
        fail("np.quantile: quantiles must be in the range [0, 1]", "Check q")
    args = (axis, out, method, keepdims, weights, interpolation)
    return _quantiles("np.quantile", a, q, *args)


@implements("numpy.partition", methods=("partition",))
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """A sorted array is a partition for every kth: the k-th entry in place,
    smaller ones before it and larger ones after (in NumPy's own order they
    may stand otherwise; only their sets are defined)."""
    _check_kind("np.partition", None, order)
    return sort(a, axis=axis)


@implements("numpy.argpartition", methods=("argpartition",))
def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    _check_kind("np.argpartition", None, order)
    return argsort(a, axis=axis)


@implements("numpy.nanmedian")
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median of each lane's numbers: its entries sorted (NaNs last), the
    middle one or the mean of the two middle ones of the first `count`, where
    `count` (the lane's numbers) is known only when the code runs; a lane of
    NaNs only is NaN, as in NumPy."""
    unsupported("numpy.nanmedian", out=out)
    a = as_node(a)
    if a.dtype.kind != "f":
        return median(a, axis, keepdims=keepdims)

    s, kept, keep, n = _sorted_lanes("np.nanmedian", a, axis)
    count = ops.reduce("sum", ops.cast(ops.eq(s, s), np.int64), (s.ndim - 1,))
    low = ops.maximum(ops.apply("floor_divide", ops.sub(count, 1), 2), 0)
    high = ops.minimum(ops.apply("floor_divide", count, 2), n - 1)

    def pick(k):
        taken = take_along_axis(s, ops.reshape(k, kept + (1,)), axis=-1)
        return ops.reshape(taken, kept)

    m = ops.div(ops.add(pick(low), pick(high)), 2.0)
    m = ops.where(ops.eq(count, 0), np.nan, m)
    return ops.reshape(m, keep) if keepdims else m
