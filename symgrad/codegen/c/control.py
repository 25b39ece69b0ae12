"""Branches, loops and loop stacks in C: real `if` / `while` statements.

Contract: `statements(mod, frame, node, siblings, top)` returns the lines of
a node `codegen.regions.handles` (written as a statement, not by a
lowering): `cond` and `switch` (an `if` / `else if` / `else` chain, flat
however long), `while` (`while (test)`, or `for (;;)` with the test's
statements and a `break`), the stack ops (`stacks`) and `custom_vjp` (its
results are the values it passes through). `mod` is the `module.CModule`
compiling the function, `frame` its `blocks.Frame`, `siblings` the nodes of
the block `node` is in (where its `item`s are), `top` whether that block is
the function's own.

Values: a branch's or loop's result that is read is a variable declared
before the statement (a `double`, an array in the workspace, or a stack);
each branch assigns it at its end, a loop keeps each loop value in one
variable (its carry) that the body's results are copied into at the end of
an iteration (through temporaries when one result is another loop value).
A stack the loop alone reads is the loop's variable itself; one it does not
own is copied first. Liveness: everything a loop reads from before it lives
until the loop ends (the body runs again), so the workspace never hands it
to a temporary of the body.
"""

from __future__ import annotations

from symgrad import ir
from symgrad.codegen.c import stacks
from symgrad.codegen.c.blocks import indented
from symgrad.codegen.c.lowering import refuse
from symgrad.codegen.c.sizes import c_size
from symgrad.codegen.regions import items_of
from symgrad.ir import dims


def statements(mod, frame, node, siblings, top) -> list:
    op = node.op
    if op == "cond":
        pred, *operands = node.inputs
        return _branches(mod, frame, node, siblings, top, [pred], operands)
    if op == "switch":
        ntests = node.attr("ntests")
        tests, operands = node.inputs[:ntests], node.inputs[ntests:]
        return _branches(mod, frame, node, siblings, top, tests, operands)
    if op == "while":
        return _while(mod, frame, node, siblings, top)
    if op == "custom_vjp":
        nargs = node.attr("nargs")
        for i, part in items_of(node, siblings).items():
            source = node.inputs[nargs + i]
            mod.em.names[part] = mod.ref(source)
            frame.storage[part] = frame.storage.get(source)
            frame.scope[part] = True
        return []
    if op in _STACK_OPS:
        mod.helpers.add("sg_stack")
        frame.jumps = True
        return _STACK_OPS[op](mod, frame, node, siblings, top)
    refuse(node, "an op with several results")
    return []


def _kind(vtype) -> str:
    if isinstance(vtype, ir.StackType):
        return "stack"
    return "array" if vtype.shape else "scalar"


def _size(vtype):
    return dims.prod(vtype.shape)


def _declare(mod, frame, vtype, name, node, top) -> list:
    """The declaration of a result variable `name` (of `node`, an item, or
    None), before the statement that assigns it."""
    kind = _kind(vtype)
    if node is not None:
        frame.scope[node] = True
    if kind == "stack":
        frame.stack(name)
        mod.helpers.add("sg_stack")
        frame.jumps = True
        return []
    if kind == "scalar":
        # (0.0: a branch may leave it undefined, never to be read.)
        return [f"double {name} = 0.0;"]
    return [mod.declare(frame, node, name, _size(vtype), top)]


def _assign(mod, frame, vtype, var, src, pos) -> list:
    """`var` (a result variable) takes the value `src` (a node)."""
    frame.read(src, pos)
    text = mod.ref(src)
    return [] if text == var else [_copy(vtype, var, text)]


def _copy(vtype, var, text) -> str:
    """The statement giving variable `var` the value `text` (C source)."""
    kind = _kind(vtype)
    if kind == "stack":
        return f"SG_TRY({stacks.copy_call(var, text)});"
    if kind == "scalar":
        return f"{var} = {text};"
    return f"memcpy({var}, {text}, {c_size(_size(vtype))} * sizeof(double));"


def _bind(mod, frame, param, source, name=None):
    """A region's param reads `source` (a node; or the variable `name`)."""
    mod.em.names[param] = name if name is not None else mod.ref(source)
    frame.storage[param] = frame.storage.get(source) if source is not None else None


def _region_nodes(frame, results) -> list:
    """The nodes computing a region's `results`, in program order. An `input`
    read there that is no argument of the function is kept in
    `frame.orphans`."""
    out = []
    for n in ir.program_order(list(results)):
        if n.op == "input":
            frame.orphan(n)
        elif n.op not in ("param", "const", "undef", "dim"):
            out.append(n)
    return out


