"""The one graph rewriter every pass and substitution uses.

Contract: `rewrite(outputs, rule, mapping)` rebuilds the graph below `outputs`
in topological order (iteratively), replacing nodes found in `mapping`, and
offering each rebuilt node to `rule(node) -> Node | None` until it returns
None. Rebuilt nodes inherit the source location, name hint and adjoint link of
the node they replace, so generated code keeps its names and comments.
Rebuilding goes through the intern table, so two nodes that become equal
after a rewrite become one node (common subexpressions stay merged).

`in_regions(pass_fn)` makes a whole-graph pass also run on every region body
(branches and loop bodies, nested ones too); `rewrite` with a rule does that
by itself. Region nodes whose bodies change are rebuilt with new regions.
"""

from __future__ import annotations

from symgrad import ir, ops

_MAX_STEPS = 16
_LEAVES = ("input", "const")
_REGION_OPS = frozenset(n for n, op in ops.OPS.items() if "region" in op.flags)


def rewrite(outputs, rule=None, mapping=None, bodies=None) -> list[ir.Node]:
    """Rebuild `outputs` (see the module doc). `bodies(results) -> results`,
    if given, rewrites the bodies of region nodes (default: `rule` applied
    there too)."""
    if bodies is None and rule is not None:

        def bodies(results):
            return rewrite(results, rule)

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
            if bodies is not None and out.op in _REGION_OPS:
                out = map_bodies(out, bodies)
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


def replace_all(outputs, replace: dict) -> list:
    """`outputs` with every key of `replace` swapped for its value, also
    inside the values (a replacement may read another replaced node), until
    none is left."""
    for _ in range(len(replace) + 1):
        outputs = substitute(outputs, replace)
        if not any(n in replace for n in ir.toposort(outputs)):
            return outputs
    raise AssertionError("the replacements form a cycle")


def map_bodies(node: ir.Node, fn) -> ir.Node:
    """`node` with `fn(results) -> results` applied to each of its regions'
    results (the node itself if nothing changed)."""
    attrs = dict(node.attrs)
    changed = False
    for key, value in node.attrs:
        if isinstance(value, ir.Region):
            new = _map_region(value, fn)
        elif isinstance(value, tuple) and value and isinstance(value[0], ir.Region):
            new = tuple(_map_region(r, fn) for r in value)
        else:
            continue
        if new is not value and new != value:
            attrs[key] = new
            changed = True
    if not changed:
        return node
    out = ops.apply(node.op, *node.inputs, **attrs)
    out.hint = out.hint or node.hint
    return out


def _map_region(region: ir.Region, fn):
    results = fn(list(region.results))
    if all(a is b for a, b in zip(results, region.results, strict=True)):
        return region
    return ir.Region(region.params, results)


def in_regions(pass_fn):
    """`pass_fn(outputs) -> outputs`, also applied inside every region body."""

    def run(outputs, **kwargs):
        outputs = pass_fn(outputs, **kwargs)
        if not any(n.op in _REGION_OPS for n in ir.toposort(outputs)):
            return outputs
        return rewrite(outputs, bodies=run)

    run.__name__ = getattr(pass_fn, "__name__", "pass")
    run.__doc__ = pass_fn.__doc__
    return run
