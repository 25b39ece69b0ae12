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
`scipy.linalg.cython_blas`), else its own loops (`sg_gemm_loops`, register
tiles: `tiles`): for every result element the products are added in order
of k, exactly as a plain dot-product loop would, without fused
multiply-adds, so the loops' results do not depend on the tiling or the
blocking. BLAS sums in its own order, as NumPy's `@` does (NumPy calls BLAS
too). Small matrix-matrix products (at most SG_SMALL = 2^20 multiply-adds,
decided when the product runs) take the own loops even with BLAS: there
dgemm's call and operand copies cost more than the product (the 16 x 32 by
32 x 32 steps of an RNN ran about three times faster in the tiles than in
OpenBLAS's dgemm, measured on AMD EPYC); a single column or row of a result
still goes to BLAS's dgemv, faster than the tiles at every size measured.
A product with a dimension or stride beyond BLAS's 32-bit `int` takes the
own loops, which count in `long`.

The binding checks the capsule's signature text before taking a pointer:
SciPy's BLAS with 32-bit `int` arguments is the only one used; any other
leaves the own loops in charge.
"""

from __future__ import annotations

from symgrad.codegen.c import tiles
from symgrad.codegen.c.lowering import refuse
from symgrad.codegen.c.sizes import c_size
from symgrad.ir import dims

# The names the helper defines (reserved: never a user's name).
NAMES = ("sg_gemm", "sg_blas_dgemm", "sg_blas_dgemv", "sg_dgemm_t", "sg_dgemv_t")
NAMES += ("SG_SMALL", *tiles.NAMES)

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

_GEMM = """/* C (m x n, row stride ldc) = op(A) @ op(B): op(A) is m x k, stored as A
   (row stride lda), or transposed (k x m) when ta; the same for B (k x n).
   Row-major C = A B is column-major C' = B' A', hence the swapped operands
   in the BLAS calls; a single column or row goes to dgemv. BLAS takes
   32-bit ints: larger dimensions or strides take the own loops. So do
   matrix-matrix products of at most SG_SMALL multiply-adds, where dgemm's
   call, checks and copies of the operands cost more than the loops' tiles
   (dgemv stays: it beats the tiles' one-column case at every size). */
#define SG_SMALL 1048576.0
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
        || n_ > most || k_ > most || lda_ > most || ldb_ > most || ldc_ > most
        || (m_ > 1 && n_ > 1 && (double)m_ * (double)n_ * (double)k_ <= SG_SMALL)) {
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

HELPERS = {"sg_gemm": "\n\n".join((_TYPES, tiles.LOOPS, _GEMM))}


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
