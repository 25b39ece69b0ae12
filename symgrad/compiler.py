"""The compiler stage: from a user function and example arguments to a Program.

Contract: `build_program(fun, args, argnums, ...)` traces `fun` (after the
front end converts it) at arguments shaped like `args`, differentiates the
value with respect to the `argnums` arguments, runs the passes and returns the
`Program` of `forward`, `gradient` and `value_and_grad`. `trace_function`
stops after tracing (any output pytree), for the transforms
(`symgrad.transforms_api`) that build other functions from it. This is the one
glue between the stages: `api`, the transforms, `sympy_bridge.from_sympy` and
the command line call it, and it calls down into frontend, tracing,
autodiff, passes. Argument handling (which leaves are graph inputs and which
are static, the cache signature) lives here too, and so does the choice of
symbolic sizes: `batch=` and `shapes=` (see `symgrad.frontend.specs`) give some axes
of the inputs symbolic sizes, so one program serves every size.
"""

from __future__ import annotations

import functools
import inspect
import time
import types

import numpy as np

from symgrad import frontend, ir, ops
from symgrad.ad import autodiff
from symgrad.codegen import keys
from symgrad.errors import ArgumentError, ConcretizationError
from symgrad.frontend import specs, tracing
from symgrad.frontend.export import function_name
from symgrad.ir.pytree import flatten, unflatten
from symgrad.passes import optimize as run_passes
from symgrad.program import Leaf, Program


def _param_names(fun, nargs: int) -> list:
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


def signature(args, static=(), ints: bool = False, shapes=None, flat=None):
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
    params = params or _param_names(fun, len(args))
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


# ------------------------------------------------------------------ building


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


def build_program(
    fun,
    args,
    argnums=0,
    optimize=True,
    static_argnums=(),
    ints=True,
    batch=None,
    shapes=None,
) -> Program:
    """Trace, differentiate and optimize `fun` at `args` (no code generation).

    With `argnums=None` nothing is differentiated and `fun` may return an
    array: the program of a model's forward pass (`predict`).

    Int scalars are inputs of the generated code (`ints=True`) unless the
    function needs one concretely (a size, an index, a `range` bound): then
    it is traced again with ints as static values, and `Program.static_ints`
    says so. Arguments at `static_argnums` are always static.

    `batch` and `shapes` (see `symgrad.frontend.specs`) make axes of the inputs
    symbolic: the program then serves every size there.
    """
    static = _static_positions(static_argnums, len(args))
    batch, shapes = specs.normalize(batch, shapes)
    if ints and any(_is_int_scalar(x) for x in flatten(tuple(args))[0]):
        try:
            return _build(fun, args, argnums, optimize, static, True, batch, shapes)
        except ConcretizationError:
            pass  # an int is needed as a Python int: make ints static
    program = _build(fun, args, argnums, optimize, static, False, batch, shapes)
    program.static_ints = True
    return program


def _static_positions(static_argnums, nargs) -> frozenset:
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


