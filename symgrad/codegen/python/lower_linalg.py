"""Pure-Python lowerings of the linear algebra primitives.

Contract: inv, solve, det, slogdet, cholesky and norm lower to the
helpers of `helpers_linalg`; the decompositions this target does not
implement (eigh, svd, qr, pinv) refuse when the module is generated, with a
SymgradError that names the NumPy function and suggests target="numpy".
"""

from __future__ import annotations

import math
import os

from symgrad.codegen.python.lowering import lowering
from symgrad.codegen.spelling import spelled
from symgrad.errors import SymgradError
from symgrad.ir import dims


def _stack(a):
    """(n, number of matrices) of a stack of n x n matrices."""
    return a.shape[-1], math.prod(a.shape[:-2])


def _count(batches) -> str:
    return "" if batches == 1 else f", {batches}"


def _one(node, out, call) -> list:
    """`call` returns a list; a scalar result is its only entry."""
    return [f"{out} = {call}" if node.shape else f"{out} = {call}[0]"]


@lowering("inv", helpers=("_inv",))
def _inv(node, out, args) -> list:
    n, batches = _stack(node.inputs[0])
    return [f"{out} = _inv({args[0]}, {n}{_count(batches)})"]


def _solve_helpers(node) -> tuple:
    a, b = node.inputs
    bm = b.shape + (1,) if b.ndim == 1 else b.shape
    batch = dims.broadcast_shapes(a.shape[:-2], bm[:-2])
    same = a.shape[:-2] == batch and bm[:-2] == batch
    return ("_solve",) if same else ("_solve", "_broadcast")


@lowering("solve", helpers=_solve_helpers)
def _solve(node, out, args) -> list:
    (a, b), (sa, sb) = node.inputs, args
    # A vector b is one column; the stacks of both broadcast together.
    bm = b.shape + (1,) if b.ndim == 1 else b.shape
    batch = dims.broadcast_shapes(a.shape[:-2], bm[:-2])
    if a.shape[:-2] != batch:
        sa = f"_broadcast({sa}, {a.shape}, {batch + a.shape[-2:]})"
    if bm[:-2] != batch:
        sb = f"_broadcast({sb}, {bm}, {batch + bm[-2:]})"
    n, k = a.shape[-1], bm[-1]
    return [f"{out} = _solve({sa}, {sb}, {n}, {k}{_count(math.prod(batch))})"]


@lowering("det", helpers=("_det",))
def _det(node, out, args) -> list:
    n, batches = _stack(node.inputs[0])
    return _one(node, out, f"_det({args[0]}, {n}{_count(batches)})")


@lowering("slogdet", "slogdet_sign", helpers=("_slogdet",))
def _slogdet(node, out, args) -> list:
    n, batches = _stack(node.inputs[0])
    part = 1 if node.op == "slogdet" else 0
    return _one(node, out, f"_slogdet({args[0]}, {n}{_count(batches)})[{part}]")


@lowering("cholesky", helpers=("_cholesky",))
def _cholesky(node, out, args) -> list:
    n, batches = _stack(node.inputs[0])
    return [f"{out} = _cholesky({args[0]}, {n}{_count(batches)})"]


def _norm_helpers(node) -> tuple:
    axes = node.attr("axes")
    return ("_norm2",) if axes is None else ("_norm2", "_reduce")


@lowering("norm", helpers=_norm_helpers)
def _norm(node, out, args) -> list:
    a, src = node.inputs[0], args[0]
    axes = node.attr("axes")
    if not a.shape:
        src = f"[{src}]"
    if axes is None:
        call = f"_norm2({src})"
        return [f"{out} = [{call}]" if node.shape else f"{out} = {call}"]
    return [f"{out} = _reduce(_norm2, {src}, {a.shape}, {tuple(axes)})"]


# Decompositions this target does not compute (named as the user wrote them).
_REFUSED = (
    "eigvalsh",
    "eigh_vectors",
    "svdvals",
    "svd_u",
    "svd_vh",
    "qr_q",
    "qr_r",
    "pinv",
    "eig_values",
    "eig_vectors",
    "eigvals",
)


def _refuse(node, out, args):
    loc = node.loc
    where = f" (used at {os.path.basename(loc.file)}:{loc.line})" if loc else ""
    raise SymgradError(
        f"{spelled(node.op)}{where} is not supported by the pure-Python target "
        "(it implements inv, solve, det, slogdet, cholesky and norm). "
        'Compile with target="numpy".'
    )


lowering(*_REFUSED, refuses=True)(_refuse)
