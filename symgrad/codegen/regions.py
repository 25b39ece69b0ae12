"""Code for control flow: real `if` / `while` statements and loop stacks.

Contract: `statements(emitter, node, siblings)` returns the lines of a node
whose op is written as a statement rather than by a printer: `cond` (an
if/else), `while` (a while loop), the stack ops (`s = []`, `s.append(x)`,
`x = s.pop()`), several-result ops (`a, b = f(x)`), and the bookkeeping ops
that write nothing (`item`, `param`, `undef`). `siblings` is the list of
nodes emitted at the same level (to find the `item`s of a node).

Names do the plumbing, so the code reads like a person's: a region's params
are the names of the values passed in, a branch assigns its results to the
variables the `if` defines (computing them under those names where that is
safe), a loop keeps each value in one variable that its body reassigns, and
a pushed or popped stack keeps its list's name. Every target shares this; the
zeros and sums of stored values (second derivatives) are the target's
(`stack_zeros`, `stack_add`).
"""

from __future__ import annotations

from symgrad import ir

# Ops written here (as statements or as nothing).
HANDLED = frozenset(
    (
        "cond",
        "switch",
        "while",
        "item",
        "param",
        "undef",
        "stack_new",
        "push",
        "pop",
        "nonempty",
        "stack_zeros",
        "stack_add",
        "custom_vjp",
    )
)
INDENT = "    "


def handles(node) -> bool:
    return node.op in HANDLED or node.vtype is not None


def items_of(node, siblings) -> dict:
    """{index: item node} for the results of `node` that are used."""
    out = {}
    for s in siblings:
        if s.op == "item" and s.inputs[0] is node:
            out[s.attr("index")] = s
    return out


def statements(em, node, siblings) -> list:
    op = node.op
    if op in ("item", "param", "undef"):
        return []  # named by their producer / the region node; never computed
    if op == "cond":
        return _cond(em, node, siblings)
    if op == "switch":
        return _switch(em, node, siblings)
    if op == "while":
        return _while(em, node, siblings)
    if op == "custom_vjp":
        # Its results are the forward outputs it passes through (the rule
        # only matters to reverse mode): the same variables.
        nargs = node.attr("nargs")
        for i, item_node in items_of(node, siblings).items():
            em.names[item_node] = em.ref(node.inputs[nargs + i])
        return []
    if op == "stack_new":
        return [f"{em.name(node)} = []"]
    if op == "push":
        stack, x = node.inputs
        em.names[node] = em.ref(stack)  # the same list, one value longer
        return [f"{em.ref(stack)}.append({em.ref(x)})"]
    if op == "pop":
        (stack,) = node.inputs
        parts = items_of(node, siblings)
        if 0 in parts:
            em.names[parts[0]] = em.ref(stack)
        if 1 not in parts:
            return [f"{em.ref(stack)}.pop()"]
        return [f"{em.name(parts[1])} = {em.ref(stack)}.pop()"]
    if op == "nonempty":
        return [f"{em.name(node)} = len({em.ref(node.inputs[0])}) > 0"]
    if op == "stack_zeros":
        return [f"{em.name(node)} = {_stack_zeros(em, node)}"]
    if op == "stack_add":
        return [f"{em.name(node)} = {_stack_add(em, node)}"]
    return _several(em, node, siblings)


def _several(em, node, siblings) -> list:
    """An op with several results: `a, b = expr`."""
    parts = items_of(node, siblings)
    count = len(node.vtype.items)
    targets = [em.name(parts[i]) if i in parts else "_" for i in range(count)]
    args = [em.ref(i) for i in node.inputs]
    (line,) = em.target.statements(node, "__RESULT__", args)
    expr = line.split(" = ", 1)[1]
    em.needs.update(em.target.needs(node))
    return [f"{', '.join(targets)} = {expr}"]


def _stack_zeros(em, node) -> str:
    (stack,) = node.inputs
    return _zeros_expr(em.target, node.vtype, em.ref(stack), 0)


