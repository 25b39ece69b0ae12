"""`scipy.special` functions with SciPy's signatures: logsumexp (axis, b,
keepdims), softmax and log_softmax (through logsumexp, so they never
overflow), expit, log_expit, polygamma, betaln.

Contract: as every `numpy_api` module; erf, erfc, gammaln, gamma, digamma,
ndtr, log_ndtr, logit, xlogy and xlog1py are op records (`ops/special.py`)
that answer to their SciPy names directly. Nothing here imports SciPy.
"""

from __future__ import annotations

from symgrad import ops
from symgrad.numpy_api.args import as_node, axes, is_node, static_int
from symgrad.ops.core import broadcast_shapes, implements
from symgrad.ops.special import logsumexp as _logsumexp
from symgrad.ops.special import polygamma as _polygamma
from symgrad.source import fail


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
