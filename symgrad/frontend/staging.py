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
- Operands and loop values are pytrees of Python values, not only of traced
  ones: a leaf that is not traced (a Python number, a NumPy array, a string,
  any object) goes into the functions as it is. A result that both branches
  leave as the same such value, or that a loop body gives back unchanged, is
  that value again (no region result); a number or array that a branch or
  the loop changes becomes a traced result. Objects that are not numbers
  must come out the same on every path.
- An `Undefined` leaf stands for a variable without a value (assigned in
  only one branch, or first inside a loop). A result defined by one branch
  only is `Undefined` again, whose every use is an error naming the variable
  (or, for an `internal` one such as a function's pending return value, a
  traced value that the other branch leaves unset). In a loop, an internal
  one the body assigns is carried (starting as zeros); a user's is not (it
  is `Undefined` after the loop).
- The two branches must give the same structure; where their types differ,
  Python scalars and size-1 values are broadcast and dtypes promoted as
  NumPy would (an int in one branch and a float in the other give a float). A
  loop's values must keep their structure across iterations; their types are
  widened the same way (the body is traced again with the wider types).
- `names` labels the results (one name per item of the result tuple): error
  messages use them and the result nodes get them as name hints.
- Errors name the user's line and say what to do.
"""

from __future__ import annotations

import contextvars
import math
from dataclasses import dataclass

import numpy as np

from symgrad import ir, ops
from symgrad.errors import ShapeError, SymgradError
from symgrad.frontend import tracing
from symgrad.ir import dims
from symgrad.ir.pytree import flatten, unflatten
from symgrad.ir.source import fail, name_statements
from symgrad.ops import control
from symgrad.passes.rewrite import substitute

_modules: dict = {}


def tracing_module():
    """`symgrad.frontend.tracing`, imported on first use (it imports this module)."""
    module = _modules.get("tracing")
    if module is None:

        module = _modules["tracing"] = tracing
    return module


# How many region bodies are being traced around the current code (0: none).
_depth: contextvars.ContextVar[int] = contextvars.ContextVar(
    "symgrad_staging_depth", default=0
)


def depth() -> int:
    """How many traced branches or loop bodies enclose the running code."""
    return _depth.get()


class Undefined:
    """A variable without a value: every use is an error naming it.

    `internal` marks values of the front end's own bookkeeping (a function's
    pending return value) that a branch may leave unset.
    """

    __slots__ = ("name", "reason", "internal")
    __array_priority__ = 2000

    def __init__(self, name: str, reason: str, internal: bool = False):
        self.name = name
        self.reason = reason
        self.internal = internal

    def fail(self, *_args, **_kwargs):
        fail(
            f"the variable {self.name!r} has no value here: {self.reason}",
            "Give it a value before that point (for example before the if or "
            "the loop)",
        )

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        self.fail()

    def __repr__(self):
        return f"<undefined variable {self.name!r}>"

    def __array__(self, dtype=None, copy=None):
        self.fail()

    def __array_ufunc__(self, *args, **kwargs):
        self.fail()

    def __array_function__(self, *args, **kwargs):
        self.fail()

    __bool__ = __float__ = __int__ = __index__ = __complex__ = fail
    __len__ = __iter__ = __getitem__ = __setitem__ = __call__ = fail
    __neg__ = __pos__ = __abs__ = __invert__ = fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = fail
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = fail
    __mod__ = __rmod__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = fail
    __lt__ = __le__ = __gt__ = __ge__ = fail
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = fail


def _as_node(x) -> ir.Node:
    tracing = tracing_module()
    if isinstance(x, tracing.Tracer):
        return x.node
    if x is None:
        fail(
            "a branch or loop gave None for a value",
            "Give every variable a value on every path (assign it before the if)",
        )
    if type(x) is Undefined:
        x.fail()
    return tracing._to_node(x)


def is_traced(x) -> bool:
    return isinstance(x, tracing_module().Tracer) and x.node.op != "const"


def _numeric(x) -> bool:
    """A leaf that can become a traced value (a number or a numeric array)."""
    kind = type(x)
    if kind in (bool, int, float) or kind is tracing_module().Tracer:
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biuf"
    return isinstance(x, (np.bool_, np.integer, np.floating))


def _same_static(a, b) -> bool:
    """Whether two untraced leaves are the same value (no result needed)."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in (bool, int, str, bytes):
        return a == b
    if kind is float:
        if a != a:
            return b != b
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if kind is tracing_module().Tracer:
        return a.node is b.node
    return False


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
    leaves: list  # what the function returned, flattened (raw Python values)
    treedef: object
    watermark: int
    param_of: dict  # id(param tracer's node) -> operand position


