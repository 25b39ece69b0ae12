"""NumPy's numerical helpers: linspace, polyval, trapezoid, interp, cov,
corrcoef, meshgrid.

Contract: NumPy signatures on graph nodes, each written with NumPy's own
steps (the same operations in the same order, so values agree to the bit
where NumPy's code has no data-dependent branch):
- `linspace(start, stop, num)`: `arange(num) * step + start`, the last entry
  set to `stop` (NumPy's branch for a step that underflows to 0 is not
  taken); `num` must be a Python int.
- `polyval(p, x)`: Horner's rule from zeros, as NumPy writes it.
- `trapezoid(y, x=None, dx=1.0, axis=-1)` (and `trapz` where NumPy has it).
- `interp(x, xp, fp, left, right)`: the segment of each `x` from counting
  the knots at or below it (non-differentiable comparisons), then NumPy's
  `slope * (x - xp[j]) + fp[j]`, its fallbacks for nan, and its ends.
  `period` is not supported.
- `cov(m, y, rowvar, bias, ddof)` (no weights) and `corrcoef(x, y, rowvar)`.
- `meshgrid(*xi, indexing, sparse)`: broadcast copies of the vectors.
- `gradient(f, *varargs, axis, edge_order)`: NumPy's central differences
  inside and one-sided ones at the edges (orders 1 and 2), with its
  coefficients; the spacing (scalars or coordinate vectors) must be plain.
- `real_if_close(a)`: a real array is returned as it is (traced values are
  never complex).
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.ir.source import fail
from symgrad.numpy_api.args import (
    as_node,
    axes,
    is_node,
    one_axis,
    static_int,
    unsupported,
)
from symgrad.numpy_api.elementwise import as_float, astype
from symgrad.numpy_api.indexing import getitem
from symgrad.numpy_api.shapes import broadcast_arrays, reshape
from symgrad.ops import elementwise as _ew
from symgrad.ops import structure as prim
from symgrad.ops.core import implements


@implements("numpy.linspace")
def linspace(
    start,
    stop,
    num=50,
    endpoint=True,
    retstep=False,
    dtype=None,
    axis=0,
    *,
    device=None,
):
    num = static_int(num, "num")
    if num < 0:
        fail(f"Number of samples, {num}, must be non-negative", "Pass num >= 0")
    start, stop = as_float(start), as_float(stop)
    div = (num - 1) if endpoint else num
    delta = ops.sub(stop, start)
    shape = (num,) + (1,) * delta.ndim
    y = ops.const(np.arange(num, dtype=delta.dtype).reshape(shape))
    step = ops.div(delta, float(div)) if div > 0 else ops.mul(delta, np.nan)
    y = ops.add(ops.mul(y, step) if div > 0 else ops.mul(y, delta), start)
    if endpoint and num > 1:
        last = reshape(ops.broadcast_to(stop, y.shape[1:]), (1,) + y.shape[1:])
        y = prim.concatenate([prim.slice_axis(y, 0, None, -1), last], 0)
    if axis != 0:
        y = ops.transpose(y, _move_first(y.ndim, one_axis(axis, y.ndim)))
    if dtype is not None:
        y = astype(y, dtype)
    return (y, step) if retstep else y


def _move_first(ndim, axis):
    order = list(range(1, ndim))
    order.insert(axis, 0)
    return tuple(order)


@implements("numpy.polyval")
def polyval(p, x):
    p, x = as_node(p), as_node(x)
    if p.ndim != 1:
        fail("np.polyval with a coefficient array that is not 1-D", "Pass a vector")
    y = ops.const(0, dtype=x.dtype)  # np.zeros_like(x)
    if x.shape:
        y = ops.broadcast_to(y, x.shape)
    for i in range(p.shape[0]):
        y = ops.add(ops.mul(y, x), getitem(p, i))
    return y


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    y = as_node(y)
    axis = one_axis(axis, y.ndim)
    if x is None:
        d = as_node(dx)
    else:
        x = as_node(x)
        if x.ndim == 1:
            d = ops.sub(prim.slice_axis(x, 0, 1), prim.slice_axis(x, 0, None, -1))
            shape = [1] * y.ndim
            shape[axis] = d.shape[0]
            d = reshape(d, tuple(shape))
        else:
            d = ops.sub(prim.slice_axis(x, axis, 1), prim.slice_axis(x, axis, None, -1))
    pair = ops.add(prim.slice_axis(y, axis, 1), prim.slice_axis(y, axis, None, -1))
    return ops.reduce("sum", ops.div(ops.mul(d, pair), 2.0), (axis,))


implements("numpy.trapezoid")(_trapezoid)
if hasattr(np, "trapz"):
    implements("numpy.trapz")(_trapezoid)


@implements("numpy.interp")
def interp(x, xp, fp, left=None, right=None, period=None):
    unsupported("numpy.interp", period=period)
    x, xp, fp = as_float(x), as_float(xp), as_float(fp)
    if xp.ndim != 1 or fp.ndim != 1 or xp.shape[0] != fp.shape[0]:
        fail("np.interp needs 1-D xp and fp of the same length", "Pass two vectors")
    k = static_int(xp.shape[0], "the number of points of np.interp")
    if k == 0:
        fail("np.interp with no points", "Pass at least one point")
    first, last = getitem(xp, 0), getitem(xp, k - 1)
    f_first, f_last = getitem(fp, 0), getitem(fp, k - 1)
    left = f_first if left is None else as_float(left)
    right = f_last if right is None else as_float(right)
    if k == 1:
        inner = f_first
    else:
        # j: the last knot at or below x (0 below the first, k - 2 at the last).
        below = ops.le(xp, reshape(x, x.shape + (1,)))
        count = ops.reduce("sum", astype(below, np.int64), (x.ndim,))
        j = ops.minimum(ops.maximum(ops.sub(count, 1), 0), k - 2)
        j1 = ops.add(j, 1)
        xj, xj1 = getitem(xp, j), getitem(xp, j1)
        fj, fj1 = getitem(fp, j), getitem(fp, j1)
        slope = ops.div(ops.sub(fj1, fj), ops.sub(xj1, xj))
        inner = ops.add(ops.mul(slope, ops.sub(x, xj)), fj)
        # NumPy's fallbacks: from the other end when that gave nan, and the
        # constant value of a flat segment.
        other = ops.add(ops.mul(slope, ops.sub(x, xj1)), fj1)
        inner = ops.where(_ew.isnan(inner), other, inner)
        flat = _ew.logical_and(_ew.isnan(inner), ops.eq(fj, fj1))
        inner = ops.where(flat, fj, inner)
    out = ops.where(ops.eq(x, last), f_last, inner)
    out = ops.where(ops.gt(x, last), right, out)
    return ops.where(ops.lt(x, first), left, out)


def _rows(m, rowvar):
    x = as_float(m)
    if x.ndim > 2:
        fail("np.cov of an array with more than 2 dimensions", "Pass 1-D or 2-D data")
    if x.ndim < 2:
        x = reshape(x, (1,) + x.shape)
    if not rowvar and x.shape[0] != 1:
        x = ops.transpose(x, (1, 0))
    return x


@implements("numpy.cov")
def cov(
    m,
    y=None,
    rowvar=True,
    bias=False,
    ddof=None,
    fweights=None,
    aweights=None,
    *,
    dtype=None,
):
    unsupported("numpy.cov", fweights=fweights, aweights=aweights)
    x = _rows(m, rowvar)
    if y is not None:
        x = prim.concatenate([x, _rows(y, rowvar)], 0)
    if dtype is not None:
        x = astype(x, dtype)
    ddof = (0 if bias else 1) if ddof is None else static_int(ddof, "ddof")
    # NumPy's steps: the mean of each row, the centered rows, X @ X.T, times
    # 1 / (n - ddof) (inf when that is not positive).
    center = reshape(ops.reduce("mean", x, (1,)), (x.shape[0], 1))
    xc = ops.sub(x, center)
    c = ops.matmul(xc, ops.transpose(xc, (1, 0)))
    n = x.shape[1]
    if isinstance(n, int):
        fact = max(n - ddof, 0)
        scale = np.true_divide(1, float(fact)) if fact else np.inf
    else:  # a symbolic number of observations: 1 / (n - ddof) when it runs
        fact = astype(ops.sub(ops.dim_node(n), ddof), np.float64)
        scale = ops.where(ops.gt(fact, 0), ops.div(1.0, fact), np.inf)
    c = ops.mul(c, scale)
    # (squeeze: a symbolic size counts as more than 1)
    return reshape(c, tuple(d for d in c.shape if not isinstance(d, int) or d != 1))


@implements("numpy.corrcoef")
def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return ops.div(c, c)
    d = prim.diagonal(c, 0, 0, 1)
    stddev = ops.sqrt(d)
    c = ops.div(c, reshape(stddev, (stddev.shape[0], 1)))
    c = ops.div(c, reshape(stddev, (1, stddev.shape[0])))
    return ops.minimum(ops.maximum(c, -1.0), 1.0)


@implements("numpy.meshgrid")
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        fail("Valid values for `indexing` are 'xy' and 'ij'.", "Use one of them")
    ndim = len(xi)
    out = []
    for i, x in enumerate(xi):
        x = reshape(as_node(x), (-1,))
        shape = [1] * ndim
        shape[i] = x.shape[0]
        out.append(x if ndim == 1 else reshape(x, tuple(shape)))
    if indexing == "xy" and ndim > 1:
        out[0] = reshape(out[0], (1, -1) + (1,) * (ndim - 2))
        out[1] = reshape(out[1], (-1, 1) + (1,) * (ndim - 2))
    if not sparse:
        out = list(broadcast_arrays(*out))
    return tuple(out)


@implements("numpy.gradient")
def gradient(f, *varargs, axis=None, edge_order=1):
    f = as_node(f)
    if f.dtype.kind != "f":
        f = astype(f, np.float64)  # as NumPy converts ints (and bools)
    edge_order = static_int(edge_order, "edge_order")
    if edge_order not in (1, 2):
        fail(f"np.gradient with edge_order={edge_order}", "Use 1 or 2")
    picked = axes(axis, f.ndim) or tuple(range(f.ndim))
    if any(is_node(v) for v in varargs):
        fail("np.gradient with traced spacing", "Pass the spacing as plain numbers")
    spacing = _spacing(varargs, [f.shape[a] for a in picked])
    outs = []
    for ax, dx in zip(picked, spacing, strict=True):
        # (A symbolic size is checked by NumPy's slicing when the code runs.)
        if isinstance(f.shape[ax], int) and f.shape[ax] < edge_order + 1:
            fail(
                "Shape of array too small to calculate a numerical gradient, at "
                "least (edge_order + 1) elements are required",
                "Pass a longer array",
            )
        outs.append(_gradient_axis(f, ax, dx, edge_order))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _spacing(varargs, sizes) -> list:
    """NumPy's spacing per axis: a scalar step, or the differences of a
    coordinate vector (a scalar again where they are all equal)."""
    if not varargs:
        return [1.0] * len(sizes)
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return list(varargs) * len(sizes)
    if len(varargs) != len(sizes):
        fail("np.gradient: invalid number of spacing arguments", "Give one per axis")
    out = []
    for d, n in zip(varargs, sizes, strict=True):
        if np.ndim(d) == 0:
            out.append(d)
            continue
        d = np.asanyarray(d)
        if d.ndim != 1 or len(d) != n:
            fail(
                "np.gradient: distances must be scalars or 1-D coordinates as long "
                "as the axis",
                "Check the spacing arguments",
            )
        if np.issubdtype(d.dtype, np.integer):
            d = d.astype(np.float64)
        diff = np.diff(d)
        out.append(diff[0] if (diff == diff[0]).all() else diff)
    return out


def _gradient_axis(f, ax, dx, order):
    """One axis of np.gradient, with NumPy's formulas and coefficients."""

    def part(start, stop):
        return prim.slice_axis(f, ax, start, stop)

    def column(c):
        # Coefficients along the axis, shaped to broadcast against f.
        shape = [1] * f.ndim
        shape[ax] = -1
        return ops.const(np.reshape(c, shape))

    uniform = np.ndim(dx) == 0
    if uniform:
        inner = ops.div(ops.sub(part(2, None), part(None, -2)), as_node(2.0 * dx))
    else:
        dx1, dx2 = dx[0:-1], dx[1:]
        a = -(dx2) / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        inner = _combine(
            column(a), part(None, -2), column(b), part(1, -1), column(c), part(2, None)
        )
    if order == 1:
        first = ops.div(
            ops.sub(part(1, 2), part(0, 1)), as_node(dx if uniform else dx[0])
        )
        last = ops.div(
            ops.sub(part(-1, None), part(-2, -1)), as_node(dx if uniform else dx[-1])
        )
    else:
        if uniform:
            a, b, c = -1.5 / dx, 2.0 / dx, -0.5 / dx
        else:
            dx1, dx2 = dx[0], dx[1]
            a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = -dx1 / (dx2 * (dx1 + dx2))
        first = _combine(
            as_node(a), part(0, 1), as_node(b), part(1, 2), as_node(c), part(2, 3)
        )
        if uniform:
            a, b, c = 0.5 / dx, -2.0 / dx, 1.5 / dx
        else:
            dx1, dx2 = dx[-2], dx[-1]
            a = (dx2) / (dx1 * (dx1 + dx2))
            b = -(dx2 + dx1) / (dx1 * dx2)
            c = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
        first_last = (part(-3, -2), part(-2, -1), part(-1, None))
        last = _combine(
            as_node(a),
            first_last[0],
            as_node(b),
            first_last[1],
            as_node(c),
            first_last[2],
        )
    out = prim.concatenate([first, inner, last], ax)
    return out if out.dtype == f.dtype else astype(out, f.dtype)


def _combine(a, fa, b, fb, c, fc):
    """`a * fa + b * fb + c * fc`, in NumPy's order."""
    return ops.add(ops.add(ops.mul(a, fa), ops.mul(b, fb)), ops.mul(c, fc))


@implements("numpy.real_if_close")
def real_if_close(a, tol=100):
    return as_node(a)
