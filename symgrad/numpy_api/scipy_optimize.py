"""`scipy.optimize`'s test functions, which objectives call: rosen,
rosen_der, rosen_hess.

Contract: as every `numpy_api` module; each is written with SciPy's own
operations in SciPy's order (the same value to the bit), on a vector `x`
(`rosen` also on the stacked arrays `rosen([X, Y])`, summing over the first
axis as SciPy does). Nothing here imports SciPy.
"""

from __future__ import annotations

from symgrad import ops
from symgrad.ir.source import fail
from symgrad.numpy_api.args import as_node
from symgrad.numpy_api.elementwise import as_float
from symgrad.numpy_api.indexing import getitem
from symgrad.ops import structure as prim
from symgrad.ops.core import implements


def _first(x, start=None, stop=None):
    """`x[start:stop]` along the first axis."""
    return prim.slice_axis(x, 0, start, stop)


def _item(x, i):
    return getitem(x, i)


@implements("scipy.optimize.rosen")
def rosen(x):
    x = as_float(as_node(x))
    if x.ndim == 0:
        fail("scipy.optimize.rosen of a scalar", "Pass a vector of at least 2")
    head, tail = _first(x, None, -1), _first(x, 1)
    term = ops.mul(100.0, ops.pow(ops.sub(tail, ops.pow(head, 2.0)), 2.0))
    term = ops.add(term, ops.pow(ops.sub(1, head), 2.0))
    return ops.reduce("sum", term, (0,))


def _vector(x, name):
    x = as_float(as_node(x))
    if x.ndim != 1 or x.shape[0] < 2:
        fail(f"scipy.optimize.{name} of shape {x.shape}", "Pass a vector of length 2+")
    return x


@implements("scipy.optimize.rosen_der")
def rosen_der(x):
    x = _vector(x, "rosen_der")
    xm, xm_m1, xm_p1 = _first(x, 1, -1), _first(x, None, -2), _first(x, 2)
    mid = ops.mul(200, ops.sub(xm, ops.pow(xm_m1, 2)))
    mid = ops.sub(mid, ops.mul(ops.mul(400, ops.sub(xm_p1, ops.pow(xm, 2))), xm))
    mid = ops.sub(mid, ops.mul(2, ops.sub(1, xm)))
    x0, x1 = _item(x, 0), _item(x, 1)
    first = ops.mul(ops.mul(-400, x0), ops.sub(x1, ops.pow(x0, 2)))
    first = ops.sub(first, ops.mul(2, ops.sub(1, x0)))
    last = ops.mul(200, ops.sub(_item(x, -1), ops.pow(_item(x, -2), 2)))
    parts = [ops.reshape(first, (1,)), mid, ops.reshape(last, (1,))]
    return prim.concatenate(parts, 0)


@implements("scipy.optimize.rosen_hess")
def rosen_hess(x):
    x = _vector(x, "rosen_hess")
    n = x.shape[0]
    head = _first(x, None, -1)
    upper = prim.embed_diagonal(ops.mul(-400, head), n, n, 1)
    lower = prim.embed_diagonal(ops.mul(400, head), n, n, -1)
    x0, x1 = _item(x, 0), _item(x, 1)
    first = ops.add(ops.sub(ops.mul(1200, ops.pow(x0, 2)), ops.mul(400, x1)), 2)
    mid = ops.mul(1200, ops.pow(_first(x, 1, -1), 2))
    mid = ops.sub(ops.add(202, mid), ops.mul(400, _first(x, 2)))
    last = ops.const(200.0, dtype=x.dtype)
    parts = [ops.reshape(first, (1,)), mid, ops.reshape(last, (1,))]
    diagonal = prim.concatenate(parts, 0)
    return ops.add(ops.sub(upper, lower), prim.embed_diagonal(diagonal, n, n, 0))
