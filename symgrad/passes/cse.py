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


def _arithmetic(op: str) -> bool:
    # Ops flagged "arithmetic" compute from operand values converted to the
    # result type. Comparisons, `where` and `pow` are not: an int compared with
    # a float, a condition and an integer exponent are not converted values.
    return "arithmetic" in OPS[op].flags


def _const_key(const, node):
    value = const.value
    if _arithmetic(node.op) and node.dtype.kind == "f":
        if all(i.dtype.kind == "f" for i in node.inputs if i is not const):
            # The arithmetic runs in the result's float type, so the constant
            # takes part as its value converted to that type, however spelled.
            with np.errstate(all="ignore"):
                converted = np.asarray(value, dtype=node.dtype)
            return ("value", converted.shape, converted.tobytes())
    return ("const", value.dtype.str, value.shape, value.tobytes(), const.weak)


def value_key(node, ids: dict, cache: dict | None = None):
    """What `node` computes: op, attributes, type and operand values.

    `ids` maps each non-constant operand to a key number (its survivor's);
    `cache` remembers constant keys between calls.
    """
    parts = []
    for i in node.inputs:
        if i.op != "const":
            parts.append(ids[i])
        elif cache is None:
            parts.append(_const_key(i, node))
        else:
            # A constant's key depends on it and on the consumer only through
            # these three facts.
            arith = _arithmetic(node.op) and node.dtype.kind == "f"
            if arith:
                arith = all(j.dtype.kind == "f" for j in node.inputs if j is not i)
            ck = (i, node.dtype if arith else None)
            key = cache.get(ck)
            if key is None:
                key = cache[ck] = _const_key(i, node)
            parts.append(key)
    if OPS[node.op].commutative:
        parts.sort(key=repr)
    return (node.op, node.attrs, node.dtype.str, node.shape, tuple(parts))


def eliminate_common_subexpressions(outputs) -> list:
    mapping = equivalents(outputs)
    return substitute(outputs, mapping) if mapping else list(outputs)


def equivalents(outputs) -> dict:
    """{node: the first node in program order that computes the same value}."""
    if not graph_may_have_twins(outputs):
        return {}
    first: dict = {}
    ids: dict = {}
    mapping: dict = {}
    cache: dict = {}
    for node in ir.program_order(outputs):
        if node.op in ("input", "const"):
            ids[node] = node.id
            continue
        key = value_key(node, ids, cache)
        twin = first.get(key)
        if twin is None:
            first[key] = node
            ids[node] = node.id
        else:
            mapping[node] = twin
            ids[node] = twin.id
    return mapping


def graph_may_have_twins(outputs) -> bool:
    """`may_have_twins` of the graph below `outputs`, remembered per scope
    (reuse and CSE both ask, usually about the same outputs)."""
    memo = ir.current_scope().memo
    key = ("may_have_twins", tuple(outputs))
    if key not in memo:
        memo[key] = may_have_twins(ir.toposort(outputs))
    return memo[key]


def may_have_twins(nodes) -> bool:
    """False when no two distinct nodes among `nodes` can have equal keys.

    Interning makes nodes with equal ops, attributes and operands one node,
    so twins need two distinct constants with equal keys, used by two nodes
    with the same op, attributes and other operands. In float64 arithmetic
    equal keys mean equal values once converted to float64; any other float
    type, or a constant that is not a number, counts as a possible twin.
    (Cheap tests: `value_key` for every node is not.)
    """
    f64 = np.dtype(np.float64)
    values: dict = {}
    plain: set = set()  # ids of dtypes seen that are not a float other than f64
    doubled = False
    for node in nodes:
        dt = node.dtype
        if dt is f64 and node.inputs:
            continue  # the common case, decided without further lookups
        if node.op == "const":
            if dt.kind not in "biuf":
                return True
            with np.errstate(all="ignore"):
                as_f64 = np.asarray(node.value, dtype=f64)
            key = (node.shape, as_f64.tobytes())
            doubled = doubled or values.setdefault(key, node) is not node
        elif id(dt) not in plain:
            # (Dtype comparisons are slow; there are only a few dtype objects.)
            if dt.kind == "f" and dt != f64:
                return True
            plain.add(id(dt))
    if not doubled:
        return False
    users: set = set()
    for node in nodes:
        if any(i.op == "const" for i in node.inputs):
            others = tuple(sorted(i.id for i in node.inputs if i.op != "const"))
            key = (node.op, node.attrs, others)
            if key in users:
                return True
            users.add(key)
    return False
