"""`jax.nn`'s activation functions, for code written for JAX.

Contract: each entry answers to its `jax.nn` name with JAX's signature and
JAX's formula, on graph nodes (`jax.numpy` already reads as NumPy). The
front end sees these only in code that imported `jax.nn` (JAX installed);
nothing here imports JAX. relu'(0) is 0 as in JAX; softmax, log_softmax and
logsumexp default to JAX's axes (-1, -1, None); `gelu(approximate=True)` is
the tanh approximation, `approximate=False` the erf form; `one_hot` compares
integer labels with `arange(num_classes)` (no gradient).
"""

from __future__ import annotations

import math

import numpy as np

from symgrad import ops
from symgrad.numpy_api.args import as_node, one_axis, static_int
from symgrad.numpy_api.elementwise import as_float, astype
from symgrad.numpy_api.scipy_special import expit, log_expit
from symgrad.numpy_api.scipy_special import log_softmax as _log_softmax
from symgrad.numpy_api.scipy_special import logsumexp as _logsumexp
from symgrad.numpy_api.scipy_special import softmax as _softmax
from symgrad.numpy_api.shapes import reshape
from symgrad.ops.core import implements


@implements("jax.nn.relu")
def relu(x):
    return ops.maximum(as_float(x), 0.0)


@implements("jax.nn.relu6")
def relu6(x):
    return ops.minimum(ops.maximum(as_float(x), 0.0), 6.0)


@implements("jax.nn.sigmoid")
def sigmoid(x):
    return expit(as_float(x))


@implements("jax.nn.log_sigmoid")
def log_sigmoid(x):
    return log_expit(as_float(x))


@implements("jax.nn.softplus")
def softplus(x):
    return ops.apply("logaddexp", as_float(x), 0.0)


@implements("jax.nn.silu", "jax.nn.swish")
def silu(x):
    x = as_float(x)
    return ops.mul(x, expit(x))


@implements("jax.nn.gelu")
def gelu(x, approximate=True):
    x = as_float(x)
    if approximate:
        # x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = ops.mul(ops.mul(x, x), x)
        inner = ops.mul(math.sqrt(2 / math.pi), ops.add(x, ops.mul(0.044715, cube)))
        return ops.mul(ops.mul(0.5, x), ops.add(1.0, ops.tanh(inner)))
    # x (erf(x / sqrt(2)) + 1) / 2
    erf = ops.apply("erf", ops.div(x, math.sqrt(2)))
    return ops.div(ops.mul(x, ops.add(erf, 1.0)), 2.0)


@implements("jax.nn.elu")
def elu(x, alpha=1.0):
    x = as_float(x)
    positive = ops.gt(x, 0.0)
    # expm1 of the negative part only (no overflow where x > 0)
    negative = ops.mul(alpha, ops.apply("expm1", ops.where(positive, 0.0, x)))
    return ops.where(positive, x, negative)


@implements("jax.nn.leaky_relu")
def leaky_relu(x, negative_slope=0.01):
    x = as_float(x)
    return ops.where(ops.ge(x, 0.0), x, ops.mul(negative_slope, x))


@implements("jax.nn.softmax")
def softmax(x, axis=-1, where=None, initial=None):
    return _softmax(x, axis=axis)


@implements("jax.nn.log_softmax")
def log_softmax(x, axis=-1, where=None, initial=None):
    return _log_softmax(x, axis=axis)


@implements("jax.nn.logsumexp")
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    return _logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)


@implements("jax.nn.one_hot")
def one_hot(x, num_classes, *, dtype=None, axis=-1):
    x = as_node(x)
    n = static_int(num_classes, "num_classes")
    axis = one_axis(axis, x.ndim + 1)
    labels = reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])
    shape = [1] * (x.ndim + 1)
    shape[axis] = n
    classes = ops.const(np.arange(n).reshape(shape))
    return astype(ops.eq(labels, classes), np.float64 if dtype is None else dtype)
