"""Op test rows: np.linalg.eig and eigvals of real matrices with real
spectra, and np.linalg.pinv of a low-rank product.

`_real_spectrum(m)` is S D with S = m m^T + n I (symmetric positive
definite) and D a positive diagonal: not symmetric, but similar to the
symmetric D^1/2 S D^1/2, so its eigenvalues are real, positive and distinct
with probability 1. The pure-Python target refuses these decompositions
(test_targets checks it)."""

import numpy as np

from tests.op_rows import Row

NUMPY = ("numpy",)


def _mT(m):
    axes = list(range(m.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return np.transpose(m, axes)


def _real_spectrum(m):
    n = m.shape[-1]
    return (m @ _mT(m) + n * np.eye(n)) * (np.arange(n) + 1.0)


def _eig(m):
    a = _real_spectrum(m)
    w, v = np.linalg.eig(a)
    # Sign-invariant in the eigenvectors (v * v), sorted-order-invariant sums.
    return (
        np.sum(np.sin(w), axis=-1)[..., None, None] * v**2
        + np.sum(np.linalg.eigvals(a) ** 2, axis=-1)[..., None, None]
    )


def _pinv_low_rank(a, b):
    # A rank-2 product of size 4 x 3: pinv keeps the rank under perturbation.
    return np.sin(np.linalg.pinv(a @ b))


ROWS = {
    "eig": Row(
        ("eig_values", "eig_vectors", "eigvals", "solve", "where"),
        _eig,
        ("any",),
        (((3, 3),), ((2, 2, 2),)),
        targets=NUMPY,
        symbolic=("n, n",),
    ),
    "pinv_low_rank": Row(
        ("pinv", "matmul"),
        _pinv_low_rank,
        ("any", "any"),
        (((4, 2), (2, 3)),),
        targets=NUMPY,
        symbolic=("n, 2", "2, 3"),
    ),
}