def _branches(mod, frame, node, siblings, top, tests, operands) -> list:
    """`if (t0) {...} else if (t1) {...} else {...}`: one block per branch,
    each assigning the results that are read after it."""
    pos = frame.tick()
    for test in tests:
        frame.read(test, pos)
    parts = items_of(node, siblings)
    branches = node.attr("branches")
    types = [ir.type_of(r) for r in branches[0].results]
    lines, variables = [], {}
    for i, part in parts.items():
        variables[i] = mod.em.name(part)
        lines += _declare(mod, frame, types[i], variables[i], part, top)
    blocks = []
    for region in branches:
        saved = frame.enter()
        for p, x in zip(region.params, operands, strict=True):
            _bind(mod, frame, p, x)
        wanted = [region.results[i] for i in variables]
        inner = mod.block(frame, _region_nodes(frame, wanted), wanted)
        end = frame.tick()
        for i, var in variables.items():
            result = region.results[i]
            # The variable is written here: it lives until then at least.
            frame.read(parts[i], end)
            if result.op != "undef":
                inner += _assign(mod, frame, types[i], var, result, end)
        frame.leave(saved)
        blocks.append([line for line in inner if line != ""])
    for k, (test, block) in enumerate(zip(tests, blocks, strict=False)):
        head = "if" if k == 0 else "} else if"
        lines += [f"{head} ({mod.ref(test)}) {{", *indented(block)]
    if blocks[-1]:
        lines += ["} else {", *indented(blocks[-1])]
    return lines + ["}"]


def _owned(stack, user, siblings) -> bool:
    """Whether `user` is the only reader of `stack` (no param) in its block."""
    readers = sum(n.inputs.count(stack) for n in siblings)
    return stack.op != "param" and readers == 1 and stack in user.inputs


def _while(mod, frame, node, siblings, top) -> list:
    k = node.attr("ncarry")
    test_r, body_r = node.attr("cond"), node.attr("body")
    carries, invariants = node.inputs[:k], node.inputs[k:]
    parts = items_of(node, siblings)
    start = frame.tick()
    lines, variables, types, buffers = [], [], [], {}
    live = _live(node, parts)
    for i, init in enumerate(carries):
        vtype = ir.type_of(body_r.params[i])
        types.append(vtype)
        part = parts.get(i)
        if i not in live:
            variables.append(None)
            buffers[i] = None
            continue
        if _kind(vtype) == "stack" and _owned(init, node, siblings):
            # A stack lives in one variable from push to pop.
            var = mod.ref(init)
            if part is not None:
                mod.em.names[part] = var
                frame.scope[part] = True
            variables.append(var)
            buffers[i] = None
            continue
        if part is not None:
            var = mod.em.name(part)
        else:
            var = mod.em.fresh(body_r.params[i].hint or init.hint)
        variables.append(var)
        lines += _declare(mod, frame, vtype, var, part, top)
        buffers[i] = None
        if _kind(vtype) == "array":
            # (None: written in place into an output parameter.)
            buffers[i] = (
                frame.storage.get(part) if part is not None else frame.buffers[-1]
            )
        if init.op != "undef":
            lines += _assign(mod, frame, vtype, var, init, start)
    saved = frame.enter()
    for region in (test_r, body_r):
        for i, p in enumerate(region.params[:k]):
            if i in live:
                _bind(mod, frame, p, None, variables[i])
                frame.storage[p] = buffers[i]
        for p, x in zip(region.params[k:], invariants, strict=True):
            _bind(mod, frame, p, x)
    (result,) = test_r.results
    test_nodes = _region_nodes(frame, test_r.results)
    inline = _inline_test(mod, frame, result, test_nodes)
    if inline is not None:
        head, test_lines = f"while ({inline}) {{", []
    else:
        head = "for (;;) {"
        test_lines = mod.block(frame, test_nodes, test_r.results)
        test_lines += [f"if (!{mod.ref(result)}) {{", "    break;", "}"]
    wanted = [r for i, r in enumerate(body_r.results) if i in live]
    inner = mod.block(frame, _region_nodes(frame, wanted), wanted)
    end = frame.tick()
    results = [r if i in live else None for i, r in enumerate(body_r.results)]
    inner += _update(mod, frame, results, variables, types, buffers, end)
    frame.leave(saved)
    # What the loop reads from before it is read again on every iteration.
    for buffer in frame.buffers:
        if buffer.first <= start < buffer.last or buffer in buffers.values():
            buffer.last = max(buffer.last, end)
    body = [line for line in test_lines + inner if line != ""]
    return lines + [head, *indented(body), "}"]


def _live(node, parts) -> dict:
    """{index: True} for the loop values of while `node` that are read: after
    the loop (`parts`), by its test, or by the body for another live one. A
    value nothing reads (its first value undefined, a derivative's pruned
    residual) gets no variable."""
    k = node.attr("ncarry")
    test_r, body_r = node.attr("cond"), node.attr("body")
    live = {i: True for i in parts if i < k}
    while True:
        roots = [*test_r.results, *(body_r.results[i] for i in live)]
        seen = {n: True for n in ir.program_order(roots)}
        more = {
            i: True
            for i in range(k)
            if i not in live and (body_r.params[i] in seen or test_r.params[i] in seen)
        }
        if not more:
            return {i: True for i in range(k) if i in live}
        live.update(more)