def _trace_body(fn, leaves, traced, hints, tree, call) -> _Body:
    """Call `fn` with the `traced` positions of `leaves` replaced by fresh
    params (the others as they are); `call(fn, args)` makes the call from the
    rebuilt `tree`."""
    tracing = tracing_module()
    uid = control.new_uid()
    params = []
    args = list(leaves)
    for j, i in enumerate(traced):
        node = leaves[i].node
        p = control.param_node(ir.type_of(node), uid, j, hints[i] or node.hint)
        params.append(p)
        args[i] = tracing.Tracer(p)
    watermark = ir.current_scope().counter
    token = _depth.set(_depth.get() + 1)
    try:
        out = call(fn, unflatten(tree, args))
    finally:
        _depth.reset(token)
    out_leaves, _, treedef = flatten(out)
    _name_statements(out_leaves, watermark)
    param_of = {id(p): j for j, p in enumerate(params)}
    return _Body(uid, params, out_leaves, treedef, watermark, param_of)


def _name_statements(leaves, watermark: int):
    """Name the body's values after the variables its statements assign (the
    tracer does this for the outer graph, which does not reach into bodies)."""
    tracer = tracing_module().Tracer
    nodes = [x.node for x in leaves if type(x) is tracer]
    made = [n for n in ir.toposort(nodes) if n.id > watermark]
    if made:
        name_statements(made)


def _free(nodes, watermark: int, own: set) -> list:
    """Values made before the body was traced that the body reads."""
    found: dict = {}
    seen = set(nodes)
    stack = list(seen)
    while stack:
        node = stack.pop()
        if node in own or node.op in ("const", "undef"):
            continue  # (an undef is interned: it may predate the body)
        if node.id <= watermark:
            found[node] = None
            continue
        for i in node.inputs:
            if i not in seen:
                seen.add(i)
                stack.append(i)
    return sorted(found, key=lambda n: n.id)


def _close(params, uid, results, free_all: list, free_mine) -> ir.Region:
    """The closed region: outer values read become params after the own ones."""
    n = len(params)
    extra = [
        control.param_node(ir.type_of(f), uid, n + j, f.hint)
        for j, f in enumerate(free_all)
    ]
    mine = set(free_mine)
    mapping = {f: p for f, p in zip(free_all, extra, strict=True) if f in mine}
    if mapping:
        results = substitute(results, mapping)
    return ir.Region(list(params) + extra, results)


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


def _zeros(vtype: ir.ArrayType) -> ir.Node:
    return _convert(ops.const(np.zeros((), vtype.dtype)), vtype)


def _leaf_names(treedef, names) -> list:
    """The name of each leaf of a result: `names[i]` for the leaves of item
    `i` of a tuple or list result (a lone name for a single value)."""
    if not names:
        return []
    counts = []
    if treedef.kind in ("tuple", "list"):
        counts = [c.num_leaves for c in treedef.children]
    if len(counts) != len(names):
        total = treedef.num_leaves
        return [names[0]] * total if len(names) == 1 else []
    out = []
    for name, count in zip(names, counts, strict=True):
        out.extend([name] * count)
    return out


def _label(leaf_names, i) -> str:
    name = leaf_names[i] if leaf_names and i < len(leaf_names) else None
    if name and name.startswith("<"):
        return name[1:-1]  # a description such as "<the return value>"
    if name:
        return f"the variable {name!r}"
    return f"value {i} of the result"


def _expand(a, b):
    """`a` with each `Undefined` that `b` has a container for replaced by
    that container's structure, holding copies of the `Undefined`."""
    if type(a) is Undefined:
        if type(b) in (list, tuple, dict):
            leaves, _, treedef = flatten(b)
            return unflatten(treedef, [a] * len(leaves))
        return a
    kind = type(a)
    if kind is not type(b):
        return a
    if kind in (list, tuple):
        if len(a) != len(b):
            return a
        return kind(_expand(x, y) for x, y in zip(a, b, strict=True))
    if kind is dict:
        if list(a) != list(b):
            return a
        return {k: _expand(a[k], b[k]) for k in a}
    return a


