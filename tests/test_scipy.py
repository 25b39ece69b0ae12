"""SciPy: special functions on both targets (the pure-Python helpers against
SciPy's own values), logsumexp's numerics, scipy.stats through the front end
(`from scipy.stats import norm`), and errors that name SciPy functions."""

from __future__ import annotations

import math
import re
import types

import numpy as np
import pytest

import symgrad
from symgrad import TraceError, ops
from symgrad.codegen.python import helpers_special as h
from tests.test_codegen import run_isolated
from tests.test_targets import SPECIAL, assert_agree, both

sc = pytest.importorskip("scipy.special")
st = pytest.importorskip("scipy.stats")

INF, NAN = math.inf, math.nan
HERE = "test_scipy.py"


def _close(actual, expected, rtol):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0, equal_nan=True)
    zero = np.asarray(expected) == 0
    np.testing.assert_array_equal(
        np.signbit(np.asarray(actual)[zero]), np.signbit(np.asarray(expected)[zero])
    )


# ------------------------------------------------------------------ helpers

EDGES = SPECIAL + [0.3, 0.65, 1.46, 1.4616321449683622, -2.5, -7.5, 25.0, 1e-310]
HELPERS = {
    "_gamma": sc.gamma,
    "_lgamma": sc.gammaln,
    "_digamma": sc.digamma,
    "_ndtr": sc.ndtr,
    "_log_ndtr": sc.log_ndtr,
    "_logit": sc.logit,
}


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_helpers_match_scipy(name):
    rng = np.random.default_rng(0)
    fn, ref = getattr(h, name), HELPERS[name]
    xs = np.concatenate([EDGES, rng.uniform(-6, 30, 300), rng.uniform(1.2, 1.7, 100)])
    if name == "_log_ndtr":
        xs = np.concatenate([xs, rng.uniform(-60, -1, 100)])
    if name == "_logit":
        xs = np.concatenate([xs, rng.uniform(0, 1, 200)])
    if name == "_gamma":
        xs = xs[xs > -170]  # SciPy's underflow below -171 is a signed zero
    with np.errstate(all="ignore"):
        _close(
            [fn(float(x)) for x in xs],
            ref(xs),
            rtol=1e-12 if name != "_lgamma" else 1e-11,
        )


def test_polygamma_and_xlogy_helpers_match_scipy():
    rng = np.random.default_rng(1)
    xs = np.concatenate([EDGES, rng.uniform(-6, 30, 200)])
    for n in (1, 2, 3):
        with np.errstate(all="ignore"):
            _close([h._polygamma(n, float(x)) for x in xs], sc.polygamma(n, xs), 1e-12)
    grid = np.array([0.0, -0.0, 1.0, -2.0, 0.5, INF, -INF, NAN])
    for fn, ref in ((h._xlogy, sc.xlogy), (h._xlog1py, sc.xlog1py)):
        for x in grid:
            with np.errstate(all="ignore"):
                _close([fn(float(x), float(y)) for y in grid], ref(x, grid), 0)


def test_logsumexp_helpers_match_scipy():
    rng = np.random.default_rng(2)
    cases = [
        [1.0, 2.0, 3.0],
        [0.0, -40.0],
        [-INF, -INF],
        [INF, 1.0],
        [NAN, 1.0],
        [5.0, 5.0, 1.0],
        [1e3, 1e3],
        [-1e300, 3.0],
        [],
    ] + [list(rng.normal(size=5) * 3) for _ in range(50)]
    for a in cases:
        _close(h._logsumexp([float(x) for x in a]), sc.logsumexp(np.array(a)), 1e-13)
    weighted = [
        ([1.0, 2.0], [1.0, -1.0]),
        ([2.0, 1.0], [1.0, -1.0]),
        ([1.0, 1.0], [1.0, -1.0]),
        ([1.0, 2.0, 3.0], [0.0, 1.0, 2.0]),
        ([INF, 1.0], [0.0, 1.0]),
        ([3.0, 3.0, 1.0], [1.0, -0.5, 2.0]),
        ([1.0, 2.0], [0.0, 0.0]),
    ] + [(list(rng.normal(size=4) * 3), list(rng.normal(size=4))) for _ in range(50)]
    for a, b in weighted:
        pairs = [(float(x), float(w)) for x, w in zip(a, b, strict=True)]
        with np.errstate(all="ignore"):
            expected = sc.logsumexp(np.array(a), b=np.array(b))
        _close(h._logsumexp_b(pairs), expected, 1e-11)


SCIPY_UNARY = {
    "erf": sc.erf,
    "erfc": sc.erfc,
    "gammaln": sc.gammaln,
    "gamma": sc.gamma,
    "digamma": sc.digamma,
    "trigamma": lambda a: sc.polygamma(1, a),
    "ndtr": sc.ndtr,
    "log_ndtr": sc.log_ndtr,
    "logit": sc.logit,
    "expit": sc.expit,
}


