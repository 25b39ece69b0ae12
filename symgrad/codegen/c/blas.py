"""Matrix products in the C target: one helper, `sg_gemm`, and where its
arithmetic comes from.

Contract: the `matmul` lowering (`gemm_lines`) prints calls of

    sg_gemm(ta, tb, m, n, k, A, lda, B, ldb, C, ldc);

meaning C (m x n, row-major, row stride ldc) = op(A) @ op(B), where op(A)
is m x k and is stored as A (row stride lda) when ta is 0, or as its
transpose (k x m) when ta is 1; the same for B (k x n) and tb. Dimensions
and strides are C `long` expressions (ints, or expressions of the size
variables, `sizes.c_size`, computed at run time). The
helper's C source (`HELPERS`) calls SciPy's BLAS when the module was given
its function pointers (`sg_blas_dgemm`, `sg_blas_dgemv`, set once after
loading through the binding's `_set_blas`: `capsules()` finds them in
`scipy.linalg.cython_blas`), else its own cache-blocked loops
(`sg_gemm_loops`): for every result element the products are added in
order of k, exactly as a plain dot-product loop would, without fused
multiply-adds, so the loops' results do not depend on the blocking. BLAS
sums in its own order, as NumPy's `@` does (NumPy calls BLAS too).
A product with a dimension or stride beyond BLAS's 32-bit `int` takes the
own loops, which count in `long`.

The binding checks the capsule's signature text before taking a pointer:
SciPy's BLAS with 32-bit `int` arguments is the only one used; any other
leaves the own loops in charge.
"""

from __future__ import annotations

from symgrad.codegen.c.lowering import refuse
from symgrad.codegen.c.sizes import c_size
from symgrad.ir import dims

# The names the helper defines (reserved: never a user's name).
NAMES = ("sg_gemm", "sg_gemm_loops", "sg_blas_dgemm", "sg_blas_dgemv")
NAMES += ("sg_dgemm_t", "sg_dgemv_t", "SG_KB", "SG_NB")

# What the signature text of SciPy's capsules starts with (after "void ("):
# char, char, int, int, int for dgemm; char, int, int for dgemv.
DGEMM_SIGNATURE = "void (char *, char *, int *, int *, int *, "
DGEMV_SIGNATURE = "void (char *, int *, int *, "

# Function pointer types and the two pointers, set by the binding.
_TYPES = """/* Fortran BLAS, as SciPy exposes it (scipy.linalg.cython_blas): column-
   major, every argument by pointer, 32-bit int sizes. */
typedef void sg_dgemm_t(char *, char *, int *, int *, int *, double *,
                        double *, int *, double *, int *, double *, double *,
                        int *);
typedef void sg_dgemv_t(char *, int *, int *, double *, double *, int *,
                        double *, int *, double *, double *, int *);
/* NULL: the own loops below. Set once after loading (the binding's
   _set_blas), never while a product runs. */
sg_dgemm_t *sg_blas_dgemm = NULL;
sg_dgemv_t *sg_blas_dgemv = NULL;"""

_LOOPS = """/* Blocks of the own loops: a KB x NB panel of B (64 KiB) stays in cache. */
#define SG_KB 64
#define SG_NB 128

/* C = op(A) @ op(B) with loops: for each element the products are added in
   the order of k, starting from 0.0, whatever the blocking. A transposed B
   is copied panel by panel, so the innermost loop always runs along a row
   of C and a contiguous row of B (the compiler vectorizes it). */
static void sg_gemm_loops(int ta, int tb, long m, long n, long k,
                          const double *A, long lda, const double *B, long ldb,
                          double *C, long ldc)
{
    double pack[SG_KB * SG_NB];
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) {
            C[i * ldc + j] = 0.0;
        }
    }
    for (long j0 = 0; j0 < n; j0 += SG_NB) {
        long nb = n - j0 < SG_NB ? n - j0 : SG_NB;
        for (long k0 = 0; k0 < k; k0 += SG_KB) {
            long kb = k - k0 < SG_KB ? k - k0 : SG_KB;
            const double *panel = B + k0 * ldb + j0;
            long ldp = ldb;
            if (tb) {
                for (long p = 0; p < kb; p++) {
                    for (long j = 0; j < nb; j++) {
                        pack[p * nb + j] = B[(j0 + j) * ldb + k0 + p];
                    }
                }
                panel = pack;
                ldp = nb;
            }
            for (long i = 0; i < m; i++) {
                double *c = C + i * ldc + j0;
                for (long p = 0; p < kb; p++) {
                    double a = ta ? A[(k0 + p) * lda + i] : A[i * lda + k0 + p];
                    const double *b = panel + p * ldp;
                    for (long j = 0; j < nb; j++) {
                        c[j] += a * b[j];
                    }
                }
            }
        }
    }
}"""

