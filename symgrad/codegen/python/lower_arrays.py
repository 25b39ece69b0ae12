"""Pure-Python lowerings of reductions, matmul and the shape ops that move no
numbers (transpose, reshape, broadcast_to): flat row-major lists in, flat
lists out, calling the helpers each declares.
"""

from __future__ import annotations

from symgrad.codegen.python.lowering import _same_list, _size, lowering, size_src
from symgrad.ir import dims


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