@pytest.mark.parametrize("name", sorted(SCIPY_UNARY))
def test_special_values_agree_on_both_targets(name):
    fn = SCIPY_UNARY[name]
    values = np.array([v for v in SPECIAL if abs(v) < 1e3] + [0.3, 1.5, -2.5])
    python, numpy = both(lambda v: fn(v).sum(), (values,), 0)
    assert_agree(python, numpy)


# ------------------------------------------------------------------ logsumexp


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_logsumexp_is_stable_and_its_gradient_is_softmax(target):
    x = np.array([[1000.0, 999.0, -INF], [-50.0, -51.0, -52.0]])
    value, g = symgrad.value_and_grad(
        lambda a: sc.logsumexp(a, axis=1).sum(), target=target
    )(x)
    assert value == pytest.approx(sc.logsumexp(x, axis=1).sum(), rel=1e-15)
    # exp(x - out): out ~ 1000 holds its last digit to 1e-13.
    np.testing.assert_allclose(g, sc.softmax(x, axis=1), rtol=1e-12)
    # Weights: zeros drop their terms; the gradient of b is exp(a - out).
    b = np.array([[1.0, 0.0, 2.0], [0.5, 0.5, 0.0]])
    y = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]])
    value, (ga, gb) = symgrad.value_and_grad(
        lambda a, w: sc.logsumexp(a, axis=-1, b=w).sum(), (0, 1), target=target
    )(y, b)
    out = sc.logsumexp(y, axis=-1, b=b, keepdims=True)
    assert value == pytest.approx(out.sum(), rel=1e-15)
    np.testing.assert_allclose(ga, b * np.exp(y - out), rtol=1e-14)
    np.testing.assert_allclose(gb, np.exp(y - out), rtol=1e-14)


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_logsumexp_arguments(target):
    with pytest.raises(TraceError, match="return_sign"):
        symgrad.grad(lambda a: sc.logsumexp(a, return_sign=True)[0])(np.ones(2))
    # A scalar is a 1-element array to SciPy.
    for keep in (False, True):

        def f(a, w, keep=keep):
            return np.sum(sc.logsumexp(a, axis=0, keepdims=keep, b=w))

        value, g = symgrad.value_and_grad(f, target=target)(0.7, 2.0)
        assert value == f(0.7, 2.0) and g == pytest.approx(1.0, rel=1e-15)
    # Weights broadcast against a: a scalar b, a b with more axes than a.
    x, w = np.array([0.5, -1.0, 2.0]), np.array([[1.0], [0.5]])
    for fn in (
        lambda a: sc.logsumexp(a, b=0.5),
        lambda a: sc.logsumexp(a, axis=1, b=w).sum(),
    ):
        value, g = symgrad.value_and_grad(fn, target=target)(x)
        assert value == pytest.approx(fn(x), rel=1e-14)
    # Written in NumPy (shifted by the largest entry), without importing SciPy.
    source = symgrad.compile(lambda a: sc.logsumexp(a, axis=1).sum(), np.ones((2, 3)))
    assert "np.max(a, axis=1, keepdims=True, initial=-np.inf)" in source.source
    assert "import scipy" not in source.source


# ------------------------------------------------------------------ front end


def test_imported_names_work():
    from scipy.special import expit, logsumexp
    from scipy.stats import norm

    def f(x, mu):
        return logsumexp(norm.logpdf(x, mu, 2.0)) + expit(mu) + norm.cdf(mu)

    x, mu = np.array([0.3, -1.2, 2.0]), 0.4
    value, (gx, gmu) = symgrad.value_and_grad(f, (0, 1))(x, mu)
    assert value == pytest.approx(f(x, mu), rel=1e-14)
    lp = st.norm.logpdf(x, mu, 2.0)
    weights = np.exp(lp - sc.logsumexp(lp))
    np.testing.assert_allclose(gx, -weights * (x - mu) / 4.0, rtol=1e-13)
    expected = np.sum(weights * (x - mu) / 4.0) + sc.expit(mu) * (1 - sc.expit(mu))
    assert gmu == pytest.approx(expected + st.norm.pdf(mu), rel=1e-13)


def test_plain_scipy_calls_are_untouched():
    from scipy.stats import norm

    def f(x):
        # A frozen distribution and a quantile on numbers: SciPy's own.
        return x * norm(0.0, 2.0).pdf(0.5) + norm.ppf(0.975)

    assert symgrad.grad(f)(1.0) == pytest.approx(st.norm(0.0, 2.0).pdf(0.5))


def test_unsupported_scipy_functions_are_named():
    cases = [
        (lambda x: sc.zeta(x, 2.0), "scipy.special.zeta"),
        (lambda x: st.t.cdf(x, 3.0), "scipy.stats.t.cdf"),
        (lambda x: sc.comb(x, 2.0), "scipy.special.comb"),
        (lambda x: st.norm(x, 1.0).logpdf(0.0), "scipy.stats.norm(...) with traced"),
    ]
    for fn, name in cases:
        with pytest.raises(TraceError, match=re.escape(name)) as info:
            symgrad.grad(fn)(1.5)
        assert HERE in str(info.value)
    with pytest.raises(TraceError, match="traced order"):
        symgrad.grad(lambda x: sc.polygamma(x, x))(1.5)


