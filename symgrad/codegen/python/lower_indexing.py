"""Pure-Python lowerings of indexing and sorting: getitem, scatter, gather,
scatter_add, setitem, sort, argsort.

Contract: registered with `codegen.python.lowering`; each declares the helpers
its lines call. Shapes are static, so the positions a constant index picks
are known when generating: a run of evenly spaced positions becomes a list
slice (`x[3:9:2]`), anything else a helper call. Index operands (integer
arrays that are inputs or computed) are read when the code runs, by
`_adv_positions`. No statement writes into a list it did not just create.

With a symbolic size in the shape the positions are not known when
generating: an index that keeps every element in order is still the same
list, one of ints only is one position (an expression of the sizes), and
everything else reads its positions when the code runs (`_take`,
`_scatter`, `_adv_positions`, given the shape with its sizes).
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.codegen.python.lowering import (
    _same_list,
    _scalar,
    _size,
    lowering,
    size_src,
)
from symgrad.ir import dims
from symgrad.ops.indexing import (
    flat_position,
    in_order,
    index_value,
    is_advanced,
    layout,
    positions,
    read_shape,
)

# ------------------------------------------------------------------ basic


def _picked(shape, index) -> list:
    """The flat positions a basic index selects, in row-major order."""
    grid = np.arange(_size(shape), dtype=np.int64).reshape(shape)
    return grid[index_value(index)].ravel().tolist()


def _run(positions, size) -> str | None:
    """`positions` as slice text (`3:9:2`) if they are evenly spaced, else None."""
    if not positions:
        return "0:0"  # an empty selection
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


def _getitem_run(node):
    """How getitem reads its operand: "scalar", "all", a slice text, or None
    (a block that is not one run: the `_take` helper)."""
    a = node.inputs[0]
    if not a.shape:
        return "scalar"
    if not dims.is_static(a.shape):
        return _symbolic_run(a.shape, node.attr("index"), bool(node.shape))
    positions = _picked(a.shape, node.attr("index"))
    if not node.shape:
        return str(positions[0])
    if positions == list(range(a.size)):
        return "all"
    return _run(positions, a.size)


@lowering("getitem", helpers=lambda node: () if _getitem_run(node) else ("_take",))
def _getitem(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    index = node.attr("index")
    run = _getitem_run(node)
    if run == "scalar":
        return [f"{out} = [{src}]" if node.shape else f"{out} = {src}"]
    note = f"  # {src}[{ir.format_index(index)}]"
    if run == "all":
        return _same_list(out, src, node.shape)
    if run is not None:
        return [f"{out} = {src}[{run}]{note}"]
    return [f"{out} = _take({src}, {a.shape}, {_index_src(index)})"]


def _symbolic_run(shape, index, array: bool):
    """`_getitem_run` for a symbolic shape: "all" for an index that keeps
    every element in order, one position for an index of ints, else None."""
    if array and in_order(shape, index):
        return "all"
    position = flat_position(shape, index)
    if position is not None and not array:
        return size_src(position)
    return None


def _scatter_run(node):
    """How scatter writes: "scalar", "all", a slice text, or None (`_scatter`)."""
    g = node.inputs[0]
    shape = node.attr("shape")
    if not shape:
        return "scalar"
    if not dims.is_static(shape):
        return _symbolic_run(shape, node.attr("index"), bool(g.shape))
    size = _size(shape)
    positions = _picked(shape, node.attr("index"))
    if g.shape and positions == list(range(size)):
        return "all"
    return _run(positions, size) if g.shape else str(positions[0])


@lowering("scatter", helpers=lambda node: () if _scatter_run(node) else ("_scatter",))
def _scatter(node, out, args) -> list:
    (g,), (src,) = node.inputs, args
    shape, index = node.attr("shape"), node.attr("index")
    run = _scatter_run(node)
    if run == "scalar":
        return [f"{out} = {src}[0]" if g.shape else f"{out} = {src}"]
    if run == "all":
        return _same_list(out, src, shape)
    zero = _scalar(np.zeros((), node.dtype).item())
    if run is None:
        return [f"{out} = _scatter({src}, {shape}, {_index_src(index)}, {zero})"]
    # Basic indices pick each position at most once: assignment is exact.
    return [f"{out} = [{zero}] * {size_src(_size(shape))}", f"{out}[{run}] = {src}"]


# ------------------------------------------------------------------ advanced


def _static_run(shape, index):
    """A slice text for the positions a constant index picks, or None."""
    picked = positions(shape, index)
    if picked is None or picked.size == 0:
        return None
    return _run(picked.tolist(), _size(shape))


def _items_src(index, operands, sources) -> str:
    """An index as `_adv_positions` takes it (operands: the index nodes)."""
    items = []
    for item in index:
        if item == "...":
            continue  # its only effect, where the index arrays go, is static
        if item is None or type(item) is int:
            items.append(repr(item))
        elif item[0] == "slice":
            parts = list(item[1:3]) + ([item[3]] if item[3] is not None else [])
            items.append(f"slice({', '.join(repr(p) for p in parts)})")
        elif item[0] == "array":
            items.append(f"({list(item[2])}, {item[1]})")
        elif item[0] == "iota":
            shape = (1,) * item[3] + (item[1],) + (1,) * (item[2] - item[3] - 1)
            items.append(f"(list(range({item[1]})), {shape})")
        else:
            node, src = operands[item[1]], sources[item[1]]
            flat = src if node.shape else f"[{src}]"
            items.append(f"({flat}, {node.shape})")
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _positions_src(shape, index, operands, sources) -> str:
    if not is_advanced(index):
        return f"_positions({shape}, {_index_src(index)})"
    _, bshape, front, _ = layout(shape, index, [i.shape for i in operands])
    items = _items_src(index, operands, sources)
    return f"_adv_positions({shape}, {items}, {bshape}, {front})"


def _positions_helpers(index) -> tuple:
    return ("_adv_positions",) if is_advanced(index) else ("_positions",)


def _gather_helpers(node) -> tuple:
    a = node.inputs[0]
    if not node.inputs[1:] and _static_run(a.shape, node.attr("index")):
        return ()
    return ("_gather",) + _positions_helpers(node.attr("index"))


@lowering("gather", helpers=_gather_helpers)
def _gather(node, out, args) -> list:
    a, *operands = node.inputs
    src, *sources = args
    index = node.attr("index")
    if not operands:
        picked = positions(a.shape, index)
        if not node.shape and picked is not None:
            return [f"{out} = {src}[{int(picked[0])}]"]
        run = _static_run(a.shape, index)
        if run is not None:
            return [f"{out} = {src}[{run}]"]
    where = _positions_src(a.shape, index, operands, sources)
    suffix = "" if node.shape else "[0]"
    return [f"{out} = _gather({src}, {where}){suffix}"]


def _scatter_add_helpers(node) -> tuple:
    shape, index = node.attr("shape"), node.attr("index")
    if node.attr("unique") and not node.inputs[1:] and _static_run(shape, index):
        return ()
    name = "_assign" if node.attr("unique") else "_scatter_add"
    return (name,) + _positions_helpers(index)


@lowering("scatter_add", helpers=_scatter_add_helpers)
def _scatter_add(node, out, args) -> list:
    g, *operands = node.inputs
    src, *sources = args
    shape, index = node.attr("shape"), node.attr("index")
    values = src if g.shape else f"[{src}]"
    zero = _scalar(np.zeros((), node.dtype).item())
    size = size_src(_size(shape))
    if node.attr("unique"):
        run = None if operands else _static_run(shape, index)
        if run is not None:
            return [f"{out} = [{zero}] * {size}", f"{out}[{run}] = {values}"]
        where = _positions_src(shape, index, operands, sources)
        return [f"{out} = _assign([{zero}] * {size}, {where}, {values})"]
    where = _positions_src(shape, index, operands, sources)
    return [f"{out} = _scatter_add({values}, {where}, {size}, {zero})"]


def _target(node) -> tuple:
    x, _, *operands = node.inputs
    return read_shape(x.shape, node.attr("index"), [i.shape for i in operands])


def _values_src(v, src, target) -> tuple:
    """The value as a flat list of the written part's shape, and helpers."""
    if v.shape == target:
        return (src if target else f"[{src}]"), ()
    if not v.shape:
        return f"[{src}] * {size_src(_size(target))}", ()
    return f"_broadcast({src}, {v.shape}, {target})", ("_broadcast",)


