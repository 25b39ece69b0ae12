"""NumPy products written in terms of matmul and multiplication: dot."""

from __future__ import annotations

from symgrad import ops
from symgrad.numpy_api.args import (
    as_node,
    unsupported,
)
from symgrad.ops.core import implements
from symgrad.source import fail


@implements("numpy.dot", methods=("dot",))
def dot(a, b, out=None):
    unsupported("numpy.dot", out=out)
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    if a.ndim > 2 or b.ndim > 2:
        fail("np.dot of arrays with more than 2 dimensions", "Use np.matmul or @")
    return ops.matmul(a, b)
