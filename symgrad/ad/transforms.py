"""Transforms as graph builders: VJP, JVP, Jacobians, Hessians, HVPs.

Contract: every function here builds new graph nodes from existing ones (no
numbers), in the current scope:

- `vjp_nodes(outputs, cotangents, wrt)`: reverse mode with the given output
  cotangents; returns the (possibly augmented, see `autodiff`) outputs and
  one cotangent per `wrt` node.
- `jvp_nodes(outputs, wrt, tangents)`: forward mode, the tangent of each
  output. It is derived from the VJP rules: the VJP `u -> J^T u` is linear in
  `u`, so `J t` is the gradient of `<J^T u, t>` with respect to `u`, which is
  reverse mode again; `u` is then set to zeros (the result does not depend on
  it), and the passes remove what is left of it. Every primitive with a VJP
  rule thereby has a JVP, and forward over reverse (`hvp`) needs nothing more.
- `rows(n, make_row)`: a loop region building the `n` rows `make_row(i)` of a
  matrix (the rows are instantiated from one symbolic row by substituting a
  basis vector, so Jacobians and Hessians of any size are a loop of fixed
  size in the generated code, not `n` copies of it).
- `jacobian_nodes`, `hessian_nodes`: JAX's layouts (`out.shape + in.shape`).
"""

from __future__ import annotations

import numpy as np

from symgrad import ir, ops
from symgrad.ad import autodiff
from symgrad.errors import SymgradError
from symgrad.frontend import staging, tracing
from symgrad.ir import dims
from symgrad.numpy_api import indexing as np_indexing
from symgrad.ops import control
from symgrad.passes.rewrite import substitute

_scratch = iter(range(10**9, 2 * 10**9))  # tags of placeholder inputs


def placeholder(like: ir.Node, name: str) -> ir.Node:
    """A fresh input standing for a value of `like`'s type (substituted later)."""
    return ops.input_node(-1, name, like.shape, like.dtype, next(_scratch))


def _float(node) -> bool:
    return autodiff.differentiable(node) and node.vtype is None


def vjp_nodes(outputs, cotangents, wrt):
    """(outputs, d<outputs, cotangents>/d wrt per wrt node, zeros if none)."""
    outputs = list(outputs)
    grads, replace = autodiff.backward(outputs, list(cotangents), list(wrt))
    grads = [
        g if g is not None else autodiff.zeros_like(w)
        for g, w in zip(grads, wrt, strict=True)
    ]
    if replace:
        new = autodiff.apply_replacements(outputs + grads, replace)
        outputs, grads = new[: len(outputs)], new[len(outputs) :]
    return outputs, grads


def jvp_nodes(outputs, wrt, tangents):
    """(outputs, J t per output): forward mode from the VJP rules."""
    outputs = list(outputs)
    seeds = [placeholder(o, "u") if _float(o) else None for o in outputs]
    grads, replace = autodiff.backward(outputs, seeds, list(wrt))
    terms = [
        ops.reduce("sum", ops.mul(g, t)) if g.shape else ops.mul(g, t)
        for g, t in zip(grads, tangents, strict=True)
        if g is not None and t is not None
    ]
    live = [u for u in seeds if u is not None]
    if not terms or not live:
        tangent_out = [_zeros(o) for o in outputs]
    else:
        total = terms[0]
        for term in terms[1:]:
            total = ops.add(total, term)
        ups, replace2 = autodiff.backward([total], [ops.const(1.0)], live)
        replace.update(replace2)
        by_seed = dict(zip(live, ups, strict=True))
        tangent_out = [
            (by_seed.get(u) if u is not None else None) or _zeros(o)
            for u, o in zip(seeds, outputs, strict=True)
        ]
    if replace:
        new = autodiff.apply_replacements(outputs + tangent_out, replace)
        outputs, tangent_out = new[: len(outputs)], new[len(outputs) :]
    # J t does not depend on u (the map is linear in u): zeros stand for it.
    zeros = {u: _zeros(u) for u in live}
    tangent_out = substitute(tangent_out, zeros) if zeros else tangent_out
    return outputs, tangent_out


def _zeros(node) -> ir.Node:
    return autodiff.zeros_like(node)


# ------------------------------------------------------------------ loops of rows


def rows(n: int, make_row) -> list:
    """Matrices whose row `i` (of `n`) is `make_row(i_node)[k]`, as one loop.

    `make_row` builds nodes from a scalar int node `i` and any existing nodes;
    the loop region closes over the latter.
    """

    i0 = placeholder(ops.const(0, dtype=np.int64), "i")
    templates = make_row(i0)
    accumulators = [
        ops.broadcast_to(ops.const(0.0, dtype=t.dtype), (n,) + tuple(t.shape))
        for t in templates
    ]

    def body(carry):
        i, *acc = carry
        row = substitute(templates, {i0: i.node})
        new = [
            np_indexing.setitem(a.node, i.node, r)
            for a, r in zip(acc, row, strict=True)
        ]
        return [tracing.Tracer(ops.add(i.node, 1))] + [tracing.Tracer(x) for x in new]

    init = [ops.const(0, dtype=np.int64)] + accumulators
    out = staging.while_loop(
        lambda carry: tracing.Tracer(ops.lt(carry[0].node, n)),
        body,
        [tracing.Tracer(x) for x in init],
        names=["i"] + ["rows"] * len(accumulators),
    )
    return [t.node for t in out[1:]]


