"""C lowerings of `np.linalg.inv`, `solve`, `det`, `slogdet` (its sign and
its log) and `cholesky`, on stacks of matrices (the last two axes), with
NumPy's semantics and errors.

Contract: each `@lowering` returns one C block computing `node` into `out`
matrix by matrix (the leading axes are a stack; `solve` broadcasts them),
through the helpers below, which work as the LAPACK routines NumPy calls:
- `sg_lu`: LU factors with partial pivoting, the pivots as dgetf2 picks
  them (the largest |value| in the column, the first one on ties), each
  entry computed in the order of OpenBLAS's getf2 (which NumPy's wheels
  call); a pivot that is exactly 0.0 means a singular matrix (LAPACK's
  info > 0).
- `sg_lu_solve`: the solution from those factors (dgetrs). `inv` is the
  solution for the identity and `solve` for b, as NumPy's dgesv calls.
- `sg_slogdet`: the sign and log |det| from the factors as NumPy computes
  them (the row swaps and the diagonal's signs give the sign, the sum of
  log |u_ii| the log), (0, -inf) for a singular matrix; `det` is
  sign * exp(log |det|), as NumPy computes it too.
- `sg_cholesky`: the lower factor, reading the lower triangle only (dpotrf
  with uplo "L", as `np.linalg.cholesky`), the upper triangle set to 0.0;
  a diagonal value <= 0 before its square root means not positive
  definite (a NaN gives NaNs, as NumPy with OpenBLAS).
Failures jump to the function's end with NumPy's errors as statuses: -7
(singular: inv and solve raise `LinAlgError("Singular matrix")`), -8 (not
positive definite), -1 (no memory for the factors). Results agree with
LAPACK's to rounding. The factors follow OpenBLAS's order, so small ones
often agree to the bit and an exact 0.0 pivot (a singular matrix such as
[[1, 2, 3], [4, 5, 6], [7, 8, 9]]) is found where NumPy with OpenBLAS
finds it; not for every LAPACK, nor for large matrices (OpenBLAS blocks
them and adds in another order). The factors' scratch (n * n doubles
and n pivots) is allocated once per statement, freed on every way out.
`HELPERS` holds their C source, which `module.helper_sources` writes
(and the target reserves their names); a helper that calls another sorts
after it by name, as the module writes them in name order.
"""

from __future__ import annotations

from symgrad.codegen.c.lower_arrays import loop, source_index
from symgrad.codegen.c.lowering import lowering
from symgrad.codegen.c.sizes import c_size
from symgrad.ir import dims

_LU = """/* The LU factors of the n x n row-major matrix a, in place, with the
   pivots LAPACK's dgetf2 picks: for each column j, the row (from j down)
   with the largest |value| in that column, the first one on ties, is
   swapped with row j (piv[j]: the row it came from). Column by column
   (left-looking, as OpenBLAS's getf2 that NumPy's wheels call): the
   earlier swaps, then each entry less the dot product of its row of L so
   far with the column (summed first, then subtracted), then the pivot,
   and the column below it scaled by the pivot. Returns 1 as soon as a
   pivot is exactly 0.0 (a singular matrix: LAPACK's info > 0), else 0. */
static int sg_lu(double *a, long n, long *piv)
{
    for (long j = 0; j < n; j++) {
        for (long i = 0; i < j; i++) {
            double t = a[i * n + j];
            a[i * n + j] = a[piv[i] * n + j];
            a[piv[i] * n + j] = t;
        }
        for (long i = 1; i < n; i++) {
            long m = i < j ? i : j;
            double s = 0.0;
            for (long k = 0; k < m; k++) {
                s += a[i * n + k] * a[k * n + j];
            }
            a[i * n + j] -= s;
        }
        long p = j;
        double big = fabs(a[j * n + j]);
        for (long i = j + 1; i < n; i++) {
            if (fabs(a[i * n + j]) > big) {
                big = fabs(a[i * n + j]);
                p = i;
            }
        }
        piv[j] = p;
        if (a[p * n + j] == 0.0) {
            return 1;
        }
        /* Columns 0..j; the later ones take this swap in their turn. */
        if (p != j) {
            for (long k = 0; k <= j; k++) {
                double t = a[j * n + k];
                a[j * n + k] = a[p * n + k];
                a[p * n + k] = t;
            }
        }
        /* LAPACK multiplies by the reciprocal unless it would overflow. */
        double d = a[j * n + j];
        for (long i = j + 1; i < n; i++) {
            if (fabs(d) >= 2.2250738585072014e-308) {
                a[i * n + j] *= 1.0 / d;
            } else {
                a[i * n + j] /= d;
            }
        }
    }
    return 0;
}"""

