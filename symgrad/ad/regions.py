"""Reverse mode through branches, loops and their stacks.

Contract: the VJP rules of the region and stack ops (the records in
`symgrad.ops.control` call these):

- `cond_vjp`: the adjoint of a branch is a branch on the same predicate. Each
  branch body is differentiated; the values the reverse sweep reads from a
  body (residuals) become extra results of the forward cond (the other
  branch gives them as `undef`, never read on that path), so the reverse
  branch reads what the forward branch computed, with no stack.
- `switch_vjp`: the same for a switch (an elif chain), over its N branches.
- `while_vjp`: the forward loop is augmented to push each residual onto a
  stack per iteration (Tapenade's PUSH; an iteration counter when nothing
  needs keeping); the reverse loop pops them while the stacks are not empty
  and runs the body's VJP, carrying the cotangents of the loop values and
  adding up those of the loop invariants.
- `push_vjp` / `pop_vjp`: a stack's cotangent is a stack of cotangents, so
  derivatives of derivatives go through loops too.

Both region rules return `autodiff.Augmented`: the cotangents plus the
augmented forward node that replaces the original one.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir, ops
from symgrad.ad import autodiff
from symgrad.ops import control
from symgrad.passes.rewrite import substitute


def _param(vtype, uid, index, hint=None):
    return control.param_node(vtype, uid, index, hint)


def _reverse_body(region: ir.Region, seeded):
    """Differentiate a region body.

    Returns (seed params, cotangent per region param (None: none), the
    region's results after nested augmentation).
    """
    uid = control.new_uid()
    seeds = []
    for i, (r, s) in enumerate(zip(region.results, seeded, strict=True)):
        hint = f"{r.hint}_bar" if r.hint else None
        seeds.append(_param(ir.type_of(r), uid, i, hint) if s else None)
    grads, replace = autodiff.backward(region.results, seeds, region.params)
    results = list(region.results)
    if replace:
        present = [g for g in grads if g is not None]
        new = autodiff.apply_replacements(results + present, replace)
        results, it = new[: len(results)], iter(new[len(results) :])
        grads = [None if g is None else next(it) for g in grads]
    return seeds, grads, results


def _residuals(results, params, grads, keep, stacks=False) -> list:
    """Forward-body values the reverse computation reads, in program order.

    Params in `keep` are passed to the reverse region directly (operands
    available there); every other body value the reverse nodes use directly
    is a residual. A residual may be a stack itself (an inner loop's tape,
    kept per iteration of an outer loop: a stack of stacks). `stacks` is
    accepted for callers that say so; every caller may keep stacks.
    """
    forward = set(ir.toposort(list(results))) | set(params)
    present = [g for g in grads if g is not None]
    found: dict = {}
    for node in ir.toposort(present):
        if node in forward:
            continue
        if node.op == "item" and node.inputs[0] in forward:
            # A result of a forward region node (a nested cond's kept
            # residual): keep that result, not the whole several-result node.
            found[node] = None
            continue
        for i in node.inputs:
            if i in forward and i.op != "const" and i not in keep:
                found[i] = None
    for g in present:
        if g in forward and g.op != "const" and g not in keep:
            found[g] = None
    return sorted(found, key=lambda n: n.id)


def _zeros_for(node):
    return autodiff.zeros_like(node)


# ------------------------------------------------------------------ cond


def cond_vjp(g, out, pred, *operands):
    true, false = out.attr("branches")
    seeded = [gi is not None for gi in g]
    n = len(g)
    info = []
    for branch in (true, false):
        seeds, grads, results = _reverse_body(branch, seeded)
        residuals = _residuals(
            results, branch.params, grads, set(branch.params), stacks=True
        )
        info.append((seeds, grads, results, residuals))
    res_t, res_f = info[0][3], info[1][3]
    undef_t = [control.undef(ir.type_of(r)) for r in res_t]
    undef_f = [control.undef(ir.type_of(r)) for r in res_f]
    t_aug = ir.Region(true.params, info[0][2] + res_t + undef_f)
    f_aug = ir.Region(false.params, info[1][2] + undef_t + res_f)
    new = control.cond(pred, operands, t_aug, f_aug)
    kept = control.items(new)[n:]
    g_values = [gi for gi in g if gi is not None]

    places = [range(len(res_t)), range(len(res_t), len(kept))]
    diff, regions = _backward_regions(
        (true, false), info, operands, kept, g_values, places
    )
    if not diff:
        return autodiff.Augmented((None,) * (1 + len(operands)), {out: new})
    back = control.cond(pred, list(operands) + kept + g_values, *regions)
    cotangents = [None] * len(operands)
    for j, k in enumerate(diff):
        cotangents[k] = control.item(back, j)
    return autodiff.Augmented((None, *cotangents), {out: new})


def _backward_regions(branches, info, operands, kept, g_values, places):
    """(differentiable operand positions, one backward region per branch) of
    a branch op: each region takes the operands, the kept residuals of every
    branch and the output cotangents, and returns the operands' cotangents.
    Branch `b`'s residuals are the kept values at `places[b]`."""
    diff = [k for k, x in enumerate(operands) if autodiff.differentiable(x)]
    regions = []
    for b, branch in enumerate(branches):
        seeds, grads, _, residuals = info[b]
        uid = control.new_uid()
        p_ops = [_param(ir.type_of(x), uid, k, x.hint) for k, x in enumerate(operands)]
        base = len(p_ops)
        p_kept = [
            _param(ir.type_of(x), uid, base + j, x.hint) for j, x in enumerate(kept)
        ]
        base += len(p_kept)
        p_g = [
            _param(ir.type_of(x), uid, base + j, x.hint) for j, x in enumerate(g_values)
        ]
        mapping = dict(zip(branch.params, p_ops, strict=True))
        mapping.update(zip(residuals, [p_kept[k] for k in places[b]], strict=True))
        mapping.update(zip([s for s in seeds if s is not None], p_g, strict=True))
        cts = [
            grads[k] if grads[k] is not None else _zeros_for(operands[k]) for k in diff
        ]
        regions.append(ir.Region(p_ops + p_kept + p_g, substitute(cts, mapping)))
    return diff, regions


def switch_vjp(g, out, *inputs):
    """The adjoint of a switch is a switch on the same tests over the VJPs of
    its branches (as `cond_vjp`, with a loop over the branches): each branch
    keeps its residuals as extra results, `undef` in the other branches."""
    ntests = out.attr("ntests")
    tests, operands = inputs[:ntests], inputs[ntests:]
    branches = out.attr("branches")
    seeded = [gi is not None for gi in g]
    n = len(g)
    info = []
    for branch in branches:
        seeds, grads, results = _reverse_body(branch, seeded)
        residuals = _residuals(
            results, branch.params, grads, set(branch.params), stacks=True
        )
        info.append((seeds, grads, results, residuals))
    # Only one branch runs: branches share the result slots of their
    # residuals (the k-th residual of a type takes the k-th slot of that
    # type), so the switch does not grow with branches times residuals.
    slot_of: dict = {}  # type -> slot positions, in order of first need
    slot_types = []
    places = []
    for x in info:
        count: dict = {}
        mine = []
        for r in x[3]:
            t = ir.type_of(r)
            k = count.get(t, 0)
            count[t] = k + 1
            slots = slot_of.setdefault(t, [])
            if k == len(slots):
                slots.append(len(slot_types))
                slot_types.append(t)
            mine.append(slots[k])
        places.append(mine)
    augmented = []
    for b, branch in enumerate(branches):
        kept_b = [control.undef(t) for t in slot_types]
        for r, k in zip(info[b][3], places[b], strict=True):
            kept_b[k] = r
        augmented.append(ir.Region(branch.params, info[b][2] + kept_b))
    new = control.switch(tests, operands, augmented)
    kept = control.items(new)[n:]
    g_values = [gi for gi in g if gi is not None]

    diff, regions = _backward_regions(branches, info, operands, kept, g_values, places)
    if not diff:
        return autodiff.Augmented((None,) * len(inputs), {out: new})
    back = control.switch(tests, list(operands) + kept + g_values, regions)
    cotangents = [None] * len(operands)
    for j, k in enumerate(diff):
        cotangents[k] = control.item(back, j)
    return autodiff.Augmented((None,) * ntests + tuple(cotangents), {out: new})


# ------------------------------------------------------------------ while


def while_vjp(g, out, *operands):
    cond_r, body = out.attr("cond"), out.attr("body")
    k = out.attr("ncarry")
    carries, invariants = list(operands[:k]), list(operands[k:])
    p_c, p_v = body.params[:k], body.params[k:]
    seeded = [autodiff.differentiable(c) for c in carries]
    seeds, grads, results = _reverse_body(body, seeded)
    residuals = _residuals(results, body.params, grads, set(p_v))

    # The forward loop, augmented with a stack per residual (or a counter).
    uid = control.new_uid()
    # A loop value is named after the variable of the body (the initial
    # value is often a constant without a name).
    n_c = [
        _param(ir.type_of(c), uid, i, p_c[i].hint or c.hint)
        for i, c in enumerate(carries)
    ]
    n_s = [
        _param(ir.StackType(ir.type_of(r)), uid, k + j, _stack_hint(r))
        for j, r in enumerate(residuals)
    ]
    counting = not residuals
    n_n = [_param(_COUNT, uid, k + len(n_s), "n_iter")] if counting else []
    base = k + len(n_s) + len(n_n)
    n_v = [
        _param(ir.type_of(v), uid, base + j, v.hint) for j, v in enumerate(invariants)
    ]
    params = n_c + n_s + n_n + n_v
    to_new = dict(zip(p_c, n_c, strict=True)) | dict(zip(p_v, n_v, strict=True))
    moved = substitute(list(results) + residuals, to_new)
    new_results, new_res = moved[:k], moved[k:]
    pushes = [control.push(s, r) for s, r in zip(n_s, new_res, strict=True)]
    counts = [ops.add(n_n[0], 1)] if counting else []
    new_body = ir.Region(params, new_results + pushes + counts)
    cond_map = dict(zip(cond_r.params, n_c + n_v, strict=True))
    new_cond = ir.Region(params, substitute(list(cond_r.results), cond_map))
    stacks0 = [control.stack_new(ir.type_of(r), _stack_hint(r)) for r in residuals]
    count0 = [ops.const(0, dtype=np.int64)] if counting else []
    forward = control.while_loop(
        carries + stacks0 + count0, invariants, new_cond, new_body
    )
    finals = control.items(forward)
    final_stacks = finals[k : k + len(residuals)]
    final_count = finals[k + len(residuals) :]

    # The reverse loop: pop, run the body's VJP, carry the cotangents.
    dc = [i for i in range(k) if seeded[i]]
    dv = [j for j, v in enumerate(invariants) if autodiff.differentiable(v)]
    init_c = [g[i] if g[i] is not None else _zeros_for(finals[i]) for i in dc]
    init_v = [_zeros_for(invariants[j]) for j in dv]
    uid = control.new_uid()
    b_c = [
        _param(ir.type_of(x), uid, i, _bar(p_c[c]) or _bar(carries[c]))
        for i, (c, x) in enumerate(zip(dc, init_c, strict=True))
    ]
    base = len(b_c)
    b_v = [
        _param(ir.type_of(x), uid, base + i, _bar(invariants[j]))
        for i, (j, x) in enumerate(zip(dv, init_v, strict=True))
    ]
    base += len(b_v)
    b_s = [
        _param(ir.type_of(s), uid, base + j, _stack_hint(r))
        for j, (s, r) in enumerate(zip(final_stacks, residuals, strict=True))
    ]
    base += len(b_s)
    b_n = [_param(_COUNT, uid, base, "n_iter")] if counting else []
    base += len(b_n)
    b_inv = [
        _param(ir.type_of(v), uid, base + j, v.hint) for j, v in enumerate(invariants)
    ]
    b_params = b_c + b_v + b_s + b_n + b_inv
    rests, tops = [], []
    for s in b_s:
        rest, top = control.pop(s)
        rests.append(rest)
        tops.append(top)
    mapping = dict(zip(residuals, tops, strict=True))
    mapping.update(zip(p_v, b_inv, strict=True))
    mapping.update(zip([seeds[i] for i in dc], b_c, strict=True))
    new_c = [grads[i] if grads[i] is not None else _zeros_for(p_c[i]) for i in dc]
    contrib = [grads[k + j] for j in dv]
    moved = substitute(new_c + [c for c in contrib if c is not None], mapping)
    new_c, moved_contrib = moved[: len(dc)], iter(moved[len(dc) :])
    new_v = []
    for bv, c in zip(b_v, contrib, strict=True):
        new_v.append(bv if c is None else autodiff.add(bv, next(moved_contrib)))
    counts = [ops.sub(b_n[0], 1)] if counting else []
    b_body = ir.Region(b_params, new_c + new_v + rests + counts)
    if counting:
        test = ops.gt(b_n[0], 0)
    else:
        test = control.nonempty(b_s[0])
    b_cond = ir.Region(b_params, [test])
    back = control.while_loop(
        init_c + init_v + final_stacks + final_count, invariants, b_cond, b_body
    )
    backs = control.items(back)
    cotangents = [None] * len(operands)
    for idx, i in enumerate(dc):
        cotangents[i] = backs[idx]
    for idx, j in enumerate(dv):
        cotangents[k + j] = backs[len(dc) + idx]
    return autodiff.Augmented(tuple(cotangents), {out: forward})


_COUNT = ir.ArrayType((), np.dtype(np.int64))


def _stack_hint(node) -> str | None:
    return f"{node.hint}_stack" if node.hint else "stack"


def _bar(node) -> str | None:
    return f"{node.hint}_bar" if node.hint else None


# ------------------------------------------------------------------ stacks


def push_vjp(g, out, stack, x):
    rest, top = control.pop(g)
    return rest, top


def pop_vjp(g, out, stack):
    g_rest, g_top = g
    rest, top = control.items(out)
    if g_rest is None:
        g_rest = autodiff.zeros_like(rest)
    if g_top is None:
        g_top = autodiff.zeros_like(top)
    return (control.push(g_rest, g_top),)


for _name, _rule in (
    ("cond", cond_vjp),
    ("switch", switch_vjp),
    ("while", while_vjp),
    ("push", push_vjp),
    ("pop", pop_vjp),
):
    control.define_vjp(_name, _rule)
