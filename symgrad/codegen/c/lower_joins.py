"""C lowerings of joins: `np.concatenate` and `np.stack` as block copies.

Contract: each `@lowering` returns C lines filling the result buffer `out`
from the operands' buffers, in row-major order: for every index of the axes
before the joined one, each operand's block of `inner` contiguous elements
follows the previous operand's. (`np.stack` is a concatenation along a new
axis of length one per operand.) Gradients of a weight used at every step
of a loop are summed as one product over the rows of all steps
(`passes.gradients`), which joins the steps' rows this way.
"""

from __future__ import annotations

from symgrad.codegen.c.lower_arrays import loop
from symgrad.codegen.c.lowering import lowering
from symgrad.codegen.c.sizes import c_size
from symgrad.ir import dims


def _copies(out, node, args, blocks) -> list:
    """Copy operand k's `blocks[k]` elements per outer index into `out`."""
    axis = node.attr("axis")
    outer = dims.prod(node.shape[:axis])
    total = c_size(dims.prod(node.shape[axis:]))
    lines = []
    offset = 0
    for part, src, inner in zip(node.inputs, args, blocks, strict=True):
        if not dims.is_symbolic(inner) and inner == 0:
            continue
        at = c_size(offset)
        # A scalar (`np.stack` of numbers) is a double, not a buffer.
        read = f"{src}[_o * {c_size(inner)} + _j]" if part.shape else src
        body = [f"{out}[_o * {total} + {at} + _j] = {read};"]
        lines += loop(outer, loop(inner, body, "_j"), "_o")
        offset = offset + inner
    return lines


@lowering("concatenate")
def _concatenate(node, out, args) -> list:
    axis = node.attr("axis")
    return _copies(out, node, args, [dims.prod(a.shape[axis:]) for a in node.inputs])


@lowering("stack")
def _stack(node, out, args) -> list:
    axis = node.attr("axis")
    return _copies(out, node, args, [dims.prod(a.shape[axis:]) for a in node.inputs])
