"""`numpy.linalg` with NumPy's signatures: norm (every vector and matrix order),
inv, solve, det, slogdet, cholesky, pinv, matrix_power, eigh, eigvalsh, svd,
svdvals, qr, multi_dot, matrix_norm, vector_norm.

Functions with several results return a tuple of nodes (NumPy 2 returns a
named tuple; unpacking and indexing work the same)."""

from __future__ import annotations

import math

import numpy as np

from symgrad import ops
from symgrad.ir.source import fail
from symgrad.numpy_api.args import (
    as_node,
    axes,
    static_int,
    unsupported,
)
from symgrad.numpy_api.elementwise import as_float, astype
from symgrad.numpy_api.shapes import reshape, transpose
from symgrad.ops import linalg
from symgrad.ops.core import implements


def _matrix(a, name, square=True):
    a = as_float(a)
    if a.ndim < 2:
        fail(
            f"np.linalg.{name}: {a.ndim}-dimensional array given. Array must be at "
            "least two-dimensional",
            "Pass a matrix (or a stack of matrices)",
        )
    if square and a.shape[-1] != a.shape[-2]:
        fail(
            f"np.linalg.{name}: last 2 dimensions of the array must be square",
            "Pass square matrices",
        )
    return a


# ------------------------------------------------------------------ norms


def _is(ord_, value) -> bool:
    return not isinstance(ord_, str) and ord_ is not None and ord_ == value


def vector_norm_of(x, axes_, ord_, keepdims):
    """The vector `ord_`-norm over `axes_` (None: all), NumPy's formulas."""
    if ord_ is None or _is(ord_, 2):
        return linalg.norm(x, axes_, keepdims)
    if isinstance(ord_, str):
        fail(f"Invalid norm order '{ord_}' for vectors", "Use a number or inf")
    if _is(ord_, math.inf):
        return ops.reduce("max", ops.abs(x), axes_, keepdims)
    if _is(ord_, -math.inf):
        return ops.reduce("min", ops.abs(x), axes_, keepdims)
    if _is(ord_, 0):
        # The number of nonzero entries: no gradient.
        nonzero = astype(ops.ne(x, 0.0), x.dtype)
        return ops.reduce("sum", nonzero, axes_, keepdims)
    if _is(ord_, 1):
        return ops.reduce("sum", ops.abs(x), axes_, keepdims)
    p = float(ord_)
    total = ops.reduce("sum", ops.pow(ops.abs(x), ord_), axes_, keepdims)
    if p < 0:
        return ops.pow(total, 1.0 / p)
    # At x = 0 the value is 0 with gradient 0 (the root's derivative is
    # infinite there; its operand is made safe so that no 0 * inf appears).
    zero = ops.eq(total, 0.0)
    root = ops.pow(ops.where(zero, 1.0, total), 1.0 / p)
    return ops.where(zero, 0.0, root)


def _matrix_norm_of(x, row, col, ord_, keepdims):
    if ord_ is None or isinstance(ord_, str) and ord_ in ("fro", "f"):
        return linalg.norm(x, (row, col), keepdims)
    kept = tuple(1 if i in (row, col) else n for i, n in enumerate(x.shape))
    if isinstance(ord_, str) and ord_ != "nuc":
        fail(f"Invalid norm order {ord_!r} for matrices", "Use 'fro' or 'nuc'")
    if ord_ == "nuc" or _is(ord_, 2) or _is(ord_, -2):
        rest = [i for i in range(x.ndim) if i not in (row, col)]
        s = linalg.svd_values(transpose(x, rest + [row, col]))
        kind = "sum" if ord_ == "nuc" else "max" if _is(ord_, 2) else "min"
        out = ops.reduce(kind, s, (s.ndim - 1,))
    elif _is(ord_, 1) or _is(ord_, -1):
        kind = "max" if _is(ord_, 1) else "min"
        col = col - 1 if col > row else col
        out = ops.reduce(kind, ops.reduce("sum", ops.abs(x), (row,)), (col,))
    elif _is(ord_, math.inf) or _is(ord_, -math.inf):
        kind = "max" if _is(ord_, math.inf) else "min"
        row = row - 1 if row > col else row
        out = ops.reduce(kind, ops.reduce("sum", ops.abs(x), (col,)), (row,))
    else:
        fail(f"Invalid norm order {ord_!r} for matrices", "Use 1, -1, 2, -2, inf")
    return reshape(out, kept) if keepdims else out


