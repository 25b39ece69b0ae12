"""Pure-Python lowerings of einsum, convolve and correlate.

Contract: each lowering returns the lines computing one node into `out` from
its operands' sources, calling the helpers of `helpers_products` it
declares.
"""

from __future__ import annotations

from symgrad.codegen.python.lowering import lowering
from symgrad.ops.products import conv_window, einsum_spec


@lowering("einsum", helpers=("_einsum",))
def _einsum(node, out, args) -> list:
    spec = einsum_spec(node.attr("subscripts"), node.attr("output"))
    shapes = tuple(x.shape for x in node.inputs)
    # Scalars are numbers in this target; the helper takes lists.
    operands = [
        a if x.shape else f"[{a}]" for x, a in zip(node.inputs, args, strict=True)
    ]
    call = f'_einsum("{spec}", {shapes}, {", ".join(operands)})'
    return [f"{out} = {call}" if node.shape else f"{out} = {call}[0]"]


@lowering("convolve", "correlate", helpers=("_convolve",))
def _convolve(node, out, args) -> list:
    (a, v), (sa, sv) = node.inputs, args
    start, length = conv_window(node.op, a.shape[0], v.shape[0], node.attr("mode"))
    if node.op == "correlate":
        # Correlation is convolution with the second operand reversed.
        sv = f"{sv}[::-1]"
    return [f"{out} = _convolve({sa}, {sv}, {start}, {start + length})"]