_GEMM = """/* C (m x n, row stride ldc) = op(A) @ op(B): op(A) is m x k, stored as A
   (row stride lda), or transposed (k x m) when ta; the same for B (k x n).
   Row-major C = A B is column-major C' = B' A', hence the swapped operands
   in the BLAS calls; a single column or row goes to dgemv. BLAS takes
   32-bit ints: larger dimensions or strides take the own loops. */
static void sg_gemm(int ta, int tb, long m_, long n_, long k_, const double *A,
                    long lda_, const double *B, long ldb_, double *C, long ldc_)
{
    double one = 1.0;
    double zero = 0.0;
    char tA = ta ? 'T' : 'N';
    char tB = tb ? 'T' : 'N';
    const long most = 2147483647L;
    int m, n, k, lda, ldb, ldc;
    int inc;
    int inc_c;
    if (m_ <= 0 || n_ <= 0) {
        return;
    }
    if (k_ <= 0 || sg_blas_dgemm == NULL || sg_blas_dgemv == NULL || m_ > most
        || n_ > most || k_ > most || lda_ > most || ldb_ > most || ldc_ > most) {
        sg_gemm_loops(ta, tb, m_, n_, k_, A, lda_, B, ldb_, C, ldc_);
        return;
    }
    m = (int)m_;
    n = (int)n_;
    k = (int)k_;
    lda = (int)lda_;
    ldb = (int)ldb_;
    ldc = (int)ldc_;
    if (n == 1) {
        /* C[:, 0] = op(A) @ b: b's step is ldb unless B is stored as a row */
        char t = ta ? 'N' : 'T';
        int rows = ta ? m : k;
        int cols = ta ? k : m;
        inc = tb ? 1 : ldb;
        inc_c = ldc;
        sg_blas_dgemv(&t, &rows, &cols, &one, (double *)A, &lda, (double *)B,
                      &inc, &zero, C, &inc_c);
        return;
    }
    if (m == 1) {
        /* C[0, :] = a @ op(B), as op(B)' @ a */
        char t = tb ? 'T' : 'N';
        int rows = tb ? k : n;
        int cols = tb ? n : k;
        inc = ta ? lda : 1;
        inc_c = 1;
        sg_blas_dgemv(&t, &rows, &cols, &one, (double *)B, &ldb, (double *)A,
                      &inc, &zero, C, &inc_c);
        return;
    }
    sg_blas_dgemm(&tB, &tA, &n, &m, &k, &one, (double *)B, &ldb, (double *)A,
                  &lda, &zero, C, &ldc);
}"""

HELPERS = {"sg_gemm": "\n\n".join((_TYPES, _LOOPS, _GEMM))}


def capsules():
    """SciPy's (dgemm, dgemv) capsules, or None where SciPy is not importable."""
    try:
        from scipy.linalg import cython_blas
    except ImportError:
        return None
    table = getattr(cython_blas, "__pyx_capi__", {})
    if "dgemm" not in table or "dgemv" not in table:
        return None
    return table["dgemm"], table["dgemv"]


def gemm_lines(node, out: str, srcs, trans=(False, False), loop=None) -> list:
    """C lines computing the product `node` into `out` from the operand
    buffers `srcs`; `trans[i]` says operand i is the stored transpose of
    the 2-D operand the product reads (a transpose looked through).
    `loop(count, body, var)` prints a for loop (the batched case)."""
    a, b = node.inputs
    sa, sb = srcs
    ta, tb = (1 if t else 0 for t in trans)
    if a.ndim == 1 and b.ndim == 1:
        return [
            f"{out} = 0.0;",
            *loop(a.shape[0], [f"{out} += {sa}[_i] * {sb}[_i];"]),
        ]
    a2 = a.shape if a.ndim > 1 else (1,) + a.shape
    b2 = b.shape if b.ndim > 1 else b.shape + (1,)
    m, k, n = a2[-2], a2[-1], b2[-1]
    # Row strides of the stored operands: a transposed one is stored k x m.
    lda = m if ta else k
    ldb = k if tb else n
    if len(b2) == 2:
        # A's batch axes fold into its rows (a row-major stack of matrices).
        m = m * dims.prod(a2[:-2])
        sizes = ", ".join(c_size(d) for d in (m, n, k))
        return [
            f"sg_gemm({ta}, {tb}, {sizes}, {sa}, {c_size(lda)}, {sb}, "
            f"{c_size(ldb)}, {out}, {c_size(n)});"
        ]
    if a2[:-2] != b2[:-2]:
        refuse(node, "batched products that broadcast")
    batch = dims.prod(a2[:-2])
    sizes = ", ".join(c_size(d) for d in (m, n, k))
    body = [
        f"sg_gemm({ta}, {tb}, {sizes}, {sa} + _b * {c_size(m * k)}, "
        f"{c_size(lda)}, {sb} + _b * {c_size(k * n)}, {c_size(ldb)}, "
        f"{out} + _b * {c_size(m * n)}, {c_size(n)});"
    ]
    return loop(batch, body, "_b")
