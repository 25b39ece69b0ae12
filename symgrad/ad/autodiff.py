"""Symbolic reverse mode: gradients as new graph nodes.

Contract: `backward(outputs, seeds, wrt)` walks the nodes between `wrt` and
`outputs` once, in reverse topological order, calling each op's VJP rule to
build the cotangent of every input. Contributions to a node used several
times are added up in a fixed order (so reuse is never lost, unlike
micrograd's early `=` bug); cotangents in a broadcast shape are summed back to
each operand's shape. No number is computed here: the result is a list of
nodes, one per `wrt` node, in the same scope as the forward graph.

Values with several results (cond, while, pop) take a tuple of cotangents,
one per result (None where a result got none); `item` routes its cotangent
to its slot. Stacks (a loop's tape) have stacks of cotangents.

Region ops (cond, while) cannot be differentiated without keeping values of
their bodies for the reverse sweep: their VJP rules return an `Augmented`
naming a replacement for the forward node that also yields those values
(residuals). `backward` returns these replacements; `value_and_grad` applies
them, so callers see one consistent graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from symgrad import ir, ops
from symgrad.passes.rewrite import replace_all


@dataclass
class Augmented:
    """A VJP's cotangents plus forward nodes to replace (node -> new node)."""

    cotangents: tuple
    replace: dict


def differentiable(node: ir.Node) -> bool:
    """Whether a value can carry a gradient: floats, and stacks and tuples
    holding floats."""
    vt = node.vtype
    if vt is None:
        return node.dtype.kind == "f"
    return _differentiable_type(vt)


def _differentiable_type(vt) -> bool:
    if isinstance(vt, ir.ArrayType):
        return vt.dtype.kind == "f"
    if isinstance(vt, ir.StackType):
        return _differentiable_type(vt.elem)
    return any(_differentiable_type(t) for t in vt.items)


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


def backward(outputs, seeds, wrt, adjoints: dict | None = None):
    """(cotangent per `wrt` node (None where unconnected), replacements).

    `seeds` gives the cotangent of each output (None: none). If `adjoints` is
    given it receives the adjoint of every node on the way.
    """
    wrt = list(wrt)
    order = ir.toposort(list(outputs))
    live = _relevant(order, wrt)
    stop = dict.fromkeys(wrt, True)
    pending: dict = {}
    for out, seed in zip(outputs, seeds, strict=True):
        if seed is not None and out in live:
            pending.setdefault(out, []).append(seed)
    adjoint: dict = {} if adjoints is None else adjoints
    replace: dict = {}

    for node in reversed(order):
        parts = pending.pop(node, None)
        if parts is None:
            continue
        with ir.annotate(_grad_loc(node)):
            total = _total(node, parts)
            if isinstance(total, ir.Node):
                if total.adjoint_of is None and total.op != "const":
                    total.adjoint_of = node
            adjoint[node] = total
            if node in stop or not node.inputs:
                continue
            if node.op == "item":
                (whole,) = node.inputs
                if whole in live:
                    pending.setdefault(whole, []).append((node.attr("index"), total))
                continue
            result = ops.OPS[node.op].vjp(total, node, *node.inputs)
            if isinstance(result, Augmented):
                replace.update(result.replace)
                result = result.cotangents
            for inp, ct in zip(node.inputs, result, strict=True):
                if ct is None or inp not in live or not differentiable(inp):
                    continue
                if inp.vtype is None and ct.shape != inp.shape:
                    ct = ops.sum_to(ct, inp.shape)
                pending.setdefault(inp, []).append(ct)

    return [adjoint.get(w) for w in wrt], replace


def _total(node, parts):
    """The sum of the contributions to a node's cotangent, in order."""
    if isinstance(node.vtype, ir.TupleType):
        slots: list = [None] * len(node.vtype.items)
        for index, ct in parts:
            slots[index] = ct if slots[index] is None else add(slots[index], ct)
        return tuple(slots)
    total = parts[0]
    for part in parts[1:]:
        total = add(total, part)
    return total


def add(a: ir.Node, b: ir.Node) -> ir.Node:
    """Sum of two cotangents (arrays or stacks)."""
    if isinstance(a.vtype, ir.StackType):
        return ops.control.stack_add(a, b)
    return ops.add(a, b)


def zeros_like(node: ir.Node) -> ir.Node:
    """A zero cotangent for `node` (an array, or a stack of its length)."""
    if isinstance(node.vtype, ir.StackType):
        return ops.control.stack_zeros(node)
    return _zeros(node)


SUM_FILE = "<sum of uses>"


def _grad_loc(node: ir.Node):
    if node.loc is not None:
        return node.loc.as_grad()
    # An argument's cotangent is the sum of its uses' contributions: those
    # additions are filed under a line of their own in the generated code.
    return ir.Loc(SUM_FILE, 0, node.hint or "", 0, True)


def _zeros(node: ir.Node) -> ir.Node:
    zero = ops.const(0.0, dtype=node.dtype)
    return ops.broadcast_to(zero, node.shape) if node.shape else zero


def seed_for(output: ir.Node) -> ir.Node:
    """The cotangent 1 (ones of the output's shape) that starts reverse mode."""
    seed = ops.const(1.0, dtype=output.dtype if ops.is_float(output) else None)
    return ops.broadcast_to(seed, output.shape) if output.shape else seed


def value_and_grad(output: ir.Node, wrt, seed: ir.Node | None = None, adjoints=None):
    """(the output, d output / d w for each w in `wrt`), zeros where unconnected.

    The output may be a replacement of the given one (region ops keep values
    for the reverse sweep), so callers use the returned one.
    """
    wrt = list(wrt)
    seed = seed_for(output) if seed is None else seed
    grads, replace = backward([output], [seed], wrt, adjoints)
    grads = [g if g is not None else _zeros(w) for g, w in zip(grads, wrt, strict=True)]
    if replace:
        output, *grads = apply_replacements([output] + grads, replace)
    return output, grads


def apply_replacements(outputs, replace: dict) -> list:
    """`outputs` with every replaced node swapped for its replacement, also
    inside replacements (a region's augmented VJP may read values of another
    augmented region)."""

    return replace_all(outputs, replace)


def gradients(output: ir.Node, wrt, seed: ir.Node | None = None, adjoints=None):
    """d output / d w for each w in `wrt`, as nodes (zeros where unconnected)."""
    return value_and_grad(output, wrt, seed, adjoints)[1]
