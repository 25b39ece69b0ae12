"""prune_regions: branches and loops compute only what is read.

Contract: `prune_regions(outputs)` returns outputs computing the same values
in which
- a branch result nobody reads is `undef` in both branches (so neither
  branch computes it),
- a loop value that is read neither after the loop, nor by the loop
  condition, nor (through the body) by a loop value that is, is dropped: its
  body result becomes its own param and its initial value `undef` (the
  generated loop never mentions it), and
- an operand no body reads is `undef` (the value before the region is not
  computed for it).
Result positions never move, so `item` nodes stay valid. This is how the
reverse sweep's unused carries (the cotangent of a loop counter) and a
forward loop's stacks in `forward` disappear. Bodies are pruned too (the
pass runs inside regions).
"""

from __future__ import annotations

from symgrad import ir
from symgrad.ops import control
from symgrad.passes.rewrite import in_regions, replace_all


def _read_items(order) -> dict:
    """{region node: indices of its results some `item` reads}."""
    read: dict = {}
    for node in order:
        if node.op == "item" and node.inputs[0].op in ("cond", "switch", "while"):
            read.setdefault(node.inputs[0], set()).add(node.attr("index"))
    return read


def _params_read(region: ir.Region) -> set:
    body = set(region.nodes())
    return {p for p in region.params if p in body}


def _undef_like(node):
    return control.undef(ir.type_of(node))


def _prune_cond(node, read):
    """A cond or a switch: its tests come first (one for a cond)."""
    ntests = node.attr("ntests") if node.op == "switch" else 1
    tests, operands = list(node.inputs[:ntests]), node.inputs[ntests:]
    regions = []
    for region in node.attr("branches"):
        results = [
            r if i in read else _undef_like(r) for i, r in enumerate(region.results)
        ]
        regions.append(ir.Region(region.params, results))
    used = set()
    for region in regions:
        used |= {region.params.index(p) for p in _params_read(region)}
    new_ops = [x if k in used else _undef_like(x) for k, x in enumerate(operands)]
    return _rebuild(node, tests + new_ops, branches=tuple(regions))


def _prune_while(node, read):
    k = node.attr("ncarry")
    test, body = node.attr("cond"), node.attr("body")
    carries, invariants = node.inputs[:k], node.inputs[k:]
    body_index = {p: i for i, p in enumerate(body.params)}
    test_index = {p: i for i, p in enumerate(test.params)}
    needed = set(read) | {
        test_index[p] for p in _params_read(test) if test_index[p] < k
    }
    # Close over "the body result of a needed value reads this value".
    reads_of = []
    for r in body.results:
        reads_of.append({body_index[p] for p in ir.toposort([r]) if p in body_index})
    stack = list(needed)
    while stack:
        i = stack.pop()
        for j in reads_of[i]:
            if j < k and j not in needed:
                needed.add(j)
                stack.append(j)
    results = [r if i in needed else body.params[i] for i, r in enumerate(body.results)]
    new_body = ir.Region(body.params, results)
    inits = [c if i in needed else _undef_like(c) for i, c in enumerate(carries)]
    used = {body_index[p] for p in _params_read(new_body)}
    used |= {test_index[p] for p in _params_read(test)}
    new_inv = [v if k + j in used else _undef_like(v) for j, v in enumerate(invariants)]
    return _rebuild(node, inits + new_inv, cond=test, body=new_body)


def _rebuild(node, inputs, **regions):
    attrs = dict(node.attrs)
    attrs.update(regions)
    same_inputs = all(a is b for a, b in zip(inputs, node.inputs, strict=True))
    same_regions = all(_same(attrs[key], dict(node.attrs)[key]) for key in regions)
    if same_inputs and same_regions:
        return node
    out = control.apply(node.op, *inputs, **attrs)
    out.hint = out.hint or node.hint
    return out


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a is b or (
        len(a.results) == len(b.results)
        and all(x is y for x, y in zip(a.results, b.results, strict=True))
    )


def _prune(outputs) -> list:
    order = ir.toposort(outputs)
    read = _read_items(order)
    replace = {}
    for node in order:
        if node.op in ("cond", "switch"):
            new = _prune_cond(node, read.get(node, set()))
        elif node.op == "while":
            new = _prune_while(node, read.get(node, set()))
        else:
            continue
        if new is not node:
            replace[node] = new
    # A pruned node may read results of another one: replace all the way.
    return replace_all(outputs, replace) if replace else list(outputs)


prune_regions = in_regions(_prune)