def _setitem_helpers(node) -> tuple:
    x, v, *operands = node.inputs
    target = _target(node)
    index = node.attr("index")
    _, extra = _values_src(v, "v", target)
    if not operands and _static_run(x.shape, index):
        return extra
    return extra + ("_assign",) + _positions_helpers(index)


@lowering("setitem", helpers=_setitem_helpers)
def _setitem(node, out, args) -> list:
    x, v, *operands = node.inputs
    xsrc, vsrc, *sources = args
    index = node.attr("index")
    target = _target(node)
    values, _ = _values_src(v, vsrc, target)
    run = None if operands else _static_run(x.shape, index)
    if run is not None:
        if _size(target) == 1 and ":" in run:
            run = run.split(":")[0] or "0"
            values = vsrc if not v.shape else f"{vsrc}[0]"
        return [f"{out} = list({xsrc})", f"{out}[{run}] = {values}"]
    where = _positions_src(x.shape, index, operands, sources)
    return [f"{out} = _assign({xsrc}, {where}, {values})"]


# ------------------------------------------------------------------ sorting


def _sort_helpers(node) -> tuple:
    if node.ndim == 1:
        return ("_nan_last",) if node.op == "sort" else ("_argsort",)
    return ("_sort",) if node.op == "sort" else ("_argsort",)


@lowering("sort", "argsort", helpers=_sort_helpers)
def _sort(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axis = a.ndim + node.attr("axis")
    if node.op == "sort" and a.ndim == 1:
        return [f"{out} = sorted({src}, key=_nan_last)"]
    call = "_sort" if node.op == "sort" else "_argsort"
    return [f"{out} = {call}({src}, {a.shape}, {axis})"]
