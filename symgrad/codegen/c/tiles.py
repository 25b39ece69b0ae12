"""The C target's own matrix-product loops (`sg_gemm_loops`): register tiles
of the result, vectorized along its rows.

Contract: `LOOPS` is C source defining

    static void sg_gemm_loops(int ta, int tb, long m, long n, long k,
                              const double *A, long lda, const double *B,
                              long ldb, double *C, long ldc);

with `sg_gemm`'s meaning (`blas`: C = op(A) @ op(B), row-major, op(A)
stored transposed when ta, op(B) when tb), for any sizes, k = 0 included
(C all 0.0). Every result element is ((0.0 + a0 b0) + a1 b1) + ... in
order of k: a multiply, rounded, then an add, rounded (the build does not
contract them into fused multiply-adds), whatever the tiling, the blocking
or the vector width; the tiles only choose which elements are computed
side by side.

How: the result is cut into tiles of SG_MR rows by one or two vectors of
SG_VL columns, each held in registers while k runs (the GNU C vector
extension: the compiler emits the machine's vector instructions, or pairs
of narrower ones). A row of op(B) is then contiguous and an element of
op(A) is broadcast, so a transposed A costs nothing, and a transposed B is
copied, panel by panel, into a row-major panel first. Columns beyond the
last whole vector are tiles of SG_MR rows by one column (scalars, the rows'
sums independent). For long products k runs in blocks of SG_KB and the
columns in panels of SG_NB (a panel of B stays in cache): the tiles of a
later block start from the sums the earlier left in C. Tile height and
vector length (SG_MR x SG_VL) follow the compiler's target: 8 x 8 with
AVX-512 (32 vector registers), 4 x 4 with AVX, 4 x 2 otherwise; a compiler
without GNU C extensions gets scalars (SG_VL 1).
"""

from __future__ import annotations

# The names `LOOPS` defines (reserved: never a user's name).
NAMES = ("sg_gemm_loops", "sg_vec", "sg_tile", "sg_tile_column", "sg_tile_rows")
NAMES += (
    "sg_tile_panel",
    "sg_pack_columns",
    "SG_VL",
    "SG_MR",
    "SG_KB",
    "SG_NB",
    "SG_TILE_INLINE",
)

