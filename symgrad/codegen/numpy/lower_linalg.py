"""NumPy lowerings of the linear algebra primitives (`ops.linalg`,
`ops.linalg_eig`): the `np.linalg` call each one is, selecting the result it
computes (`np.linalg.slogdet(a)[1]`, `np.linalg.eigh(a)[1]`).
"""

from __future__ import annotations

from symgrad.codegen.numpy.lowering import lower


def _norm(a, axes, keepdims):
    extra = ", keepdims=True" if keepdims else ""
    if axes is None:
        return f"np.linalg.norm({a}{extra})"
    if len(axes) <= 2:
        axis = axes[0] if len(axes) == 1 else axes
        return f"np.linalg.norm({a}, axis={axis}{extra})"
    return f"np.sqrt(np.sum(np.square({a}), axis={axes}{extra}))"


def _uplo(uplo):
    return "" if uplo == "L" else f', UPLO="{uplo}"'


def _full(full):
    return "" if full else ", full_matrices=False"


lower("inv", lambda a: f"np.linalg.inv({a})")
lower("solve", lambda a, b: f"np.linalg.solve({a}, {b})")
lower("det", lambda a: f"np.linalg.det({a})")
lower("slogdet", lambda a: f"np.linalg.slogdet({a})[1]")
lower("slogdet_sign", lambda a: f"np.linalg.slogdet({a})[0]")
lower("cholesky", lambda a: f"np.linalg.cholesky({a})")
lower("norm", _norm)
lower("eigvalsh", lambda a, UPLO: f"np.linalg.eigvalsh({a}{_uplo(UPLO)})")
lower("eigh_vectors", lambda a, UPLO: f"np.linalg.eigh({a}{_uplo(UPLO)})[1]")
lower("svdvals", lambda a: f"np.linalg.svd({a}, compute_uv=False)")
lower("svd_u", lambda a, full: f"np.linalg.svd({a}{_full(full)})[0]")
lower("svd_vh", lambda a, full: f"np.linalg.svd({a}{_full(full)})[2]")
lower("qr_q", lambda a: f"np.linalg.qr({a})[0]")
lower("qr_r", lambda a: f"np.linalg.qr({a})[1]")
lower("pinv", lambda a: f"np.linalg.pinv({a})")
lower("eig_values", lambda a: f"np.linalg.eig({a})[0]")
lower("eig_vectors", lambda a: f"np.linalg.eig({a})[1]")
lower("eigvals", lambda a: f"np.linalg.eigvals({a})")
