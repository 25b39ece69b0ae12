"""fold_constants: evaluate operations whose operands are all constants.

Contract: a node whose inputs are all constants becomes a constant computed
with the op's own NumPy evaluation (the same arithmetic the generated NumPy
code would do). Results larger than their largest operand are left alone so
that `broadcast_to(0.0, (1000, 1000))` never turns into a literal.
"""

from __future__ import annotations

import numpy as np

from symgrad import ops


def fold_rule(node):
    if not node.inputs or not all(i.op == "const" for i in node.inputs):
        return None
    if node.size > max(i.size for i in node.inputs):
        return None
    args = [i.value for i in node.inputs]
    with np.errstate(all="ignore"):
        value = ops.OPS[node.op].eval(*args, **dict(node.attrs))
    weak = all(i.weak for i in node.inputs)
    return ops.const(np.asarray(value, dtype=node.dtype), weak=weak)
