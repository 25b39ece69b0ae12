"""The compiler stage: the one way from a user function to a `Program`.

Contract (every front end goes through here: `grad`, `value_and_grad` and
`compile` in `symgrad.api`, the transforms in `symgrad.transforms_api`, nested
`grad` and transforms inside a trace, `symgrad.from_sympy` (through
`sympy_bridge.sympy_program`), the command line and the trainers):

- `bind(fun, args, argnums, static, ints, symbolic) -> Signature` is the one
  loop over argument leaves: each leaf becomes a graph input or stays a
  static value; inside a trace (`tag` given) the differentiated leaves get
  fresh stand-in inputs for the outer values (`Signature.outer`).
- `trace(fun, signature, returns) -> Traced` runs `fun` (converted by the
  front end) on tracers for those inputs and reads its output.
- `build(traced, functions, optimize) -> Program` differentiates (reverse mode
  for `value_and_grad`/`gradient`, the transforms for the other `FUNCTIONS`),
  runs the passes over all functions together and returns the named
  functions. `functions=None` is the gradient compilation: `forward`,
  `gradient` and `value_and_grad` (just `forward` without `argnums`).
  Otherwise each function has JAX's meaning and layout: `forward(*args)` the
  output pytree; `value_and_grad` / `gradient` of a scalar output;
  `vjp(*args, ct)` the cotangent of the `argnums` arguments for an output
  cotangent `ct`; `jvp(*args, tangents)` `(output, output tangent)`;
  `jacobian` (= `jacrev`) / `jacfwd` blocks `out.shape + in.shape`;
  `hessian` blocks `in_a.shape + in_b.shape`; `hvp(*args, tangents)` the
  Hessian times `tangents` without forming it. Extra arguments (`ct`,
  `tangents`) are inputs after the function's own; all functions come from
  one trace and are optimized together, so common parts are computed (and
  named) alike.
- `build_program(fun, args, ...)` is bind, trace and build with the handling
  of int arguments (inputs unless `fun` needs one as a Python int);
  `inline(kind, fun, args, argnums, extra)` is bind and trace inside an outer
  trace (`in_trace`), returning tracers.
- `Cache` is the one specialization cache (argument signature -> compiled
  module, least recently used first); `key_of` computes its keys.

`batch=` and `shapes=` (see `symgrad.frontend.specs`) give some axes of the
inputs symbolic sizes, so one program serves every size. The stage knows no
target: code generation reads the `Program` it returns.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import time
import types
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from symgrad import frontend, ir, ops, program
from symgrad.ad import autodiff, transforms
from symgrad.codegen import keys
from symgrad.codegen.naming import doc_safe
from symgrad.errors import ArgumentError, ConcretizationError, TraceError
from symgrad.frontend import specs, tracing
from symgrad.frontend.export import function_name
from symgrad.ir.pytree import LEAF, TreeDef, flatten, graft, tree, unflatten
from symgrad.numpy_api.args import as_node
from symgrad.ops.elementwise import TIE_RULE
from symgrad.passes import optimize as run_passes
from symgrad.passes.rewrite import substitute
from symgrad.program import Function, Leaf, Program

# Functions a module can hold, for `compile(..., functions=...)`.
FUNCTIONS = (
    "forward",
    "gradient",
    "value_and_grad",
    "vjp",
    "jvp",
    "jacobian",
    "jacfwd",
    "jacrev",
    "hessian",
    "hvp",
)

# Tags of the stand-in inputs of nested traces (`inline`), one range for
# gradients and one for the other transforms, so stand-ins never meet.
_TAGS = {"grad": itertools.count(1), "transform": itertools.count(10**6)}


# ------------------------------------------------------------------ arguments


def param_names(fun, nargs: int) -> list:
    """A name per positional argument: `fun`'s parameters, `arg{i}` beyond."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            names.extend(f"{p.name}_{i}" for i in range(nargs - len(names)))
            break
    names += [f"arg{i}" for i in range(len(names), nargs)]
    return names[:nargs]


