"""NumPy lowerings of indexing (`ops.indexing`): `a[index]` views, scatter
into zeros, gathers (`np.take_along_axis` along one axis), `np.add.at` or
`np.put_along_axis` for scatter-add, and copies for setitem. Index templates
print as a person writes them (`np.arange(3)`, `[2, 0]`, `1:4`).
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.codegen.numpy.lowering import lower
from symgrad.ir import dims
from symgrad.ops.indexing import along_axis


def _slice_src(item) -> str:
    start, stop, step = item[1:]
    text = f"{'' if start is None else start}:{'' if stop is None else stop}"
    return text + (f":{step}" if step is not None else "")


def _nested(values, shape) -> str:
    if not shape:
        return str(values[0])
    step = len(values) // shape[0] if shape[0] else 0
    rows = [
        _nested(values[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])
    ]
    return "[" + ", ".join(rows) + "]"


def array_src(shape, values) -> str:
    """A constant index array as a person writes it: `np.arange(3)`, `[2, 0]`."""
    if not shape:
        return str(values[0])
    if len(shape) == 1:
        if len(values) > 2 and list(values) == list(range(len(values))):
            return f"np.arange({len(values)})"
        return _nested(values, shape)
    if not values:
        return f"np.zeros({dims.shape_str(shape)}, dtype=int)"
    return f"np.array({_nested(values, shape)})"


def iota_src(item) -> str:
    _, n, nd, pos = item
    if nd == 1:
        return f"np.arange({n!r})"
    axes = ", ".join(":" if k == pos else "None" for k in range(nd))
    return f"np.arange({n!r})[{axes}]"


def index_src(index, operands) -> str:
    """A template as NumPy source inside `[...]` (operands: their sources)."""
    parts = []
    for item in index:
        if item is None:
            parts.append("None")
        elif item == "...":
            parts.append("...")
        elif type(item) is int:
            parts.append(str(item))
        elif item[0] == "slice":
            parts.append(_slice_src(item))
        elif item[0] == "array":
            parts.append(array_src(item[1], item[2]))
        elif item[0] == "iota":
            parts.append(iota_src(item))
        else:
            parts.append(operands[item[1]])
    return ", ".join(parts) if parts else "()"


def _zeros_src(shape, dtype):
    suffix = "" if dtype == np.float64 else f", dtype=np.{dtype.name}"
    return f"np.zeros({dims.shape_str(shape)}{suffix})"


def _gather(a, *indices, index):
    axis = along_axis(index)
    if axis is not None:
        return f"np.take_along_axis({a}, {indices[0]}, axis={axis})"
    return f"{a}[{index_src(index, indices)}]"


def _scatter_add(out, g, *indices, shape, index, unique, dtype):
    lines = [f"{out} = {_zeros_src(shape, dtype)}"]
    axis = along_axis(index)
    if unique and axis is not None:
        lines.append(f"np.put_along_axis({out}, {indices[0]}, {g}, axis={axis})")
    elif unique:
        lines.append(f"{out}[{index_src(index, indices)}] = {g}")
    else:
        key = index_src(index, indices)
        if any(type(i) is tuple and i[0] == "slice" for i in index):
            key = f"np.s_[{key}]"  # slices are only written so inside [...]
        elif len(index) != 1:
            key = f"({key})"
        lines.append(f"np.add.at({out}, {key}, {g})")
    return lines


def _setitem(out, x, v, *indices, index, dtype):
    copy = x if x.startswith("np.array(") else f"{x}.copy()"
    return [f"{out} = {copy}", f"{out}[{index_src(index, indices)}] = {v}"]


lower("getitem", lambda a, index: f"{a}[{ir.format_index(index)}]")
# Basic indices select each element at most once, so assignment into zeros
# is exact (no accumulation is needed).
lower(
    "scatter",
    stmts=lambda out, g, shape, index, dtype: [
        f"{out} = {_zeros_src(shape, dtype)}",
        f"{out}[{ir.format_index(index)}] = {g}",
    ],
)
lower("gather", _gather)
lower("scatter_add", stmts=_scatter_add)
lower("setitem", stmts=_setitem)