def _hint_items(node, leaf_names, positions):
    """Name the item nodes of a region node after the variables they hold."""
    results = []
    for k, i in enumerate(positions):
        item = control.item(node, k)
        name = leaf_names[i] if leaf_names and i < len(leaf_names) else None
        if name and not name.startswith("<"):
            item.hint = name
        results.append(item)
    return results


def _call_args(fn, args):
    return fn(*args)


def _call_tree(fn, tree):
    return fn(tree)


def _body_error(exc, what: str):
    """An exception (not symgrad's) raised while tracing a branch or body."""
    if isinstance(exc, SymgradError):
        raise exc
    fail(
        f"{type(exc).__name__} while tracing {what}: {exc}",
        "Both branches of an if on a traced value (and a traced loop's body) "
        "are traced, whichever runs: code in them must not raise on any input "
        "(checks that raise belong before the if)",
    )


# ------------------------------------------------------------------ cond


def cond(pred, true_fn, false_fn, *operands, names=None):
    """`true_fn(*operands)` if `pred` else `false_fn(*operands)`, staged when
    `pred` is traced. `names` labels the results (see the module doc)."""
    tracing = tracing_module()
    if not is_traced(pred):
        chosen = true_fn if _concrete_truth(pred) else false_fn
        return chosen(*operands)
    pred_node = predicate(pred)
    leaves, _, tree = flatten(tuple(operands))
    traced = [i for i, x in enumerate(leaves) if is_traced(x)]
    nodes = [leaves[i].node for i in traced]
    hints = [None] * len(leaves)
    loc = _loc()
    with ir.annotate(None):
        branches = []
        for fn in (true_fn, false_fn):
            try:
                branches.append(
                    _trace_body(fn, leaves, traced, hints, tree, _call_args)
                )
            except Exception as exc:  # noqa: BLE001 - reported with the line
                _body_error(exc, "a branch of an if on a traced value")
    t, f = branches
    t_out = unflatten(t.treedef, t.leaves)
    f_out = unflatten(f.treedef, f.leaves)
    t_leaves, _, t_tree = flatten(_expand(t_out, f_out))
    f_leaves, _, f_tree = flatten(_expand(f_out, t_out))
    if t_tree != f_tree:
        fail(
            "the two branches give different structures (a list of another "
            "length, or a list in one branch and a number in the other)",
            "Give each variable the same structure on both paths",
        )
    leaf_names = _leaf_names(t_tree, names)
    final = [None] * len(t_leaves)
    staged = []  # (position, true value, false value)
    for i, (a, b) in enumerate(zip(t_leaves, f_leaves, strict=True)):
        pa = _param_position(a, t)
        pb = _param_position(b, f)
        if pa is not None and pa == pb:
            final[i] = leaves[traced[pa]]  # both branches pass it through
        elif type(a) is Undefined and type(b) is Undefined:
            final[i] = a if a.internal else b
        elif type(a) is Undefined or type(b) is Undefined:
            staged.append((i, a, b))
        elif pa is None and pb is None and _same_static(a, b):
            final[i] = a
        elif _numeric(a) and _numeric(b):
            staged.append((i, a, b))
        else:
            fail(
                f"{_label(leaf_names, i)} is {_describe(a)} in one branch and "
                f"{_describe(b)} in the other of an if on a traced value",
                "Only numbers and arrays can be chosen when the code runs; give "
                "other values (strings, None, objects) before the if",
            )
    if not staged:
        return unflatten(t_tree, final)
    with ir.annotate(loc):
        t_nodes, f_nodes = [], []
        for i, a, b in staged:
            na = None if type(a) is Undefined else _as_node(a)
            nb = None if type(b) is Undefined else _as_node(b)
            # An internal value a branch leaves unset is never read on that
            # path, but later regions may pass it along: it gets zeros there.
            # A user's variable stays unset (reading it is an error).
            if na is None:
                na = _unset(a, ir.type_of(nb))
            elif nb is None:
                nb = _unset(b, ir.type_of(na))
            else:
                wide = _widen(ir.type_of(na), ir.type_of(nb), _label(leaf_names, i))
                na, nb = _convert(na, wide), _convert(nb, wide)
            t_nodes.append(na)
            f_nodes.append(nb)
        t_free = _free(t_nodes, t.watermark, set(t.params))
        f_free = _free(f_nodes, f.watermark, set(f.params))
        free = _union(t_free, f_free)
        node = control.cond(
            pred_node,
            nodes + free,
            _close(t.params, t.uid, t_nodes, free, t_free),
            _close(f.params, f.uid, f_nodes, free, f_free),
        )
        items = _hint_items(node, leaf_names, [i for i, _, _ in staged])
    for (i, a, b), item in zip(staged, items, strict=True):
        partial = type(a) is Undefined or type(b) is Undefined
        missing = a if type(a) is Undefined else b
        if partial and not missing.internal:
            final[i] = Undefined(
                missing.name,
                f"it is assigned in only one branch of the if at {_where(loc)}",
            )
        else:
            final[i] = tracing.Tracer(item)
    return unflatten(t_tree, final)


