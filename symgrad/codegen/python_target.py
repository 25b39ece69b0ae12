"""Pure-Python target: modules that need nothing but the standard library.

Contract: the same interface as `numpy_target` (`constant`, `statements`,
`entry`, `output`, `prelude`, `support`); generated code imports only `math`
(and `operator.mul` where it multiplies matrices).

Values: a scalar is a Python float (or int or bool); an array is a flat list
in row-major order. Shapes are static, so every lowering specializes on them
and passes them to helpers as literals. Elementwise ops become one list
comprehension around the op's scalar printer (`Op.python`); the ops whose
lowering is more than a printer (reductions, matmul, shape ops, indexing) are
in `LOWERINGS`, keyed by op name. Helpers from `python_helpers` are copied into
a module only when it uses them. No statement mutates a list it did not just
create, so reshapes and identity views may share lists safely.
"""

from __future__ import annotations

import functools
import inspect
import math
import re

import numpy as np

from symgrad import ir
from symgrad.codegen import python_helpers
from symgrad.codegen.naming import literal, scalar_literal
from symgrad.ops import OPS
from symgrad.ops.structural import index_value

NAME = "python"
DECORATORS = []
IMPORTS = ["import math"]
NOTE = "# Arrays are flat lists in row-major order; shapes are fixed when generated."
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


def _size(shape) -> int:
    return math.prod(shape)


def entry(name: str, access: str, node, label: str) -> list:
    """Bind one argument leaf to `name`: a number, or a checked flat list."""
    kind = {"f": "float", "b": "bool"}.get(node.dtype.kind, "int")
    if not node.shape:
        return [
            f"{name} = {kind}({access})" if kind == "float" else f"{name} = {access}"
        ]
    return [f"{name} = _array({access}, {node.shape}, {literal(label)}, {kind})"]


def output(node, src: str, pyfloat: bool) -> str:
    """Gradients leave as floats and nested lists of floats (always new lists)."""
    if pyfloat or not node.shape:
        return f"float({src})"
    return f"_nested({src}, {node.shape})"


# ------------------------------------------------------------------ statements


def statements(node, out: str, args: list) -> list:
    lower = LOWERINGS.get(node.op)
    if lower is not None:
        return lower(node, out, args)
    return _elementwise(node, out, args)


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
    expr = op.python(*args)
    if node.dtype.kind == "b" and "comparison" not in op.flags and op.name != "where":
        # NumPy keeps bool + bool a bool (logical or); Python would count.
        expr = f"bool({expr})"
    return expr


