"""The one graph rewriter every pass and substitution uses.

Contract: `rewrite(outputs, rule, mapping)` rebuilds the graph below `outputs`
in topological order (iteratively), replacing nodes found in `mapping`, and
offering each rebuilt node to `rule(node) -> Node | None` until it returns
None. Rebuilt nodes inherit the source location, name hint and adjoint link of
the node they replace, so generated code keeps its names and comments.
Rebuilding goes through the intern table, so two nodes that become equal
after a rewrite become one node (common subexpressions stay merged).
"""

from __future__ import annotations

from symgrad import ir, ops

_MAX_STEPS = 16
_LEAVES = ("input", "const")


def rewrite(outputs, rule=None, mapping=None) -> list[ir.Node]:
    new = dict(mapping or {})
    sc = ir.current_scope()
    watermark = sc.counter
    saved = sc.loc, sc.order
    steps = range(_MAX_STEPS) if rule is not None else ()
    try:
        for node in ir.toposort(outputs):
            if node in new:
                continue
            out = node
            if node.inputs:
                inputs = tuple([new.get(i, i) for i in node.inputs])
                changed = inputs != node.inputs
            else:
                changed = False
            # Nodes created for this one take its place in program order and
            # its source line (set on the scope directly: this loop runs once
            # per node, and a context manager per node costs more than the rest).
            sc.loc, sc.order = node.loc, node.order
            if changed:
                out = ops.apply(node.op, *inputs, **dict(node.attrs))
            for _ in steps:
                step = rule(out)
                if step is None or step is out:
                    break
                out = step
            if out is not node and (out.id > watermark or out.op not in _LEAVES):
                # The replacement computes the same value, so it may carry the
                # replaced node's name when it has none of its own; but a
                # forward value found again in the backward pass (g * exp(x)
                # with g = 1) must not be renamed as an adjoint.
                fresh = out.id > watermark or (out.loc is not None and out.loc.grad)
                if out.hint is None and out.adjoint_of is None:
                    out.hint = node.hint
                    out.adjoint_of = node.adjoint_of if fresh else None
            new[node] = out
    finally:
        sc.loc, sc.order = saved
    return [new.get(o, o) for o in outputs]


def substitute(outputs, mapping) -> list[ir.Node]:
    """`outputs` with each key of `mapping` replaced by its value."""
    return rewrite(outputs, None, mapping)