def _zeros_expr(target, vtype, src, depth) -> str:
    """Zeros like the value `src` of type `vtype` (stacks of stacks too)."""
    v = f"v{depth}"
    if isinstance(vtype, ir.StackType):
        inner = _zeros_expr(target, vtype.elem, v, depth + 1)
        # (None: the stack of a branch not taken, empty.)
        return f"[{inner} for {v} in {src} or ()]"
    return target.stack_zeros(vtype, src)


def _stack_add(em, node) -> str:
    a, b = (em.ref(i) for i in node.inputs)
    return _add_expr(em.target, node.vtype, a, b, 0)


def _add_expr(target, vtype, a, b, depth) -> str:
    """The sum of two values of type `vtype` (stacks of stacks too)."""
    u, w = f"u{depth}", f"w{depth}"
    if isinstance(vtype, ir.StackType):
        inner = _add_expr(target, vtype.elem, u, w, depth + 1)
        return f"[{inner} for {u}, {w} in zip({a}, {b})]"
    return target.stack_add(vtype, a, b)


# ------------------------------------------------------------------ regions


def _body(region) -> list:
    """A region's nodes to emit, in program order."""
    return [
        n
        for n in ir.program_order(list(region.results))
        if n.op not in ("param", "const", "undef")
    ]


def _reads_after(nodes, start: int, target) -> bool:
    """Whether any node after position `start` reads `target`."""
    return any(target in n.inputs for n in nodes[start + 1 :])


def _claim_results(em, region, body, variables):
    """Compute each result under its variable's name where that is safe: the
    result is made in this body, is no other result, and the param holding
    the variable's old value (if any) is not read after it is made, by the
    body or by the assignments of the other results."""
    holder = {em.names.get(p): p for p in region.params}
    taken = set()
    for r, var in zip(region.results, variables, strict=True):
        if r in em.names or r.op in ("param", "const", "undef") or r in taken:
            continue
        if r not in body:
            continue
        old = holder.get(var)
        if old is not None and _reads_after(body, body.index(r), old):
            continue
        if old is not None and any(
            x is old and v != var
            for x, v in zip(region.results, variables, strict=True)
        ):
            continue  # another variable takes the old value after the body
        if sum(1 for x in region.results if x is r) > 1:
            continue
        em.names[r] = var
        taken.add(r)
    return taken


def _release(em, taken):
    """Forget the names `_claim_results` gave for one branch: a node is
    interned, so the same node (a zeros cotangent) may be a body value of
    another branch, where the variable holds another result."""
    for r in taken:
        em.names.pop(r, None)


def _assign(em, region, variables, nested=False) -> list:
    """`var = result` for results not computed under their variable's name;
    one tuple assignment when several change (old values are read first).
    Inside another region an undefined result is set to None: the enclosing
    region passes it on (or a loop pushes it) whatever the path."""
    pairs = []
    for r, var in zip(region.results, variables, strict=True):
        if r.op == "undef":
            if nested:
                pairs.append((var, "None"))
            continue
        src = em.ref(r)
        if src != var:
            pairs.append((var, src))
    if not pairs:
        return []
    if len(pairs) == 1:
        return [f"{pairs[0][0]} = {pairs[0][1]}"]
    return [", ".join(v for v, _ in pairs) + " = " + ", ".join(s for _, s in pairs)]


def _indented(lines) -> list:
    return [INDENT + line if line else "" for line in lines] or [INDENT + "pass"]


