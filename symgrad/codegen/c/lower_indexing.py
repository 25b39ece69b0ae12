"""C lowerings of basic indexing (`x[:, 0]`, `x[1:3]`) and its gradient
(`scatter` of a basic index), and of indices computed at run time: `x[i]`,
`x[i, :]`, `x[i] = v` with `i` a traced int (a loop's counter), that is
`gather`, `setitem` and `scatter_add` whose advanced items are all scalar
index operands. Index arrays (constant or traced) are refused for now.

Contract: with fixed shapes the flat positions a basic index picks are
known when generating: an evenly spaced run becomes `start + _i * step`,
anything else a table of positions. With symbolic sizes the position of the
`_i`-th picked element is computed from its coordinates (`_symbolic_position`).
"""

from __future__ import annotations

import numpy as np

from symgrad.codegen.c.lower_arrays import loop, source_index, strides
from symgrad.codegen.c.lowering import lowering, refuse
from symgrad.codegen.c.scalar import literal
from symgrad.codegen.c.sizes import c_size
from symgrad.ir import dims
from symgrad.ops.indexing import index_value, read_shape


def _symbolic_position(shape, index, out_shape) -> str:
    """The C expression of the flat position in `shape` of the `_i`-th
    element (row-major) that basic `index` picks, for symbolic sizes: each
    source axis starts at its first picked position and moves by its step
    along the result axis it became (an int index keeps no axis, None adds
    one of length 1)."""
    src_strides = strides(shape)
    out_strides = strides(out_shape)
    base, moves = 0, []  # moves: (result axis, source stride * step)
    axis, out_axis = 0, 0
    items = list(index) + [("slice", None, None, None)] * len(shape)
    for item in items:
        if axis >= len(shape):
            break
        if item is None:
            out_axis += 1
            continue
        n = shape[axis]
        if isinstance(item, tuple):
            _, start, stop, step = item
            step = 1 if step is None else step
            if isinstance(n, int):
                first = slice(start, stop, step).indices(n)[0]
            elif start is None:
                first = 0 if step > 0 else n - 1
            else:
                first = start if dims.is_symbolic(start) or start >= 0 else n + start
            base = base + first * src_strides[axis]
            moves.append((out_axis, src_strides[axis] * step))
            out_axis += 1
        else:
            base = base + (item if item >= 0 else n + item) * src_strides[axis]
        axis += 1
    terms = [c_size(base)] if base != 0 else []
    for k, stride in moves:
        if out_shape[k] == 1:
            continue
        coord = "_i"
        if out_strides[k] != 1:
            coord = f"_i / {c_size(out_strides[k])}"
        if k > 0:
            coord = f"({coord}) % {c_size(out_shape[k])}"
        terms.append(coord if stride == 1 else f"({coord}) * {c_size(stride)}")
    return " + ".join(terms) or "0"


def _picked(shape, index) -> list:
    """The flat positions a basic index selects, in row-major order."""
    grid = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    return grid[index_value(index)].ravel().tolist()


def _position(positions) -> str:
    """The C expression of the `_i`-th picked position."""
    start = positions[0]
    step = positions[1] - start if len(positions) > 1 else 1
    if all(q - p == step for p, q in zip(positions, positions[1:], strict=False)):
        if step == 1:
            return f"{start} + _i" if start else "_i"
        return f"{start} + _i * {step}" if start else f"_i * {step}"
    return f"((const int[]){{{', '.join(map(str, positions))}}})[_i]"


def out_of_bounds(node) -> list:
    """C conditions (of the size variables) true when basic indexing `node`
    (a getitem or a scatter) over a symbolic shape would reach outside the
    array: an int index past the axis, a slice of negative length, or one
    whose picked positions leave the axis (NumPy would raise or clip; the C
    function refuses). Empty for fixed shapes, checked when generating."""
    if node.op == "getitem":
        shape, index, out_shape = node.inputs[0].shape, node.attr("index"), node.shape
    else:
        shape, index, out_shape = node.attr("shape"), node.attr("index"), None
        out_shape = node.inputs[0].shape
    if dims.is_static(shape):
        return []
    conds, axis, out_axis = [], 0, 0
    for item in index:
        if item is None:
            out_axis += 1
            continue
        if axis >= len(shape):
            break
        n = shape[axis]
        if isinstance(item, tuple):
            _, start, _, step = item
            step = 1 if step is None else step
            length = out_shape[out_axis]
            if dims.is_symbolic(n):
                if start is None:
                    first = 0 if step > 0 else n - 1
                elif dims.is_symbolic(start) or start >= 0:
                    first = start
                else:
                    first = n + start
                last = first + (length - 1) * step
                low, high = (first, last) if step > 0 else (last, first)
                conds.append(
                    f"{c_size(length)} < 0 || ({c_size(length)} > 0 && "
                    f"({c_size(low)} < 0 || {c_size(high)} >= {c_size(n)}))"
                )
            elif dims.is_symbolic(length):
                conds.append(f"{c_size(length)} < 0")
            out_axis += 1
        elif dims.is_symbolic(n):
            conds.append(
                f"{c_size(n)} <= {item}" if item >= 0 else f"{c_size(n)} < {-item}"
            )
        axis += 1
    return conds