def _argnums(argnums, nargs: int, fun_name: str):
    single = isinstance(argnums, (int, np.integer))
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ArgumentError(
            "argnums is empty; name at least one argument to differentiate"
        )
    out = []
    for n in nums:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise ArgumentError(f"argnums must be ints, got {n!r}")
        if not -nargs <= n < nargs:
            raise ArgumentError(
                f"argnums={n} is out of range: {fun_name} was called with "
                f"{nargs} positional argument{'s' if nargs != 1 else ''}"
            )
        out.append(int(n) % nargs)
    if len(set(out)) != len(out):
        raise ArgumentError(f"argnums {nums} names an argument twice")
    return tuple(out), single


def _is_float_leaf(x) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, (float, np.floating)):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _is_int_scalar(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_dynamic(x, ints: bool = False) -> bool:
    """Leaves that become graph inputs: floats and numeric NumPy arrays, and
    int scalars unless ints are static (`ints=False`)."""
    if _is_float_leaf(x) or (isinstance(x, np.ndarray) and x.dtype.kind in "biuf"):
        return True
    return ints and _is_int_scalar(x)


def _leaf_spec(x, ints: bool = False, shape=None):
    if _is_dynamic(x, ints):
        arr = np.asarray(x)
        shape = arr.shape if shape is None else shape
        return ("in", shape, arr.dtype.str, type(x) is float)
    try:
        hash(x)
    except TypeError:
        raise ArgumentError(
            f"an argument of type {type(x).__name__} is neither an array nor "
            "hashable; pass data as NumPy arrays, floats, or lists/tuples/dicts of them"
        ) from None
    return ("static", type(x).__name__, x)


def key_of(args, static=(), ints: bool = False, shapes=None, flat=None):
    """The cache key of a call: structure, shapes, dtypes and static values.

    Leaves of the arguments in `static` (positions) are static values; int
    scalars are inputs when `ints` is true. `shapes`, if given, maps leaf
    indices to the shape to use instead of the leaf's own (symbolic sizes,
    from `input_shapes`), so calls with other sizes there have the same key.
    `flat` is `flatten(tuple(args))` when the caller has it already.
    """
    leaves, paths, treedef = flat or flatten(tuple(args))
    shapes = shapes or {}
    specs_ = tuple(
        (
            _leaf_spec(x, ints, shapes.get(i))
            if p[0] not in static
            else _leaf_spec_static(x)
        )
        for i, (x, p) in enumerate(zip(leaves, paths, strict=True))
    )
    return (treedef, specs_, tuple(static), ints), leaves, paths, treedef


def input_shapes(
    fun,
    args,
    static=frozenset(),
    ints=False,
    batch=None,
    shapes=None,
    flat=None,
    params=None,
) -> dict:
    """{flat leaf index: the symbolic shape its input is traced with} for the
    leaves `batch`/`shapes` (normalized by `specs.normalize`) give symbolic
    sizes; empty when neither is given. `flat` (`flatten(tuple(args))`) and
    `params` (the parameter names) may be passed when known."""
    if not batch and not shapes:
        return {}
    leaves, paths, _ = flat or flatten(tuple(args))
    dynamic = [
        p[0] not in static and _is_dynamic(x, ints)
        for x, p in zip(leaves, paths, strict=True)
    ]
    params = params or param_names(fun, len(args))
    return specs.resolve(params, leaves, paths, dynamic, batch, shapes)


def _leaf_spec_static(x):
    if isinstance(x, np.ndarray):
        raise ArgumentError(
            "a NumPy array cannot be a static argument (static_argnums); pass it "
            "as a normal argument"
        )
    return _leaf_spec(x, False) if not _is_float_leaf(x) else ("static", "float", x)


def _check_diff_leaves(leaves, paths, argnums, params):
    for leaf, path in zip(leaves, paths, strict=True):
        if path[0] in argnums and not _is_float_leaf(leaf):
            label = keys.label(params[path[0]], path[1:])
            kind = type(leaf).__name__
            if isinstance(leaf, np.ndarray):
                kind = f"array of dtype {leaf.dtype}"
            raise ArgumentError(
                f"cannot differentiate with respect to {label}: it is {kind}, and "
                "gradients need floats. Pass a float (3.0, not 3) or a float array "
                "(np.asarray(x, dtype=float)), or leave it out of argnums"
            )


def static_positions(static_argnums, nargs) -> frozenset:
    """The positions `static_argnums` names, checked and made non-negative."""
    nums = (static_argnums,) if isinstance(static_argnums, int) else static_argnums
    out = set()
    for n in nums:
        if not isinstance(n, (int, np.integer)) or not -nargs <= n < nargs:
            raise ArgumentError(
                f"static_argnums={n!r} is not the position of an argument "
                f"(there are {nargs})"
            )
        out.add(int(n) % nargs)
    return frozenset(out)


def check_optimize(optimize):
    if optimize not in (True, False, "fast"):
        raise ArgumentError(
            f"optimize={optimize!r}: use True (the IEEE-exact passes), False (none) "
            'or "fast" (also rewrites like 0*x -> 0 that are wrong for inf/NaN '
            "and reassociations that round differently)"
        )
    return optimize


def is_fast(optimize) -> bool:
    """True when `optimize` asks for the inexact rewrites."""
    return optimize == "fast"


def count_ops(outputs) -> int:
    """Operations (nodes other than inputs and constants) computing `outputs`:
    the statements codegen emits for a function returning them."""
    return sum(1 for n in ir.toposort(outputs) if n.op not in ("input", "const"))


def _leaf_hint(params, path) -> str:
    pos, *path_keys = path
    texts = [keys.hint_text(k) for k in path_keys]
    if path_keys and isinstance(path_keys[0], str):
        return "_".join(texts)
    return "_".join([params[pos]] + texts)


def _source_file(fun) -> str:
    fun = _defining(fun)
    try:
        name = inspect.getsourcefile(fun) or fun.__code__.co_filename
    except Exception:  # noqa: BLE001 - not a function, or a file name with NUL
        try:
            name = fun.__code__.co_filename
        except AttributeError:
            return "<unknown>"
    return name if isinstance(name, str) else "<unknown>"


def _defining(fun):
    """The function whose file a callable comes from: a partial's function,
    a staticmethod's, what a decorator object wraps, a callable object's
    `__call__` (inspect finds bound methods and decorated functions itself)."""
    for _ in range(100):  # partials of partials
        if isinstance(fun, functools.partial):
            fun = fun.func
        elif isinstance(fun, (staticmethod, classmethod)):
            fun = fun.__func__
        elif isinstance(fun, (types.FunctionType, types.MethodType, type)):
            break
        elif getattr(fun, "__wrapped__", None) is not None:
            fun = fun.__wrapped__  # a decorator object (functools.lru_cache)
        else:
            # (The class's own attribute: a callable object's method.)
            call = inspect.getattr_static(type(fun), "__call__", None)
            return call if isinstance(call, types.FunctionType) else fun
    return fun


# ------------------------------------------------------------------ bind


@dataclass(eq=False)
class Signature(program.Signature):
    """The arguments of a call, bound: `program.Signature` (parameter names,
    argument structure, a `Leaf` per flat leaf) plus what the call says."""

    name: str = ""  # the function's name
    filename: str = ""  # its file ("" until `build` asks)
    argnums: tuple = ()  # the differentiated arguments
    single: bool = True  # argnums was an int (or None)
    # Inside a trace: the stand-in input of each differentiated leaf -> the
    # outer node it stands for.
    outer: dict = field(default_factory=dict)

    @property
    def wrt(self) -> list:
        """The inputs of the differentiated leaves, in `argnums` order."""
        return [
            leaf.node
            for a in self.argnums
            for leaf in self.leaves
            if leaf.path[0] == a and leaf.node is not None
        ]

    @property
    def diff(self) -> list:
        """The inputs of the differentiated leaves, in leaf order."""
        return [
            leaf.node
            for leaf in self.leaves
            if leaf.path[0] in self.argnums and leaf.node is not None
        ]


def bind(
    fun,
    args,
    argnums=None,
    static=frozenset(),
    ints=False,
    symbolic=(None, None),
    check=True,
    tag=None,
    name=None,
    params=None,
    filename="",
) -> Signature:
    """Bind `args` to `fun`: the one loop making argument leaves graph inputs.

    Outside a trace (`tag=None`) every leaf not at a `static` position that
    is a float, a numeric array, or (with `ints`) an int scalar becomes an
    input, shaped by `symbolic` (normalized `(batch, shapes)`) where it says
    so; the others stay static values. `check` makes sure the `argnums`
    leaves are floats. Inside a trace (`tag` an int) only the `argnums`
    leaves become inputs, fresh ones with that tag standing for the outer
    values (tracers or constants), so that what `fun` closes over is
    constant for this derivative; the other leaves pass through as they are.
    `name`, `params` and `filename` default to the function's own.
    """
    args = tuple(args)
    name = function_name(fun) if name is None else name
    params = param_names(fun, len(args)) if params is None else params
    if argnums is None:
        nums, single = (), True
    else:
        nums, single = _argnums(argnums, len(args), name)
    flat = flatten(args)
    leaves, paths, treedef = flat
    shapes, outer, bound = {}, {}, []
    if tag is None:
        key_of(args, static, ints, flat=flat)  # unusable static values fail here
        if check:
            _check_diff_leaves(leaves, paths, nums, params)
        shapes = input_shapes(fun, args, static, ints, *symbolic, flat, params)
    for i, (leaf, path) in enumerate(zip(leaves, paths, strict=True)):
        if tag is not None and path[0] in nums:
            like = _outer_node(leaf, path, nums, params)
            node = ops.input_node(
                i, _leaf_hint(params, path), like.shape, like.dtype, tag
            )
            outer[node] = like
        elif tag is None and path[0] not in static and _is_dynamic(leaf, ints):
            arr = np.asarray(leaf)
            shape = shapes.get(i, arr.shape)
            node = ops.input_node(i, _leaf_hint(params, path), shape, arr.dtype)
        else:
            bound.append(Leaf(path, None, value=leaf))
            continue
        bound.append(Leaf(path, node, pyfloat=type(leaf) is float))
    return Signature(
        params,
        treedef,
        bound,
        name=name,
        filename=filename,
        argnums=nums,
        single=single,
        outer=outer,
    )


def _outer_node(leaf, path, argnums, params) -> ir.Node:
    """The node of a differentiated leaf inside a trace (a constant for a
    plain value)."""
    if isinstance(leaf, tracing.Tracer):
        node = leaf.node
    else:
        if not _is_float_leaf(leaf):
            _check_diff_leaves([leaf], [path], argnums, params)
        node = ops.const(np.asarray(leaf))
    if node.dtype.kind != "f":
        raise ArgumentError(
            f"cannot differentiate with respect to a {node.dtype} value"
        )
    return node


# ------------------------------------------------------------------ trace


@dataclass
class Traced:
    """A traced function: its bound signature and output nodes."""

    signature: Signature
    outputs: list  # output leaf nodes
    out_tree: TreeDef  # the structure returned
    fun: object = None  # the function traced (None for a SymPy expression)
    stats: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.signature.name

    @property
    def wrt(self) -> list:
        return self.signature.wrt

    @property
    def single(self) -> bool:
        return self.signature.single

    @property
    def wrt_tree(self) -> TreeDef:
        sig = self.signature
        parts = [sig.treedef.children[a] for a in sig.argnums]
        return parts[0] if sig.single else tree("tuple", parts)


def trace(fun, sig: Signature, returns: str = "tree") -> Traced:
    """Run `fun` on tracers for `sig`'s inputs. `returns`: "tree" (any output
    pytree), "scalar" (one float scalar, as under `grad`) or "array" (one
    float array, a model's forward pass)."""
    t0 = time.perf_counter()
    call = [
        leaf.value if leaf.node is None else tracing.Tracer(leaf.node)
        for leaf in sig.leaves
    ]
    out = tracing.trace(frontend.convert(fun), unflatten(sig.treedef, call))
    if returns == "tree":
        out_leaves, _, out_tree = flatten(out)
        outputs = [tracing.output_leaf(x, sig.name) for x in out_leaves]
    else:
        outputs = [tracing.output_node(out, sig.name, scalar=returns == "scalar")]
        out_tree = LEAF
    stats = {"trace_s": time.perf_counter() - t0}
    return Traced(sig, outputs, out_tree, fun, stats)


# ------------------------------------------------------------------ build

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


def _extended(
    sig: program.Signature, name: str, trees: TreeDef, likes
) -> program.Signature:
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
    return program.Signature(list(sig.params) + [name], treedef, leaves, base=sig)


def build(traced: Traced, functions=None, optimize=True) -> Program:
    """The `Program` of `functions` (names from `FUNCTIONS`; None: the
    gradient compilation) of a traced function, optimized together."""
    sig = traced.signature
    stats = dict(traced.stats)
    if functions is None:
        built, forward, both = _gradient(traced, optimize, stats)
    else:
        built, forward, both = _transforms(traced, functions, optimize, stats)
    stats["forward_ops"] = count_ops(forward) if forward else 0
    stats["value_and_grad_ops"] = count_ops(both)
    return Program(
        fun_name=sig.name,
        filename=sig.filename or _source_file(traced.fun),
        signature=sig,
        functions=built,
        argnums=sig.argnums,
        single=sig.single,
        stats=stats,
    )


def _gradient(traced: Traced, optimize, stats) -> tuple:
    """`forward`, `gradient` and `value_and_grad` by reverse mode (just
    `forward` without `argnums`): (functions, forward nodes, the nodes of
    the value and its gradient)."""
    sig = traced.signature
    (value,) = traced.outputs
    diff = [
        i
        for i, leaf in enumerate(sig.leaves)
        if leaf.path[0] in sig.argnums and leaf.node is not None
    ]
    t0 = time.perf_counter()
    # The value as traced serves `forward`; reverse mode may replace it by
    # one that also keeps what its sweep needs (loop stacks, branch values).
    fwd = value
    value, grads = autodiff.value_and_grad(value, [sig.leaves[i].node for i in diff])
    stats["differentiate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if optimize:
        # The value keeps its bits; gradient sums may be reassociated.
        fwd, value, *grads = run_passes(
            [fwd, value] + grads, forward=2, fast=is_fast(optimize), gradients=True
        )
    stats["passes_s"] = time.perf_counter() - t0
    fun = doc_safe(sig.name)
    forward = Function(
        "forward",
        sig,
        [fwd],
        LEAF,
        [True],
        doc=f"The value of {fun}.",
        summary=f"value of {fun}",
    )
    if not sig.argnums:
        return [forward], [fwd], [value] + grads
    # Outputs in the order the gradient's structure lists them: argument by
    # argument as `argnums` names them, each argument's leaves in order.
    by_leaf = dict(zip(diff, grads, strict=True))
    order = [
        i
        for a in sig.argnums
        for i, leaf in enumerate(sig.leaves)
        if leaf.path[0] == a and i in by_leaf
    ]
    ordered = [by_leaf[i] for i in order]
    floats = [sig.leaves[i].pyfloat for i in order]
    wrt = doc_safe(", ".join(sig.params[a] for a in sig.argnums))
    both = Function(
        "value_and_grad",
        sig,
        [value] + ordered,
        tree("tuple", [LEAF, traced.wrt_tree]),
        [True] + floats,
        doc="The value and the gradient.",
        summary="(value, gradient)",
    )
    gradient = Function(
        "gradient",
        sig,
        ordered,
        traced.wrt_tree,
        floats,
        doc="The gradient (same structure as the differentiated arguments).",
        summary=f"its gradient with respect to {wrt}",
        delegate=("value_and_grad", 1),
    )
    return [forward, gradient, both], [fwd], [value] + grads


def _transforms(traced: Traced, functions, optimize, stats) -> tuple:
    """The transforms `functions` from one trace, each with JAX's meaning and
    layout (see `outputs_for`): (functions, forward nodes, all nodes)."""
    sig = traced.signature
    fun_doc = doc_safe(sig.name)
    t0 = time.perf_counter()
    extended: dict = {}  # extra argument name -> its signature (shared)
    built: list = []
    kinds = sorted(set(functions), key=FUNCTIONS.index)
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
            run_passes(forward + rest, forward=len(forward), fast=is_fast(optimize))
        )
        for fn in [f for f in built if f.name == "forward"] + [
            f for f in built if f.name != "forward"
        ]:
            fn.outputs = [next(new) for _ in fn.outputs]
    stats["passes_s"] = time.perf_counter() - t0
    if "gradient" in functions and "value_and_grad" not in functions:
        built = [fn for fn in built if fn.name != "value_and_grad"] + [
            fn for fn in built if fn.name == "value_and_grad"
        ]
    return built, forward, forward + rest


def build_program(
    fun,
    args,
    argnums=0,
    optimize=True,
    static_argnums=(),
    ints=True,
    batch=None,
    shapes=None,
    functions=None,
) -> Program:
    """Bind, trace and build `fun` at `args` (no code generation).

    `functions` as for `build` (names from `FUNCTIONS`; None: forward,
    gradient and value_and_grad). With `argnums=None` and no `functions`
    nothing is differentiated and `fun` may return an array: the program of a
    model's forward pass (`predict`).

    Int scalars are inputs of the generated code (`ints=True`) unless the
    function needs one concretely (a size, an index, a `range` bound): then
    it is traced again with ints as static values, and `Program.static_ints`
    says so. Arguments at `static_argnums` are always static.

    `batch` and `shapes` (see `symgrad.frontend.specs`) make axes of the inputs
    symbolic: the program then serves every size there.
    """
    if functions is not None:
        unknown = [f for f in functions if f not in FUNCTIONS]
        if unknown or not functions:
            raise ArgumentError(
                f"unknown functions {unknown}; a module can hold "
                + ", ".join(FUNCTIONS)
            )
        argnums = 0 if argnums is None else argnums
    check_optimize(optimize)
    static = static_positions(static_argnums, len(args))
    symbolic = specs.normalize(batch, shapes)
    if ints and any(_is_int_scalar(x) for x in flatten(tuple(args))[0]):
        try:
            return _build(
                fun, args, argnums, optimize, static, True, symbolic, functions
            )
        except ConcretizationError:
            pass  # an int is needed as a Python int: make ints static
    built = _build(fun, args, argnums, optimize, static, False, symbolic, functions)
    built.static_ints = True
    return built


def _build(fun, args, argnums, optimize, static, ints, symbolic, functions):
    if functions is None:
        check, returns = True, "scalar" if argnums is not None else "array"
    else:
        check, returns = bool(set(functions) - {"forward"}), "tree"
    sig = bind(fun, args, argnums, static, ints, symbolic, check)
    return build(trace(fun, sig, returns), functions, optimize)


# ------------------------------------------------------------------ nested


def in_trace(args) -> bool:
    """True inside a trace, or when an argument holds a tracer: transforms
    then build graph nodes (`inline`) instead of compiling."""
    return tracing.is_tracing() or any(
        isinstance(x, tracing.Tracer) for x in flatten(tuple(args))[0]
    )


def inline(kind: str, fun, args, argnums, extra_value=None):
    """The transform `kind` of `fun` at `args` inside the current trace, as
    tracers: "value_and_grad"/"gradient" as `grad` returns them, or one of
    the other `FUNCTIONS` with `extra_value` its extra argument (`EXTRA`)."""
    if kind in ("value_and_grad", "gradient"):
        sig = bind(fun, args, argnums, tag=next(_TAGS["grad"]))
        (value,) = trace(fun, sig, "scalar").outputs
        value, grads = autodiff.value_and_grad(value, sig.diff)
        value, *grads = substitute([value] + grads, sig.outer)
        grad_leaves = iter(tracing.Tracer(g) for g in grads)
        trees = [
            unflatten(
                sig.treedef.children[a],
                [next(grad_leaves) for leaf in sig.leaves if leaf.path[0] == a],
            )
            for a in sig.argnums
        ]
        result = trees[0] if sig.single else tuple(trees)
        return (tracing.Tracer(value), result) if kind == "value_and_grad" else result
    sig = bind(fun, args, argnums, tag=next(_TAGS["transform"]))
    traced = trace(fun, sig, "tree")
    extra = ()
    if kind in EXTRA:
        arg, trees, _ = EXTRA[kind](traced)
        values, _, given = flatten(extra_value)
        if given != trees:
            raise ArgumentError(
                f"{kind}: the {arg} have structure {given.describe()}, but need "
                f"{trees.describe()}"
            )
        extra = [
            v.node if isinstance(v, tracing.Tracer) else as_node(v) for v in values
        ]
    nodes, shape, _ = outputs_for(kind, traced, extra)
    nodes = substitute(nodes, sig.outer)
    return unflatten(shape, [tracing.Tracer(n) for n in nodes])


# ------------------------------------------------------------------ cache


class Cache:
    """Compiled specializations, the `size` most recently used (thread-safe):
    the one cache of `grad`, `value_and_grad` and the transforms.

    `get(prefix, fun, args, static, symbolic, make)` returns what `make()`
    returned for an earlier call with the same key, or calls it and keeps
    the result. The key is `prefix` (what else the result depends on), the
    argument signature (`key_of`, with symbolic sizes in place of the sizes
    they stand for, so other sizes find the same module) and the tie rule in
    force (it changes the compiled gradient). Int scalars are inputs until a
    result's `program.static_ints` says the function needs them as Python
    ints; from then on (for that prefix) their values are part of the key.
    """

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.static_ints: set = set()  # prefixes whose ints are static
        self.params: dict = {}  # (prefix, number of arguments) -> names
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.items)

    def get(self, prefix, fun, args, static, symbolic, make):
        ints = prefix not in self.static_ints
        key = self._key(prefix, fun, args, static, ints, symbolic)
        try:
            hash(key)
        except TypeError:
            return make()
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
                return hit
        # Made outside the lock: another thread may compile the same key at
        # the same time; both results are identical.
        value = make()
        if value.program.static_ints and ints:
            with self.lock:
                self.static_ints.add(prefix)
            key = self._key(prefix, fun, args, static, False, symbolic)
        with self.lock:
            if self.size:
                self.items[key] = value
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
        return value

    def _key(self, prefix, fun, args, static, ints, symbolic):
        batch, shapes = symbolic
        if not batch and not shapes:
            return prefix, key_of(args, static, ints)[0], TIE_RULE.get()
        flat = flatten(tuple(args))
        params = self.params.get((prefix, len(args)))
        if params is None:
            params = param_names(fun, len(args))
            self.params[(prefix, len(args))] = params
        sizes = input_shapes(fun, args, static, ints, batch, shapes, flat, params)
        return prefix, key_of(args, static, ints, sizes, flat)[0], TIE_RULE.get()
