"""np.linalg.eig of a real matrix whose eigenvalues are real.

Contract: `eig(a)` is (w, V) as two primitives, `eig_values` and
`eig_vectors` (`eigvals(a)` the values alone), printed as the NumPy call a
person writes. NumPy returns real arrays exactly when every eigenvalue is
real, and symgrad's traced values are real: a matrix with a complex spectrum
is refused where it is evaluated (and a generated module returns NumPy's
complex numbers, as NumPy's eig does, with no meaningful gradient).

Gradients (eigenvalues distinct; V's columns of unit length, as NumPy
normalizes them): with M = V^-1 dA V, dw = diag(M) and dV = V (F o M) made
orthogonal to each column, F_ij = 1 / (w_j - w_i) (0 on the diagonal), so
Abar = V^-T (diag(wbar) + F o (V^T Vbar')) V^T, Vbar' = Vbar - V diag(V^T
Vbar).
"""

from __future__ import annotations

import numpy as np

from symgrad.ops.core import Op, apply, dtype_float, register
from symgrad.ops.elementwise import mul, sub
from symgrad.ops.linalg import _inverse_gaps, _square, mT, solve
from symgrad.ops.products import matmul
from symgrad.ops.reductions import reduce
from symgrad.ops.shapes import reshape


def eig(a):
    return apply("eig_values", a), apply("eig_vectors", a)


def eigvals(a):
    return apply("eigvals", a)


def _real(values, what):
    """NumPy's result when it is real; complex spectra are refused."""
    if np.iscomplexobj(values):
        raise ValueError(
            f"np.linalg.{what}: the matrix has complex eigenvalues; symgrad "
            "differentiates real spectra only"
        )
    return values


def _back(v, inner):
    """V^-T inner V^T (the pull-back of M = V^-1 dA V)."""
    return solve(mT(v), matmul(inner, mT(v)))


def _values_vjp(g, out, a):
    # Abar = V^-T diag(wbar) V^T, with diag(wbar) V^T as a row scaling.
    v = apply("eig_vectors", a)
    return (solve(mT(v), mul(reshape(g, g.shape + (1,)), mT(v))),)


def _vectors_vjp(g, out, a):
    w = apply("eig_values", a)
    v = out
    # The part of Vbar along each column does not move it (unit length).
    scale = reduce("sum", mul(v, g), (v.ndim - 2,), keepdims=True)
    g = sub(g, mul(v, scale))
    inner = mul(_inverse_gaps(w), matmul(mT(v), g))
    return (_back(v, inner),)


def _record(name, shape, eval_, vjp):
    register(
        Op(
            name=name,
            nin=1,
            shape=shape,
            dtype=dtype_float,
            vjp=vjp,
            flags=frozenset(("expensive",)),
            eval=eval_,
        )
    )


_record(
    "eig_values",
    lambda shapes: _square(shapes, "np.linalg.eig")[:-1],
    lambda a: _real(np.linalg.eig(a)[0], "eig"),
    _values_vjp,
)
_record(
    "eig_vectors",
    lambda shapes: _square(shapes, "np.linalg.eig"),
    lambda a: _real(np.linalg.eig(a)[1], "eig"),
    _vectors_vjp,
)
_record(
    "eigvals",
    lambda shapes: _square(shapes, "np.linalg.eigvals")[:-1],
    lambda a: _real(np.linalg.eigvals(a), "eigvals"),
    _values_vjp,
)