# ------------------------------------------------------------------ modules


def test_scipy_is_imported_only_when_used(tmp_path):
    plain = symgrad.compile(lambda x: np.arctan(x).sum(), np.ones(2)).source
    assert "import scipy" not in plain
    special = symgrad.compile(lambda x: sc.erf(x).sum(), np.ones(2)).source
    assert "import scipy.special" in special
    c = symgrad.compile(
        lambda x: (sc.gammaln(x) + sc.log_ndtr(x) + sc.logsumexp(x)).sum(),
        np.ones(3),
        target="python",
    )
    assert "import scipy" not in c.source and "import numpy" not in c.source
    path = c.write(tmp_path / "special_pure.py")
    stdout = run_isolated(
        str(path),
        """
        import special_pure
        print(repr(special_pure.value_and_grad([0.5, 1.5, 3.0])))
        """,
        blocked=("numpy", "scipy", "symgrad"),
    )
    value, grad = eval(stdout)
    x = np.array([0.5, 1.5, 3.0])
    expected = (sc.gammaln(x) + sc.log_ndtr(x) + sc.logsumexp(x)).sum()
    assert value == pytest.approx(expected, rel=1e-13)
    # The scalar logsumexp is added to each of the 3 entries.
    lse = 3 * sc.softmax(x)[0]
    assert grad[0] == pytest.approx(
        sc.digamma(0.5) + st.norm.pdf(0.5) / st.norm.cdf(0.5) + lse, rel=1e-12
    )


# ------------------------------------------------------------------ stats


def test_multivariate_normal_covariances():
    x = np.array([[0.3, -1.0], [1.2, 0.4], [0.0, 0.0]])
    mean = np.array([0.1, -0.2])
    cov = np.array([[1.5, 0.4], [0.4, 0.8]])
    f = lambda a, m: st.multivariate_normal.logpdf(a, m, cov).sum()  # noqa: E731
    value, (gx, gm) = symgrad.value_and_grad(f, (0, 1))(x, mean)
    assert value == pytest.approx(f(x, mean), rel=1e-13)
    np.testing.assert_allclose(gx, -(x - mean) @ np.linalg.inv(cov), rtol=1e-12)
    # One point, a diagonal and a scalar cov (traced): SciPy squeezes to a scalar.
    d = np.array([0.5, 2.0])
    g = symgrad.grad(lambda v: st.multivariate_normal.logpdf(x[0], cov=v))(d)
    dev = x[0]
    np.testing.assert_allclose(g, -0.5 / d + 0.5 * dev**2 / d**2, rtol=1e-13)
    g = symgrad.grad(lambda s: st.multivariate_normal.pdf(x, mean, s).sum())(0.7)
    assert np.isfinite(g)


def test_multivariate_normal_with_a_traced_full_cov():
    x = np.array([[0.3, -1.0], [1.2, 0.4]])
    cov = np.array([[1.5, 0.4], [0.4, 0.8]])

    def f(c):
        return st.multivariate_normal.logpdf(x, np.zeros(2), c).sum()

    if "numpy.linalg.solve" not in ops.API or "numpy.linalg.slogdet" not in ops.API:
        with pytest.raises(TraceError, match="np.linalg.solve"):
            symgrad.grad(f)(cov)
        return
    inv = np.linalg.inv(cov)
    expected = sum(-0.5 * inv + 0.5 * inv @ np.outer(v, v) @ inv for v in x)
    np.testing.assert_allclose(symgrad.grad(f)(cov), expected, rtol=1e-10)


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_support_edges_give_minus_inf(target):
    cases = [
        lambda p: st.beta.logpdf(np.array([0.5, 1.5]), 2.0, p).sum(),
        lambda p: st.gamma.logpdf(-1.0, p),
        lambda p: st.poisson.logpmf(np.array([0.5, 2.0]), p).sum(),
        lambda p: st.bernoulli.logpmf(np.array([2.0, 1.0]), p * 0.3).sum(),
    ]
    for f in cases:
        assert symgrad.compile(f, 2.0, target=target).forward(2.0) == -INF
        assert f(2.0) == -INF


def test_jax_and_autograd_distribution_modules_read_as_scipys():
    # They are modules there (jax.scipy.stats.norm): the front end maps them
    # onto SciPy's objects. Stand-ins with their names are enough to check.
    norm_module = types.ModuleType("autograd.scipy.stats.norm")
    stats_module = types.ModuleType("jax.scipy.stats")

    def f(x):
        return norm_module.logpdf(x, 0.5, 2.0) + stats_module.norm.cdf(x)

    g = symgrad.grad(f)(0.3)
    assert g == pytest.approx(-(0.3 - 0.5) / 4.0 + st.norm.pdf(0.3), rel=1e-14)
