"""Symbolic reverse mode: gradients as new graph nodes.

Contract: `gradients(output, wrt)` walks the nodes between `wrt` and `output`
once, in reverse topological order, calling each op's VJP rule to build the
cotangent of every input. Contributions to a node used several times are added
up in a fixed order (so reuse is never lost, unlike micrograd's early `=` bug);
cotangents in a broadcast shape are summed back to the operand's shape. No
number is computed here: the result is a list of nodes, one per `wrt` node, in
the same scope as the forward graph.
"""

from __future__ import annotations

from symgrad import ir, ops


def _relevant(order, wrt) -> dict:
    """Nodes that depend on some `wrt` node (only they can carry gradient)."""
    live = dict.fromkeys(wrt, True)
    for node in order:
        if node not in live:
            for i in node.inputs:
                if i in live:
                    live[node] = True
                    break
    return live


def gradients(
    output: ir.Node, wrt, seed: ir.Node | None = None, adjoints: dict | None = None
) -> list[ir.Node]:
    """d output / d w for each w in `wrt`, as nodes (zeros where unconnected).

    If `adjoints` is given it receives the adjoint of every node on the way
    (for views that show each value's gradient, like micrograd's draw_dot).
    """
    wrt = list(wrt)
    if seed is None:
        seed = ops.const(1.0, dtype=output.dtype if ops.is_float(output) else None)
        if output.shape:
            seed = ops.broadcast_to(seed, output.shape)
    order = ir.toposort([output])
    live = _relevant(order, wrt)
    stop = dict.fromkeys(wrt, True)
    pending: dict = {output: [seed]} if output in live else {}
    adjoint: dict = {} if adjoints is None else adjoints

    for node in reversed(order):
        parts = pending.pop(node, None)
        if parts is None:
            continue
        with ir.annotate(_grad_loc(node)):
            total = parts[0]
            for part in parts[1:]:
                total = ops.add(total, part)
            if total.adjoint_of is None and total.op != "const":
                total.adjoint_of = node
            adjoint[node] = total
            if node in stop or not node.inputs:
                continue
            cotangents = ops.OPS[node.op].vjp(total, node, *node.inputs)
            for inp, ct in zip(node.inputs, cotangents, strict=True):
                if ct is None or inp not in live or inp.dtype.kind != "f":
                    continue
                if ct.shape != inp.shape:
                    ct = ops.sum_to(ct, inp.shape)
                bucket = pending.get(inp)
                if bucket is None:
                    pending[inp] = [ct]
                else:
                    bucket.append(ct)

    return [adjoint.get(w) if w in adjoint else _zeros(w) for w in wrt]


def _grad_loc(node: ir.Node):
    return node.loc.as_grad() if node.loc is not None else None


def _zeros(node: ir.Node) -> ir.Node:
    zero = ops.const(0.0, dtype=node.dtype)
    return ops.broadcast_to(zero, node.shape) if node.shape else zero