def basis(i: ir.Node, n: int) -> ir.Node:
    """The float64 vector of length `n` that is 1 at `i` and 0 elsewhere."""
    zeros = ops.broadcast_to(ops.const(0.0), (n,))
    return np_indexing.setitem(zeros, i, ops.const(1.0))


def _split(vector: ir.Node, likes) -> list:
    """`vector` cut into pieces shaped like `likes`, in order."""
    out, start = [], 0
    for like in likes:
        size = like.size
        if not isinstance(size, int):
            raise SymgradError("Jacobians need static sizes")
        piece = ops.getitem(vector, (("slice", start, start + size, None),))
        out.append(ops.reshape(piece, like.shape) if like.shape != (size,) else piece)
        start += size
    return out


def _flat(node) -> ir.Node:
    return ops.reshape(node, (node.size,)) if node.shape != (node.size,) else node


def _concat(nodes) -> ir.Node:
    flat = [_flat(n) for n in nodes]
    if len(flat) == 1:
        return flat[0]
    return ops.apply("concatenate", *flat, axis=0)


def _size(nodes) -> int:
    total = 0
    for node in nodes:
        size = dims.prod(node.shape)
        if not isinstance(size, int):
            shape = dims.shape_str(node.shape)
            raise SymgradError(
                "Jacobians and Hessians need static sizes: they have a row or "
                f"column per element, and a value of shape {shape} has a number "
                "of elements known only when the code runs; compile "
                "them for fixed shapes (leave the argument out of batch=/shapes=), "
                "or use vjp, jvp or hvp, which work for any size"
            )
        total += size
    return total


def jacobian_nodes(outputs, wrt, mode: str):
    """Blocks `J[k][j]` of shape `outputs[k].shape + wrt[j].shape`.

    `mode` "rev" builds rows by reverse mode (one VJP per output element, in
    a loop); "fwd" builds columns by forward mode (one JVP per input element).
    """
    outputs, wrt = list(outputs), list(wrt)
    n_out, n_in = _size(outputs), _size(wrt)
    if mode == "rev":
        u = placeholder(ops.broadcast_to(ops.const(0.0), (n_out,)), "u")
        outputs, cts = vjp_nodes(outputs, _split(u, outputs), wrt)

        def make(i):
            return [substitute([_concat(cts)], {u: basis(i, n_out)})[0]]

        (matrix,) = rows(n_out, make)  # (n_out, n_in)
    else:
        t = placeholder(ops.broadcast_to(ops.const(0.0), (n_in,)), "t")
        outputs, tangents = jvp_nodes(outputs, wrt, _split(t, wrt))

        def make(i):
            return [substitute([_concat(tangents)], {t: basis(i, n_in)})[0]]

        (columns,) = rows(n_in, make)  # (n_in, n_out)
        matrix = ops.transpose(columns, (1, 0))
    blocks = []
    r = 0
    for o in outputs:
        row = []
        c = 0
        for w in wrt:
            piece = ops.getitem(
                matrix,
                (
                    ("slice", r, r + o.size, None),
                    ("slice", c, c + w.size, None),
                ),
            )
            row.append(ops.reshape(piece, tuple(o.shape) + tuple(w.shape)))
            c += w.size
        blocks.append(row)
        r += o.size
    return outputs, blocks


def hessian_nodes(value, wrt):
    """(value, blocks H[a][b] of shape wrt[a].shape + wrt[b].shape, grads):
    forward over reverse, one Hessian-vector product per row, in a loop."""
    value, grads = vjp_nodes([value], [autodiff.seed_for(value)], wrt)
    (value,) = value
    n = _size(wrt)
    t = placeholder(ops.broadcast_to(ops.const(0.0), (n,)), "t")
    grads_out, hv = jvp_nodes(grads, wrt, _split(t, wrt))

    def make(i):
        return [substitute([_concat(hv)], {t: basis(i, n)})[0]]

    (matrix,) = rows(n, make)
    blocks = []
    r = 0
    for a in wrt:
        row = []
        c = 0
        for b in wrt:
            piece = ops.getitem(
                matrix,
                (("slice", r, r + a.size, None), ("slice", c, c + b.size, None)),
            )
            row.append(ops.reshape(piece, tuple(a.shape) + tuple(b.shape)))
            c += b.size
        blocks.append(row)
        r += a.size
    return value, blocks, grads_out


def hvp_nodes(value, wrt, tangents):
    """(value, grads, H t): forward over reverse without forming H."""
    (value,), grads = vjp_nodes([value], [autodiff.seed_for(value)], wrt)
    grads, hv = jvp_nodes(grads, wrt, tangents)
    return value, grads, hv


__all__ = [
    "control",
    "hessian_nodes",
    "hvp_nodes",
    "jacobian_nodes",
    "jvp_nodes",
    "placeholder",
    "rows",
    "vjp_nodes",
]