@implements("numpy.linalg.norm")
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    x = as_float(x)
    keepdims = bool(keepdims)
    if axis is None:
        if ord is None:
            return linalg.norm(x, None, keepdims)
        if x.ndim not in (1, 2):
            fail("Improper number of dimensions to norm", "Give axis=")
        picked = tuple(range(x.ndim))
    else:
        picked = axes(axis, x.ndim)
    if len(picked) == 1:
        return vector_norm_of(x, picked, ord, keepdims)
    if len(picked) == 2:
        if picked[0] == picked[1]:
            fail("Duplicate axes given", "Name two different axes")
        return _matrix_norm_of(x, picked[0], picked[1], ord, keepdims)
    fail("Improper number of dimensions to norm", "Give one axis or two")


@implements("numpy.linalg.vector_norm")
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    x = as_float(x)
    picked = None if axis is None else axes(axis, x.ndim)
    return vector_norm_of(x, picked, ord, bool(keepdims))


@implements("numpy.linalg.matrix_norm")
def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    x = _matrix(x, "matrix_norm", square=False)
    return _matrix_norm_of(x, x.ndim - 2, x.ndim - 1, ord, bool(keepdims))


# ------------------------------------------------------------------ solvers


@implements("numpy.linalg.inv")
def inv(a):
    return linalg.inv(_matrix(a, "inv"))


@implements("numpy.linalg.solve")
def solve(a, b):
    return linalg.solve(_matrix(a, "solve"), as_float(b))


@implements("numpy.linalg.det")
def det(a):
    return linalg.det(_matrix(a, "det"))


@implements("numpy.linalg.slogdet")
def slogdet(a):
    return linalg.slogdet(_matrix(a, "slogdet"))


@implements("numpy.linalg.cholesky")
def cholesky(a, /, *, upper=False):
    return linalg.cholesky(_matrix(a, "cholesky"), upper=bool(upper))


@implements("numpy.linalg.pinv")
def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    unsupported("numpy.linalg.pinv", rcond=rcond, rtol=rtol)
    if hermitian:
        fail("np.linalg.pinv with hermitian=True", "Leave hermitian out")
    return linalg.pinv(_matrix(a, "pinv", square=False))


