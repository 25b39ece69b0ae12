"""Programs of transforms: the functions a module holds, built from one trace.

Contract: `build(fun, args, functions, argnums, optimize, static, ints,
symbolic)` (`symbolic`: the normalized `(batch, shapes)` of `symgrad.frontend.specs`)
traces `fun` once and returns a `Program` whose functions are the requested
ones (`compiler.FUNCTIONS`), with JAX's meanings and layouts:

- `forward(*args)`: the function's own output pytree;
- `value_and_grad` / `gradient`: of a scalar output, as `symgrad.grad`;
- `vjp(*args, ct)`: the cotangent of the `argnums` arguments for an output
  cotangent `ct` (the output's structure);
- `jvp(*args, tangents)`: `(output, output tangent)` for tangents of the
  `argnums` arguments;
- `jacobian` (= `jacrev`) / `jacfwd`: blocks of shape `out.shape + in.shape`
  in the output's structure around the arguments';
- `hessian`: of a scalar output, blocks `in_a.shape + in_b.shape`;
- `hvp(*args, tangents)`: the Hessian times `tangents`, without forming it.

`outputs_for(kind, traced, extra)` builds one transform's output nodes, tree
and float flags from a `Traced` function (outputs and the nodes of the
differentiated arguments); `build` wraps them into `Function`s over
signatures, and `symgrad.api` uses the same core inside a trace (nested
transforms). Extra arguments (`ct`, `tangents`) are graph inputs after the
function's own. All functions come from the same trace and are optimized
together, so common parts are computed the same way (and named alike).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from symgrad import compiler, ops
from symgrad.ad import autodiff, transforms
from symgrad.codegen.naming import doc_safe
from symgrad.errors import ArgumentError, TraceError
from symgrad.ir.pytree import LEAF, TreeDef, flatten, graft, tree
from symgrad.passes import optimize as run_passes
from symgrad.program import Function, Leaf, Program, Signature


@dataclass
class Traced:
    """A traced function, as the transforms read it."""

    name: str
    outputs: list  # output leaf nodes
    out_tree: TreeDef
    wrt: list  # nodes of the differentiated leaves, argnums order
    parts: list  # TreeDef of each differentiated argument
    single: bool  # argnums was an int

    @property
    def wrt_tree(self) -> TreeDef:
        return self.parts[0] if self.single else tree("tuple", self.parts)


# What each transform adds as an argument: (its name, its structure, the
# nodes its leaves are shaped like), read from a Traced.
EXTRA = {
    "vjp": lambda t: ("ct", t.out_tree, t.outputs),
    "jvp": lambda t: ("tangents", t.wrt_tree, t.wrt),
    "hvp": lambda t: ("tangents", t.wrt_tree, t.wrt),
}

DOCS = {
    "forward": ("The value of {fun}.", "value of {fun}"),
    "value_and_grad": ("The value and the gradient.", "(value, gradient)"),
    "gradient": (
        "The gradient (same structure as the differentiated arguments).",
        "its gradient",
    ),
    "vjp": (
        "The cotangent of the arguments for the output cotangent ct.",
        "cotangents of the arguments",
    ),
    "jvp": (
        "The value and its tangent for the arguments' tangents.",
        "(value, tangent of the value)",
    ),
    "jacobian": (
        "The Jacobian: d output / d argument, blocks of shape output.shape + "
        "argument.shape.",
        "its Jacobian",
    ),
    "hessian": (
        "The Hessian: blocks of shape argument_a.shape + argument_b.shape.",
        "its Hessian",
    ),
    "hvp": (
        "The Hessian times the tangents, without forming the Hessian.",
        "Hessian-vector product",
    ),
}
DOCS["jacrev"] = DOCS["jacfwd"] = DOCS["jacobian"]


def _scalar(t: Traced, what):
    outs = t.outputs
    if len(outs) != 1 or outs[0].shape != () or outs[0].dtype.kind != "f":
        raise TraceError(
            f"{what} needs {doc_safe(t.name)} to return one float scalar; reduce "
            "its output with .sum() or .mean()"
        )
    return outs[0]


def _scalars(nodes) -> list:
    return [n.shape == () and n.dtype.kind in "fiub" for n in nodes]


def outputs_for(kind: str, t: Traced, extra=()) -> tuple:
    """(output nodes, output TreeDef, per-output float flags) of one transform;
    `extra` holds the nodes of its extra argument's leaves (see `EXTRA`)."""
    floats = [w.ndim == 0 for w in t.wrt]
    if kind == "forward":
        return t.outputs, t.out_tree, _scalars(t.outputs)
    if kind in ("value_and_grad", "gradient"):
        value = _scalar(t, kind)
        (value,), grads = transforms.vjp_nodes(
            [value], [autodiff.seed_for(value)], t.wrt
        )
        if kind == "gradient":
            return grads, t.wrt_tree, floats
        return [value] + grads, tree("tuple", [LEAF, t.wrt_tree]), [True] + floats
    if kind == "vjp":
        if any(o.dtype.kind != "f" for o in t.outputs):
            raise ArgumentError(f"vjp needs {doc_safe(t.name)} to return only floats")
        _, grads = transforms.vjp_nodes(t.outputs, list(extra), t.wrt)
        return grads, t.wrt_tree, floats
    if kind == "jvp":
        outs, touts = transforms.jvp_nodes(t.outputs, t.wrt, list(extra))
        both = tree("tuple", [t.out_tree, t.out_tree])
        return outs + touts, both, _scalars(outs) * 2
    if kind in ("jacobian", "jacrev", "jacfwd"):
        mode = "fwd" if kind == "jacfwd" else "rev"
        _, blocks = transforms.jacobian_nodes(t.outputs, t.wrt, mode)
        flat = [b for row in blocks for b in row]
        return flat, graft(t.out_tree, lambda k: t.wrt_tree), [False] * len(flat)
    if kind == "hessian":
        _, blocks, _ = transforms.hessian_nodes(_scalar(t, kind), t.wrt)
        flat = [b for row in blocks for b in row]
        return flat, graft(t.wrt_tree, lambda k: t.wrt_tree), [False] * len(flat)
    if kind == "hvp":
        _, _, hv = transforms.hvp_nodes(_scalar(t, kind), t.wrt, list(extra))
        return hv, t.wrt_tree, floats
    raise ArgumentError(f"unknown transform {kind!r}")


