"""Which statements of a C function share a loop, and which transposes a
matrix product reads in place.

Contract: `plan(order, outputs, target)` takes the nodes a function computes
(program order, no inputs or constants), its output nodes and the C target
package, and returns a `Plan`:
- `members[root]`: the elementwise nodes computed inside the loop of the
  elementwise node `root` (program order), each as a `double` local of the
  loop body instead of a buffer: a node joins the loop of its one user when
  both are elementwise over the same shape and it is not an output. Every
  value is still rounded to a double after each operation, in the same
  order: fusing changes no result bit.
- `inside`: every node computed inside another's loop (not emitted alone).
- `through[product]`: per operand of a matrix product, the 2-D array it reads
  transposed (the input of a `transpose` operand), or None. A transpose
  that is the right operand of two or more products is never read through:
  it is computed once (the own product loops would otherwise copy it into
  rows for each product).
- `unused`: transposes every user of which reads them through (not emitted).
`reads(node, plan)` lists what the statement of `node` (with its loop
members) reads. Deterministic: dicts keyed by node, filled in program order.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plan:
    members: dict = field(default_factory=dict)
    inside: dict = field(default_factory=dict)  # node -> its loop's root
    through: dict = field(default_factory=dict)
    unused: dict = field(default_factory=dict)  # node -> True


def _users(order, outputs) -> dict:
    """node -> the distinct nodes of `order` using it (program order); an
    output also counts as a user (None)."""
    users = {node: [] for node in order}
    for node in order:
        for inp in node.inputs:
            if inp in users and node not in users[inp]:
                users[inp].append(node)
    for node in outputs:
        if node in users and None not in users[node]:
            users[node].append(None)
    return users


def _is_swap(node) -> bool:
    """A transpose of a 2-D array (the one a product can read in place)."""
    return (
        node.op == "transpose"
        and node.ndim == 2
        and node.inputs[0].ndim == 2
        and tuple(node.attr("axes")) == (1, 0)
    )


def _shared_right(order) -> dict:
    """2-D transposes that are the right operand of two or more products of
    `order` (node -> True)."""
    count = {}
    for node in order:
        if node.op == "matmul" and node.inputs[0].ndim == node.inputs[1].ndim == 2:
            right = node.inputs[1]
            if _is_swap(right):
                count[right] = count.get(right, 0) + 1
    return {node: True for node, uses in count.items() if uses > 1}


def plan(order, outputs, target) -> Plan:
    out = Plan()
    users = _users(order, outputs)
    # Products read a 2-D transposed operand in place, except a transpose
    # that is the right operand of several products: the own loops copy a
    # transposed right operand into rows for every product, so it is
    # computed once instead (an RNN's Wh.T, read at every step back).
    shared = _shared_right(order)
    for node in order:
        if node.op == "matmul" and node.inputs[0].ndim == node.inputs[1].ndim == 2:
            seen = tuple(
                inp.inputs[0] if _is_swap(inp) and inp not in shared else None
                for inp in node.inputs
            )
            if seen != (None, None):
                out.through[node] = seen
    for node in order:
        if _is_swap(node) and all(
            user is not None
            and user in out.through
            and any(
                inp is node and seen is not None
                for inp, seen in zip(user.inputs, out.through[user], strict=True)
            )
            for user in users[node]
        ):
            out.unused[node] = True
    # Elementwise chains: a node joins its only user's loop.
    for node in order:
        if not (node.shape and target.elementwise(node)):
            continue
        used_by = users[node]
        if len(used_by) != 1 or used_by[0] is None:
            continue
        user = used_by[0]
        if user.shape != node.shape or not target.elementwise(user):
            continue
        out.inside[node] = user
    # Roots: follow each member to the node whose loop it ends up in.
    for node in order:
        if node in out.inside:
            continue
        if node.shape and target.elementwise(node):
            out.members[node] = []
    for node in order:
        if node not in out.inside:
            continue
        root = out.inside[node]
        while root in out.inside:
            root = out.inside[root]
        out.inside[node] = root
        out.members[root].append(node)
    return out


def reads(node, plan: Plan) -> list:
    """The nodes the statement of `node` reads (for a loop root: what its
    members read from outside the loop; for a product: the arrays read
    through transposes instead of the transposes)."""
    group = [*plan.members.get(node, []), node]
    local = {member: True for member in group}
    out = []
    seen = plan.through.get(node)
    for member in group:
        for k, inp in enumerate(member.inputs):
            if seen is not None and seen[k] is not None:
                inp = seen[k]
            if inp not in local and inp not in out:
                out.append(inp)
    return out
