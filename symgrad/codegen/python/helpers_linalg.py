"""Pure-Python helpers for linear algebra: LU with partial pivoting (LAPACK's
getrf), and from it solve, inv, det and slogdet; cholesky; the 2-norm; tril.

Contract: as `helpers` (plain Python, `math` and `_mul` only, flat
row-major lists; a stack of `batches` n x n matrices is one list). Results
follow NumPy: det and slogdet of a singular matrix are 0.0 and (0.0, -inf);
solve and inv of one raise ValueError("Singular matrix") and cholesky of a
matrix that is not positive definite ValueError("Matrix is not positive
definite"), where NumPy raises numpy.linalg.LinAlgError (a ValueError) with
the same message. `NEEDS` says what each helper calls.
"""

import math
from operator import mul as _mul

from symgrad.codegen.python.helpers import _exp, _log


def _lu(a, n):
    """LU factorization with partial pivoting of the n x n matrix `a`, as
    LAPACK's getrf: (rows of L and U in one, row order, sign of the row
    permutation, whether a pivot was exactly zero)."""
    rows = [a[i * n : (i + 1) * n] for i in range(n)]
    order = list(range(n))
    sign = 1.0
    singular = False
    for k in range(n):
        p, big = k, abs(rows[k][k])
        for i in range(k + 1, n):  # the first of the largest, as idamax
            if abs(rows[i][k]) > big:
                p, big = i, abs(rows[i][k])
        if p != k:
            rows[k], rows[p] = rows[p], rows[k]
            order[k], order[p] = order[p], order[k]
            sign = -sign
        pivot = rows[k][k]
        if pivot == 0:
            singular = True  # the column below is zero too: nothing to do
            continue
        top = rows[k]
        for i in range(k + 1, n):
            row = rows[i]
            f = row[k] / pivot
            row[k] = f
            for j in range(k + 1, n):
                row[j] -= f * top[j]
    return rows, order, sign, singular


def _solve(a, b, n, k, batches=1):
    """x with a @ x = b for each of `batches` n x n matrices `a` and n x k
    matrices `b` (np.linalg.solve)."""
    out = []
    for s in range(batches):
        rows, order, _, singular = _lu(a[s * n * n : (s + 1) * n * n], n)
        if singular:
            raise ValueError("Singular matrix")
        block = b[s * n * k : (s + 1) * n * k]
        x = [block[i * k : (i + 1) * k] for i in order]
        for i in range(n):  # L y = P b, L with a unit diagonal
            row, xi = rows[i], x[i]
            for j in range(i):
                f = row[j]
                xi = [u - f * v for u, v in zip(xi, x[j])]  # noqa: B905
            x[i] = xi
        for i in range(n - 1, -1, -1):  # U x = y
            row, xi = rows[i], x[i]
            for j in range(i + 1, n):
                f = row[j]
                xi = [u - f * v for u, v in zip(xi, x[j])]  # noqa: B905
            d = row[i]
            x[i] = [u / d for u in xi]
        for xi in x:
            out += xi
    return out


def _inv(a, n, batches=1):
    """The inverse of each n x n matrix of a stack (np.linalg.inv)."""
    eye = [1.0 if i == j else 0.0 for i in range(n) for j in range(n)]
    return _solve(a, eye * batches, n, n, batches)


def _slogdet(a, n, batches=1):
    """(signs, logs of |det|) of each n x n matrix of a stack, as NumPy's
    slogdet: a log of each diagonal entry of U, summed."""
    signs, logs = [], []
    for s in range(batches):
        rows, _, sign, singular = _lu(a[s * n * n : (s + 1) * n * n], n)
        if singular:
            signs.append(0.0)
            logs.append(-math.inf)
            continue
        total = 0.0
        for i in range(n):
            d = rows[i][i]
            if d < 0:
                sign, d = -sign, -d
            total += _log(d)
        signs.append(sign)
        logs.append(total)
    return signs, logs


def _det(a, n, batches=1):
    """The determinant of each n x n matrix of a stack, as NumPy computes it:
    sign * exp(log|det|)."""
    signs, logs = _slogdet(a, n, batches)
    return [s * _exp(t) for s, t in zip(signs, logs)]  # noqa: B905


def _cholesky(a, n, batches=1):
    """The lower Cholesky factor of each n x n matrix of a stack, reading the
    lower triangle (np.linalg.cholesky)."""
    out = []
    for s in range(batches):
        m = a[s * n * n : (s + 1) * n * n]
        low = [[0.0] * n for _ in range(n)]
        for j in range(n):
            lj = low[j]
            d = m[j * n + j] - sum(x * x for x in lj[:j])
            if not d > 0:  # also nan, as LAPACK's potrf
                raise ValueError("Matrix is not positive definite")
            d = math.sqrt(d)
            lj[j] = d
            for i in range(j + 1, n):
                li = low[i]
                li[j] = (m[i * n + j] - sum(map(_mul, li[:j], lj[:j]))) / d
        for row in low:
            out += row
    return out


def _norm2(values):
    """The 2-norm: the square root of the sum of squares."""
    return math.sqrt(sum(x * x for x in values))


# What each helper calls (other helpers, or `_mul`).
NEEDS = {
    "_solve": ("_lu",),
    "_inv": ("_solve",),
    "_slogdet": ("_lu", "_log"),
    "_det": ("_slogdet", "_exp"),
    "_cholesky": ("_mul",),
}