@implements("numpy.linalg.matrix_power")
def matrix_power(a, n):
    a = as_node(a)
    n = static_int(n, "the exponent of np.linalg.matrix_power")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        fail(
            "np.linalg.matrix_power needs square matrices (the last two dimensions)",
            "Pass square matrices",
        )
    if n == 0:
        eye = ops.const(np.eye(a.shape[-1], dtype=a.dtype))
        return ops.broadcast_to(eye, a.shape) if a.ndim > 2 else eye
    if n < 0:
        a, n = inv(a), -n
    # NumPy's order of products (bit for bit the same result).
    if n == 1:
        return a
    if n == 2:
        return ops.matmul(a, a)
    if n == 3:
        return ops.matmul(ops.matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else ops.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else ops.matmul(result, z)
    return result


@implements("numpy.linalg.multi_dot")
def multi_dot(arrays, *, out=None):
    unsupported("numpy.linalg.multi_dot", out=out)
    nodes = [as_node(a) for a in arrays]
    if len(nodes) < 2:
        fail("np.linalg.multi_dot needs at least two arrays", "Pass two or more")
    if any(x.ndim != 2 for x in nodes[1:-1]) or nodes[0].ndim not in (1, 2):
        fail("np.linalg.multi_dot: arrays must be 2-D (the ends may be 1-D)", "")
    out_ = nodes[0]
    for x in nodes[1:]:
        out_ = ops.matmul(out_, x)
    return out_


# ------------------------------------------------------------------ decompositions


def _uplo(UPLO):  # noqa: N803 - NumPy's name
    uplo = str(UPLO).upper()
    if uplo not in ("L", "U"):
        fail("UPLO argument must be 'L' or 'U'", "Use 'L' or 'U'")
    return uplo


@implements("numpy.linalg.eigh")
def eigh(a, UPLO="L"):  # noqa: N803
    return linalg.eigh(_matrix(a, "eigh"), _uplo(UPLO))


@implements("numpy.linalg.eigvalsh")
def eigvalsh(a, UPLO="L"):  # noqa: N803
    return linalg.eigh(_matrix(a, "eigvalsh"), _uplo(UPLO))[0]


@implements("numpy.linalg.svd")
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        fail("np.linalg.svd with hermitian=True", "Leave hermitian out")
    a = _matrix(a, "svd", square=False)
    if not compute_uv:
        return linalg.svd_values(a)
    return linalg.svd(a, full_matrices=bool(full_matrices))


@implements("numpy.linalg.svdvals")
def svdvals(x, /):
    return linalg.svd_values(_matrix(x, "svdvals", square=False))


@implements("numpy.linalg.qr")
def qr(a, mode="reduced"):
    a = _matrix(a, "qr", square=False)
    m, n = a.shape[-2:]
    if mode == "complete" and m > n:
        fail(
            "np.linalg.qr with mode='complete' of a matrix with more rows than "
            "columns",
            "Use mode='reduced'",
        )
    if mode not in ("reduced", "complete", "r"):
        fail(f"np.linalg.qr with mode={mode!r}", "Use mode='reduced' or 'r'")
    q, r = linalg.qr(a)
    return r if mode == "r" else (q, r)


# ------------------------------------------------------------------ scipy.linalg
# The common SciPy spellings, on single matrices; the generated code calls
# NumPy (`np.linalg.solve(np.tril(L), b)`), so it never imports SciPy.


def _scipy_matrix(a, name):
    a = _matrix(a, name)
    if a.ndim != 2:
        fail(f"scipy.linalg.{name} of a stack of matrices", "Use np.linalg")
    return a


def _triangle(a, lower):
    """The lower or upper triangle of `a` (NumPy's tril, triu)."""
    return linalg.tril(a) if lower else linalg.mT(linalg.tril(linalg.mT(a)))


@implements("scipy.linalg.cholesky")
def _scipy_cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    return linalg.cholesky(_scipy_matrix(a, "cholesky"), upper=not lower)


@implements("scipy.linalg.cho_factor")
def _scipy_cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    # SciPy leaves the other triangle of c unspecified; here it is zero.
    return _scipy_cholesky(a, lower), bool(lower)


@implements("scipy.linalg.cho_solve")
def _scipy_cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    factor = _triangle(_scipy_matrix(c, "cho_solve"), bool(lower))
    b = as_float(b)
    if lower:  # A = L L^T
        return linalg.solve(linalg.mT(factor), linalg.solve(factor, b))
    return linalg.solve(factor, linalg.solve(linalg.mT(factor), b))  # A = U^T U


@implements("scipy.linalg.solve_triangular")
def _scipy_solve_triangular(
    a,
    b,
    trans=0,
    lower=False,
    unit_diagonal=False,
    overwrite_b=False,
    check_finite=True,
):
    if unit_diagonal:
        fail("scipy.linalg.solve_triangular with unit_diagonal=True", "Leave it out")
    factor = _triangle(_scipy_matrix(a, "solve_triangular"), bool(lower))
    if trans in (1, 2, "T", "C"):
        factor = linalg.mT(factor)
    elif trans not in (0, "N"):
        fail(f"solve_triangular with trans={trans!r}", "Use 0, 1, 'N' or 'T'")
    return linalg.solve(factor, as_float(b))


def _symmetric_from(a, lower):
    """The symmetric matrix that the lower (or upper) triangle of `a` stands
    for: its gradient is zero on the other triangle, as SciPy never reads
    it."""
    if not lower:
        return linalg.mT(_symmetric_from(linalg.mT(a), True))
    return ops.add(linalg.tril(a), linalg.mT(linalg.tril(a, -1)))


def _band(a, below, above):
    """`a` with zeros outside the diagonals from `below` under the main one
    to `above` over it."""
    upper_part = linalg.mT(linalg.tril(linalg.mT(a), below))  # np.triu(a, -below)
    return linalg.tril(upper_part, above)


def _assumed(a, assume_a, lower, name):
    """The part of `a` that SciPy's solver for `assume_a` reads, as a matrix:
    the symmetric completion of one triangle ("sym", "her", "pos": the upper
    one unless `lower`), one triangle, the diagonal or the three central
    diagonals. The other entries get gradient 0, as they change nothing."""
    if assume_a in (None, "general", "gen", "banded"):
        # None and "banded" look at every entry (to find the structure).
        return a
    if assume_a in ("sym", "symmetric", "her", "hermitian", "pos", "positive definite"):
        return _symmetric_from(a, bool(lower))
    if assume_a == "upper triangular":
        return _triangle(a, False)
    if assume_a == "lower triangular":
        return _triangle(a, True)
    if assume_a == "diagonal":
        return _band(a, 0, 0)
    if assume_a == "tridiagonal" and name == "solve":
        return _band(a, 1, 1)
    fail(
        f"scipy.linalg.{name} with assume_a={assume_a!r}",
        "Use 'gen', 'sym', 'pos', 'diagonal', 'upper triangular' or "
        "'lower triangular'",
    )


@implements("scipy.linalg.solve")
def _scipy_solve(
    a,
    b,
    lower=False,
    overwrite_a=False,
    overwrite_b=False,
    check_finite=True,
    assume_a=None,
    transposed=False,
):
    # Every assume_a solves the system of the entries it reads, as a general
    # solve does (to rounding).
    a = _assumed(_scipy_matrix(a, "solve"), assume_a, lower, "solve")
    return linalg.solve(linalg.mT(a) if transposed else a, as_float(b))


@implements("scipy.linalg.inv")
def _scipy_inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    return linalg.inv(_assumed(_scipy_matrix(a, "inv"), assume_a, lower, "inv"))


@implements("scipy.linalg.det")
def _scipy_det(a, overwrite_a=False, check_finite=True):
    return linalg.det(_scipy_matrix(a, "det"))


@implements("numpy.linalg.cond")
def cond(x, p=None):
    """The 2-norm condition number (p None, 2 or -2) from the singular
    values, as NumPy computes it: s_max / s_min (or its inverse)."""
    if p not in (None, 2, -2):
        fail(f"np.linalg.cond with p={p!r}", "Use p=None (the 2-norm), 2 or -2")
    s = linalg.svd_values(_matrix(x, "cond", square=False))
    high = ops.reduce("max", s, (s.ndim - 1,))
    low = ops.reduce("min", s, (s.ndim - 1,))
    return ops.div(low, high) if p == -2 else ops.div(high, low)


@implements("numpy.linalg.lstsq")
def lstsq(a, b, rcond=None):
    """`(x, residuals, rank, s)` as NumPy returns them, with x = pinv(a) @ b
    (the minimum-norm least-squares solution NumPy's SVD solver finds; the
    values agree to rounding). The residuals are those of a full-rank `a`
    (the sums of squares of b - a @ x per column when m > n, else empty):
    a rank known only when the code runs cannot choose a shape."""
    unsupported("numpy.linalg.lstsq", rcond=rcond)
    a = _matrix(a, "lstsq", square=False)
    if a.ndim != 2:
        fail("np.linalg.lstsq of a stack of matrices", "Pass one matrix")
    b = as_float(b)
    if b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        fail(
            f"np.linalg.lstsq: b of shape {b.shape} for a of shape {a.shape}",
            "b needs as many rows as a",
        )
    x = ops.matmul(linalg.pinv(a), b)
    m, n = a.shape
    if isinstance(m, int) and isinstance(n, int) and m > n:
        r = ops.sub(b, ops.matmul(a, x))
        residuals = ops.reduce("sum", ops.mul(r, r), (0,))
        if residuals.ndim == 0:
            residuals = reshape(residuals, (1,))
    else:
        residuals = ops.const(np.zeros((0,)))
    s = linalg.svd_values(a)
    high = ops.reduce("max", s, (0,))
    cutoff = ops.mul(high, np.finfo(np.float64).eps * max(m, n))
    rank = ops.reduce("sum", astype(ops.gt(s, cutoff), np.int64), (0,))
    return x, residuals, rank, s
