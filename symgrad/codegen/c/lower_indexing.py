"""C lowerings of basic indexing (`x[:, 0]`, `x[1:3]`) and its gradient
(`scatter` of a basic index); advanced indexing is refused for now.

Contract: shapes are fixed, so the flat positions a basic index picks are
known when generating: an evenly spaced run becomes `start + _i * step`,
anything else a table of positions.
"""

from __future__ import annotations

import numpy as np

from symgrad.codegen.c.lower_arrays import loop
from symgrad.codegen.c.lowering import lowering
from symgrad.codegen.c.scalar import literal
from symgrad.ops.indexing import index_value


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


@lowering("getitem")
def _getitem(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if not a.shape:
        return [f"{out}[0] = {src};" if node.shape else f"{out} = {src};"]
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
    size = int(np.prod(shape))
    positions = _picked(shape, index)
    lines = loop(size, [f"{out}[_i] = {zero};"])
    if not g.shape:
        return lines + [f"{out}[{positions[0]}] = {src};"]
    # Basic indices pick each position at most once: assignment is exact.
    return lines + loop(g.size, [f"{out}[{_position(positions)}] = {src}[_i];"])
