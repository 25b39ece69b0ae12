"""eliminate_common_subexpressions: compute each value once.

Contract: `eliminate_common_subexpressions(outputs)` returns outputs in which
no two nodes compute the same value from the same operands. Most of this is
free: nodes are interned (`ir.make`), so building `x * y` twice gives one node,
`y * x` finds `x * y`, and every rewrite rebuilds through the intern table, so
nodes that become equal after a rewrite merge too.

What interning cannot see is the same number spelled as different constants:
`1 - t` (the user's int) and `1.0 - t` (a VJP rule's float), or `x * 2.0` and
`x * np.float64(2.0)`. `value_key` identifies a node by its op, attributes,
result type and operand values, with each constant operand of an arithmetic
op read as the value it is converted to (only when every other operand is a
float, so the arithmetic is the same float arithmetic). Of nodes with equal
keys the first in program order survives, so forward values are kept and the
backward pass reads them.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.ops import OPS
from symgrad.passes.rewrite import substitute

# Ops whose result depends only on operand values converted to the result
# type. Comparisons, `where` and `pow` are left out: an int compared with a
# float, a condition and an integer exponent are not plain converted values.
_ARITHMETIC = frozenset(("add", "sub", "mul", "div", "maximum", "minimum"))


def _const_key(const, node):
    value = const.value
    if node.op in _ARITHMETIC and node.dtype.kind == "f":
        if all(i.dtype.kind == "f" for i in node.inputs if i is not const):
            # The arithmetic runs in the result's float type, so the constant
            # takes part as its value converted to that type, however spelled.
            with np.errstate(all="ignore"):
                converted = np.asarray(value, dtype=node.dtype)
            return ("value", converted.shape, converted.tobytes())
    return ("const", value.dtype.str, value.shape, value.tobytes(), const.weak)


def value_key(node, ids: dict):
    """What `node` computes: op, attributes, type and operand values.

    `ids` maps each non-constant operand to a key number (its survivor's).
    """
    parts = []
    for i in node.inputs:
        parts.append(_const_key(i, node) if i.op == "const" else ids[i])
    if OPS[node.op].commutative:
        parts.sort(key=repr)
    return (node.op, node.attrs, node.dtype.str, node.shape, tuple(parts))


def eliminate_common_subexpressions(outputs) -> list:
    nodes = ir.toposort(outputs)
    if not _constant_twins(nodes):
        # Interning makes nodes without constant operands unique, so without
        # twins among nodes with constants there is nothing to merge.
        return list(outputs)
    first: dict = {}
    ids: dict = {}
    mapping: dict = {}
    for node in ir.program_order(outputs):
        if node.op in ("input", "const"):
            ids[node] = node.id
            continue
        key = value_key(node, ids)
        twin = first.get(key)
        if twin is None:
            first[key] = node
            ids[node] = node.id
        else:
            mapping[node] = twin
            ids[node] = twin.id
    return substitute(outputs, mapping)


class _Ids:
    """`ids` for nodes taken as they are: each node is its own survivor."""

    def __getitem__(self, node):
        return node.id


def _constant_twins(nodes) -> bool:
    seen = set()
    ids = _Ids()
    for node in nodes:
        if any(i.op == "const" for i in node.inputs):
            key = value_key(node, ids)
            if key in seen:
                return True
            seen.add(key)
    return False
