"""The order passes run in, and `optimize`, which runs them.

Contract: `optimize(outputs)` returns new output nodes computing the same
values. Dead code disappears by construction: a graph is whatever its outputs
reach. Common subexpressions are merged by interning when nodes are built.
"""

from __future__ import annotations

from symgrad.passes.fold import fold_rule
from symgrad.passes.rewrite import rewrite
from symgrad.passes.simplify import simplify_rule


def _combined(node):
    return fold_rule(node) or simplify_rule(node)


PASSES = (("fold_constants + simplify", _combined),)


def optimize(outputs) -> list:
    for _, rule in PASSES:
        outputs = rewrite(outputs, rule)
    return outputs
