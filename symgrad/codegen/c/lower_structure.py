"""C lowerings of diagonals and triangles: `np.diagonal`, its adjoint
`embed_diagonal` (`np.diag(v, k)` of a vector, batched), `np.triu` and
`np.tril`.

Contract: each `@lowering` returns C lines computing `node` into the flat
row-major buffer `out`. A diagonal's entry t of matrix o reads row
`r0 + t` and column `c0 + t` (`ops.structure.diagonal_positions`), so its
flat position is `o`'s offset plus `base + t * (row stride + column
stride)`: no division per entry beyond the batch's. Triangles keep an
entry (row r, column c) where `c - r <= k` (tril, the diagonal kept for
k = 0) or `c - r >= k` (triu) and write +0.0 elsewhere, as NumPy (which
selects, so a NaN outside the triangle gives 0.0). Sizes may be symbolic
(`sizes.c_size`), a diagonal's length too.
"""

from __future__ import annotations

from symgrad.codegen.c.lower_arrays import loop, source_index, strides
from symgrad.codegen.c.lowering import lowering
from symgrad.codegen.c.sizes import c_size
from symgrad.ir import dims
from symgrad.ops.structure import diagonal_positions


def _sum(*terms) -> str:
    return " + ".join(t for t in terms if t and t != "0") or "0"


def _times(var: str, count) -> str:
    """`var * count` in C (just `var` for a count of 1)."""
    if dims.known_equal(count, 1):
        return var
    return f"{var} * {c_size(count)}"


@lowering("diagonal")
def _diagonal(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    offset, axis1, axis2 = (node.attr(k) for k in ("offset", "axis1", "axis2"))
    length = node.shape[-1]
    rest = [k for k in range(a.ndim) if k not in (axis1, axis2)]
    rest_shape = [a.shape[k] for k in rest]
    (r0, _), (c0, _) = diagonal_positions(length, offset)
    stride = strides(a.shape)
    base = r0 * stride[axis1] + c0 * stride[axis2]
    step = stride[axis1] + stride[axis2]
    # The offset of matrix _o: its coordinates along the other axes.
    where = source_index("_o", rest_shape, a.shape, rest) if rest else "0"
    at = _sum(where, c_size(base), _times("_t", step))
    put = _sum(_times("_o", length) if rest else "", "_t")
    body = loop(length, [f"{out}[{put}] = {src}[{at}];"], "_t")
    return loop(dims.prod(rest_shape), body, "_o") if rest else body


@lowering("embed_diagonal")
def _embed_diagonal(node, out, args) -> list:
    (d,), (src,) = node.inputs, args
    shape, offset = node.attr("shape"), node.attr("offset")
    m, n = shape[-2:]
    length = d.shape[-1]
    (r0, _), (c0, _) = diagonal_positions(length, offset)
    batch = dims.prod(shape[:-2])
    single = dims.known_equal(batch, 1)
    at = _sum(
        "" if single else _times("_o", m * n), c_size(r0 * n + c0), _times("_t", n + 1)
    )
    read = _sum("" if single else _times("_o", length), "_t")
    place = loop(length, [f"{out}[{at}] = {src}[{read}];"], "_t")
    zero = loop(node.size, [f"{out}[_i] = 0.0;"])
    return zero + (place if single else loop(batch, place, "_o"))


@lowering("tril", "triu")
def _triangle(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    m, n = a.shape[-2:]
    k = node.attr("k")
    keeps = "<=" if node.op == "tril" else ">="
    batch = dims.prod(a.shape[:-2])
    at = _sum(
        _times("_o", m * n) if not dims.known_equal(batch, 1) else "",
        _times("_r", n),
        "_c",
    )
    keep = f"_c - _r {keeps} {k}"
    body = loop(m, loop(n, [f"{out}[{at}] = {keep} ? {src}[{at}] : 0.0;"], "_c"), "_r")
    return body if dims.known_equal(batch, 1) else loop(batch, body, "_o")
