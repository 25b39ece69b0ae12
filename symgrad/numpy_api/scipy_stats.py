"""`scipy.stats` densities whose gradients are elementary: the methods of the
distribution objects, as `scipy.stats.norm.logpdf(x, loc, scale)` and, once
imported, `norm.logpdf(...)` (the front end resolves the object `norm`).

Contract: each entry is SciPy's formula for the method (`_logpdf` of the
standardized variable, minus log(scale)), written with the same primitives
in the same order, so values agree with SciPy to rounding:
- norm: logpdf, pdf, cdf, logcdf, sf, logsf (loc, scale);
- t: logpdf, pdf (df, loc, scale); gamma: logpdf, pdf (a, loc, scale);
  beta: logpdf, pdf (a, b, loc, scale); chi2: logpdf, pdf (df, loc, scale);
- poisson: logpmf, pmf (mu, loc); bernoulli: logpmf, pmf, cdf (p, loc);
- multivariate_normal: logpdf, pdf (mean, cov) with cov a number, a 1-d
  diagonal or a constant matrix (a traced matrix needs np.linalg.solve and
  np.linalg.slogdet in the table).
Outside the support a log-density is -inf (and a density 0), as in SciPy;
the support test folds away when the data are constants. Parameters are
taken as valid: SciPy returns nan for scale <= 0, p outside [0, 1], ...,
where these formulas give their own values. Distribution functions that need
incomplete beta or gamma functions (t.cdf, gamma.cdf, beta.cdf,
poisson.cdf) are not supported: the front end names them in its error.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad import ops
from symgrad.ir.source import fail
from symgrad.numpy_api.args import as_node, is_node
from symgrad.numpy_api.shapes import reshape
from symgrad.ops.core import implements

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))  # SciPy's _norm_pdf_logC
_SQRT_2PI = math.sqrt(2 * math.pi)  # _norm_pdf_C
_LOG_2PI = math.log(2 * math.pi)


def _is(value, number) -> bool:
    """A plain number equal to `number` (a default loc or scale)."""
    return not is_node(value) and np.ndim(value) == 0 and value == number


def _standardize(x, loc, scale):
    """(x - loc) / scale, skipping the default loc 0 and scale 1."""
    z = as_node(x)
    if not _is(loc, 0):
        z = ops.sub(z, as_node(loc))
    if not _is(scale, 1):
        z = ops.div(z, as_node(scale))
    return z


def _minus_log_scale(value, scale):
    return value if _is(scale, 1) else ops.sub(value, ops.log(as_node(scale)))


def _over_scale(value, scale):
    return value if _is(scale, 1) else ops.div(value, as_node(scale))


def _within(value, inside, outside):
    """`value` where `inside` holds, else `outside` (a constant test folds)."""
    return ops.where(inside, value, outside)


def _f(name):
    return lambda *xs: ops.apply(name, *xs)


_gammaln, _log1p, _xlogy, _xlog1py = (
    _f("gammaln"),
    _f("log1p"),
    _f("xlogy"),
    _f("xlog1py"),
)


# ------------------------------------------------------------------ norm


def _norm_logpdf(z):
    return ops.sub(ops.neg(ops.div(ops.mul(z, z), 2.0)), _LOG_SQRT_2PI)


@implements("scipy.stats.norm.logpdf")
def norm_logpdf(x, loc=0, scale=1):
    return _minus_log_scale(_norm_logpdf(_standardize(x, loc, scale)), scale)


@implements("scipy.stats.norm.pdf")
def norm_pdf(x, loc=0, scale=1):
    z = _standardize(x, loc, scale)
    density = ops.div(ops.exp(ops.neg(ops.div(ops.mul(z, z), 2.0))), _SQRT_2PI)
    return _over_scale(density, scale)


@implements("scipy.stats.norm.cdf")
def norm_cdf(x, loc=0, scale=1):
    return ops.apply("ndtr", _standardize(x, loc, scale))


@implements("scipy.stats.norm.logcdf")
def norm_logcdf(x, loc=0, scale=1):
    return ops.apply("log_ndtr", _standardize(x, loc, scale))


@implements("scipy.stats.norm.sf")
def norm_sf(x, loc=0, scale=1):
    return ops.apply("ndtr", ops.neg(_standardize(x, loc, scale)))


@implements("scipy.stats.norm.logsf")
def norm_logsf(x, loc=0, scale=1):
    return ops.apply("log_ndtr", ops.neg(_standardize(x, loc, scale)))


# ------------------------------------------------------------------ t


def _t_logpdf(z, df):
    # log(poch(df/2, 1/2)) - (log(df) + log(pi)) / 2 - (df+1)/2 log1p(z*z/df)
    df = as_node(df)
    half = ops.div(df, 2.0)
    poch = ops.sub(_gammaln(ops.add(half, 0.5)), _gammaln(half))
    norm = ops.mul(0.5, ops.add(ops.log(df), math.log(math.pi)))
    tail = ops.mul(ops.div(ops.add(df, 1.0), 2.0), _log1p(ops.div(ops.mul(z, z), df)))
    return ops.sub(ops.sub(poch, norm), tail)


@implements("scipy.stats.t.logpdf")
def t_logpdf(x, df, loc=0, scale=1):
    return _minus_log_scale(_t_logpdf(_standardize(x, loc, scale), df), scale)


@implements("scipy.stats.t.pdf")
def t_pdf(x, df, loc=0, scale=1):
    return _over_scale(ops.exp(_t_logpdf(_standardize(x, loc, scale), df)), scale)


# ------------------------------------------------------------------ gamma, beta


def _gamma_logpdf(z, a):
    a = as_node(a)
    value = ops.sub(ops.sub(_xlogy(ops.sub(a, 1.0), z), z), _gammaln(a))
    return _within(value, ops.ge(z, 0.0), -math.inf)


@implements("scipy.stats.gamma.logpdf")
def gamma_logpdf(x, a, loc=0, scale=1):
    return _minus_log_scale(_gamma_logpdf(_standardize(x, loc, scale), a), scale)


@implements("scipy.stats.gamma.pdf")
def gamma_pdf(x, a, loc=0, scale=1):
    return _over_scale(ops.exp(_gamma_logpdf(_standardize(x, loc, scale), a)), scale)


def _beta_logpdf(z, a, b):
    a, b = as_node(a), as_node(b)
    value = ops.add(_xlog1py(ops.sub(b, 1.0), ops.neg(z)), _xlogy(ops.sub(a, 1.0), z))
    betaln = ops.sub(ops.add(_gammaln(a), _gammaln(b)), _gammaln(ops.add(a, b)))
    inside = ops.apply("logical_and", ops.ge(z, 0.0), ops.le(z, 1.0))
    return _within(ops.sub(value, betaln), inside, -math.inf)


@implements("scipy.stats.beta.logpdf")
def beta_logpdf(x, a, b, loc=0, scale=1):
    z = _standardize(x, loc, scale)
    return _minus_log_scale(_beta_logpdf(z, a, b), scale)


@implements("scipy.stats.beta.pdf")
def beta_pdf(x, a, b, loc=0, scale=1):
    z = _standardize(x, loc, scale)
    return _over_scale(ops.exp(_beta_logpdf(z, a, b)), scale)


def _chi2_logpdf(z, df):
    # SciPy: xlogy(df/2 - 1, x) - x/2 - gammaln(df/2) - log(2)*df/2.
    half = ops.div(as_node(df), 2.0)
    value = ops.sub(_xlogy(ops.sub(half, 1.0), z), ops.div(z, 2.0))
    value = ops.sub(
        ops.sub(value, _gammaln(half)), ops.div(ops.mul(math.log(2), df), 2.0)
    )
    return _within(value, ops.ge(z, 0.0), -math.inf)


@implements("scipy.stats.chi2.logpdf")
def chi2_logpdf(x, df, loc=0, scale=1):
    return _minus_log_scale(_chi2_logpdf(_standardize(x, loc, scale), df), scale)


@implements("scipy.stats.chi2.pdf")
def chi2_pdf(x, df, loc=0, scale=1):
    return _over_scale(ops.exp(_chi2_logpdf(_standardize(x, loc, scale), df)), scale)


# ------------------------------------------------------------------ discrete


def _integers(k, upper=None):
    """k is a whole number in [0, upper] (SciPy's support test)."""
    inside = ops.apply("logical_and", ops.ge(k, 0.0), ops.eq(ops.apply("floor", k), k))
    if upper is not None:
        inside = ops.apply("logical_and", inside, ops.le(k, upper))
    return inside


def _shift(k, loc):
    k = as_node(k)
    return k if _is(loc, 0) else ops.sub(k, as_node(loc))


def _poisson_logpmf(k, mu):
    mu = as_node(mu)
    value = ops.sub(ops.sub(_xlogy(k, mu), _gammaln(ops.add(k, 1.0))), mu)
    return _within(value, _integers(k), -math.inf)


@implements("scipy.stats.poisson.logpmf")
def poisson_logpmf(k, mu, loc=0):
    return _poisson_logpmf(_shift(k, loc), mu)


@implements("scipy.stats.poisson.pmf")
def poisson_pmf(k, mu, loc=0):
    return ops.exp(_poisson_logpmf(_shift(k, loc), mu))


def _bernoulli_logpmf(k, p):
    # SciPy's binom._logpmf with n = 1; its log binomial coefficient is 0 on
    # the support {0, 1}.
    p = as_node(p)
    value = ops.add(_xlogy(k, p), _xlog1py(ops.sub(1.0, k), ops.neg(p)))
    return _within(value, _integers(k, 1.0), -math.inf)


@implements("scipy.stats.bernoulli.logpmf")
def bernoulli_logpmf(k, p, loc=0):
    return _bernoulli_logpmf(_shift(k, loc), p)


@implements("scipy.stats.bernoulli.pmf")
def bernoulli_pmf(k, p, loc=0):
    return ops.exp(_bernoulli_logpmf(_shift(k, loc), p))


@implements("scipy.stats.bernoulli.cdf")
def bernoulli_cdf(k, p, loc=0):
    # 0 below 0, 1 - p on [0, 1), 1 from 1 on.
    k, p = _shift(k, loc), as_node(p)
    return ops.where(
        ops.lt(k, 0.0), 0.0, ops.where(ops.lt(k, 1.0), ops.sub(1.0, p), 1.0)
    )


# ------------------------------------------------------------------ multivariate


def _mvn_logpdf(x, mean, cov, allow_singular):
    if allow_singular:
        fail(
            "scipy.stats.multivariate_normal.logpdf with allow_singular=True",
            "Use a positive definite cov",
        )
    cov = as_node(cov)
    if cov.ndim > 2:
        fail("multivariate_normal: cov must be 2-d at most", "Pass a (d, d) matrix")
    mean = None if mean is None else as_node(mean)
    if mean is not None and mean.ndim > 1:
        fail("multivariate_normal: mean must be 1-d", "Pass a (d,) vector")
    if mean is not None and mean.ndim == 1:
        dim = mean.shape[0]
    elif cov.ndim:
        dim = cov.shape[0]
    else:
        dim = 1
    # SciPy's quantiles: a number is one point of dimension 1, a vector one
    # point (or, for dim 1, several points); the last axis is the dimension.
    x = as_node(x)
    if x.ndim == 0:
        x = reshape(x, (1,))
    elif x.ndim == 1:
        x = reshape(x, (x.shape[0], 1) if dim == 1 else (1, x.shape[0]))
    if x.shape[-1] != dim:
        fail(
            f"multivariate_normal: points of dimension {x.shape[-1]} for a "
            f"distribution of dimension {dim}",
            "Give x with the dimension on its last axis",
        )
    dev = x if mean is None else ops.sub(x, mean)
    if cov.ndim < 2:
        # cov * identity, or a diagonal: elementary, also when traced.
        maha = ops.reduce("sum", ops.div(ops.mul(dev, dev), cov), (dev.ndim - 1,))
        log_det = ops.log(cov)
        log_det = (
            ops.mul(log_det, float(dim))
            if cov.ndim == 0
            else ops.reduce("sum", log_det)
        )
    elif cov.op == "const":
        maha, log_det = _constant_cov(dev, cov.value)
    else:
        maha, log_det = _traced_cov(dev, cov)
    total = ops.add(ops.add(dim * _LOG_2PI, log_det), maha)
    out = ops.mul(-0.5, total)
    # SciPy squeezes every axis of length 1 out of the result.
    squeezed = tuple(n for n in out.shape if n != 1)
    return out if squeezed == out.shape else reshape(out, squeezed)


def _constant_cov(dev, cov):
    """Mahalanobis terms and log-determinant for a constant matrix: its
    Cholesky factor L is computed now, and the code multiplies by inv(L).T."""
    try:
        factor = np.linalg.cholesky(np.asarray(cov, dtype=np.float64))
    except np.linalg.LinAlgError:
        fail(
            "multivariate_normal: cov is not positive definite",
            "Pass a symmetric positive definite matrix",
        )
    whiten = ops.const(np.linalg.inv(factor).T.copy())
    y = ops.matmul(dev, whiten)
    maha = ops.reduce("sum", ops.mul(y, y), (y.ndim - 1,))
    log_det = ops.lift(float(2.0 * np.sum(np.log(np.diag(factor)))))
    return maha, log_det


def _traced_cov(dev, cov):
    """With a traced matrix: np.linalg.slogdet and np.linalg.solve, when the
    table has them."""
    solve = ops.API.get("numpy.linalg.solve")
    slogdet = ops.API.get("numpy.linalg.slogdet")
    if solve is None or slogdet is None:
        fail(
            "scipy.stats.multivariate_normal.logpdf with a traced full cov needs "
            "np.linalg.solve and np.linalg.slogdet",
            "Pass cov as a constant matrix, a 1-d diagonal or a number",
        )
    _, log_det = slogdet.handler(cov)
    flat = reshape(dev, (-1, dev.shape[-1]))
    solved = solve.handler(cov, ops.transpose(flat, (1, 0)))
    maha = ops.reduce("sum", ops.mul(flat, ops.transpose(solved, (1, 0))), (1,))
    return reshape(maha, dev.shape[:-1]), log_det


@implements("scipy.stats.multivariate_normal.logpdf")
def multivariate_normal_logpdf(x, mean=None, cov=1, allow_singular=False):
    return _mvn_logpdf(x, mean, cov, allow_singular)


@implements("scipy.stats.multivariate_normal.pdf")
def multivariate_normal_pdf(x, mean=None, cov=1, allow_singular=False):
    return ops.exp(_mvn_logpdf(x, mean, cov, allow_singular))
