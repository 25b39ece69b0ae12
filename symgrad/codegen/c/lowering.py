"""The C target's lowering registry, and how a refusal names what it refuses.

Contract: `LOWERINGS` maps an op name to its `Lowering`: `fn(node, out,
args) -> lines` of C99 computing `node` into `out` (a `double` for a scalar,
a flat row-major `double *` buffer of known size for an array), or a
refusal (`refuses`) that raises a `SymgradError` naming the function and
the C target. `@lowering(op, ...)` registers one; the `lower_<area>` modules
of this package fill it, and `lower_refused` refuses every op none of them
lowers, so the table always covers the op table.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symgrad.errors import SymgradError
from symgrad.ops import OPS


@dataclass(frozen=True)
class Lowering:
    fn: Callable
    refuses: bool = False


LOWERINGS: dict[str, Lowering] = {}


def lowering(*ops: str, refuses=False):
    def mark(fn):
        for op in ops:
            if op in LOWERINGS:
                raise ValueError(f"op {op!r} has two C lowerings")
            LOWERINGS[op] = Lowering(fn, refuses)
        return fn

    return mark


# Ops with no NumPy name of their own (the decompositions' parts).
_SPELLED = {
    "eigvalsh": "np.linalg.eigh (or eigvalsh)",
    "eigh_vectors": "np.linalg.eigh",
    "svdvals": "np.linalg.svd",
    "svd_u": "np.linalg.svd",
    "svd_vh": "np.linalg.svd",
    "qr_q": "np.linalg.qr",
    "qr_r": "np.linalg.qr",
    "eig_values": "np.linalg.eig",
    "eig_vectors": "np.linalg.eig",
    "slogdet_sign": "np.linalg.slogdet",
    "getitem": "indexing (x[...])",
    "setitem": "index assignment (x[...] = v)",
    "gather": "integer-array indexing",
    "scatter": "index assignment",
    "scatter_add": "np.add.at",
    "logsumexp": "scipy.special.logsumexp",
    "polygamma": "scipy.special.polygamma",
    "embed_diagonal": "np.diag",
    "check": "a runtime check",
    "dim": "a symbolic size",
    # Control flow (refused when the module is generated, see `module`).
    "cond": "an if/else on a traced value",
    "switch": "an if/elif chain on a traced value",
    "while": "a loop on traced values (hessian and the jacobians use one too)",
    "custom_vjp": "a function with a custom gradient rule",
}


def spelled(op: str) -> str:
    """How the user wrote `op`: `np.linalg.eigh`, `scipy.special.digamma`."""
    if op in _SPELLED:
        return _SPELLED[op]
    answers = OPS[op].answers if op in OPS else ()
    if answers:
        name = answers[0]
        return "np." + name[6:] if name.startswith("numpy.") else name
    if hasattr(np, op):
        return f"np.{op}"
    if hasattr(np.linalg, op):
        return f"np.linalg.{op}"
    if op.startswith("random_"):
        return f"a random draw ({op[7:]})"
    return f"the operation {op}"


def refuse(node, why: str = "") -> None:
    """Raise: `node`'s function is not supported by the C target."""
    loc = node.loc
    where = f" (used at {os.path.basename(loc.file)}:{loc.line})" if loc else ""
    raise SymgradError(
        f"{spelled(node.op)}{where} is not supported by the C target"
        + (f" ({why})" if why else "")
        + '. Compile with target="numpy".'
    )