_LU_SOLVE = """/* Solves A X = B in place in the n x m row-major b, from sg_lu's factors
   of A (lu, piv), as LAPACK's dgetrs: the row swaps in order, then the
   unit lower triangle forward, then the upper triangle backward. */
static void sg_lu_solve(const double *lu, const long *piv, long n, double *b,
                        long m)
{
    for (long j = 0; j < n; j++) {
        if (piv[j] != j) {
            for (long k = 0; k < m; k++) {
                double t = b[j * m + k];
                b[j * m + k] = b[piv[j] * m + k];
                b[piv[j] * m + k] = t;
            }
        }
    }
    for (long i = 1; i < n; i++) {
        for (long j = 0; j < i; j++) {
            double l = lu[i * n + j];
            for (long k = 0; k < m; k++) {
                b[i * m + k] -= l * b[j * m + k];
            }
        }
    }
    for (long i = n - 1; i >= 0; i--) {
        /* The last column first, as dtrsm subtracts. */
        for (long j = n - 1; j > i; j--) {
            double u = lu[i * n + j];
            for (long k = 0; k < m; k++) {
                b[i * m + k] -= u * b[j * m + k];
            }
        }
        for (long k = 0; k < m; k++) {
            b[i * m + k] /= lu[i * n + i];
        }
    }
}"""

_SLOGDET = """/* log |det A| of the n x n row-major matrix a (overwritten by its LU
   factors), its sign in *sign, as NumPy's slogdet computes them: -1 per
   row swap and per negative pivot, the sum of log |pivot|; a singular
   matrix gives sign 0 and -inf. */
static double sg_slogdet(double *a, long n, long *piv, double *sign)
{
    double s = 1.0;
    double logdet = 0.0;
    if (sg_lu(a, n, piv) != 0) {
        *sign = 0.0;
        return -INFINITY;
    }
    for (long j = 0; j < n; j++) {
        double u = a[j * n + j];
        if (piv[j] != j) {
            s = -s;
        }
        if (u < 0.0) {
            s = -s;
            u = -u;
        }
        logdet += log(u);
    }
    *sign = s;
    return logdet;
}"""

_CHOLESKY = """/* The lower Cholesky factor l (A = L L^T) of the n x n row-major matrix
   a, from a's lower triangle only, as LAPACK's dpotrf with uplo "L": column
   by column, the diagonal value less the sum of the squares of its row so
   far, its square root, then the column below (each entry less its dot
   product, times the reciprocal); l's upper triangle is 0.0. Returns
   1 (not positive definite: LAPACK's info > 0) when a diagonal value is
   <= 0 before its square root, else 0. A NaN goes on into the factor,
   as OpenBLAS's potrf (which NumPy's wheels call) lets it: reference
   LAPACK would stop there. */
static int sg_cholesky(const double *a, double *l, long n)
{
    for (long j = 0; j < n; j++) {
        double s = 0.0;
        for (long k = 0; k < j; k++) {
            s += l[j * n + k] * l[j * n + k];
        }
        double d = a[j * n + j] - s;
        if (d <= 0.0) {
            return 1;
        }
        d = sqrt(d);
        l[j * n + j] = d;
        /* dpotrf scales the column by the reciprocal. */
        double r = 1.0 / d;
        for (long k = j + 1; k < n; k++) {
            l[j * n + k] = 0.0;
        }
        for (long i = j + 1; i < n; i++) {
            double t = 0.0;
            for (long k = 0; k < j; k++) {
                t += l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = (a[i * n + j] - t) * r;
        }
    }
    return 0;
}"""

HELPERS = {
    "sg_lu": _LU,
    "sg_lu_solve": _LU_SOLVE,
    "sg_slogdet": _SLOGDET,
    "sg_cholesky": _CHOLESKY,
}

_SINGULAR = (-7, "a singular matrix")
_NOT_DEFINITE = (-8, "a matrix that is not positive definite")
_NO_MEMORY = (-1, "out of memory")


def _fail(status, frees) -> list:
    """Lines leaving the function with `status` (code, why), after freeing
    the scratch `frees` names."""
    code, why = status
    return [
        *(f"free({name});" for name in frees),
        f"_status = {code}; /* {why} */",
        "goto _end;",
    ]


def _scratch(n) -> list:
    """Lines allocating the scratch of one LU factorization of n x n
    matrices: `_lu` (n * n doubles) and `_piv` (n pivots); + 1 each, as
    malloc(0) may return NULL."""
    return [
        f"double *_lu = malloc(((size_t){c_size(n * n)} + 1) * sizeof(double));",
        f"long *_piv = malloc(((size_t){c_size(n)} + 1) * sizeof(long));",
        "if (_lu == NULL || _piv == NULL) {",
        *("    " + line for line in _fail(_NO_MEMORY, ("_lu", "_piv"))),
        "}",
    ]


_FREE = ["free(_lu);", "free(_piv);"]


def _if(cond: str, body: list) -> list:
    return [f"if ({cond}) {{", *("    " + line for line in body), "}"]


def _at(pointer: str, var: str, count) -> str:
    """`pointer` moved to block `var` of `count` elements (C)."""
    if var == "0":
        return pointer
    if dims.known_equal(count, 1):
        return f"{pointer} + {var}"
    return f"{pointer} + {var} * {c_size(count)}"


