"""Pure-Python lowerings of concatenate, stack, diagonal, embed_diagonal,
triu, tril, prod, the running cumsum/cumprod, argmax/argmin, arange and dim
(a size, which the module writes where it is used: this lowering is for
completeness).

Contract: each `@lowering` returns the lines computing one node into `out`
from its operands' sources, on flat row-major lists with static shapes, and
declares the helpers (in `helpers_structure`) those lines call.
Joining along the first axis is a list display (`[*a, *b]`); elsewhere the
`_concatenate` helper interleaves blocks.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.codegen.naming import scalar_literal
from symgrad.codegen.python.lowering import lowering
from symgrad.ir import dims


def _items(node, src) -> str:
    """`src` spliced into a list display: a constant's items, or `*name`."""
    if node.op == "const" and src.startswith("[") and src.endswith("]"):
        return src[1:-1]
    return f"*{src}"


def _joined(node, out, args, blocks, outer) -> list:
    if node.size == 0:
        return [f"{out} = []"]
    if outer == 1:
        parts = [_items(i, s) for i, s in zip(node.inputs, args, strict=True)]
        return [f"{out} = [{', '.join(p for p in parts if p)}]"]
    return [f"{out} = _concatenate([{', '.join(args)}], {blocks}, {outer})"]


def _join_helpers(node) -> tuple:
    return () if _outer(node) == 1 or node.size == 0 else ("_concatenate",)


def _outer(node):
    return _size(node.shape[: node.attr("axis")])


def _size(shape):
    """The number of elements of `shape` (an int, or a symbolic `Dim`)."""
    return dims.prod(shape)


@lowering("concatenate", helpers=_join_helpers)
def _concatenate(node, out, args) -> list:
    outer = _outer(node)
    blocks = [_size(i.shape[node.attr("axis") :]) for i in node.inputs]
    return _joined(node, out, args, blocks, outer)


@lowering("stack", helpers=_join_helpers)
def _stack(node, out, args) -> list:
    if not node.inputs[0].shape:
        return [f"{out} = [{', '.join(args)}]"]
    outer = _outer(node)
    blocks = [_size(i.shape[node.attr("axis") :]) for i in node.inputs]
    return _joined(node, out, args, blocks, outer)


def _diagonal_run(node):
    """(start, stop, step) of a 2-D diagonal in the flat list, or None."""
    a = node.inputs[0]
    if a.ndim != 2:
        return None
    offset, axis1 = node.attr("offset"), node.attr("axis1")
    rows, cols = a.shape
    # The stride of a step along each axis: one diagonal step moves by both.
    stride1, stride2 = (cols, 1) if axis1 == 0 else (1, cols)
    first1, first2 = (0, offset) if offset >= 0 else (-offset, 0)
    start = first1 * stride1 + first2 * stride2
    step = stride1 + stride2
    return start, start + node.size * step, step


@lowering(
    "diagonal", helpers=lambda node: () if _diagonal_run(node) else ("_diagonal",)
)
def _diagonal(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    run = _diagonal_run(node)
    if node.size == 0:
        return [f"{out} = []"]
    if run is not None:
        start, stop, step = run
        stop = "" if dims.known_ge(stop, a.size) else stop
        return [f"{out} = {src}[{start or ''}:{stop}:{step}]  # the diagonal"]
    attrs = ", ".join(str(node.attr(k)) for k in ("offset", "axis1", "axis2"))
    return [f"{out} = _diagonal({src}, {a.shape}, {attrs})"]


def _zero(node) -> str:
    return scalar_literal(np.zeros((), node.dtype).item(), "math")


@lowering("embed_diagonal", helpers=("_embed_diagonal",))
def _embed_diagonal(node, out, args) -> list:
    (src,) = args
    shape, offset = node.attr("shape"), node.attr("offset")
    batches = math.prod(shape[:-2])
    rows, cols = shape[-2:]
    zero = _zero(node)
    call = f"_embed_diagonal({src}, {batches}, {rows}, {cols}, {offset}, {zero})"
    return [f"{out} = {call}"]


@lowering("triu", "tril", helpers=("_triangle",))
def _triangle(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    rows, cols = a.shape[-2:]
    upper = node.op == "triu"
    zero = _zero(node)
    call = f"_triangle({src}, {rows}, {cols}, {node.attr('k')}, {upper}, {zero})"
    return [f"{out} = {call}"]


@lowering("cumsum", helpers=("_cumsum",))
def _cumsum(node, out, args) -> list:
    return _scan("_cumsum", node, out, args)


@lowering("cumprod", helpers=("_cumprod",))
def _cumprod(node, out, args) -> list:
    return _scan("_cumprod", node, out, args)


def _scan(helper, node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axis = node.attr("axis")
    n, inner = a.shape[axis], math.prod(a.shape[axis + 1 :])
    return [f"{out} = {helper}({src}, {n}, {inner})"]


def _prod_helpers(node) -> tuple:
    a = node.inputs[0]
    if not a.shape:
        return ()
    return ("_prod",) if node.attr("axes") is None else ("_prod", "_reduce")


@lowering("prod", helpers=_prod_helpers)
def _prod(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axes = node.attr("axes")
    if not a.shape:
        return [f"{out} = {src}"]
    if axes is None:
        return [f"{out} = [_prod({src})]" if node.shape else f"{out} = _prod({src})"]
    return [f"{out} = _reduce(_prod, {src}, {a.shape}, {tuple(axes)})"]


def _arg_helpers(node) -> tuple:
    a = node.inputs[0]
    if not a.shape:
        return ()
    call = "_" + node.op
    whole = node.attr("axis") is None or a.ndim == 1
    return (call,) if whole else (call, "_reduce")


@lowering("argmax", "argmin", helpers=_arg_helpers)
def _argextreme(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axis = node.attr("axis")
    call = "_" + node.op
    if not a.shape:
        return [f"{out} = [0]" if node.shape else f"{out} = 0"]
    if axis is None or a.ndim == 1:
        expr = f"{call}({src})"
        return [f"{out} = [{expr}]" if node.shape else f"{out} = {expr}"]
    return [f"{out} = _reduce({call}, {src}, {a.shape}, ({axis},))"]


@lowering("arange")
def _arange(node, out, args) -> list:
    n = node.attr("n")
    kind = node.dtype.kind
    if kind == "i":
        return [f"{out} = list(range({n}))"]
    cast = "float" if kind == "f" else "bool"
    return [f"{out} = [{cast}(_i) for _i in range({n})]"]


@lowering("dim")
def _dim(node, out, args) -> list:
    return [f"{out} = {dims.source(node.attr('dim'))}"]
