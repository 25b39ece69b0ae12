"""Indexing traced arrays: `x[...]` with basic indices."""

from __future__ import annotations

from symgrad import ops
from symgrad.numpy_api.args import (
    as_node,
    basic_index,
)
from symgrad.ops.core import implements


@implements(operators=("__getitem__",))
def getitem(a, key):
    a = as_node(a)
    return ops.getitem(a, basic_index(key, a.shape))