def _inline_test(mod, frame, result, test_nodes):
    """The loop test as one C expression, or None (it takes statements)."""
    if not test_nodes:
        return mod.ref(result)
    if test_nodes != [result] or result.shape:
        return None
    if result.op == "nonempty":
        return f"{mod.ref(result.inputs[0])}.len > 0"
    if not mod.target.elementwise(result):
        return None
    operands = [mod.ref(i) for i in result.inputs]
    return mod.target.expression(result, operands)


def _update(mod, frame, results, variables, types, buffers, end) -> list:
    """The end of an iteration: each loop value takes its result. A result
    that is another loop value's variable (or lives in its buffer) is
    saved in a temporary first, so no copy reads a value already replaced."""
    carried = {var: i for i, var in enumerate(variables) if var is not None}
    # (variable, the C source of its new value, its type, the loop value
    # whose variable that source is, or None)
    moves = []
    order = {}  # loop value -> its position in `moves`
    for i, (result, var, vtype) in enumerate(
        zip(results, variables, types, strict=True)
    ):
        if result is None or result.op == "undef":
            continue
        frame.read(result, end)
        text = mod.ref(result)
        holder = carried.get(text)
        if holder is None and _kind(vtype) == "array":
            owner = frame.storage.get(result)
            holder = next(
                (j for j, b in buffers.items() if b is not None and b is owner), None
            )
        if holder != i:  # (i: the value is still in its own variable)
            order[i] = len(moves)
            moves.append((var, text, vtype, holder))
    lines = []
    for k, (var, text, vtype, holder) in enumerate(moves):
        if holder is None or order.get(holder, k) > k:
            continue  # (its source is replaced after this copy, if at all)
        if _kind(vtype) == "stack":
            refuse(results[holder], "a loop that swaps two stacks")
        temp = mod.em.fresh(f"{var}_next")
        if _kind(vtype) == "scalar":
            lines.append(f"double {temp};")
        else:
            lines.append(mod.declare(frame, None, temp, _size(vtype), False))
        lines.append(_copy(vtype, temp, text))
        moves[k] = (var, temp, vtype, None)
    return lines + [_copy(vtype, var, text) for var, text, vtype, _ in moves]


# ------------------------------------------------------------------ stacks


def _stack_new(mod, frame, node, siblings, top) -> list:
    frame.tick()
    name = frame.stack(mod.em.name(node))
    frame.scope[node] = True
    return [stacks.new_line(node, name)]


def _push(mod, frame, node, siblings, top) -> list:
    stack, x = node.inputs
    pos = frame.tick()
    frame.read(x, pos)
    name = mod.ref(stack)
    mod.em.names[node] = name
    frame.scope[node] = True
    elem = stack.vtype.elem
    return [f"SG_TRY({stacks.push_line(name, mod.ref(x), elem)});"]


def _pop(mod, frame, node, siblings, top) -> list:
    (stack,) = node.inputs
    frame.tick()
    name = mod.ref(stack)
    parts = items_of(node, siblings)
    elem = stack.vtype.elem
    if 0 in parts:
        mod.em.names[parts[0]] = name
        frame.scope[parts[0]] = True
    if 1 not in parts:
        return [f"SG_TRY({stacks.pop_call(name, None, elem)});"]
    to = mod.em.name(parts[1])
    lines = _declare(mod, frame, elem, to, parts[1], top)
    return lines + [f"SG_TRY({stacks.pop_call(name, to, elem)});"]


def _nonempty(mod, frame, node, siblings, top) -> list:
    frame.tick()
    frame.scope[node] = True
    return [f"double {mod.em.name(node)} = {mod.ref(node.inputs[0])}.len > 0;"]


def _stack_zeros(mod, frame, node, siblings, top) -> list:
    frame.tick()
    name = frame.stack(mod.em.name(node))
    frame.scope[node] = True
    return [f"SG_TRY(sg_stack_zeros(&{name}, &{mod.ref(node.inputs[0])}));"]


def _stack_add(mod, frame, node, siblings, top) -> list:
    frame.tick()
    name = frame.stack(mod.em.name(node))
    frame.scope[node] = True
    a, b = (mod.ref(i) for i in node.inputs)
    return [f"SG_TRY(sg_stack_add(&{name}, &{a}, &{b}));"]


_STACK_OPS = {
    "stack_new": _stack_new,
    "push": _push,
    "pop": _pop,
    "nonempty": _nonempty,
    "stack_zeros": _stack_zeros,
    "stack_add": _stack_add,
}
