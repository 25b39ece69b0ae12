"""Special functions (SciPy's `scipy.special`, and `math.erf`, `math.lgamma`).

Contract: one `Op` record per primitive, as in `elementwise`. The NumPy
target prints `scipy.special.<name>(...)` and imports SciPy only when a
module uses one of these (`codegen/numpy/lower_special.py`); the pure-Python
target calls `math.erf` / `math.erfc` or the helpers in
`codegen/python/helpers_special.py`. Evaluation (constant folding, the
reference interpreter) imports SciPy lazily; erf, erfc, gamma and gammaln
fall back on the math module without it.

`logsumexp` is a reduction primitive (a readable
`scipy.special.logsumexp(x, axis=1)`, and a VJP that is SciPy's softmax from
the output: exp(x - out)), with an optional second operand, the weights `b`.
Its lowerings are in `codegen/numpy/lower_special.py` and
`codegen/python/lower_special.py`.

Gradients: erf, erfc, ndtr and log_ndtr through exp (log_ndtr' =
exp(-x*x/2 - out) / sqrt(2 pi), never 0/0 in the tails); gammaln' = digamma,
gamma' = gamma * digamma, digamma' = polygamma(1, x), polygamma(n)' =
polygamma(n + 1). xlogy(x, y) has d/dx = log(y) and d/dy = x / y, 0 where
x == 0 (so 0 * log(0) is differentiable in y, as the value is); xlog1py alike.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.ops.core import (
    Op,
    apply,
    broadcast_shapes,
    dtype_float,
    register,
)
from symgrad.ops.elementwise import (
    add,
    div,
    elementwise,
    eq,
    exp,
    log,
    mul,
    neg,
    sub,
    where,
)
from symgrad.ops.reductions import _kept, _reduce_shape
from symgrad.ops.shapes import broadcast_to, reshape


def _sympy():
    import sympy

    return sympy


def _scipy_eval(name, fallback=None):
    """Evaluate with scipy.special.<name>; without SciPy, with `fallback`
    (a math function) elementwise, if there is one."""

    def run(*args):
        try:
            import scipy.special
        except ImportError:
            if fallback is None:
                raise
            return np.vectorize(fallback, otypes=[np.float64])(*args)
        return getattr(scipy.special, name)(*args)

    run.__name__ = name
    return run


def _special(name, nin, *, vjp, flags=("expensive",), **fields):
    elementwise(
        name,
        nin,
        vjp=vjp,
        dtype=dtype_float,
        flags=flags,
        **fields,
    )


# ------------------------------------------------------------------ builders


def digamma(a):
    return apply("digamma", a)


def polygamma(n: int, a):
    return apply("polygamma", a, n=int(n))


def logsumexp(a, b=None, axes=None, keepdims=False):
    """log(sum(b * exp(a))) over `axes` (None: all), stably."""
    full = a.shape if b is None else broadcast_shapes(a.shape, b.shape)
    if axes is not None:
        axes = tuple(sorted(axes))
        if axes == tuple(range(len(full))):
            axes = None
    inputs = (a,) if b is None else (a, b)
    return apply("logsumexp", *inputs, axes=axes, keepdims=bool(keepdims))


# ------------------------------------------------------------------ records

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ONE_OVER_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gaussian(a):
    """exp(-a*a) (the erf family's derivative, up to a factor)."""
    return exp(neg(mul(a, a)))


_special(
    "erf",
    1,
    eval=_scipy_eval("erf", math.erf),
    vjp=lambda g, out, a: (mul(g, mul(_TWO_OVER_SQRT_PI, _gaussian(a))),),
    sympy_function="erf",
    flags=("expensive", "zero_sign_from_operands"),
    answers=("scipy.special.erf",),
)
_special(
    "erfc",
    1,
    eval=_scipy_eval("erfc", math.erfc),
    vjp=lambda g, out, a: (neg(mul(g, mul(_TWO_OVER_SQRT_PI, _gaussian(a)))),),
    sympy_function="erfc",
    flags=("expensive", "no_negative_zero"),
    answers=("scipy.special.erfc",),
)


def _lgamma_fallback(x):
    try:
        return math.lgamma(x)
    except (ValueError, OverflowError):
        return math.inf


def _gamma_fallback(x):
    try:
        return math.gamma(x)
    except ValueError:
        return math.copysign(math.inf, x) if x == 0 else math.nan
    except OverflowError:
        return math.inf


_special(
    "gammaln",
    1,
    eval=_scipy_eval("gammaln", _lgamma_fallback),
    vjp=lambda g, out, a: (mul(g, digamma(a)),),
    sympy_function="loggamma",
    answers=("scipy.special.gammaln",),
)
_special(
    "gamma",
    1,
    eval=_scipy_eval("gamma", _gamma_fallback),
    vjp=lambda g, out, a: (mul(g, mul(out, digamma(a))),),
    sympy_function="gamma",
    answers=("scipy.special.gamma",),
)
_special(
    "digamma",
    1,
    eval=_scipy_eval("digamma"),
    vjp=lambda g, out, a: (mul(g, polygamma(1, a)),),
    sympy_function="digamma",
    answers=("scipy.special.digamma", "scipy.special.psi"),
)


def _polygamma_eval(a, n):
    import scipy.special

    return scipy.special.polygamma(n, a)


_special(
    "polygamma",
    1,
    eval=_polygamma_eval,
    vjp=lambda g, out, a: (mul(g, polygamma(out.attr("n") + 1, a)),),
    sympy=lambda a, n: _sympy().polygamma(n, a),
)
_special(
    "ndtr",
    1,
    eval=_scipy_eval("ndtr"),
    vjp=lambda g, out, a: (mul(g, mul(_ONE_OVER_SQRT_2PI, exp(mul(-0.5, mul(a, a))))),),
    sympy=lambda a: (1 + _sympy().erf(a / _sympy().sqrt(2))) / 2,
    flags=("expensive", "no_negative_zero"),
    answers=("scipy.special.ndtr",),
)
_special(
    "log_ndtr",
    1,
    eval=_scipy_eval("log_ndtr"),
    # pdf / cdf = exp(-a*a/2 - log_ndtr(a)) / sqrt(2 pi): finite in both tails.
    vjp=lambda g, out, a: (
        mul(g, mul(_ONE_OVER_SQRT_2PI, exp(sub(mul(-0.5, mul(a, a)), out)))),
    ),
    sympy=lambda a: _sympy().log((1 + _sympy().erf(a / _sympy().sqrt(2))) / 2),
    answers=("scipy.special.log_ndtr",),
)
_special(
    "logit",
    1,
    eval=_scipy_eval("logit"),
    vjp=lambda g, out, p: (div(g, mul(p, sub(1.0, p))),),
    sympy=lambda p: _sympy().log(p / (1 - p)),
    answers=("scipy.special.logit",),
)


def _safe_where_both(x, y, pole, safe):
    """y, but `safe` where x == 0 and y == pole: there x / (y - pole) is 0 /
    0, whose limit along x == 0 is 0. Only that point changes, so the
    derivatives of x / (y - pole) elsewhere (1 / (y - pole) in x, also at
    x = 0) stay, and no inf waits in a branch for a second derivative."""
    return where(eq(x, 0.0), where(eq(y, pole), safe, y), y)


def _xlogy_vjp(g, out, x, y):
    # d/dy x log(y) = x / y: 0 where x == 0, as xlogy(0, y) is 0 for every y.
    return mul(g, log(y)), div(mul(g, x), _safe_where_both(x, y, 0.0, 1.0))


def _xlog1py_vjp(g, out, x, y):
    return (
        mul(g, apply("log1p", y)),
        div(mul(g, x), add(1.0, _safe_where_both(x, y, -1.0, 0.0))),
    )


_special(
    "xlogy",
    2,
    eval=_scipy_eval("xlogy"),
    vjp=_xlogy_vjp,
    sympy=lambda x, y: x * _sympy().log(y),
    answers=("scipy.special.xlogy",),
)
_special(
    "xlog1py",
    2,
    eval=_scipy_eval("xlog1py"),
    vjp=_xlog1py_vjp,
    sympy=lambda x, y: x * _sympy().log(1 + y),
    answers=("scipy.special.xlog1py",),
)


# ------------------------------------------------------------------ logsumexp


def _lse_full_shape(shapes):
    return broadcast_shapes(*shapes) if len(shapes) > 1 else shapes[0]


def _lse_eval(a, b=None, *, axes, keepdims):
    import scipy.special

    return scipy.special.logsumexp(a, axis=axes, b=b, keepdims=keepdims)


def _lse_vjp(g, out, a, *weights):
    # d/da = b * exp(a - out) (SciPy's softmax, from the output), d/db =
    # exp(a - out), in the broadcast shape of a and b.
    axes = out.attr("axes")
    full = _lse_full_shape([a.shape] + [w.shape for w in weights])
    kept = _kept(full, axes)
    if g.shape != kept:
        g, out = reshape(g, kept), reshape(out, kept)
    share = exp(sub(a, out))
    if share.shape != full:
        share = broadcast_to(share, full)
    if not weights:
        return (mul(g, share),)
    (b,) = weights
    return mul(g, mul(b, share)), mul(g, share)


def _lse_sympy(a, b=None, **_attrs):
    # Scalars only (as the whole SymPy bridge): log(b * exp(a)).
    return a if b is None else a + _sympy().log(b)


register(
    Op(
        name="logsumexp",
        nin=None,
        shape=lambda shapes, axes, keepdims: _reduce_shape(
            [_lse_full_shape(shapes)], axes, keepdims
        ),
        dtype=dtype_float,
        eval=_lse_eval,
        vjp=_lse_vjp,
        sympy=_lse_sympy,
        flags=frozenset(("reduction", "expensive")),
    )
)


# ------------------------------------------------------------------ NumPy target only
# Inverse error functions and Bessel functions: SciPy computes them; the
# pure-Python target refuses them by name (codegen/python/lower_special.py).

_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0


def _f(name):
    return lambda *xs: apply(name, *xs)


_i0, _i1, _i0e, _i1e, _j0, _j1, _y0, _y1 = (
    _f(n) for n in ("i0", "i1", "i0e", "i1e", "j0", "j1", "y0", "y1")
)


def _over_x_at_zero(a, f_of_a, at_zero):
    """f(a) / a, with its limit `at_zero` where a == 0 (no 0/0). The divisor
    is made safe too: the branch `where` does not pick is still
    differentiated (times 0), and 0 times its infinite slope would be nan."""
    zero = eq(a, 0.0)
    return where(zero, at_zero, div(f_of_a, where(zero, 1.0, a)))


def _sign(a):
    return apply("sign", a)


NUMPY_ONLY = {
    # name: (vjp of one operand, the SciPy name users call)
    "erfinv": lambda g, out, a: (mul(g, mul(_SQRT_PI_OVER_2, exp(mul(out, out)))),),
    "erfcinv": lambda g, out, a: (
        neg(mul(g, mul(_SQRT_PI_OVER_2, exp(mul(out, out))))),
    ),
    "i0": lambda g, out, a: (mul(g, _i1(a)),),
    # i1' = i0 - i1 / x (1/2 at 0)
    "i1": lambda g, out, a: (mul(g, sub(_i0(a), _over_x_at_zero(a, out, 0.5))),),
    # i0e = exp(-|x|) i0: i0e' = i1e - sign(x) i0e
    "i0e": lambda g, out, a: (mul(g, sub(_i1e(a), mul(_sign(a), out))),),
    # i1e' = i0e - i1e (sign(x) + 1/x) (1/2 at 0)
    "i1e": lambda g, out, a: (
        mul(
            g,
            sub(sub(_i0e(a), mul(_sign(a), out)), _over_x_at_zero(a, out, 0.5)),
        ),
    ),
    "j0": lambda g, out, a: (neg(mul(g, _j1(a))),),
    # j1' = j0 - j1 / x (1/2 at 0)
    "j1": lambda g, out, a: (mul(g, sub(_j0(a), _over_x_at_zero(a, out, 0.5))),),
    "y0": lambda g, out, a: (neg(mul(g, _y1(a))),),
    "y1": lambda g, out, a: (mul(g, sub(_y0(a), div(out, a))),),
}

for _name, _vjp in NUMPY_ONLY.items():
    _special(
        _name,
        1,
        eval=_scipy_eval(_name),
        vjp=_vjp,
        answers=(f"scipy.special.{_name}",),
    )