def _per_matrix(batch, body) -> list:
    """`body(o)` (lines; o: the C index of the matrix) once per matrix of a
    stack of `batch` matrices (`_o`), or once when there is one."""
    if dims.known_equal(batch, 1):
        return body("0")
    return loop(batch, body("_o"), "_o")


def _with_scratch(n, batch, lines: list) -> list:
    """`lines` (per matrix, using `_lu` and `_piv`) with their scratch, in
    a block of their own (the scratch names stay inside). With a symbolic
    stack, only when it has a matrix: an empty stack may have any n, and
    then n * n could overflow (a matrix in memory bounds it)."""
    body = _scratch(n) + lines + _FREE
    if dims.is_symbolic(batch):
        return _if(f"{c_size(batch)} > 0", body)
    return ["{", *("    " + line for line in body), "}"]


def _factor(n, a: str) -> list:
    """Lines copying the matrix at `a` into `_lu` and factoring it there;
    a singular matrix leaves the function (-7), as NumPy raises."""
    return [
        f"memcpy(_lu, {a}, {c_size(n * n)} * sizeof(double));",
        *_if(f"sg_lu(_lu, {c_size(n)}, _piv) != 0", _fail(_SINGULAR, ("_lu", "_piv"))),
    ]


@lowering("inv", helpers=("sg_lu", "sg_lu_solve"))
def _inv(node, out, args) -> list:
    # NumPy solves A X = I (dgesv) for each matrix.
    (a,), (src,) = node.inputs, args
    n = a.shape[-1]

    def body(o):
        return [
            *_factor(n, _at(src, o, n * n)),
            f"double *_x = {_at(out, o, n * n)};",
            f"memset(_x, 0, {c_size(n * n)} * sizeof(double)); /* +0.0 */",
            *loop(n, [f"_x[_j * {c_size(n + 1)}] = 1.0;"], "_j"),
            f"sg_lu_solve(_lu, _piv, {c_size(n)}, _x, {c_size(n)});",
        ]

    batch = dims.prod(a.shape[:-2])
    return _with_scratch(n, batch, _per_matrix(batch, body))


@lowering("solve", helpers=("sg_lu", "sg_lu_solve"))
def _solve(node, out, args) -> list:
    a, b = node.inputs
    src, rhs = args
    n = a.shape[-1]
    if b.ndim == 1:
        # NumPy 2: a 1-D b is one vector, solved with every matrix.
        batch, width = dims.prod(a.shape[:-2]), 1
        a_batch, b_batch = a.shape[:-2], ()
    else:
        batch, width = dims.prod(node.shape[:-2]), b.shape[-1]
        a_batch, b_batch = a.shape[:-2], b.shape[:-2]
    out_batch = node.shape[: len(node.shape) - (1 if b.ndim == 1 else 2)]
    block = n * width

    def offset(o, in_batch):
        # The matrix of an operand's stack that stack entry `o` reads
        # (broadcasting its leading axes).
        if o == "0" or not in_batch:
            return "0"
        if tuple(in_batch) == tuple(out_batch):
            return o
        at = source_index(o, out_batch, in_batch)
        return at if at == "0" else f"({at})"

    def body(o):
        return [
            *_factor(n, _at(src, offset(o, a_batch), n * n)),
            f"double *_x = {_at(out, o, block)};",
            f"memcpy(_x, {_at(rhs, offset(o, b_batch), block)}, "
            f"{c_size(block)} * sizeof(double));",
            f"sg_lu_solve(_lu, _piv, {c_size(n)}, _x, {c_size(width)});",
        ]

    return _with_scratch(n, batch, _per_matrix(batch, body))


@lowering("det", "slogdet", "slogdet_sign", helpers=("sg_lu", "sg_slogdet"))
def _determinant(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    n = a.shape[-1]
    # NumPy's det is sign * exp(log |det|) from its slogdet (umath_linalg).
    value = {
        "det": "_sign * exp(_logdet)",
        "slogdet": "_logdet",
        "slogdet_sign": "_sign",
    }[node.op]

    def body(o):
        return [
            f"memcpy(_lu, {_at(src, o, n * n)}, {c_size(n * n)} * sizeof(double));",
            "double _sign;",
            f"double _logdet = sg_slogdet(_lu, {c_size(n)}, _piv, &_sign);",
            f"{out if not node.shape else f'{out}[{o}]'} = {value};",
        ]

    batch = dims.prod(a.shape[:-2])
    return _with_scratch(n, batch, _per_matrix(batch, body))


@lowering("cholesky", helpers=("sg_cholesky",))
def _cholesky(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    n = a.shape[-1]

    def body(o):
        at = _at(src, o, n * n)
        return _if(
            f"sg_cholesky({at}, {_at(out, o, n * n)}, {c_size(n)}) != 0",
            _fail(_NOT_DEFINITE, ()),
        )

    # The factor is built in `out` (no scratch).
    return _per_matrix(dims.prod(a.shape[:-2]), body)
