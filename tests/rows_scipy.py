"""Op test rows: `scipy.special` and `scipy.stats` (and the math functions
whose NumPy-target code needs SciPy: erf, erfc, lgamma, gamma).

SciPy is optional: without it every row here is skipped when it runs."""

import math

import numpy as np
import pytest

from tests.op_rows import Row

try:
    import scipy.special as sc
    import scipy.stats as st
except ImportError:  # pragma: no cover - exercised only without SciPy
    sc = st = None

SCALAR_MATRIX = (((),), ((2, 3),))
PAIRS = (((), ()), ((2, 3), (3,)))


def _mixture(a, w):
    # A mixture of Gaussians, as people write one: logsumexp over components.
    lp = st.norm.logpdf(a[:, None], np.array([-1.0, 0.5, 2.0]), 1.5)
    return sc.logsumexp(lp + np.log(w), axis=1)


ROWS = {
    "erf_ndtr": Row(
        ("erf", "erfc", "ndtr", "log_ndtr"),
        lambda a: sc.erf(a)
        + sc.erfc(a) * a
        + sc.ndtr(a)
        + sc.log_ndtr(a * 3.0) * a
        + sc.log_ndtr(-a),
        ("any",),
        SCALAR_MATRIX,
    ),
    "gamma_functions": Row(
        ("gammaln", "digamma", "polygamma", "gamma"),
        lambda a, b: sc.gammaln(a)
        + sc.digamma(a) * a
        + sc.psi(a + 1.0)
        + sc.gamma(b)
        + sc.polygamma(1, a) * b
        + sc.polygamma(0, b) * a
        + sc.betaln(a, b),
        ("pos", "pos"),
        PAIRS,
    ),
    "math_special": Row(
        ("erf", "erfc", "gammaln", "gamma"),
        lambda a, b: math.erf(a) + math.erfc(b) + math.lgamma(b) * math.gamma(b),
        ("any", "pos"),
        (((), ()),),
        symbolic=(),
    ),
    "xlogy_logit": Row(
        ("xlogy", "xlog1py", "logit", "sigmoid", "logaddexp"),
        lambda a, b: sc.xlogy(a, b)
        + sc.xlog1py(a, b) * a
        + sc.logit(b * 0.4)
        + sc.expit(a) * b
        + sc.log_expit(-a),
        ("any", "pos"),
        PAIRS,
    ),
    "logsumexp": Row(
        ("logsumexp",),
        lambda a: sc.logsumexp(a)
        + sc.logsumexp(a, axis=-1) * a.sum(axis=-1)
        + sc.logsumexp(a * 2.0, axis=0, keepdims=True).sum(),
        ("any",),
        (((2, 3),), ((2, 3, 2),)),
    ),
    "logsumexp_b": Row(
        ("logsumexp",),
        lambda a, b: sc.logsumexp(a, b=b)
        + sc.logsumexp(a, axis=(0,), b=b * 0.5, keepdims=True).sum(),
        ("any", "pos"),
        (((2, 3), (3,)),),
    ),
    "softmax": Row(
        ("logsumexp", "exp"),
        lambda a, w: sc.softmax(a, axis=-1) * a
        + sc.log_softmax(a)
        + sc.softmax(a)
        + _mixture(a[0], w),
        ("any", "pos"),
        (((2, 4), (3,)),),
    ),
    "norm": Row(
        ("log_ndtr", "ndtr"),
        lambda x, m, s: st.norm.logpdf(x, m, s)
        + st.norm.pdf(x, loc=m, scale=s)
        + st.norm.cdf(x, m) * st.norm.sf(x, scale=s)
        + st.norm.logcdf(x, m, s)
        + st.norm.logsf(x)
        + st.norm.logpdf(x),
        ("any", "any", "pos"),
        (((), (), ()), ((2, 3), (3,), ())),
    ),
    "t_dist": Row(
        ("gammaln", "log1p", "digamma"),
        lambda x, df, s: st.t.logpdf(x, df + 2.0, 0.3, s) + st.t.pdf(x, df=df * 3.0),
        ("any", "pos", "pos"),
        (((), (), ()),),
        symbolic=("n", "n", ""),
    ),
    "gamma_beta": Row(
        ("xlogy", "xlog1py", "gammaln"),
        lambda x, a, b: st.gamma.logpdf(x, a)
        + st.gamma.pdf(x, a + 1.0, scale=b)
        + st.beta.logpdf(x * 0.4, a, b)
        + st.beta.pdf(x, a, b, loc=-0.2, scale=3.0),
        ("pos", "pos", "pos"),
        (((3,), (3,), ()),),
    ),
    "discrete": Row(
        ("xlogy", "xlog1py", "gammaln", "floor"),
        lambda mu, p: st.poisson.logpmf(np.array([0.0, 1.0, 3.0]), mu)
        + st.poisson.pmf(np.array([2.0, 0.0, 5.0]), mu * 2.0)
        + st.bernoulli.logpmf(np.array([0.0, 1.0, 1.0]), p * 0.4)
        + st.bernoulli.pmf(np.array([1.0, 0.0, 1.0]), p * 0.3)
        + st.bernoulli.cdf(np.array([-1.0, 0.5, 1.0]), p * 0.2),
        ("pos", "pos"),
        (((3,), (3,)), ((), ())),
        symbolic=("n, 3", "n, 3"),
    ),
    "multivariate_normal": Row(
        ("matmul", "sum"),
        lambda x, m, d: st.multivariate_normal.logpdf(
            x, m, np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.5]])
        )
        + st.multivariate_normal.logpdf(x, m, d)
        + st.multivariate_normal.pdf(x[0], np.zeros(3), d.sum()),
        ("any", "any", "pos"),
        (((2, 3), (3,), (3,)),),
    ),
    "entropies": Row(
        ("log", "gammaln", "gamma", "where"),
        lambda a, b: sc.entr(a)
        + sc.rel_entr(a, b)
        + sc.kl_div(a, b)
        + sc.rgamma(a)
        + sc.multigammaln(a + 2.0, 3),
        ("pos", "pos"),
        (((2, 3), (3,)),),
    ),
    "chi2": Row(
        ("xlogy", "gammaln"),
        lambda x, df: st.chi2.logpdf(x, df + 2.0, scale=1.5) + st.chi2.pdf(x, df + 1.0),
        ("pos", "pos"),
        (((3,), ()),),
    ),
    # At x == 0 the rules' quotients x / y and f(a) / a have limits.
    "xlogy_at_zero": Row(
        ("xlogy", "xlog1py"),
        lambda a, b: sc.xlogy(a, b) * b + sc.xlog1py(a, b),
        ("any", "pos"),
        PAIRS,
        special=((0.0, 0.5), (np.zeros((2, 3)), np.array([0.5, 1.0, 2.0]))),
    ),
    "rel_entr_at_zero": Row(
        ("log", "where"),
        lambda b: sc.rel_entr(0.0, b) + sc.kl_div(0.0, b) * b,
        ("pos",),
        SCALAR_MATRIX,
        special=((1.0,), (np.full((2, 3), 0.5),)),
    ),
    "bessel_at_zero": Row(
        ("i1", "j1", "i0", "j0"),
        lambda a: sc.i1(a) + sc.j1(a) * 2.0,
        ("unit",),
        SCALAR_MATRIX,
        targets=("numpy",),
        special=((0.0,), (np.zeros((2, 3)),)),
    ),
    "bessel_erfinv": Row(
        ("erfinv", "erfcinv", "i0", "i1", "i0e", "i1e", "j0", "j1", "y0", "y1"),
        lambda a: sc.erfinv(a * 0.4)
        + sc.erfcinv(a * 0.4 + 1.0)
        + sc.i0(a) * sc.i1(a)
        + sc.i0e(a)
        + sc.i1e(a)
        + sc.j0(a) * sc.j1(a)
        + sc.y0(a + 2.5)
        + sc.y1(a + 2.5),
        ("unit",),
        (((),), ((2, 3),)),
        targets=("numpy",),
    ),
}


def _skipped(*_):
    pytest.skip("SciPy is not installed")


if sc is None:  # pragma: no cover
    ROWS = {name: Row(r.ops, _skipped, r.domains, r.shapes) for name, r in ROWS.items()}
