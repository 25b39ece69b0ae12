"""How the user wrote an op, for the refusals of every target.

Contract: `spelled(op)` names the NumPy/SciPy function (or the Python
construct) behind the op `op`, as the user wrote it: `np.linalg.eigh` for the
parts of a decomposition, `scipy.special.digamma`, "an if/else on a traced
value". It reads the op table's `answers` and a table of ops that answer to
no name of their own.
"""

from __future__ import annotations

import numpy as np

from symgrad.ops import OPS

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