def _cond(em, node, siblings, test=None) -> list:
    """`if test: ... else: ...`; an else branch that is only another `if`
    (an elif in the user's code, whose test is one expression) is written as
    `elif`, so the code of a chain never nests deeper as the chain grows.
    `test`: the source of the test, when the caller computed it inline."""
    pred, *operands = node.inputs
    parts = items_of(node, siblings)
    true, false = node.attr("branches")
    count = len(true.results)
    variables = [em.name(parts[i]) if i in parts else None for i in range(count)]
    used = [v if v is not None else em.fresh() for v in variables]
    blocks = []
    elif_ = None
    nested = getattr(em, "region_depth", 0) > 0
    em.region_depth = getattr(em, "region_depth", 0) + 1
    for region in (true, false):
        for p, x in zip(region.params, operands, strict=True):
            em.names[p] = em.ref(x)
        body = _body(region)
        taken = _claim_results(em, region, body, used)
        if region is false:
            elif_ = _elif(em, region, body, used, nested)
            if elif_ is not None:
                _release(em, taken)
                break
        inner = em.body_lines(body, body)
        inner += _assign(em, region, used, nested)
        _release(em, taken)
        blocks.append([line for line in inner if line != ""] or ["pass"])
    em.region_depth -= 1
    lines = [f"if {em.ref(pred) if test is None else test}:"]
    lines += _indented(blocks[0])
    if elif_ is not None:
        lines += ["el" + elif_[0]] + elif_[1:]
    elif blocks[1] != ["pass"]:
        lines.append("else:")
        lines += _indented(blocks[1])
    return lines


def _switch(em, node, siblings) -> list:
    """`if t0: ... elif t1: ... else: ...`, one block per branch (a long elif
    chain in the user's code): flat however long the chain."""
    ntests = node.attr("ntests")
    tests, operands = node.inputs[:ntests], node.inputs[ntests:]
    parts = items_of(node, siblings)
    branches = node.attr("branches")
    count = len(branches[0].results)
    variables = [em.name(parts[i]) if i in parts else None for i in range(count)]
    used = [v if v is not None else em.fresh() for v in variables]
    nested = getattr(em, "region_depth", 0) > 0
    em.region_depth = getattr(em, "region_depth", 0) + 1
    blocks = []
    for region in branches:
        for p, x in zip(region.params, operands, strict=True):
            em.names[p] = em.ref(x)
        body = _body(region)
        taken = _claim_results(em, region, body, used)
        inner = em.body_lines(body, body)
        inner += _assign(em, region, used, nested)
        _release(em, taken)
        blocks.append([line for line in inner if line != ""] or ["pass"])
    em.region_depth -= 1
    lines = []
    for k, (test, block) in enumerate(zip(tests, blocks, strict=False)):
        lines.append(f"{'if' if k == 0 else 'elif'} {em.ref(test)}:")
        lines += _indented(block)
    if blocks[-1] != ["pass"]:
        lines.append("else:")
        lines += _indented(blocks[-1])
    return lines


def _elif(em, region, body, variables, nested):
    """The lines of `region` (an else branch) as one `if` statement with its
    test inline, when the branch is nothing but a cond and the nodes of its
    test, each read once (a tree of one-line expressions such as
    `(t1 < 1.0) & t3`); the test may also be a result of the branch (the
    gradient reads it later: `(var := test)`), the other results being the
    cond's own. Else None: the caller nests."""
    inner = [n for n in body if n.op != "item"]
    if not inner or inner[-1].op != "cond":
        return None
    cond, computed = inner[-1], inner[:-1]
    pred = cond.inputs[0]
    if computed and computed[-1] is not pred:
        return None
    for n in computed:
        if sum(m.inputs.count(n) for m in body) != 1:
            return None  # read twice: it needs a name
        if n in region.results and n is not pred:
            return None
    if len(set(region.results)) != len(region.results):
        return None
    for r in region.results:
        if not (r is pred and computed) and not (
            r.op == "item" and r.inputs[0] is cond
        ):
            return None
    for r, var in zip(region.results, variables, strict=True):
        if r in em.names and em.names[r] != var:
            return None
    test = _tree_expression(em, computed) if computed else em.ref(pred)
    if test is None:
        return None
    # Each result is assigned to its variable by the inner cond itself (or,
    # for the test, by `:=`), so nothing follows it.
    for r, var in zip(region.results, variables, strict=True):
        em.names[r] = var
        if r is pred:
            test = f"({var} := {test})"
    lines = _cond(em, cond, body, test)
    if _assign(em, region, variables, nested):
        raise AssertionError("an elif branch left a result unassigned")
    return lines