LOOPS = """/* Vector length (doubles) and tile height: SG_MR rows by two vectors of
   accumulators, plus op(B)'s row and A's broadcast element, fill but do not
   overflow the vector registers. */
#if defined(__GNUC__) && defined(__AVX512F__)
#define SG_VL 8
#define SG_MR 8
#elif defined(__GNUC__) && defined(__AVX__)
#define SG_VL 4
#define SG_MR 4
#elif defined(__GNUC__)
#define SG_VL 2
#define SG_MR 4
#else
#define SG_VL 1
#define SG_MR 4
#endif
#if SG_VL > 1
typedef double sg_vec __attribute__((vector_size(SG_VL * sizeof(double))));
#else
typedef double sg_vec;
#endif
/* Inlined with constant rows and vectors, so the accumulators are
   registers. */
#if defined(__GNUC__)
#define SG_TILE_INLINE static inline __attribute__((always_inline))
#else
#define SG_TILE_INLINE static inline
#endif
/* Blocks of the own loops: a KB x NB panel of B (64 KiB) stays in cache. */
#define SG_KB 128
#define SG_NB 64

/* C[0:rows, 0:nv*SG_VL] (+)= A B over k: the element (i, p) of op(A) is
   A[i*ai + p*ap], row p of op(B) starts at B + p*ldb. first: start from
   0.0, else from what C holds (an earlier block of k). */
SG_TILE_INLINE void sg_tile(int rows, int nv, int first, long k, const double *A,
                            long ai, long ap, const double *B, long ldb,
                            double *C, long ldc)
{
    sg_vec acc[SG_MR][2];
    sg_vec b[2];
    for (int i = 0; i < rows; i++) {
        for (int v = 0; v < nv; v++) {
            if (first) {
                acc[i][v] = (sg_vec){0};
            } else {
                memcpy(&acc[i][v], C + i * ldc + v * SG_VL, sizeof(sg_vec));
            }
        }
    }
    for (long p = 0; p < k; p++) {
        for (int v = 0; v < nv; v++) {
            memcpy(&b[v], B + p * ldb + v * SG_VL, sizeof(sg_vec));
        }
        for (int i = 0; i < rows; i++) {
            double a = A[i * ai + p * ap];
            for (int v = 0; v < nv; v++) {
                acc[i][v] += a * b[v];
            }
        }
    }
    for (int i = 0; i < rows; i++) {
        for (int v = 0; v < nv; v++) {
            memcpy(C + i * ldc + v * SG_VL, &acc[i][v], sizeof(sg_vec));
        }
    }
}

/* The same for one column: C[0:rows, 0], the rows' sums side by side. */
SG_TILE_INLINE void sg_tile_column(int rows, int first, long k, const double *A,
                                   long ai, long ap, const double *B, long ldb,
                                   double *C, long ldc)
{
    double acc[SG_MR];
    for (int i = 0; i < rows; i++) {
        acc[i] = first ? 0.0 : C[i * ldc];
    }
    for (long p = 0; p < k; p++) {
        double b = B[p * ldb];
        for (int i = 0; i < rows; i++) {
            acc[i] += A[i * ai + p * ap] * b;
        }
    }
    for (int i = 0; i < rows; i++) {
        C[i * ldc] = acc[i];
    }
}

/* C[0:rows, 0:n] (+)= A B over k, tile by tile along the columns. */
SG_TILE_INLINE void sg_tile_rows(int rows, int first, long n, long k,
                                 const double *A, long ai, long ap,
                                 const double *B, long ldb, double *C, long ldc)
{
    long j = 0;
    for (; j + 2 * SG_VL <= n; j += 2 * SG_VL) {
        sg_tile(rows, 2, first, k, A, ai, ap, B + j, ldb, C + j, ldc);
    }
    for (; j + SG_VL <= n; j += SG_VL) {
        sg_tile(rows, 1, first, k, A, ai, ap, B + j, ldb, C + j, ldc);
    }
    for (; j < n; j++) {
        sg_tile_column(rows, first, k, A, ai, ap, B + j, ldb, C + j, ldc);
    }
}

/* C[0:m, 0:n] (+)= A B over k: tiles of SG_MR rows, then single rows. */
static void sg_tile_panel(int first, long m, long n, long k, const double *A,
                          long ai, long ap, const double *B, long ldb, double *C,
                          long ldc)
{
    long i = 0;
    for (; i + SG_MR <= m; i += SG_MR) {
        sg_tile_rows(SG_MR, first, n, k, A + i * ai, ai, ap, B, ldb, C + i * ldc,
                     ldc);
    }
    for (; i < m; i++) {
        sg_tile_rows(1, first, n, k, A + i * ai, ai, ap, B, ldb, C + i * ldc, ldc);
    }
}

/* P (kb x nb, row-major) = the transpose of B's nb x kb block at B: eight
   rows of B at a time, so eight streams are read side by side. */
static void sg_pack_columns(long kb, long nb, const double *B, long ldb, double *P)
{
    long j = 0;
    for (; j + 8 <= nb; j += 8) {
        for (long p = 0; p < kb; p++) {
            for (int r = 0; r < 8; r++) {
                P[p * nb + j + r] = B[(j + r) * ldb + p];
            }
        }
    }
    for (; j < nb; j++) {
        for (long p = 0; p < kb; p++) {
            P[p * nb + j] = B[j * ldb + p];
        }
    }
}

/* C = op(A) @ op(B) with the tiles above: each element's products added in
   order of k, starting from 0.0, whatever the tiling and blocking. */
static void sg_gemm_loops(int ta, int tb, long m, long n, long k,
                          const double *A, long lda, const double *B, long ldb,
                          double *C, long ldc)
{
    double pack[SG_KB * SG_NB];
    /* Steps along op(A)'s rows and columns. */
    long ai = ta ? 1 : lda;
    long ap = ta ? lda : 1;
    if (k <= 0) {
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) {
                C[i * ldc + j] = 0.0;
            }
        }
        return;
    }
    for (long j0 = 0; j0 < n; j0 += SG_NB) {
        long nb = n - j0 < SG_NB ? n - j0 : SG_NB;
        for (long k0 = 0; k0 < k; k0 += SG_KB) {
            long kb = k - k0 < SG_KB ? k - k0 : SG_KB;
            const double *panel = B + k0 * ldb + j0;
            long ldp = ldb;
            if (tb) {
                sg_pack_columns(kb, nb, B + j0 * ldb + k0, ldb, pack);
                panel = pack;
                ldp = nb;
            }
            sg_tile_panel(k0 == 0, m, nb, kb, A + k0 * ap, ai, ap, panel, ldp,
                          C + j0, ldc);
        }
    }
}"""
