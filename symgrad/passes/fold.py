"""fold_constants: evaluate operations whose operands are all constants.

Contract: `fold_rule(node)` replaces a node whose inputs are all constants by
a constant computed with the op's own NumPy evaluation (the same arithmetic
the generated NumPy code would do, so the value is bit-for-bit the same).
Results larger than their largest operand are not written out as literals:
an elementwise op on broadcast constants is folded at the small shape and
broadcast again (`broadcast(c1) * c2 -> broadcast(c1 * c2)`), and
`broadcast_to(0.0, (1000, 1000))` stays what it is. A `where` whose condition
is a constant picks its branch (the other branch becomes dead code).
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.ir import dims


def _evaluate(node, inputs):
    # Weak constants are Python numbers in the generated code; passing them as
    # Python scalars gives them the same (weak) promotion here.
    args = [i.value.item() if i.weak and not i.shape else i.value for i in inputs]
    with np.errstate(all="ignore"):
        value = ops.OPS[node.op].eval(*args, **dict(node.attrs))
    weak = all(i.weak for i in inputs)
    return ops.const(np.asarray(value, dtype=node.dtype), weak=weak)


def _const_source(x):
    """The constant behind `x` (itself, or what a broadcast_to broadcasts)."""
    if x.op == "const":
        return x
    if x.op == "broadcast_to" and x.inputs[0].op == "const":
        return x.inputs[0]
    return None


_VIEWS = frozenset(("view",))
_SMALL = 16  # constants up to this size are written out as literals anyway


def fold_rule(node):
    inputs = node.inputs
    if not inputs or node.vtype is not None or node.op == "item":
        # Only array values fold: regions, stacks and several-result ops
        # are not constants even when their operands are.
        return None
    if "effect" in ops.OPS[node.op].flags:
        return None  # a random draw is not a constant, whatever its operands
    for i in inputs:
        if i.op != "const":
            break
    else:
        if not dims.is_static(node.shape):
            # A constant spread over a symbolic size (broadcast_to(0.0, (n,
            # 3))): its size is only known when the code runs.
            return None
        if ops.OPS[node.op].flags & _VIEWS and node.size > _SMALL:
            # A transpose or slice of a large constant costs nothing at run
            # time but would store the array a second time in the module.
            return None
        if node.size <= max(i.size for i in inputs):
            return _evaluate(node, inputs)
        return None
    if node.op == "where":
        return _pick_branch(node, *inputs)
    if not ops.OPS[node.op].elementwise:
        return None
    # elementwise(broadcast(c1), c2) -> broadcast(elementwise(c1, c2)): an
    # elementwise op computes each element alone, so it commutes with
    # broadcasting; evaluated at the small shape, it folds.
    sources = []
    for i in inputs:
        source = _const_source(i)
        if source is None:
            return None
        sources.append(source)
    small = np.broadcast_shapes(*(s.shape for s in sources))
    if small == node.shape:
        return None
    folded = _evaluate(node, sources)
    return ops.broadcast_to(folded, node.shape)


def _pick_branch(node, cond, a, b):
    # where(True, a, b) -> a and where(False, a, b) -> b, for a constant
    # condition that is the same everywhere.
    if cond.op != "const" or cond.value.size == 0:
        return None
    picks = np.unique(np.asarray(cond.value, dtype=bool))
    if picks.size != 1:
        return None
    chosen = a if picks[0] else b
    if chosen.dtype != node.dtype:
        return None
    if chosen.shape == node.shape:
        return chosen
    return ops.broadcast_to(chosen, node.shape)