def switch(preds, fns, *operands, names=None):
    """`fns[k](*operands)` for the first true `preds[k]` (the last of `fns`,
    the else, when none is), staged as one switch node: an elif chain whose
    tests are traced. `len(fns) == len(preds) + 1`; the tests are traced
    values computed before the chain. Each leaf of the results is merged
    over the branches as `cond` merges two."""
    tracing = tracing_module()
    pred_nodes = [predicate(p) for p in preds]
    leaves, _, tree = flatten(tuple(operands))
    traced = [i for i, x in enumerate(leaves) if is_traced(x)]
    nodes = [leaves[i].node for i in traced]
    hints = [None] * len(leaves)
    loc = _loc()
    bodies = []
    with ir.annotate(None):
        for fn in fns:
            try:
                bodies.append(_trace_body(fn, leaves, traced, hints, tree, _call_args))
            except Exception as exc:  # noqa: BLE001 - reported with the line
                _body_error(exc, "a branch of an if on a traced value")
    outs = [unflatten(b.treedef, b.leaves) for b in bodies]
    template = outs[0]
    for out in outs[1:]:
        template = _expand(template, out)
    flat, tree0 = [], None
    for out in outs:
        out_leaves, _, out_tree = flatten(_expand(out, template))
        if tree0 is None:
            tree0 = out_tree
        elif out_tree != tree0:
            fail(
                "the branches of an if/elif chain give different structures (a "
                "list of another length, or a list in one branch and a number in "
                "another)",
                "Give each variable the same structure on every path",
            )
        flat.append(out_leaves)
    leaf_names = _leaf_names(tree0, names)
    final = [None] * len(flat[0])
    staged = []  # (position, value per branch)
    for i in range(len(final)):
        values = [branch_leaves[i] for branch_leaves in flat]
        places = [_param_position(v, b) for v, b in zip(values, bodies, strict=True)]
        unset = [type(v) is Undefined for v in values]
        if places[0] is not None and all(p == places[0] for p in places):
            final[i] = leaves[traced[places[0]]]  # every branch passes it on
        elif all(unset):
            internal = [v for v in values if v.internal]
            final[i] = internal[0] if internal else values[-1]
        elif any(unset):
            staged.append((i, values))
        elif all(p is None for p in places) and all(
            _same_static(values[0], v) for v in values[1:]
        ):
            final[i] = values[0]
        elif all(_numeric(v) for v in values):
            staged.append((i, values))
        else:
            odd = next(v for v in values if not _numeric(v))
            other = next(v for v in values if v is not odd)
            fail(
                f"{_label(leaf_names, i)} is {_describe(odd)} in one branch and "
                f"{_describe(other)} in another of an if on a traced value",
                "Only numbers and arrays can be chosen when the code runs; give "
                "other values (strings, None, objects) before the if",
            )
    if not staged:
        return unflatten(tree0, final)
    with ir.annotate(loc):
        per_branch = [[] for _ in bodies]
        for i, values in staged:
            defined = [_as_node(v) for v in values if type(v) is not Undefined]
            wide = ir.type_of(defined[0])
            for x in defined[1:]:
                wide = _widen(wide, ir.type_of(x), _label(leaf_names, i))
            for b, v in enumerate(values):
                if type(v) is Undefined:
                    per_branch[b].append(_unset(v, wide))
                else:
                    per_branch[b].append(_convert(_as_node(v), wide))
        mine = [
            _free(made, b.watermark, set(b.params))
            for made, b in zip(per_branch, bodies, strict=True)
        ]
        free = _union(*mine)
        regions = [
            _close(b.params, b.uid, made, free, own)
            for b, made, own in zip(bodies, per_branch, mine, strict=True)
        ]
        node = control.switch(pred_nodes, nodes + free, regions)
        items = _hint_items(node, leaf_names, [i for i, _ in staged])
    for (i, values), item in zip(staged, items, strict=True):
        missing = [v for v in values if type(v) is Undefined]
        user = [v for v in missing if not v.internal]
        if user:
            final[i] = Undefined(
                user[0].name,
                f"it is assigned in only some branches of the if at {_where(loc)}",
            )
        else:
            final[i] = tracing.Tracer(item)
    return unflatten(tree0, final)


