"""Op test rows: products (dot, vdot, inner, outer, tensordot, einsum, kron,
vecdot, convolve, correlate)."""

import numpy as np

from tests.op_rows import Row

ROWS = {
    # N-d with 1-d (matmul) and N-d with M-d (tensordot), vector with matrix.
    "dot_nd": Row(
        ("matmul", "transpose", "reshape"),
        lambda a, b: np.sin(np.dot(a, b)) + a.dot(b) ** 2,
        ("any", "any"),
        (((2, 3, 4), (4,)), ((3,), (3, 2)), ((2, 3, 2), (4, 2, 3))),
    ),
    "vdot_inner_outer": Row(
        ("matmul", "mul"),
        lambda a, b: np.sin(np.inner(a, b)) * np.vdot(a, b)
        + np.outer(a, b)[:2, 1:3] ** 2,
        ("any", "any"),
        (((2, 3), (2, 3)), ((3,), (3,))),
        symbolic=("2, n", "2, n"),
    ),
    # Every form of `axes`: the default 2, an int, 0 (outer), a pair of lists.
    "tensordot": Row(
        ("matmul", "transpose", "reshape"),
        lambda a, b: np.sin(np.tensordot(a, b))
        + np.tensordot(a, b, axes=([2, 1], [1, 0])) ** 2
        + np.tensordot(a[0], b[:, :, 0].T, axes=1).sum()
        + np.tensordot(a[1, 0], b[0, 0], axes=0).sum() ** 2,
        ("any", "any"),
        (((2, 3, 4), (3, 4, 2)),),
    ),
    "einsum": Row(
        ("einsum",),
        lambda a, b: np.sin(np.einsum("ij,jk->ik", a, b)) * np.einsum("ij,jk", a, b)
        + np.einsum("ij,kj->ik", a, b.T) ** 2,
        ("any", "any"),
        (((2, 3), (3, 4)),),
    ),
    # Diagonals and traces of operands with a repeated label.
    "einsum_diagonal": Row(
        ("einsum", "scatter"),
        lambda a, t: np.einsum("ii->i", a) * np.einsum("ii", a)
        + np.sin(np.einsum("iij->j", t)) * np.einsum("jij->i", t)
        + np.einsum("ii,ij->j", a, a) ** 2,
        ("any", "any"),
        (((3, 3), (3, 3, 3)),),
        symbolic=("n, n", "n, n, n"),
    ),
    # `...`, broadcasting and several operands.
    "einsum_ellipsis": Row(
        ("einsum", "broadcast_to"),
        lambda a, b, c: np.sin(np.einsum("...ij,...jk->...ik", a, b[None]))
        + np.einsum("i,...ij,jk", c, a, b) * np.einsum("bij,jk,k->bi", a, b, c)[0]
        + np.einsum("...j,ij->...i", a[:, :1], b.T) ** 2,
        ("any", "any", "any"),
        (((2, 2, 3), (3, 2), (2,)),),
        symbolic="einsum: label 'i' has sizes n and 2",
    ),
    "kron": Row(
        ("mul", "reshape"),
        lambda a, b: np.sin(np.kron(a, b)),
        ("any", "any"),
        (((2, 3), (2, 2)), ((3,), (2, 1))),
    ),
    "linalg_aliases": Row(
        ("matmul", "mul", "sum"),
        lambda a, b: np.sin(np.vecdot(a, b)) * np.linalg.vecdot(a, b, axis=-1)
        + np.linalg.outer(a[0], b)[:2, 1] ** 2
        + np.linalg.tensordot(a, b, axes=1)
        + np.linalg.matmul(a, b) ** 3,
        ("any", "any"),
        (((2, 3), (3,)),),
        symbolic=("2, n", "n"),
    ),
    # Every mode, with the longer operand first and second.
    "convolve": Row(
        ("convolve", "correlate", "scatter"),
        lambda a, v: np.sin(np.convolve(a, v, mode="same"))
        + np.sum(np.convolve(a, v) ** 2)
        + np.sum(np.convolve(a, v, "valid") ** 3),
        ("any", "any"),
        (((5,), (3,)), ((2,), (4,))),
        symbolic="depends on which is longer",
    ),
    "correlate": Row(
        ("correlate", "convolve", "scatter", "getitem"),
        lambda a, v: np.sin(np.correlate(a, v, mode="same"))
        + np.sum(np.correlate(a, v, "full") ** 2)
        + np.sum(np.correlate(a, v) ** 3),
        ("any", "any"),
        (((5,), (2,)), ((2,), (4,)), ((4,), (5,))),
        symbolic="depends on which is longer",
    ),
    # The mode whose length is known for symbolic lengths too.
    "convolve_full": Row(
        ("convolve", "correlate"),
        lambda a, v: np.sin(np.convolve(a, v)) + np.correlate(a, v, "full") ** 2,
        ("any", "any"),
        (((5,), (3,)),),
    ),
}
