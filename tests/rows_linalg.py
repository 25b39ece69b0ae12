"""Op test rows: numpy.linalg (norms, solvers, determinants, decompositions).

Inputs are made well conditioned inside each function: `_shift(m)` adds 3 to
the diagonal of a random matrix (its eigenvalues stay away from 0), `_spd(m)`
is m m^T + n I (symmetric positive definite, distinct eigenvalues with
probability 1). Decompositions the pure-Python target does not implement
(eigh, svd, qr, pinv) run on the NumPy target only; test_targets checks that
the pure-Python target refuses them.
"""

import numpy as np

from tests.op_rows import Row

try:
    import scipy.linalg
except ImportError:  # SciPy is optional
    scipy = None

NUMPY = ("numpy",)


def _mT(m):
    axes = list(range(m.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return np.transpose(m, axes)


def _shift(m):
    return m + 3.0 * np.eye(m.shape[-1])


def _spd(m):
    return m @ _mT(m) + m.shape[-1] * np.eye(m.shape[-1])


def _vector_norms(x):
    inf = np.inf
    return (
        np.linalg.norm(x)
        + np.linalg.norm(x, 1) * np.linalg.norm(x, inf)
        + np.linalg.norm(x, -inf) ** 2
        + np.linalg.norm(x, 3)
        + np.linalg.norm(x, -1.5)
        + np.linalg.norm(x, 0)
        + np.linalg.vector_norm(x, ord=2.5)
    )


def _matrix_norms(x):
    inf = np.inf
    return (
        np.linalg.norm(x, axis=(0, 1)) * np.linalg.norm(x, "fro", axis=(1, 2))
        + np.linalg.norm(x, 1, axis=(2, 1)) ** 2
        + np.linalg.norm(x, -1, axis=(1, 2), keepdims=True)[:, 0, 0]
        + np.linalg.norm(x, inf, axis=(1, 2))
        + np.linalg.norm(x, -inf, axis=(1, 2))
        + np.linalg.matrix_norm(x) ** 3
        + np.linalg.vector_norm(x, axis=(1, 2))
    )


ROWS = {
    "norm_vector": Row(
        ("norm", "abs", "max", "min", "sum", "pow", "where", "ne", "cast"),
        _vector_norms,
        ("away",),
        (((5,),),),
    ),
    "norm_axis": Row(
        ("norm",),
        lambda x: np.sin(np.linalg.norm(x, axis=1, keepdims=True))
        * np.linalg.norm(x, 3, axis=0)
        + np.linalg.vector_norm(x, axis=0, keepdims=True, ord=np.inf),
        ("away",),
        (((2, 3),),),
    ),
    "norm_matrix": Row(
        ("norm", "abs", "sum", "max", "min"),
        _matrix_norms,
        ("away",),
        (((2, 3, 2),),),
        symbolic=("n, 3, n",),
    ),
    "norm_svd": Row(
        ("svdvals", "svd_u", "svd_vh"),
        lambda x: np.linalg.norm(x, "nuc") * np.linalg.norm(x, 2)
        + np.linalg.norm(x, -2) ** 2
        + np.linalg.matrix_norm(x, ord="nuc"),
        ("any",),
        (((3, 2),),),
        targets=NUMPY,
        symbolic=("n, n",),
    ),
    "inv": Row(
        ("inv", "matmul", "transpose"),
        lambda m: np.sin(np.linalg.inv(_shift(m))),
        ("any",),
        (((3, 3),), ((2, 2, 2),)),
    ),
    # b a vector (also shared by a stack of matrices) or matrices.
    "solve": Row(
        ("solve", "matmul", "transpose", "reshape"),
        lambda m, b: np.sin(np.linalg.solve(_shift(m), b)),
        ("any", "any"),
        (((3, 3), (3,)), ((2, 3, 3), (3, 2)), ((2, 2, 2), (2,))),
    ),
    "det_slogdet": Row(
        ("det", "slogdet", "slogdet_sign", "inv"),
        lambda m: np.linalg.det(_shift(m)) ** 2
        + np.linalg.slogdet(_shift(m))[0] * np.linalg.slogdet(m * m + 1.0)[1],
        ("any",),
        (((3, 3),), ((2, 2, 2),)),
    ),
    "cholesky": Row(
        ("cholesky", "tril", "solve"),
        lambda m: np.sin(np.linalg.cholesky(_spd(m)))
        + np.linalg.cholesky(_spd(m), upper=True) ** 2,
        ("any",),
        (((3, 3),), ((2, 2, 2),)),
    ),
    "matrix_power": Row(
        ("matmul", "inv"),
        lambda m: np.linalg.matrix_power(m, 5)
        + np.linalg.matrix_power(_shift(m), -2) * np.linalg.matrix_power(m, 0)
        + np.linalg.matrix_power(m, 3) * np.linalg.matrix_power(m, 1),
        ("any",),
        (((3, 3),), ((2, 2, 2),)),
    ),
    "multi_dot": Row(
        ("matmul",),
        lambda a, b, c: np.sin(np.linalg.multi_dot([a, b, c])),
        ("any", "any", "any"),
        (((3,), (3, 2), (2, 2)),),
    ),
    # Sign-invariant functions of the eigenvectors (v * v).
    "eigh": Row(
        ("eigvalsh", "eigh_vectors", "where", "eq"),
        lambda m: np.sin(np.linalg.eigh(_spd(m))[0])[..., None]
        * np.linalg.eigh(_spd(m), UPLO="U")[1] ** 2
        + np.linalg.eigvalsh(_spd(m))[..., :1],
        ("any",),
        (((3, 3),), ((2, 2, 2),)),
        targets=NUMPY,
        symbolic=("n, n",),
    ),
    "svd": Row(
        ("svd_u", "svdvals", "svd_vh"),
        lambda m: (
            np.linalg.svd(m, full_matrices=False)[0] ** 2
            * np.sin(np.linalg.svdvals(m))[..., None, :]
        )
        @ np.linalg.svd(m, full_matrices=False)[2] ** 2
        + np.linalg.svd(m, compute_uv=False).sum(),
        ("any",),
        (((3, 2),), ((2, 3),), ((2, 2, 2),)),
        targets=NUMPY,
    ),
    "qr": Row(
        ("qr_q", "qr_r", "tril", "solve"),
        lambda m: np.sin(np.linalg.qr(m)[0]) @ np.linalg.qr(m, mode="r") ** 2,
        ("any",),
        (((3, 2),), ((2, 3),), ((2, 3, 3),)),
        targets=NUMPY,
    ),
    "pinv": Row(
        ("pinv",),
        lambda m: np.sin(np.linalg.pinv(m)),
        ("any",),
        (((3, 2),), ((2, 3),)),
        targets=NUMPY,
    ),
}

if scipy is not None:

    def _scipy_linalg(m, b):
        k = _spd(m)
        c = scipy.linalg.cho_factor(k, lower=True)
        upper = scipy.linalg.cholesky(k)
        return (
            np.sin(scipy.linalg.cho_solve(c, b))
            + scipy.linalg.cho_solve((upper, False), b) ** 2
            + scipy.linalg.solve_triangular(upper, b, trans="T")
            + scipy.linalg.solve_triangular(c[0], b, lower=True) ** 3
            + scipy.linalg.solve(_shift(m), b, transposed=True)
            + scipy.linalg.inv(_shift(m))[0] * scipy.linalg.det(_shift(m))
        )

    ROWS["scipy_linalg"] = Row(
        ("solve", "tril", "cholesky", "inv", "det"),
        _scipy_linalg,
        ("any", "any"),
        (((3, 3), (3,)),),
        symbolic=("n, n", "n"),
    )

ROWS["cond"] = Row(
    ("svdvals",),
    lambda a: np.linalg.cond(a) + np.linalg.cond(a, -2) * np.linalg.cond(a.T, 2),
    ("any",),
    (((3, 3),),),
    targets=NUMPY,
    symbolic=("n, n",),
)