def _tree_expression(em, nodes):
    """One expression computing the last of `nodes` (in program order, each
    read once by a later one), or None if one of them is no expression."""
    sources: dict = {}
    for node in nodes:
        args = [f"({sources[i]})" if i in sources else em.ref(i) for i in node.inputs]
        text = _expression(em, node, args)
        if text is None:
            return None
        sources[node] = text
    return sources[nodes[-1]]


def _while(em, node, siblings) -> list:
    k = node.attr("ncarry")
    test_r, body_r = node.attr("cond"), node.attr("body")
    carries, invariants = node.inputs[:k], node.inputs[k:]
    parts = items_of(node, siblings)
    variables = []
    for i in range(k):
        init = carries[i]
        if isinstance(init.vtype, ir.StackType) and _owned(init, node, siblings):
            # A stack lives in one list from push to pop: keep its name.
            var = em.ref(init)
            if i in parts:
                em.names[parts[i]] = var
        elif i in parts:
            var = em.name(parts[i])
        else:
            var = em.fresh(body_r.params[i].hint or init.hint)
        variables.append(var)
    lines = []
    for var, init in zip(variables, carries, strict=True):
        if init.op == "undef":
            continue  # a loop value nothing reads (pruned)
        src = em.ref(init)
        if isinstance(init.vtype, ir.StackType) and not _owned(init, node, siblings):
            # The loop pops from its list; a list this loop does not own (an
            # operand of an enclosing loop, read again on its next iteration,
            # or read elsewhere) is copied first.
            lines.append(f"{var} = list({src})")
        elif src != var:
            lines.append(f"{var} = {src}")
    for region in (test_r, body_r):
        for p, var in zip(region.params[:k], variables, strict=True):
            em.names[p] = var
        for p, x in zip(region.params[k:], invariants, strict=True):
            em.names[p] = em.ref(x)
    test_body = _body(test_r)
    (result,) = test_r.results
    inline = None
    if not test_body:
        inline = em.ref(result)
    elif test_body == [result]:
        inline = _expression(em, result)
    if inline is not None:
        test_lines = []
        head = f"while {inline}:"
    else:
        flag = em.fresh("going")
        em.names[result] = flag
        test_lines = [
            line for line in em.body_lines(test_body, test_body) if line != ""
        ]
        head = f"while {flag}:"
    body = _body(body_r)
    _claim_results(em, body_r, body, variables)
    em.region_depth = getattr(em, "region_depth", 0) + 1
    inner = [line for line in em.body_lines(body, body) if line != ""]
    em.region_depth -= 1
    inner += _assign(em, body_r, variables)
    return lines + test_lines + [head] + _indented(inner + test_lines)


def _owned(stack, user, siblings) -> bool:
    """Whether `user` is the only reader of `stack` and may change it."""
    return stack.op != "param" and _only_user(stack, user, siblings)


def _only_user(value, user, siblings) -> bool:
    return sum(n.inputs.count(value) for n in siblings) == 1 and value in user.inputs


def _expression(em, node, args=None) -> str | None:
    """The source of a one-line statement's right-hand side, or None; `args`:
    the sources of its operands (default: their names)."""
    if node.op in HANDLED and node.op != "nonempty":
        return None
    if args is None:
        args = [em.ref(i) for i in node.inputs]
    if node.op == "nonempty":
        return args[0]  # a list is true while it is not empty
    lines = em.target.statements(node, "__RESULT__", args)
    if len(lines) != 1 or not lines[0].startswith("__RESULT__ = "):
        return None
    em.needs.update(em.target.needs(node))
    return lines[0][len("__RESULT__ = ") :]