def _extended(sig: Signature, name: str, trees: TreeDef, likes) -> Signature:
    """`sig` with one more argument `name` of structure `trees` whose leaves
    are new inputs shaped like `likes`."""
    pos = len(sig.params)
    base = len(sig.leaves)
    _, paths, _ = flatten(trees.unflatten(range(trees.num_leaves)), (pos,))
    leaves = list(sig.leaves)
    for k, (like, path) in enumerate(zip(likes, paths, strict=True)):
        node = ops.input_node(base + k, f"{name}_{k}", like.shape, like.dtype, tag=1)
        node.hint = name if len(likes) == 1 else f"{name}_{k}"
        leaves.append(Leaf(path, node))
    treedef = tree("tuple", list(sig.treedef.children) + [trees])
    return Signature(list(sig.params) + [name], treedef, leaves, base=sig)


def build(
    fun, args, functions, argnums, optimize, static, ints, symbolic=(None, None)
) -> Program:
    name = compiler.function_name(fun)
    argnums_t, single = compiler._argnums(
        0 if argnums is None else argnums, len(args), name
    )
    if set(functions) - {"forward"}:
        raw, raw_paths, _ = flatten(tuple(args))
        params = compiler._param_names(fun, len(args))
        compiler._check_diff_leaves(raw, raw_paths, argnums_t, params)
    name, params, treedef, leaves, outputs, out_tree, stats = compiler.trace_function(
        fun, args, static, ints, *symbolic
    )
    wrt = [
        leaf.node
        for a in argnums_t
        for leaf in leaves
        if leaf.path[0] == a and leaf.node is not None
    ]
    traced = Traced(
        name,
        outputs,
        out_tree,
        wrt,
        [treedef.children[a] for a in argnums_t],
        single,
    )
    sig = Signature(params, treedef, leaves)
    fun_doc = doc_safe(name)
    t0 = time.perf_counter()
    extended: dict = {}  # extra argument name -> its signature (shared)
    built: list = []
    kinds = sorted(set(functions), key=compiler.FUNCTIONS.index)
    if "gradient" in kinds and "value_and_grad" not in kinds:
        kinds.insert(kinds.index("gradient") + 1, "value_and_grad")
    for kind in kinds:
        fsig, extra = sig, ()
        if kind in EXTRA:
            arg, trees, likes = EXTRA[kind](traced)
            if arg not in extended:
                extended[arg] = _extended(sig, arg, trees, likes)
            fsig = extended[arg]
            extra = [leaf.node for leaf in fsig.leaves[len(sig.leaves) :]]
        doc, summary = (text.format(fun=fun_doc) for text in DOCS[kind])
        if kind == "gradient":
            # A wrapper: the gradient is value_and_grad's second item.
            nodes, shape, floats = [], traced.wrt_tree, []
            delegate = ("value_and_grad", 1)
        else:
            nodes, shape, floats = outputs_for(kind, traced, extra)
            delegate = None
        built.append(
            Function(
                kind,
                fsig,
                nodes,
                shape,
                floats,
                doc=doc,
                summary=summary,
                delegate=delegate,
            )
        )
    stats["differentiate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    forward = [n for fn in built if fn.name == "forward" for n in fn.outputs]
    rest = [n for fn in built if fn.name != "forward" for n in fn.outputs]
    if optimize and forward + rest:
        new = iter(
            run_passes(
                forward + rest, forward=len(forward), fast=compiler.is_fast(optimize)
            )
        )
        for fn in [f for f in built if f.name == "forward"] + [
            f for f in built if f.name != "forward"
        ]:
            fn.outputs = [next(new) for _ in fn.outputs]
    stats["passes_s"] = time.perf_counter() - t0
    stats["forward_ops"] = compiler.count_ops(forward) if forward else 0
    stats["value_and_grad_ops"] = compiler.count_ops(forward + rest)
    primary = next(fn for fn in built if fn.delegate is None)
    if "gradient" in functions and "value_and_grad" not in functions:
        built = [fn for fn in built if fn.name != "value_and_grad"] + [
            fn for fn in built if fn.name == "value_and_grad"
        ]
    return Program(
        fun_name=name,
        filename=compiler._source_file(fun),
        params=params,
        treedef=treedef,
        leaves=leaves,
        argnums=argnums_t,
        single=single,
        value=primary.outputs[0] if primary.outputs else ops.const(0.0),
        grads=[],
        diff=[i for i, leaf in enumerate(leaves) if leaf.node in set(wrt)],
        stats=stats,
        functions=built,
    )
