"""Staging Python functions as regions: traced branches and loops.

Contract:
- `cond(pred, true_fn, false_fn, *operands)` and `while_loop(cond_fn,
  body_fn, init)` have JAX's call shapes. With a plain (concrete) predicate
  they just run Python; with a traced one they trace each function once into
  a closed `ir.Region` and record a `cond` / `while` node, returning tracers
  of its results (same pytree structure as the functions return).
- Functions may use any traced value in scope (closures): values from outside
  a body become operands of the region node (closure conversion), so every
  region only sees its params and constants.
- The two branches must give the same structure; where their types differ,
  Python scalars and size-1 values are broadcast and dtypes promoted as
  NumPy would (an int in one branch and a float in the other give a float). A
  loop's values must keep their structure across iterations; their types are
  widened the same way (the body is traced again with the wider types).
- Errors name the user's line and say what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symgrad import dims, ir, ops
from symgrad.errors import ShapeError
from symgrad.ops import control
from symgrad.passes.rewrite import substitute
from symgrad.pytree import flatten, unflatten
from symgrad.source import fail


def _tracing():
    from symgrad import tracing

    return tracing


def _as_node(x) -> ir.Node:
    tracing = _tracing()
    if isinstance(x, tracing.Tracer):
        return x.node
    if x is None:
        fail(
            "a branch or loop gave None for a value",
            "Give every variable a value on every path (assign it before the if)",
        )
    return tracing._to_node(x)


def is_traced(x) -> bool:
    return isinstance(x, _tracing().Tracer) and x.node.op != "const"


def predicate(x, what: str = "condition") -> ir.Node:
    """A traced value used as a condition, as a boolean scalar node."""
    node = _as_node(x)
    if node.shape != ():
        fail(
            f"the {what} is an array of shape {dims.shape_str(node.shape)}, not a "
            "single truth value",
            "Use np.where(cond, a, b) to choose per element, or reduce it with "
            ".all() / .any()",
        )
    if node.dtype.kind != "b":
        node = ops.ne(node, 0)  # Python truthiness of a number
    return node


@dataclass
class _Body:
    uid: int
    params: list
    nodes: list
    treedef: object
    free: list


def _trace_body(fn, types, hints, args_tree=None) -> _Body:
    """Trace `fn` on fresh params of `types`; record which outer values it read."""
    tracing = _tracing()
    uid = control.new_uid()
    params = [
        control.param_node(t, uid, i, h)
        for i, (t, h) in enumerate(zip(types, hints, strict=True))
    ]
    watermark = ir.current_scope().counter
    args = [tracing.Tracer(p) for p in params]
    if args_tree is not None:
        out = fn(unflatten(args_tree, args))
    else:
        out = fn(*args)
    leaves, _, treedef = flatten(out)
    nodes = [_as_node(leaf) for leaf in leaves]
    return _Body(uid, params, nodes, treedef, _free(nodes, watermark, set(params)))


def _free(nodes, watermark: int, own: set) -> list:
    """Values made before the body was traced that the body reads."""
    found: dict = {}
    seen = set(nodes)
    stack = list(seen)
    while stack:
        node = stack.pop()
        if node in own or node.op == "const":
            continue
        if node.id <= watermark:
            found[node] = None
            continue
        for i in node.inputs:
            if i not in seen:
                seen.add(i)
                stack.append(i)
    return sorted(found, key=lambda n: n.id)


def _close(body: _Body, free_all: list, results=None) -> ir.Region:
    """The closed region: outer values read become params after the own ones."""
    n = len(body.params)
    extra = [
        control.param_node(ir.type_of(f), body.uid, n + j, f.hint)
        for j, f in enumerate(free_all)
    ]
    mapping = {f: p for f, p in zip(free_all, extra, strict=True) if f in body.free}
    results = body.nodes if results is None else results
    if mapping:
        results = substitute(results, mapping)
    return ir.Region(body.params + extra, results)


def _union(*lists) -> list:
    merged = dict.fromkeys(n for lst in lists for n in lst)
    return sorted(merged, key=lambda n: n.id)


def _widen(a, b, what: str):
    """The type both `a` and `b` convert to, as NumPy would combine them."""
    if a == b:
        return a
    if not (isinstance(a, ir.ArrayType) and isinstance(b, ir.ArrayType)):
        fail(f"{what} has a different kind of value on different paths", "")
    try:
        shape = dims.broadcast_shapes(a.shape, b.shape)
    except ShapeError:
        fail(
            f"{what} has shape {dims.shape_str(a.shape)} on one path and "
            f"{dims.shape_str(b.shape)} on another",
            "Give it the same shape on every path",
            ShapeError,
        )
    return ir.ArrayType(shape, np.result_type(a.dtype, b.dtype))


def _convert(node, vtype: ir.ArrayType):
    """`node` as a value of `vtype` (a cast and/or a broadcast)."""
    if ir.type_of(node) == vtype:
        return node
    if node.dtype != vtype.dtype:
        if node.op == "const":
            node = ops.const(np.asarray(node.value, dtype=vtype.dtype))
        else:
            node = ops.cast(node, vtype.dtype)
    if node.shape != vtype.shape:
        node = ops.broadcast_to(node, vtype.shape)
    return node


def _label(names, i) -> str:
    if names and i < len(names) and names[i]:
        return f"the variable {names[i]!r}"
    return f"value {i} of the result"


# ------------------------------------------------------------------ cond


def cond(pred, true_fn, false_fn, *operands, names=None):
    """`true_fn(*operands)` if `pred` else `false_fn(*operands)`, staged when
    `pred` is traced. `names` labels the results in error messages."""
    tracing = _tracing()
    if not is_traced(pred):
        chosen = true_fn if _concrete_truth(pred) else false_fn
        return chosen(*operands)
    pred_node = predicate(pred)
    nodes = [_as_node(x) for x in operands]
    types = [ir.type_of(n) for n in nodes]
    hints = [n.hint for n in nodes]
    with ir.annotate(None):
        t = _trace_body(true_fn, types, hints)
        f = _trace_body(false_fn, types, hints)
    if t.treedef != f.treedef:
        fail(
            "the two branches give different structures",
            "Return the same variables (lists/tuples of the same length) from both",
        )
    loc = _loc()
    with ir.annotate(loc):
        wide = [
            _widen(ir.type_of(a), ir.type_of(b), _label(names, i))
            for i, (a, b) in enumerate(zip(t.nodes, f.nodes, strict=True))
        ]
        t_results = [_convert(n, w) for n, w in zip(t.nodes, wide, strict=True)]
        f_results = [_convert(n, w) for n, w in zip(f.nodes, wide, strict=True)]
        free = _union(t.free, f.free)
        node = control.cond(
            pred_node,
            nodes + free,
            _close(t, free, t_results),
            _close(f, free, f_results),
        )
        results = [tracing.Tracer(r) for r in control.items(node)]
    return unflatten(t.treedef, results)


def _concrete_truth(x) -> bool:
    tracing = _tracing()
    if isinstance(x, tracing.Tracer):
        value = x.node.value
        if value.size != 1:
            fail(
                "the truth value of an array with more than one element",
                "Use .all() or .any()",
            )
        return bool(value.reshape(()))
    return bool(x)


def _loc():
    return _tracing()._loc()


# ------------------------------------------------------------------ while


def while_loop(cond_fn, body_fn, init, names=None):
    """Run `body_fn` on the loop values while `cond_fn` holds (JAX's
    `while_loop`), staged as one loop region. `init` is a pytree of values."""
    tracing = _tracing()
    leaves, _, treedef = flatten(init)
    nodes = [_as_node(x) for x in leaves]
    types = [ir.type_of(n) for n in nodes]
    hints = [n.hint for n in nodes]
    if names:
        hints = [name or h for name, h in zip(names, hints, strict=False)] + hints[
            len(names) :
        ]
    for _ in range(4):
        with ir.annotate(None):
            body = _trace_body(body_fn, types, hints, treedef)
        if body.treedef != treedef:
            fail(
                "the loop body gives back a different structure than it started with",
                "Keep every loop variable's structure (list lengths, dict keys)",
            )
        out_types = [ir.type_of(n) for n in body.nodes]
        wide = [
            _widen(a, b, _label(names, i))
            for i, (a, b) in enumerate(zip(types, out_types, strict=True))
        ]
        if wide == out_types and wide == types:
            break
        types = wide
    else:
        fail("the types of the loop values do not settle", "Initialize them as floats")
    with ir.annotate(None):
        test = _trace_body(
            lambda tree: predicate(cond_fn(tree), "loop condition"),
            types,
            hints,
            treedef,
        )
    loc = _loc()
    with ir.annotate(loc):
        inits = [_convert(n, t) for n, t in zip(nodes, types, strict=True)]
        free = _union(body.free, test.free)
        node = control.while_loop(inits, free, _close(test, free), _close(body, free))
        results = [tracing.Tracer(r) for r in control.items(node)]
    return unflatten(treedef, results)
