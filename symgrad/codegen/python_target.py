"""Pure-Python target: modules that need nothing but the standard library.

Contract: the same interface as `numpy_target` (`constant`, `statements`,
`entry`, `output`, `prelude`, `support`); generated code imports only `math`
(and `operator.mul` where it multiplies matrices).

Areas add lowerings in modules `python_lower_<area>.py` (registered with
`@lowering`) and helpers in `python_helpers_<area>.py` (with their `NEEDS`);
both are found by name, so adding an area touches no list here.

Values: a scalar is a Python float (or int or bool); an array is a flat list
in row-major order. Shapes are known when generating, so every lowering
specializes on them and passes them to helpers as literals; a symbolic size
(`n`, bound by the argument checks) is passed as its expression, and the
lowerings that would enumerate positions when generating read them when the
code runs instead. Elementwise ops become one list
comprehension around the op's scalar printer (`Op.python`, which declares the
helpers it calls in `Op.python_helpers`); the ops whose lowering is more than
a printer (reductions, matmul, shape ops, indexing) register a `Lowering` in
`LOWERINGS` with `@lowering(op, ..., helpers=(...))`. Helpers are top-level
functions of the modules in `HELPER_MODULES`, each of which declares in its
`NEEDS` what every helper calls (other helpers, or imports such as `_mul`).
`needs(node)` says what a statement uses; the module copies in exactly those
helpers and what they need, and nothing is found by scanning emitted text.
No statement mutates a list it did not just create, so reshapes and identity
views may share lists safely.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from symgrad.codegen import constants
from symgrad.codegen.naming import bound_names, literal, scalar_literal
from symgrad.ir import dims
from symgrad.ops import OPS

NAME = "python"
# Lists are rebuilt by every statement: nothing to plan.
PLANS_MEMORY = False
DECORATORS = []
IMPORTS = ["import math"]
NOTE = "# Arrays are flat lists in row-major order; shapes are fixed when generated."
SIZED_NOTE = (
    "# Arrays are flat lists in row-major order; shapes are fixed when generated,\n"
    "# but for the sizes the argument checks read (such as n)."
)
HELPERS_NOTE = (
    "# Helpers: NumPy's semantics in plain Python (inf and nan where math raises)."
)
# Comprehension variables start with "_": sanitized user names never do.
_LOOP_VARS = ("_x", "_y", "_z")


# ------------------------------------------------------------------ values


def _scalar(value) -> str:
    return scalar_literal(value, "math")


def constant(node) -> str:
    value = node.value
    if value.ndim == 0:
        return _scalar(value.item())
    return "[" + ", ".join(_scalar(v) for v in value.ravel().tolist()) + "]"


def _size(shape):
    """The number of elements of `shape` (an int, or a symbolic `Dim`)."""
    return dims.prod(shape)


def size_src(d) -> str:
    """A size as an operand of generated code: `6`, `n`, `(3 * n)`."""
    return dims.source(d)


def entry(name: str, access: str, node, label: str, shape_var=None) -> list:
    """Bind one argument leaf to `name`: a number, or a checked flat list.

    A leaf with symbolic sizes also binds its shape to `shape_var`: those
    axes are read, not checked (the module checks them against the sizes,
    see `runtime_size`)."""
    kind = {"f": "float", "b": "bool"}.get(node.dtype.kind, "int")
    if not node.shape:
        if kind == "float":
            return [f"{name} = _number({access}, {literal(label)})"]
        return [f"{name} = {access}"]
    if not dims.is_static(node.shape):
        spec = literal(tuple(repr(d) if dims.is_symbolic(d) else d for d in node.shape))
        return [
            f"{name}, {shape_var} = _array_sized({access}, {spec}, "
            f"{literal(label)}, {kind})"
        ]
    return [f"{name} = _array({access}, {node.shape}, {literal(label)}, {kind})"]


def runtime_size(name: str, shape_var, axis: int) -> str:
    """The size of axis `axis` of a leaf bound by `entry`."""
    return f"{shape_var}[{axis}]"


def output(node, src: str, pyfloat: bool, shared: bool = False) -> str:
    """Gradients leave as floats and nested lists of floats (always new lists)."""
    if pyfloat or not node.shape:
        return f"float({src})"
    return f"_nested({src}, {node.shape})"


# ------------------------------------------------------------------ statements


@dataclass(frozen=True)
class Lowering:
    """An array lowering: `fn(node, out, args) -> lines`, and the helpers
    (names in the helper modules) its lines call: a tuple, or a function of
    the node returning one when that depends on the node."""

    fn: Callable
    helpers: tuple | Callable = ()


LOWERINGS: dict[str, Lowering] = {}


def lowering(*ops: str, helpers=()):
    """Register `fn` as the lowering of `ops`, declaring the helpers it calls."""

    def mark(fn):
        for op in ops:
            if op in LOWERINGS:
                raise ValueError(f"op {op!r} has two pure-Python lowerings")
            LOWERINGS[op] = Lowering(fn, helpers)
        return fn

    return mark


def statements(node, out: str, args: list) -> list:
    lower = LOWERINGS.get(node.op)
    if lower is not None:
        return lower.fn(node, out, args)
    return _elementwise(node, out, args)


def needs(node) -> tuple:
    """The helpers the statements of `node` may call."""
    lower = LOWERINGS.get(node.op)
    helpers = lower.helpers if lower is not None else OPS[node.op].python_helpers
    if callable(helpers):
        helpers = tuple(helpers(node))
    if (
        lower is None
        and node.shape
        and any(i.shape != node.shape and i.shape for i in node.inputs)
    ):
        helpers = helpers + ("_broadcast",)
    return helpers


def entry_needs(node) -> tuple:
    if not node.shape:
        return ("_number",) if node.dtype.kind == "f" else ()
    return ("_array",) if dims.is_static(node.shape) else ("_array_sized",)


def output_needs(node, pyfloat: bool) -> tuple:
    return () if pyfloat or not node.shape else ("_nested",)


def _elementwise(node, out, args) -> list:
    op = OPS[node.op]
    if not node.shape:
        return [f"{out} = {_scalar_expr(node, op, args)}"]
    # Each array operand becomes a loop variable; scalars are used as they are.
    loops: dict = {}
    operands = []
    for inp, src in zip(node.inputs, args, strict=True):
        if not inp.shape:
            operands.append(src)
            continue
        if inp.shape != node.shape:
            src = f"_broadcast({src}, {inp.shape}, {node.shape})"
        var = loops.setdefault(src, _LOOP_VARS[len(loops)])
        operands.append(var)
    expr = _scalar_expr(node, op, operands)
    names = ", ".join(loops.values())
    sources = ", ".join(loops)
    over = sources if len(loops) == 1 else f"zip({sources})"
    return [f"{out} = [{expr} for {names} in {over}]"]


def _scalar_expr(node, op, args) -> str:
    expr = op.python(*args, **dict(node.attrs))
    if node.dtype.kind == "b" and "comparison" not in op.flags and op.name != "where":
        # NumPy keeps bool + bool a bool (logical or); Python would count.
        expr = f"bool({expr})"
    return expr


def _reduction_helpers(node) -> tuple:
    call = {"mean": ("_mean",), "max": ("_max",), "min": ("_min",)}.get(node.op, ())
    a = node.inputs[0]
    if not a.shape:
        return call if node.op == "mean" else ()
    if node.attr("axes") is None:
        if node.op == "mean" and not dims.is_static(a.shape):
            return call
        return () if node.op in ("sum", "mean") else call
    return call + ("_reduce",)


@lowering("sum", "mean", "max", "min", helpers=_reduction_helpers)
def _reduction(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axes = node.attr("axes")
    call = {"sum": "sum", "mean": "_mean", "max": "_max", "min": "_min"}[node.op]
    if not a.shape:
        return [f"{out} = {call}([{src}])" if node.op == "mean" else f"{out} = {src}"]
    if axes is None:
        # A mean of a known nonzero count divides by it; one of a symbolic
        # count calls `_mean` (nan for no entries, as NumPy).
        mean = node.op == "mean" and type(a.size) is int and a.size
        expr = f"sum({src}) / {a.size}" if mean else f"{call}({src})"
        return [f"{out} = [{expr}]" if node.shape else f"{out} = {expr}"]
    return [f"{out} = _reduce({call}, {src}, {a.shape}, {tuple(axes)})"]


def _matmul_helpers(node) -> tuple:
    a, b = node.inputs
    if a.ndim == 1 and b.ndim == 1:
        return ("_mul",)
    return ("_matmul", "_broadcast") if b.ndim > 2 else ("_matmul",)


@lowering("matmul", helpers=_matmul_helpers)
def _matmul(node, out, args) -> list:
    a, b = node.inputs
    sa, sb = args
    if a.ndim == 1 and b.ndim == 1:
        return [f"{out} = sum(map(_mul, {sa}, {sb}))"]
    # A vector is a one-row (left) or one-column (right) matrix with the same
    # flat list, and so is the result.
    a2 = a.shape if a.ndim > 1 else (1,) + a.shape
    b2 = b.shape if b.ndim > 1 else b.shape + (1,)
    m, k, n = a2[-2], a2[-1], b2[-1]
    if len(b2) == 2:
        # Without batch axes on the right, the left batch axes are more rows.
        return [f"{out} = _matmul({sa}, {sb}, {m * _size(a2[:-2])}, {k}, {n})"]
    batch = dims.broadcast_shapes(a2[:-2], b2[:-2])
    if a2 != batch + a2[-2:]:
        sa = f"_broadcast({sa}, {a2}, {batch + a2[-2:]})"
    if b2 != batch + b2[-2:]:
        sb = f"_broadcast({sb}, {b2}, {batch + b2[-2:]})"
    return [f"{out} = _matmul({sa}, {sb}, {m}, {k}, {n}, {_size(batch)})"]


def _same_list(out, src, shape) -> list:
    return [f"{out} = {src}  # the same flat list, as shape {shape}"]


@lowering("transpose", helpers=("_transpose",))
def _transpose(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axes = node.attr("axes")
    moved = [axis for axis in axes if a.shape[axis] != 1]
    if moved == sorted(moved):
        # Only axes of length 1 move: the row-major order is unchanged.
        return _same_list(out, src, node.shape)
    return [f"{out} = _transpose({src}, {a.shape}, {axes})"]


@lowering("reshape")
def _reshape(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if a.shape == node.shape:
        return [f"{out} = {src}"]
    if not a.shape:
        return [f"{out} = [{src}]"]
    if not node.shape:
        return [f"{out} = {src}[0]"]
    return _same_list(out, src, node.shape)


@lowering("broadcast_to", helpers=("_broadcast",))
def _broadcast_to(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if a.shape == node.shape:
        return [f"{out} = {src}"]
    if not a.shape:
        return [f"{out} = [{src}] * {size_src(node.size)}"]
    if a.size == node.size:
        return _same_list(out, src, node.shape)
    return [f"{out} = _broadcast({src}, {a.shape}, {node.shape})"]


# ------------------------------------------------------------------ helpers


def _area_modules(prefix: str) -> list:
    """The modules `symgrad.codegen.<prefix>*`, imported, sorted by name."""
    from symgrad import codegen

    names = sorted(
        info.name
        for info in pkgutil.iter_modules(codegen.__path__)
        if info.name.startswith(prefix)
    )
    return [importlib.import_module(f"symgrad.codegen.{n}") for n in names]


# Helper modules: python_helpers.py and every python_helpers_<area>.py.
HELPER_MODULES = tuple(_area_modules("python_helpers"))
# Imports a helper may rely on, by the name it uses.
IMPORT_LINES = {"_mul": "from operator import mul as _mul"}


@functools.lru_cache(maxsize=1)
def helper_table() -> dict:
    """Helper name -> (source, what it needs), in definition order."""
    out = {}
    for module in HELPER_MODULES:
        declared = module.NEEDS
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and name.startswith("_"):
                if fn.__module__ != module.__name__:
                    continue
                source = inspect.getsource(fn).rstrip("\n")
                out[name] = (source, tuple(declared.get(name, ())))
    return out


def reserved() -> frozenset:
    """Every name a module of this target may bind at top level: `math`, the
    helpers' imports (`_mul`) and the helpers themselves, and what stored
    constants bring (`base64`, `struct`)."""
    imports = bound_names(IMPORTS + sorted(IMPORT_LINES.values()))
    return imports | set(helper_table()) | constants.names(NAME)


def _closure(wanted) -> list:
    """`wanted` with everything the helpers in it need, in definition order."""
    table = helper_table()
    needed = set()
    stack = list(wanted)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        if name in table:
            stack.extend(table[name][1])
        elif name not in IMPORT_LINES:
            raise KeyError(f"unknown pure-Python helper {name!r}")
    return [n for n in list(table) + list(IMPORT_LINES) if n in needed]


def prelude(wanted) -> list:
    """Imports and a note on how arrays are represented."""
    names = _closure(wanted)
    imports = list(IMPORTS) + [IMPORT_LINES[n] for n in names if n in IMPORT_LINES]
    helpers = [n for n in names if n not in IMPORT_LINES]
    note = SIZED_NOTE if "_array_sized" in names else NOTE
    notes = [note, HELPERS_NOTE] if helpers else [note]
    return imports + [""] + notes


def support(wanted) -> list:
    """The source of each helper used, black-formatted already."""
    table = helper_table()
    return [table[n][0] for n in _closure(wanted) if n in table]


# Lowerings of other areas register themselves when imported.
_area_modules("python_lower_")
