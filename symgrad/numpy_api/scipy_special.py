"""`scipy.special` functions with SciPy's signatures: logsumexp (axis, b,
keepdims), softmax and log_softmax (through logsumexp, so they never
overflow), expit, log_expit, polygamma, betaln.

Contract: as every `numpy_api` module; erf, erfc, gammaln, gamma, digamma,
ndtr, log_ndtr, logit, xlogy and xlog1py are op records (`ops/special.py`)
that answer to their SciPy names directly. Nothing here imports SciPy.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad import ops
from symgrad.ir.source import fail
from symgrad.numpy_api.args import as_node, axes, is_node, static_int
from symgrad.ops import elementwise as _ew
from symgrad.ops.core import broadcast_shapes, implements
from symgrad.ops.special import logsumexp as _logsumexp
from symgrad.ops.special import polygamma as _polygamma


@implements("scipy.special.logsumexp")
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    if return_sign:
        fail(
            "scipy.special.logsumexp with return_sign=True is not supported",
            "Keep the weights b positive, or leave return_sign out",
        )
    a = as_node(a)
    b = None if b is None else as_node(b)
    full = a.shape if b is None else broadcast_shapes(a.shape, b.shape)
    if not full:
        # SciPy reads a scalar as a 1-element array: axis 0 is the only one.
        if axis is not None:
            axes(axis, 1)
        out = _logsumexp(a, b)
        return ops.reshape(out, (1,)) if keepdims else out
    return _logsumexp(a, b, axes(axis, len(full)), bool(keepdims))


def _lse_kept(x, axis):
    return _logsumexp(x, None, axes(axis, x.ndim), keepdims=True)


@implements("scipy.special.softmax")
def softmax(x, axis=None):
    """exp(x - logsumexp(x)): stable, and its gradient comes from logsumexp's."""
    x = as_node(x)
    return ops.exp(ops.sub(x, _lse_kept(x, axis)))


@implements("scipy.special.log_softmax")
def log_softmax(x, axis=None):
    x = as_node(x)
    return ops.sub(x, _lse_kept(x, axis))


@implements("scipy.special.expit")
def expit(x):
    return ops.sigmoid(as_node(x))


@implements("scipy.special.log_expit")
def log_expit(x):
    # log(1 / (1 + exp(-x))) = -logaddexp(0, -x), without overflow.
    return ops.neg(ops.apply("logaddexp", 0.0, ops.neg(as_node(x))))


@implements("scipy.special.polygamma")
def polygamma(n, x):
    if is_node(n) and n.op != "const":
        fail("scipy.special.polygamma with a traced order n", "Pass n as an int")
    order = static_int(n, "the order n of polygamma")
    if order < 0:
        fail(f"polygamma of order {order}", "The order n must be 0 or more")
    x = as_node(x)
    return ops.apply("digamma", x) if order == 0 else _polygamma(order, x)


@implements("scipy.special.betaln")
def betaln(a, b):
    """log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)."""
    a, b = as_node(a), as_node(b)
    total = ops.add(ops.apply("gammaln", a), ops.apply("gammaln", b))
    return ops.sub(total, ops.apply("gammaln", ops.add(a, b)))


@implements("scipy.special.rgamma")
def rgamma(z):
    """1 / gamma(z): 0 at the poles (gamma is inf there)."""
    return ops.div(1.0, ops.apply("gamma", as_node(z)))


@implements("scipy.special.multigammaln")
def multigammaln(a, d):
    """log of the multivariate gamma function: SciPy's sum,
    d(d-1)/4 log(pi) + sum over j < d of gammaln(a - j/2)."""
    d = static_int(d, "the dimension d of multigammaln")
    if d < 1:
        fail(f"multigammaln with d = {d}", "d must be a positive int")
    a = as_node(a)
    total = ops.mul(d * (d - 1) * 0.25, math.log(math.pi))
    terms = ops.reduce(
        "sum",
        ops.apply(
            "gammaln",
            ops.sub(ops.reshape(a, a.shape + (1,)), ops.const(np.arange(d) / 2.0)),
        ),
        (a.ndim,),
    )
    return ops.add(total, terms)


def _zero_at_zero(x, y, value):
    """SciPy's convention for x log(x/y) terms: value(x, y) where x > 0 and
    y > 0, 0 where x == 0 and y >= 0, inf elsewhere (nan stays nan). `value`
    sees 1 for both elsewhere: its branch is differentiated even where it is
    not picked, and 0 times the slope of log(0 / y) would be nan."""
    positive = _ew.logical_and(ops.gt(x, 0), ops.gt(y, 0))
    zero = _ew.logical_and(ops.eq(x, 0), ops.ge(y, 0))
    nan = _ew.logical_or(_ew.isnan(x), _ew.isnan(y))
    inside = value(ops.where(positive, x, 1.0), ops.where(positive, y, 1.0))
    out = ops.where(positive, inside, ops.where(zero, 0.0, np.inf))
    return ops.where(nan, np.nan, out)


def _rel_entr_value(x, y):
    return ops.mul(x, ops.log(ops.div(x, y)))


@implements("scipy.special.rel_entr")
def rel_entr(x, y):
    x, y = as_node(x), as_node(y)
    return _zero_at_zero(x, y, _rel_entr_value)


@implements("scipy.special.kl_div")
def kl_div(x, y):
    x, y = as_node(x), as_node(y)

    def value(x, y):
        return ops.add(ops.sub(_rel_entr_value(x, y), x), y)

    out = _zero_at_zero(x, y, value)
    # kl_div is y (not 0) where x == 0 and y >= 0.
    return ops.where(_ew.logical_and(ops.eq(x, 0), ops.ge(y, 0)), y, out)


@implements("scipy.special.entr")
def entr(x):
    """-x log x for x > 0, 0 at 0, -inf below."""
    x = as_node(x)
    value = ops.neg(ops.mul(x, ops.log(x)))
    out = ops.where(ops.gt(x, 0), value, ops.where(ops.eq(x, 0), 0.0, -np.inf))
    return ops.where(_ew.isnan(x), np.nan, out)
