"""Linear algebra primitives: the `numpy.linalg` functions that generated code
calls by name (`np.linalg.solve(A, b)`, `np.linalg.slogdet(K)[1]`).

Contract: one `Op` record per primitive plus a builder of the same name. Every
op works on stacks of matrices (the last two axes), as NumPy's do. VJP rules
are graphs of primitives that have VJP rules themselves (solve, inv, matmul,
tril, ...), so second derivatives work. A function with several results is
one primitive per result (`eigvalsh` and `eigh_vectors`, `svdvals`, `svd_u`
and `svd_vh`, `qr_q` and `qr_r`, `slogdet_sign` and `slogdet`), each printed
as the NumPy call a person writes; reverse mode adds up their cotangents.

Conventions (documented in the README, pinned by tests):
- `cholesky` (the lower triangle), `eigvalsh` and `eigh_vectors` (the UPLO
  triangle) read one triangle of their argument, as NumPy does, and say so in
  their record (`reads`). Their gradient is the partial derivative of what
  NumPy computes: exactly zero on the triangle it ignores, and on the read
  triangle the derivative with respect to that entry, which stands for both
  mirrored entries (G + G^T off the diagonal, for G the gradient with
  respect to the symmetric matrix). JAX, PyTorch and autograd return the
  symmetric gradient instead; both agree on symmetric matrices built
  symmetrically, but only this one matches finite differences of NumPy.
- eigh and svd need distinct eigenvalues (singular values); repeated ones give
  a zero coupling term (not infinities) where their difference is exactly 0.
- the 2-norm and Frobenius norm have gradient 0 at 0 (as PyTorch).
- svd gradients need nonzero singular values, and full_matrices=False where
  it changes the result (the extra singular vectors are not unique).
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import ShapeError, SymgradError
from symgrad.ir import dims
from symgrad.ops.core import Op, apply, dtype_float, register
from symgrad.ops.elementwise import add, div, eq, mul, neg, sub, where
from symgrad.ops.products import matmul
from symgrad.ops.shapes import reshape, transpose

# ------------------------------------------------------------------ builders


def inv(a):
    return apply("inv", a)


def solve(a, b):
    return apply("solve", a, b)


def det(a):
    return apply("det", a)


def slogdet(a):
    """(sign, log|det|) as two nodes."""
    return apply("slogdet_sign", a), apply("slogdet", a)


def cholesky(a, upper=False):
    """The lower factor L (A = L L^T), or the upper one as the transpose of
    the lower factor of A^T (NumPy's upper=True reads the upper triangle)."""
    if upper:
        return mT(apply("cholesky", mT(a)))
    return apply("cholesky", a)


def tril(a, k=0):
    # The op is the structure area's `np.tril` record.
    return apply("tril", a, k=int(k))


def norm(a, axes=None, keepdims=False):
    """The 2-norm over `axes` (the Frobenius norm over two axes)."""
    if axes is not None:
        axes = tuple(sorted(axes))
        if axes == tuple(range(a.ndim)):
            axes = None
    return apply("norm", a, axes=axes, keepdims=bool(keepdims))


def eigh(a, uplo="L"):
    return apply("eigvalsh", a, UPLO=uplo), apply("eigh_vectors", a, UPLO=uplo)


def svd(a, full_matrices=False):
    """(U, s, Vh) as three nodes. full_matrices only changes U of a tall
    matrix and Vh of a wide one: the others are built in the reduced form."""
    m, n = a.shape[-2:]
    full = bool(full_matrices) and m != n
    tall = full and not (isinstance(m, int) and isinstance(n, int) and m < n)
    wide = full and not tall
    return (
        apply("svd_u", a, full=tall),
        apply("svdvals", a),
        apply("svd_vh", a, full=wide),
    )


def svd_values(a):
    return apply("svdvals", a)


def qr(a):
    return apply("qr_q", a), apply("qr_r", a)


def pinv(a):
    return apply("pinv", a)


# ------------------------------------------------------------------ helpers


def mT(x):
    """`x` with its last two axes swapped (a stack of transposes)."""
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(x, axes)


def _column(x):
    """(..., n) -> (..., n, 1)."""
    return reshape(x, x.shape + (1,))


def _row(x):
    """(..., n) -> (..., 1, n)."""
    return reshape(x, x.shape[:-1] + (1,) + x.shape[-1:])


def _scalars(x):
    """(...) -> (..., 1, 1): one number per matrix of a stack."""
    return reshape(x, x.shape + (1, 1))


def _inverse_gaps(w):
    """F[..., i, j] = 1 / (w[j] - w[i]), and 0 where the two are equal (the
    diagonal). The denominator is made safe before dividing, so that the
    derivative of this expression is finite too."""
    gaps = sub(_row(w), _column(w))
    same = eq(gaps, 0.0)
    return where(same, 0.0, div(1.0, where(same, 1.0, gaps)))


def _solve_right(x, r):
    """x @ inv(r).T, as solve(r, x.T).T."""
    return mT(solve(r, mT(x)))


def _matrix(shape, name):
    if len(shape) < 2:
        raise ShapeError(
            f"{name}: {len(shape)}-dimensional array given; an array of at least "
            "two dimensions (a matrix or a stack of them) is needed"
        )


def _square(shapes, name):
    (shape,) = shapes
    _matrix(shape, name)
    if shape[-1] != shape[-2]:
        raise ShapeError(
            f"{name}: the last two dimensions must be square, not "
            f"{dims.shape_str(shape[-2:])}"
        )
    return shape


def _min(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    if a == b:
        return a
    raise ShapeError(f"cannot tell which of the sizes {a!r} and {b!r} is smaller")


def _refuse_gradient(what, fix):
    raise SymgradError(f"the gradient of {what} is not supported. {fix}")


def _from_symmetric(g, part):
    """The cotangent of a matrix of which only the `part` triangle ("lower" or
    "upper") is read, as the symmetric matrix S it stands for, from G, the
    cotangent of S. Each read entry off the diagonal is two entries of S:
    tril(G) + tril(G^T, -1) for the lower triangle, and 0 elsewhere. Only
    the symmetric part of G matters, so a rule need not symmetrize G."""
    if part == "upper":
        return mT(_from_symmetric(mT(g), "lower"))
    return add(tril(g), tril(mT(g), -1))


def _reading(rule, reads):
    """The VJP of an op that reads parts of its inputs (`reads`, as in the op
    record) from `rule`, its VJP as a function of the whole symmetric
    matrices: zero outside what was read, the partial derivative inside."""

    def vjp(g, out, *inputs):
        parts = reads(**dict(out.attrs))
        grads = rule(g, out, *inputs)
        return tuple(
            x if part is None or x is None else _from_symmetric(x, part)
            for x, part in zip(grads, parts, strict=True)
        )

    vjp.__name__ = rule.__name__
    return vjp


def _record(name, *, shape, vjp, flags=("expensive",), **fields):
    if fields.get("reads") is not None:
        vjp = _reading(vjp, fields["reads"])
    register(
        Op(
            name=name,
            nin=fields.pop("nin", 1),
            shape=shape,
            dtype=fields.pop("dtype", dtype_float),
            vjp=vjp,
            flags=frozenset(flags),
            **fields,
        )
    )


# ------------------------------------------------------------------ inv, solve, det


def _inv_vjp(g, out, a):
    # d(A^-1) = -A^-1 dA A^-1, so Abar = -A^-T G A^-T.
    t = mT(out)
    return (neg(matmul(matmul(t, g), t)),)


_record(
    "inv",
    shape=lambda shapes: _square(shapes, "np.linalg.inv"),
    eval=np.linalg.inv,
    vjp=_inv_vjp,
)


def _solve_shape(shapes):
    a, b = shapes
    _square([a], "np.linalg.solve")
    if len(b) == 1:
        # NumPy 2: a 1-D b is one vector, shared by every matrix of a stack.
        dims.same(a[-1], b[0], "np.linalg.solve: sizes of a and b")
        return a[:-1]
    _matrix(b, "np.linalg.solve")
    dims.same(a[-1], b[-2], "np.linalg.solve: sizes of a and b")
    return dims.broadcast_shapes(a[:-2], b[:-2]) + b[-2:]


def _solve_vjp(g, out, a, b):
    # x = A^-1 b: bbar = A^-T G, Abar = -bbar x^T.
    if b.ndim == 1:
        if g.ndim == 1:
            gb = solve(mT(a), g)
            return neg(mul(_column(gb), out)), gb
        # A stack of solutions: solve each cotangent as a one-column matrix.
        gb = reshape(solve(mT(a), _column(g)), g.shape)
        return neg(mul(_column(gb), _row(out))), gb
    gb = solve(mT(a), g)
    return neg(matmul(gb, mT(out))), gb


_record(
    "solve",
    nin=2,
    shape=_solve_shape,
    eval=np.linalg.solve,
    vjp=_solve_vjp,
)


def _det_vjp(g, out, a):
    # d det(A) = det(A) tr(A^-1 dA): Abar = g det(A) A^-T.
    return (mul(_scalars(mul(g, out)), mT(inv(a))),)


def _logdet_vjp(g, out, a):
    return (mul(_scalars(g), mT(inv(a))),)


_record(
    "det",
    shape=lambda shapes: _square(shapes, "np.linalg.det")[:-2],
    eval=np.linalg.det,
    vjp=_det_vjp,
)
_record(
    "slogdet",
    shape=lambda shapes: _square(shapes, "np.linalg.slogdet")[:-2],
    eval=lambda a: np.linalg.slogdet(a)[1],
    vjp=_logdet_vjp,
)
_record(
    "slogdet_sign",
    shape=lambda shapes: _square(shapes, "np.linalg.slogdet")[:-2],
    eval=lambda a: np.linalg.slogdet(a)[0],
    # The sign is piecewise constant: no gradient.
    vjp=lambda g, out, a: (None,),
)


# ------------------------------------------------------------------ triangles


def _cholesky_vjp(g, out, a):
    # Iain Murray's formula ("Differentiation of the Cholesky decomposition",
    # 2016): with P = Phi(L^T Lbar) (the lower triangle with the diagonal
    # halved), the symmetric matrix's cotangent is sym(L^-T P L^-1); `reads`
    # turns it into the lower triangle's.
    x = matmul(mT(out), g)
    phi = mul(add(tril(x), tril(x, -1)), 0.5)
    s = solve(mT(out), mT(solve(mT(out), mT(phi))))
    return (s,)


_record(
    "cholesky",
    shape=lambda shapes: _square(shapes, "np.linalg.cholesky"),
    eval=np.linalg.cholesky,
    vjp=_cholesky_vjp,
    # LAPACK's potrf as NumPy calls it: the lower triangle (upper=True is
    # built as the transpose of the factor of the transpose).
    reads=lambda: ("lower",),
)


# ------------------------------------------------------------------ norm


def _norm_shape(shapes, axes, keepdims):
    (shape,) = shapes
    picked = range(len(shape)) if axes is None else axes
    if keepdims:
        return tuple(1 if i in picked else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in picked)


def _norm_vjp(g, out, a):
    # d|x| = x / |x|, taken as 0 at x = 0 (the denominator is made safe: there
    # x is all zeros, so the product is 0 either way).
    kept = _norm_shape([a.shape], out.attr("axes"), True)
    if out.shape != kept and out.attr("axes") is not None:
        g, out = reshape(g, kept), reshape(out, kept)
    safe = where(eq(out, 0.0), 1.0, out)
    return (mul(a, div(g, safe)),)


def _norm_eval(a, axes, keepdims):
    if axes is not None and len(axes) > 2:
        return np.sqrt(np.sum(np.square(a), axis=axes, keepdims=keepdims))
    return np.linalg.norm(a, axis=axes, keepdims=keepdims)


def _norm_sympy(a, **_attrs):
    import sympy

    return sympy.Abs(a)


_record(
    "norm",
    shape=_norm_shape,
    eval=_norm_eval,
    vjp=_norm_vjp,
    sympy=_norm_sympy,
    flags=("expensive", "no_negative_zero"),
)


# ------------------------------------------------------------------ eigh


def _eigvalsh_vjp(g, out, a):
    # dw_i = v_i^T dA v_i: Abar = V diag(wbar) V^T.
    v = apply("eigh_vectors", a, UPLO=out.attr("UPLO"))
    return (matmul(mul(v, _row(g)), mT(v)),)


def _eigh_vectors_vjp(g, out, a):
    # dV = V (F o (V^T dA V)) with F_ij = 1 / (w_j - w_i): Abar = V (F o V^T
    # Vbar) V^T (only its symmetric part counts: see `_from_symmetric`).
    w = apply("eigvalsh", a, UPLO=out.attr("UPLO"))
    inner = mul(_inverse_gaps(w), matmul(mT(out), g))
    return (matmul(matmul(out, inner), mT(out)),)


def _uplo_reads(UPLO):  # noqa: N803 - NumPy's name
    return ("lower" if UPLO == "L" else "upper",)


_record(
    "eigvalsh",
    shape=lambda shapes, UPLO: _square(shapes, "np.linalg.eigh")[:-1],
    eval=lambda a, UPLO: np.linalg.eigvalsh(a, UPLO=UPLO),
    vjp=_eigvalsh_vjp,
    reads=_uplo_reads,
)
_record(
    "eigh_vectors",
    shape=lambda shapes, UPLO: _square(shapes, "np.linalg.eigh"),
    eval=lambda a, UPLO: np.linalg.eigh(a, UPLO=UPLO)[1],
    vjp=_eigh_vectors_vjp,
    reads=_uplo_reads,
)


# ------------------------------------------------------------------ svd


def _svd_shape(part):
    def shape(shapes, full=False):
        (a,) = shapes
        _matrix(a, "np.linalg.svd")
        m, n = a[-2:]
        k = _min(m, n)
        if part == "s":
            return a[:-2] + (k,)
        if part == "u":
            return a[:-2] + (m, m if full else k)
        return a[:-2] + (n if full else k, n)

    return shape


def _svd_parts(a):
    return (
        apply("svd_u", a, full=False),
        apply("svdvals", a),
        apply("svd_vh", a, full=False),
    )


def _svdvals_vjp(g, out, a):
    # ds_i = u_i^T dA v_i: Abar = U diag(sbar) Vh.
    u, _, vh = _svd_parts(a)
    return (matmul(mul(u, _row(g)), vh),)


def _check_full(out, a):
    if out.attr("full"):
        _refuse_gradient(
            "np.linalg.svd with full_matrices=True of a non-square matrix",
            "Pass full_matrices=False.",
        )


def _svd_u_vjp(g, out, a):
    # Townsend, "Differentiating the singular value decomposition" (2016):
    # Abar = U (F o (U^T Ubar - Ubar^T U)) S V^T + (I - U U^T) Ubar S^-1 V^T
    # with F_ij = 1 / (s_j^2 - s_i^2).
    _check_full(out, a)
    u, s, vh = _svd_parts(a)
    f = _inverse_gaps(mul(s, s))
    ut_g = matmul(mT(u), g)
    core = mul(mul(f, sub(ut_g, mT(ut_g))), _row(s))
    grad = matmul(matmul(u, core), vh)
    if a.shape[-2] != s.shape[-1]:  # more rows than columns: U is not square
        rest = sub(g, matmul(u, ut_g))
        grad = add(grad, matmul(div(rest, _row(s)), vh))
    return (grad,)


def _svd_vh_vjp(g, out, a):
    # As for U, with V = Vh^T and Vbar = Gh^T:
    # Abar = U S (F o (V^T Vbar - Vbar^T V)) V^T + U S^-1 Vbar^T (I - V V^T).
    _check_full(out, a)
    u, s, vh = _svd_parts(a)
    f = _inverse_gaps(mul(s, s))
    vt_g = matmul(vh, mT(g))
    core = mul(_column(s), mul(f, sub(vt_g, mT(vt_g))))
    grad = matmul(matmul(u, core), vh)
    if a.shape[-1] != s.shape[-1]:  # more columns than rows: V is not square
        rest = sub(g, matmul(matmul(g, mT(vh)), vh))
        grad = add(grad, matmul(u, div(rest, _column(s))))
    return (grad,)


_record(
    "svdvals",
    shape=_svd_shape("s"),
    eval=lambda a: np.linalg.svd(a, compute_uv=False),
    vjp=_svdvals_vjp,
)
_record(
    "svd_u",
    shape=_svd_shape("u"),
    eval=lambda a, full: np.linalg.svd(a, full_matrices=full)[0],
    vjp=_svd_u_vjp,
)
_record(
    "svd_vh",
    shape=_svd_shape("vh"),
    eval=lambda a, full: np.linalg.svd(a, full_matrices=full)[2],
    vjp=_svd_vh_vjp,
)


# ------------------------------------------------------------------ qr


def _qr_shape(part):
    def shape(shapes):
        (a,) = shapes
        _matrix(a, "np.linalg.qr")
        m, n = a[-2:]
        k = _min(m, n)
        return a[:-2] + ((m, k) if part == "q" else (k, n))

    return shape


def _copyltu(m):
    """The symmetric matrix with the lower triangle of `m`."""
    return add(tril(m), mT(tril(m, -1)))


def _qr_square_vjp(q, r, gq, gr):
    """The cotangent of A from those of Q and R (either may be None) where A
    has at least as many rows as columns (Walter and Lehmann; Seeger et al.
    2017): M = R Rbar^T - Qbar^T Q, Abar = (Qbar + Q copyltu(M)) R^-T."""
    if gr is None:
        mm = neg(matmul(mT(gq), q))
    elif gq is None:
        mm = matmul(r, mT(gr))
    else:
        mm = sub(matmul(r, mT(gr)), matmul(mT(gq), q))
    left = matmul(q, _copyltu(mm))
    return _solve_right(left if gq is None else add(gq, left), r)


def _columns(x, start, stop):
    """x[..., start:stop]."""
    index = (("slice", None, None, None),) * (x.ndim - 1)
    return apply("getitem", x, index=index + (("slice", start, stop, None),))


def _qr_vjp(part):
    def vjp(g, out, a):
        m, n = a.shape[-2:]
        q, r = apply("qr_q", a), apply("qr_r", a)
        gq, gr = (g, None) if part == "q" else (None, g)
        if not (isinstance(m, int) and isinstance(n, int) and m < n):
            return (_qr_square_vjp(q, r, gq, gr),)
        # A wide matrix A = [X | Y] with X square: Q R_X = X and R = [R_X | V]
        # with V = Q^T Y. Then Ybar = Q Vbar, and X's cotangent is the square
        # case's with Qbar + Y Vbar^T for Qbar.
        if gr is None:
            gx = _qr_square_vjp(q, _columns(r, 0, m), gq, None)
            return (_put_columns(gx, a.shape, 0, m),)
        gv, y = _columns(gr, m, n), _columns(a, m, n)
        gq = matmul(y, mT(gv))
        gx = _qr_square_vjp(q, _columns(r, 0, m), gq, _columns(gr, 0, m))
        gy = matmul(q, gv)
        return (add(_put_columns(gx, a.shape, 0, m), _put_columns(gy, a.shape, m, n)),)

    return vjp


def _put_columns(x, shape, start, stop):
    """An array of `shape`, zero except `x` in columns start:stop."""
    index = (("slice", None, None, None),) * (len(shape) - 1)
    index += (("slice", start, stop, None),)
    return apply("scatter", x, shape=tuple(shape), index=index)


_record(
    "qr_q",
    shape=_qr_shape("q"),
    eval=lambda a: np.linalg.qr(a)[0],
    vjp=_qr_vjp("q"),
)
_record(
    "qr_r",
    shape=_qr_shape("r"),
    eval=lambda a: np.linalg.qr(a)[1],
    vjp=_qr_vjp("r"),
)


# ------------------------------------------------------------------ pinv


def _pinv_vjp(g, out, a):
    # Golub and Pereyra (1973), for a matrix of constant rank, X = pinv(A):
    # Abar = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A).
    x, gt = out, mT(g)
    first = neg(matmul(matmul(mT(x), g), mT(x)))
    b = matmul(gt, matmul(x, mT(x)))
    second = sub(b, matmul(a, matmul(x, b)))
    c = matmul(matmul(mT(x), x), gt)
    third = sub(c, matmul(matmul(c, x), a))
    return (add(add(first, second), third),)


def _pinv_shape(shapes):
    (a,) = shapes
    _matrix(a, "np.linalg.pinv")
    return a[:-2] + (a[-1], a[-2])


_record(
    "pinv",
    shape=_pinv_shape,
    eval=np.linalg.pinv,
    vjp=_pinv_vjp,
)