@lowering("getitem")
def _getitem(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if not a.shape:
        return [f"{out}[0] = {src};" if node.shape else f"{out} = {src};"]
    if not dims.is_static(a.shape):
        where = _symbolic_position(a.shape, node.attr("index"), node.shape)
        if not node.shape:
            return [f"{out} = {src}[{where}];"]
        return loop(node.size, [f"{out}[_i] = {src}[{where}];"])
    positions = _picked(a.shape, node.attr("index"))
    if not node.shape:
        return [f"{out} = {src}[{positions[0]}];"]
    if positions == list(range(a.size)):
        return [f"const double *{out} = {src}; /* the same buffer */"]
    return loop(node.size, [f"{out}[_i] = {src}[{_position(positions)}];"])


@lowering("scatter")
def _scatter(node, out, args) -> list:
    (g,), (src,) = node.inputs, args
    shape, index = node.attr("shape"), node.attr("index")
    zero = literal(0.0)
    if not shape:
        return [f"{out} = {src}[0];" if g.shape else f"{out} = {src};"]
    if not dims.is_static(shape):
        where = _symbolic_position(shape, index, g.shape)
        lines = loop(dims.prod(shape), [f"{out}[_i] = {zero};"])
        if not g.shape:
            return lines + [f"{out}[{where}] = {src};"]
        return lines + loop(g.size, [f"{out}[{where}] = {src}[_i];"])
    size = int(np.prod(shape))
    positions = _picked(shape, index)
    lines = loop(size, [f"{out}[_i] = {zero};"])
    if not g.shape:
        return lines + [f"{out}[{positions[0]}] = {src};"]
    # Basic indices pick each position at most once: assignment is exact.
    return lines + loop(g.size, [f"{out}[{_position(positions)}] = {src}[_i];"])


# ------------------------------------------------------- run-time indices


def _run_time(node, shape, index, operands, srcs):
    """(lines, C position of the `_i`-th picked element, picked shape) for
    an index whose advanced items are scalar int operands (`srcs`: their C
    values): each becomes `_k<j>`, wrapped as NumPy wraps a negative index
    and checked against its axis (-3 when outside, as NumPy raises)."""
    basic, lines, extra = [], [], []
    axis = 0
    row = strides(shape)
    for item in index:
        if item == "...":
            continue
        if isinstance(item, tuple) and item[0] == "index":
            j = item[1]
            if operands[j].shape or operands[j].dtype.kind not in "iu":
                refuse(node, "an index array")
            n, k = c_size(shape[axis]), f"_k{j}"
            lines += [
                f"long {k} = (long){srcs[j]};",
                f"if ({k} < 0) {{",
                f"    {k} += {n};",
                "}",
                f"if ({k} < 0 || {k} >= {n}) {{",
                "    _status = -3; /* an index outside an axis */",
                "    goto _end;",
                "}",
            ]
            extra.append(k if row[axis] == 1 else f"{k} * {c_size(row[axis])}")
            basic.append(0)
            axis += 1
            continue
        if isinstance(item, tuple) and item[0] != "slice":
            refuse(node, "an index array")
        basic.append(item)
        if item is not None:
            axis += 1
    basic = tuple(basic)
    picked = read_shape(shape, basic)
    where = _symbolic_position(shape, basic, picked)
    where = " + ".join(([] if where == "0" else [where]) + extra) or "0"
    return lines, where, picked


def _braced(lines) -> list:
    """`lines` in a block of their own (their `_k` names stay inside)."""
    return ["{", *("    " + line for line in lines), "}"]


_RUN_TIME = "indices that are traced ints (x[i], x[i] = v); index arrays are refused"


@lowering("gather", limits=_RUN_TIME)
def _gather(node, out, args) -> list:
    a, *operands = node.inputs
    src, *srcs = args
    lines, where, picked = _run_time(node, a.shape, node.attr("index"), operands, srcs)
    if not node.shape:
        return _braced([*lines, f"{out} = {src}[{where}];"])
    return _braced(lines + loop(node.size, [f"{out}[_i] = {src}[{where}];"]))


@lowering("setitem", limits=_RUN_TIME)
def _setitem(node, out, args) -> list:
    x, v, *operands = node.inputs
    src, value, *srcs = args
    lines, where, picked = _run_time(node, x.shape, node.attr("index"), operands, srcs)
    copy = [f"memcpy({out}, {src}, {c_size(x.size)} * sizeof(double));"]
    if not v.shape:
        read = value
    elif tuple(v.shape) == tuple(picked):
        read = f"{value}[_i]"
    else:
        read = f"{value}[{source_index('_i', picked, v.shape)}]"
    if not picked:
        return _braced([*lines, *copy, f"{out}[{where}] = {read};"])
    return _braced(
        lines + copy + loop(dims.prod(picked), [f"{out}[{where}] = {read};"])
    )


@lowering("scatter_add", limits=_RUN_TIME)
def _scatter_add(node, out, args) -> list:
    g, *operands = node.inputs
    src, *srcs = args
    shape = node.attr("shape")
    lines, where, picked = _run_time(node, shape, node.attr("index"), operands, srcs)
    # np.add.at into zeros (0.0 + g: a -0.0 becomes 0.0), or an assignment
    # where the index is known to pick each position once, as NumPy's code.
    op = "=" if node.attr("unique") else "+="
    zero = loop(dims.prod(shape), [f"{out}[_i] = {literal(0.0)};"])
    read = f"{src}[_i]" if g.shape else src
    if not g.shape:
        return _braced([*lines, *zero, f"{out}[{where}] {op} {read};"])
    return _braced(lines + zero + loop(g.size, [f"{out}[{where}] {op} {read};"]))