def _unset(missing, vtype):
    return _zeros(vtype) if missing.internal else control.undef(vtype)


def _param_position(x, body: _Body):
    """The operand position whose param `x` is (unchanged), or None."""
    if type(x) is tracing_module().Tracer:
        return body.param_of.get(id(x.node))
    return None


def _describe(x) -> str:
    if type(x) is Undefined:
        return "unassigned"
    if x is None:
        return "None"
    if _numeric(x):
        return "a number or array"
    return f"a {type(x).__name__}"


def _where(loc) -> str:
    if loc is None:
        return "<unknown>"
    import os

    return f"{os.path.basename(loc.file)}:{loc.line}"


def _concrete_truth(x) -> bool:
    tracing = tracing_module()
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
    return tracing_module()._loc()


# ------------------------------------------------------------------ while


def while_loop(cond_fn, body_fn, init, names=None):
    """Run `body_fn` on the loop values while `cond_fn` holds (JAX's
    `while_loop`), staged as one loop region. `init` is a pytree of values
    (see the module doc for values that are not traced). Outside a trace
    it is a plain Python loop, as JAX's runs eagerly outside `jit`."""
    tracing = tracing_module()
    if not tracing.is_tracing() and not any(is_traced(x) for x in flatten(init)[0]):
        value = init
        while _concrete_truth(cond_fn(value)):
            value = body_fn(value)
        return value
    loc = _loc()
    for _ in range(8):
        leaves, _, treedef = flatten(init)
        leaf_names = _leaf_names(treedef, names)
        hints = [
            leaf_names[i] if i < len(leaf_names) else None for i in range(len(leaves))
        ]
        carried = [i for i, x in enumerate(leaves) if is_traced(x)]
        types = {i: ir.type_of(leaves[i].node) for i in carried}
        grown = None
        for _ in range(4):
            args = list(leaves)
            for i in carried:
                args[i] = tracing.Tracer(_convert(_as_node(leaves[i]), types[i]))
            with ir.annotate(None):
                try:
                    body = _trace_body(
                        body_fn, args, carried, hints, treedef, _call_tree
                    )
                except Exception as exc:  # noqa: BLE001 - reported with the line
                    _body_error(exc, "the body of a loop on a traced condition")
            out = unflatten(body.treedef, body.leaves)
            if _internal_assigned(init, out):
                grown = _zero_internal(init, out)
                break
            out_leaves, _, out_tree = flatten(_collapse_locals(init, out))
            if out_tree != treedef:
                fail(
                    "the loop body gives back a different structure than it started "
                    "with",
                    "Keep every loop variable's structure (list lengths, dict keys)",
                )
            new_carried, new_types = _loop_types(
                leaves, out_leaves, carried, types, body, leaf_names
            )
            if new_carried == carried and new_types == types:
                break
            carried, types = new_carried, new_types
        else:
            fail(
                "the types of the loop values do not settle",
                "Initialize them as floats",
            )
        if grown is None:
            break
        init = grown
    else:
        fail("the loop values do not settle", "Give every loop variable a value first")
    with ir.annotate(None):
        test = _trace_body(
            lambda tree: predicate(cond_fn(tree), "loop condition"),
            args,
            carried,
            hints,
            treedef,
            _call_tree,
        )
    (test_node,) = [_as_node(x) for x in test.leaves]
    with ir.annotate(loc):
        inits = [_convert(_as_node(leaves[i]), types[i]) for i in carried]
        body_nodes = [_convert(_as_node(out_leaves[i]), types[i]) for i in carried]
        b_free = _free(body_nodes, body.watermark, set(body.params))
        t_free = _free([test_node], test.watermark, set(test.params))
        free = _union(b_free, t_free)
        node = control.while_loop(
            inits,
            free,
            _close(test.params, test.uid, [test_node], free, t_free),
            _close(body.params, body.uid, body_nodes, free, b_free),
        )
        items = _hint_items(node, leaf_names, carried)
    final = list(leaves)
    for i, item in zip(carried, items, strict=True):
        final[i] = tracing.Tracer(item)
    for i, x in enumerate(final):
        if type(x) is Undefined and not x.internal:
            final[i] = Undefined(
                x.name,
                f"it is assigned only inside the loop at {_where(loc)} (a loop on "
                "a traced condition), so it has no value after it",
            )
    return unflatten(treedef, final)