def _build(fun, args, argnums, optimize, static, ints, batch, shapes) -> Program:
    name = function_name(fun)
    params = _param_names(fun, len(args))
    if argnums is None:
        argnums, single = (), True
    else:
        argnums, single = _argnums(argnums, len(args), name)
    _check_optimize(optimize)
    _, leaves, paths, treedef = signature(args, static, ints)
    _check_diff_leaves(leaves, paths, argnums, params)
    traced_shapes = input_shapes(fun, args, static, ints, batch, shapes)
    stats = {}
    t0 = time.perf_counter()
    program_leaves = []
    call_leaves = []
    for i, (leaf, path) in enumerate(zip(leaves, paths, strict=True)):
        if path[0] not in static and _is_dynamic(leaf, ints):
            arr = np.asarray(leaf)
            label = _leaf_hint(params, path)
            shape = traced_shapes.get(i, arr.shape)
            node = ops.input_node(i, label, shape, arr.dtype)
            program_leaves.append(Leaf(path, node, pyfloat=type(leaf) is float))
            call_leaves.append(tracing.Tracer(node))
        else:
            program_leaves.append(Leaf(path, None, value=leaf))
            call_leaves.append(leaf)
    out = tracing.trace(frontend.convert(fun), unflatten(treedef, call_leaves))
    value = tracing.output_node(out, name, scalar=bool(argnums))
    stats["trace_s"] = time.perf_counter() - t0
    diff = [i for i, p in enumerate(paths) if p[0] in argnums]
    t0 = time.perf_counter()
    wrt = [program_leaves[i].node for i in diff]
    # The value as traced serves `forward`; reverse mode may replace it by
    # one that also keeps what its sweep needs (loop stacks, branch values).
    traced = value
    value, grads = autodiff.value_and_grad(value, wrt)
    stats["differentiate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if optimize:
        traced, value, *grads = run_passes(
            [traced, value] + grads, forward=2, fast=is_fast(optimize)
        )
    stats["passes_s"] = time.perf_counter() - t0
    stats["forward_ops"] = count_ops([traced])
    stats["value_and_grad_ops"] = count_ops([value] + grads)
    return Program(
        fun_name=name,
        filename=_source_file(fun),
        params=params,
        treedef=treedef,
        leaves=program_leaves,
        argnums=argnums,
        single=single,
        value=value,
        grads=grads,
        diff=diff,
        stats=stats,
        forward=traced if traced is not value else None,
    )


def _check_optimize(optimize):
    if optimize not in (True, False, "fast", "unsafe"):
        raise ArgumentError(
            f"optimize={optimize!r}: use True (the IEEE-exact passes), False (none) "
            'or "fast" (also rewrites like 0*x -> 0 that are wrong for inf/NaN '
            "and reassociations that round differently)"
        )
    return optimize


def is_fast(optimize) -> bool:
    """True when `optimize` asks for the inexact rewrites ("unsafe" is its old name)."""
    return optimize in ("fast", "unsafe")


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


# ------------------------------------------------------------------ transforms

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


def trace_function(fun, args, static=frozenset(), ints=False, batch=None, shapes=None):
    """Trace `fun` at `args`: (signature parts, output nodes, output tree, stats).

    `batch`/`shapes` (normalized, see `symgrad.frontend.specs`) make axes symbolic."""
    name = function_name(fun)
    params = _param_names(fun, len(args))
    _, leaves, paths, treedef = signature(args, static, ints)
    traced_shapes = input_shapes(fun, args, static, ints, batch, shapes)
    t0 = time.perf_counter()
    program_leaves, call_leaves = [], []
    for i, (leaf, path) in enumerate(zip(leaves, paths, strict=True)):
        if path[0] not in static and _is_dynamic(leaf, ints):
            arr = np.asarray(leaf)
            shape = traced_shapes.get(i, arr.shape)
            node = ops.input_node(i, _leaf_hint(params, path), shape, arr.dtype)
            program_leaves.append(Leaf(path, node, pyfloat=type(leaf) is float))
            call_leaves.append(tracing.Tracer(node))
        else:
            program_leaves.append(Leaf(path, None, value=leaf))
            call_leaves.append(leaf)
    out = tracing.trace(frontend.convert(fun), unflatten(treedef, call_leaves))
    out_leaves, _, out_tree = flatten(out)
    outputs = [tracing.output_leaf(x, name) for x in out_leaves]
    stats = {"trace_s": time.perf_counter() - t0}
    return name, params, treedef, program_leaves, outputs, out_tree, stats


def build_functions(
    fun,
    args,
    functions,
    argnums=0,
    optimize=True,
    static_argnums=(),
    ints=True,
    batch=None,
    shapes=None,
) -> Program:
    """The Program of `functions` (names from `FUNCTIONS`) of `fun` at `args`.

    `argnums` names what the derivatives are taken with respect to; int
    arguments and `batch`/`shapes` behave as in `build_program`.
    """
    from symgrad import transforms_build

    unknown = [f for f in functions if f not in FUNCTIONS]
    if unknown or not functions:
        raise ArgumentError(
            f"unknown functions {unknown}; a module can hold {', '.join(FUNCTIONS)}"
        )
    _check_optimize(optimize)
    static = _static_positions(static_argnums, len(args))
    symbolic = specs.normalize(batch, shapes)
    if ints and any(_is_int_scalar(x) for x in flatten(tuple(args))[0]):
        try:
            return transforms_build.build(
                fun, args, functions, argnums, optimize, static, True, symbolic
            )
        except ConcretizationError:
            pass
    program = transforms_build.build(
        fun, args, functions, argnums, optimize, static, False, symbolic
    )
    program.static_ints = True
    return program