def _reduction(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axes = node.attr("axes")
    call = {"sum": "sum", "mean": "_mean", "max": "_max", "min": "_min"}[node.op]
    if not a.shape:
        return [f"{out} = {call}([{src}])" if node.op == "mean" else f"{out} = {src}"]
    if axes is None:
        mean = node.op == "mean" and a.size
        expr = f"sum({src}) / {a.size}" if mean else f"{call}({src})"
        return [f"{out} = [{expr}]" if node.shape else f"{out} = {expr}"]
    return [f"{out} = _reduce({call}, {src}, {a.shape}, {tuple(axes)})"]


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
    batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    if a2 != batch + a2[-2:]:
        sa = f"_broadcast({sa}, {a2}, {batch + a2[-2:]})"
    if b2 != batch + b2[-2:]:
        sb = f"_broadcast({sb}, {b2}, {batch + b2[-2:]})"
    return [f"{out} = _matmul({sa}, {sb}, {m}, {k}, {n}, {_size(batch)})"]


def _same_list(out, src, shape) -> list:
    return [f"{out} = {src}  # the same flat list, as shape {shape}"]


def _transpose(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axes = node.attr("axes")
    moved = [axis for axis in axes if a.shape[axis] != 1]
    if moved == sorted(moved):
        # Only axes of length 1 move: the row-major order is unchanged.
        return _same_list(out, src, node.shape)
    return [f"{out} = _transpose({src}, {a.shape}, {axes})"]


def _reshape(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if a.shape == node.shape:
        return [f"{out} = {src}"]
    if not a.shape:
        return [f"{out} = [{src}]"]
    if not node.shape:
        return [f"{out} = {src}[0]"]
    return _same_list(out, src, node.shape)


def _broadcast_to(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if a.shape == node.shape:
        return [f"{out} = {src}"]
    if not a.shape:
        return [f"{out} = [{src}] * {node.size}"]
    if a.size == node.size:
        return _same_list(out, src, node.shape)
    return [f"{out} = _broadcast({src}, {a.shape}, {node.shape})"]


# ------------------------------------------------------------------ indexing


def _picked(shape, index) -> list:
    """The flat positions a basic index selects, in row-major order."""
    grid = np.arange(_size(shape), dtype=np.int64).reshape(shape)
    return grid[index_value(index)].ravel().tolist()


def _run(positions, size) -> str | None:
    """`positions` as slice text (`3:9:2`) if they are evenly spaced, else None."""
    start = positions[0]
    step = positions[1] - start if len(positions) > 1 else 1
    if step == 0 or any(
        q - p != step for p, q in zip(positions, positions[1:], strict=False)
    ):
        return None
    stop = positions[-1] + step
    text = f"{start or ''}:{'' if stop < 0 or stop >= size else stop}"
    return text + (f":{step}" if step != 1 else "")


def _index_src(index) -> str:
    items = []
    for item in index_value(index):
        if isinstance(item, slice):
            parts = [item.start, item.stop] + ([item.step] if item.step else [])
            items.append(f"slice({', '.join(repr(p) for p in parts)})")
        else:
            items.append(repr(item))
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _getitem(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    index = node.attr("index")
    if not a.shape:
        return [f"{out} = [{src}]" if node.shape else f"{out} = {src}"]
    note = f"  # {src}[{ir.format_index(index)}]"
    positions = _picked(a.shape, index)
    if not node.shape:
        return [f"{out} = {src}[{positions[0]}]{note}"]
    if positions == list(range(a.size)):
        return _same_list(out, src, node.shape)
    run = _run(positions, a.size)
    if run is not None:
        return [f"{out} = {src}[{run}]{note}"]
    return [f"{out} = _take({src}, {a.shape}, {_index_src(index)})"]


def _scatter(node, out, args) -> list:
    (g,), (src,) = node.inputs, args
    shape, index = node.attr("shape"), node.attr("index")
    if not shape:
        return [f"{out} = {src}[0]" if g.shape else f"{out} = {src}"]
    zero = _scalar(np.zeros((), node.dtype).item())
    size = _size(shape)
    positions = _picked(shape, index)
    if g.shape and positions == list(range(size)):
        return _same_list(out, src, shape)
    run = _run(positions, size) if g.shape else str(positions[0])
    if run is None:
        return [f"{out} = _scatter({src}, {shape}, {_index_src(index)}, {zero})"]
    # Basic indices pick each position at most once: assignment is exact.
    return [f"{out} = [{zero}] * {size}", f"{out}[{run}] = {src}"]


LOWERINGS = {
    "sum": _reduction,
    "mean": _reduction,
    "max": _reduction,
    "min": _reduction,
    "matmul": _matmul,
    "transpose": _transpose,
    "reshape": _reshape,
    "broadcast_to": _broadcast_to,
    "getitem": _getitem,
    "scatter": _scatter,
}


# ------------------------------------------------------------------ helpers

_NAME = re.compile(r"\b_[a-z]+\b")


@functools.lru_cache(maxsize=1)
def _helper_sources() -> dict:
    """Helper name -> (source, helpers it calls), in definition order."""
    functions = {
        name: fn
        for name, fn in vars(python_helpers).items()
        if inspect.isfunction(fn) and name.startswith("_")
    }
    out = {}
    for name, fn in functions.items():
        source = inspect.getsource(fn)
        calls = [n for n in dict.fromkeys(_NAME.findall(source)) if n != name]
        out[name] = (source.rstrip("\n"), [n for n in calls if n in functions])
    return out


def _needed(lines) -> list:
    """Names of the helpers the code calls, with the ones they call."""
    sources = _helper_sources()
    code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    wanted = [n for n in dict.fromkeys(_NAME.findall(code)) if n in sources]
    needed = set()
    while wanted:
        name = wanted.pop()
        if name not in needed:
            needed.add(name)
            wanted.extend(sources[name][1])
    return [name for name in sources if name in needed]


def prelude(lines) -> list:
    """Imports and a note on how arrays are represented."""
    text = "\n".join(lines + support(lines))
    imports = list(IMPORTS)
    if re.search(r"\b_mul\b", text):
        imports.append("from operator import mul as _mul")
    notes = [NOTE, HELPERS_NOTE] if _needed(lines) else [NOTE]
    return imports + [""] + notes


def support(lines) -> list:
    """The source of each helper the code uses, black-formatted already."""
    sources = _helper_sources()
    return [sources[name][0] for name in _needed(lines)]