def fori_loop(lower, upper, body_fn, init):
    """JAX's `fori_loop`: `val = body_fn(i, val)` for `i` in `range(lower, upper)`.

    Inside a trace it is one `while` region (the counter is a loop value),
    whatever the bounds; outside one, a plain Python loop.
    """
    _, out = while_loop(
        lambda c: c[0] < upper,
        lambda c: (c[0] + 1, body_fn(c[0], c[1])),
        (lower, init),
    )
    return out


def _collapse_locals(init, out):
    """`out` with what replaces an `Undefined` of `init` (the values of a
    variable first assigned in the loop) collapsed back to that `Undefined`."""
    if type(init) is Undefined:
        return init
    kind = type(init)
    if kind is not type(out):
        return out
    if kind in (list, tuple) and len(init) == len(out):
        return kind(_collapse_locals(a, b) for a, b in zip(init, out, strict=True))
    if kind is dict and list(init) == list(out):
        return {k: _collapse_locals(init[k], out[k]) for k in init}
    return out


def _internal_assigned(init, out) -> bool:
    """Whether the body assigned an internal `Undefined` of `init`."""
    if type(init) is Undefined:
        return init.internal and type(out) is not Undefined
    kind = type(init)
    if kind is not type(out):
        return False
    if kind in (list, tuple) and len(init) == len(out):
        return any(_internal_assigned(a, b) for a, b in zip(init, out, strict=True))
    if kind is dict and list(init) == list(out):
        return any(_internal_assigned(init[k], out[k]) for k in init)
    return False


def _zero_internal(init, out):
    """`init` with each internal `Undefined` the body assigned replaced by
    zeros of the values it got (never read before they are assigned)."""
    if type(init) is Undefined:
        if not init.internal or type(out) is Undefined:
            return init
        leaves, _, treedef = flatten(out)
        zeros = [
            (
                tracing_module().Tracer(_zeros(ir.type_of(_as_node(x))))
                if _numeric(x)
                else (init if type(x) is Undefined else x)
            )
            for x in leaves
        ]
        return unflatten(treedef, zeros)
    kind = type(init)
    if kind is not type(out):
        return init
    if kind in (list, tuple) and len(init) == len(out):
        return kind(_zero_internal(a, b) for a, b in zip(init, out, strict=True))
    if kind is dict and list(init) == list(out):
        return {k: _zero_internal(init[k], out[k]) for k in init}
    return init


def _loop_types(leaves, out_leaves, carried, types, body, leaf_names):
    """Which positions the loop carries (and their types) after one trace."""
    new_carried = []
    new_types = {}
    for i, (a, b) in enumerate(zip(leaves, out_leaves, strict=True)):
        if type(a) is Undefined:
            continue  # a loop-local variable (or an internal one never set)
        if i in types:
            k = carried.index(i)
            if type(b) is tracing_module().Tracer and b.node is body.params[k]:
                new_carried.append(i)
                new_types[i] = types[i]
                continue
            if not _numeric(b):
                fail(
                    f"{_label(leaf_names, i)} becomes {_describe(b)} in the body of "
                    "a loop on a traced condition",
                    "Keep loop variables numbers or arrays",
                )
            new_carried.append(i)
            new_types[i] = _widen(
                types[i], ir.type_of(_as_node(b)), _label(leaf_names, i)
            )
            continue
        if _same_static(a, b):
            continue
        if not (_numeric(a) and _numeric(b)):
            fail(
                f"{_label(leaf_names, i)} is {_describe(a)} before a loop on a traced "
                f"condition and {_describe(b)} after its body",
                "Only numbers and arrays can change in such a loop; keep other "
                "values the same",
            )
        new_carried.append(i)
        new_types[i] = _widen(
            ir.type_of(_as_node(a)), ir.type_of(_as_node(b)), _label(leaf_names, i)
        )
    return new_carried, new_types
