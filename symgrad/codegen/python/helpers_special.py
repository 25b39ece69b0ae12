"""Helpers for the pure-Python target: NumPy's and SciPy's special values.

Contract: like `helpers`: every top-level function here is plain
Python that needs nothing but `math` (and the helpers named in `NEEDS`), runs
on any CPython 3 (no `math.cbrt`, `math.exp2`: they are 3.11+), and returns
what NumPy (or SciPy, for the `scipy.special` functions) returns for every
input: inf, -inf and nan where the math module raises. The target copies in
exactly the helpers a module calls and what they need.

Accuracy: the SciPy functions without a `math` twin (digamma, polygamma,
ndtr, log_ndtr, logsumexp) are computed here to within a few units in the
last place of SciPy's values; `tests/test_scipy.py` checks them against SciPy.
"""

import math

from symgrad.codegen.python.helpers import _div, _exp, _log, _max


def _tan(x):
    """math.tan, with nan for infinities."""
    try:
        return math.tan(x)
    except ValueError:
        return math.nan


def _asin(x):
    """math.asin, with nan outside [-1, 1]."""
    try:
        return math.asin(x)
    except ValueError:
        return math.nan


def _acos(x):
    """math.acos, with nan outside [-1, 1]."""
    try:
        return math.acos(x)
    except ValueError:
        return math.nan


def _sinh(x):
    """math.sinh, with +-inf on overflow."""
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(math.inf, x)


def _cosh(x):
    """math.cosh, with inf on overflow."""
    try:
        return math.cosh(x)
    except OverflowError:
        return math.inf


def _acosh(x):
    """math.acosh, with nan below 1."""
    try:
        return math.acosh(x)
    except ValueError:
        return math.nan


def _atanh(x):
    """math.atanh, with +-inf at +-1 and nan beyond."""
    try:
        return math.atanh(x)
    except ValueError:
        return math.copysign(math.inf, x) if abs(x) == 1 else math.nan


def _log2(x):
    """math.log2, with -inf for zero and nan for negative numbers."""
    try:
        return math.log2(x)
    except ValueError:
        return -math.inf if x == 0 else math.nan


def _log10(x):
    """math.log10, with -inf for zero and nan for negative numbers."""
    try:
        return math.log10(x)
    except ValueError:
        return -math.inf if x == 0 else math.nan


def _log1p(x):
    """math.log1p, with -inf at -1 and nan below."""
    try:
        return math.log1p(x)
    except ValueError:
        return -math.inf if x == -1 else math.nan


def _expm1(x):
    """math.expm1, with inf on overflow."""
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def _cbrt(x):
    """The real cube root (negative for negative x), as np.cbrt."""
    return math.copysign(abs(x) ** (1.0 / 3.0), x)


def _logaddexp(a, b):
    """log(exp(a) + exp(b)) without overflow, as np.logaddexp computes it."""
    if a == b:  # also two infinities of the same sign
        return a + 0.6931471805599453
    d = a - b
    if d > 0:
        return a + math.log1p(math.exp(-d))
    if d <= 0:
        return b + math.log1p(math.exp(d))
    return d  # nan


def _logaddexp2(a, b):
    """log2(2**a + 2**b) without overflow, as np.logaddexp2 computes it."""
    if a == b:
        return a + 1.0
    d = a - b
    if d > 0:
        return a + 1.4426950408889634 * math.log1p(2.0**-d)
    if d <= 0:
        return b + 1.4426950408889634 * math.log1p(2.0**d)
    return d


def _mod(a, b):
    """a % b as np.remainder: the sign of b; nan (floats) or 0 (ints) for b == 0."""
    try:
        return a % b
    except ZeroDivisionError:
        return math.nan if isinstance(a, float) or isinstance(b, float) else 0


def _floordiv(a, b):
    """a // b as np.floor_divide: a / b (inf or nan) or 0 (ints) for b == 0."""
    try:
        return a // b
    except ZeroDivisionError:
        if not (isinstance(a, float) or isinstance(b, float)):
            return 0
        if a != a or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _fmod(a, b):
    """np.fmod: the remainder with the sign of a; nan (floats) or 0 (ints)."""
    if not (isinstance(a, float) or isinstance(b, float)):
        if b == 0:
            return 0
        r = abs(a) % abs(b)
        return r if a >= 0 else -r
    try:
        return math.fmod(a, b)
    except ValueError:  # a infinite or b zero
        return math.nan


def _floor(x):
    """np.floor: floats stay floats (-0.0 too), ints stay ints."""
    if not isinstance(x, float) or x - x != 0:  # ints, inf, nan
        return x
    return math.copysign(math.floor(x), x)


def _ceil(x):
    """np.ceil: floats stay floats (ceil(-0.5) is -0.0), ints stay ints."""
    if not isinstance(x, float) or x - x != 0:
        return x
    return math.copysign(math.ceil(x), x)


def _trunc(x):
    """np.trunc: floats stay floats (trunc(-0.5) is -0.0), ints stay ints."""
    if not isinstance(x, float) or x - x != 0:
        return x
    return math.copysign(math.trunc(x), x)


def _rint(x):
    """np.rint: round half to even, as a float (rint(-0.4) is -0.0)."""
    x = float(x)
    if x - x != 0:
        return x
    return math.copysign(round(x), x)


def _nan_to_num(x, nan, posinf, neginf):
    """np.nan_to_num for one float."""
    if x != x:
        return nan
    if x == math.inf:
        return posinf
    if x == -math.inf:
        return neginf
    return x


def _heaviside(x, h):
    """np.heaviside: 0 below zero, h at zero, 1 above; nan stays nan."""
    if x < 0:
        return 0.0
    if x > 0:
        return 1.0
    return float(h) if x == 0 else x


def _logit(p):
    """scipy.special.logit: log(p / (1 - p)), precise near p = 0.5."""
    if 0.3 <= p <= 0.65:
        return math.log1p(2.0 * (p - 0.5) / (1.0 - p))
    try:
        return math.log(p / (1.0 - p))
    except ZeroDivisionError:  # p == 1
        return math.inf
    except ValueError:  # p == 0 gives -inf; outside [0, 1], nan
        return -math.inf if p == 0 else math.nan


def _xlogy(x, y):
    """scipy.special.xlogy: x * log(y), and 0 where x == 0 (unless y is nan)."""
    if x == 0 and y == y:
        return 0.0
    return x * _log(y)


def _xlog1py(x, y):
    """scipy.special.xlog1py: x * log1p(y), and 0 where x == 0 (y not nan)."""
    if x == 0 and y == y:
        return 0.0
    return x * _log1p(y)


def _gamma(x):
    """scipy.special.gamma: +-inf at zero, nan at the negative poles and -inf."""
    try:
        return math.gamma(x)
    except ValueError:
        return math.copysign(math.inf, x) if x == 0 else math.nan
    except OverflowError:
        return math.copysign(math.inf, x) if abs(x) < 1 else math.inf


def _lgamma(x):
    """scipy.special.gammaln (log|gamma(x)|): inf at the poles, -inf at -inf."""
    if x == -math.inf:
        return -math.inf
    if x == 0 or 1.0 / abs(x) == math.inf:  # SciPy's 1/x overflows to inf
        return math.inf
    try:
        return math.lgamma(x)
    except (ValueError, OverflowError):
        return math.inf


def _digamma(x):
    """scipy.special.digamma (psi): the logarithmic derivative of gamma."""
    if x != x or x == math.inf:
        return x
    if x == -math.inf:
        return math.nan
    if x == 0:
        return math.copysign(math.inf, -x)
    result = 0.0
    if x < 0:
        # Reflection: psi(x) = psi(1 - x) - pi / tan(pi * x), with the
        # argument reduced to (-1, 0) before the tangent.
        frac = math.fmod(x, 1.0)
        if frac == 0:
            return math.nan
        result = -math.pi / math.tan(math.pi * frac)
        x = 1.0 - x
    while x < 10.0:
        h = (x - 1.4616321449683622) - 9.549995429965697e-17
        if abs(h) < 0.2:
            # Near the positive zero the recurrence cancels: a Taylor series
            # about the zero, with coefficients (-1)**(k+1) zeta(k+1, x0).
            series = 0.0
            for c in (
                0.00023635601564027053,
                -0.0003454680251063077,
                0.000504953265834602,
                -0.0007380709389960052,
                0.0010788252019162967,
                -0.0015769367714301972,
                0.002305126326734928,
                -0.003369801655439328,
                0.004926781395729853,
                -0.007204534386356869,
                0.010538791616612175,
                -0.01542476590494896,
                0.022597648232218104,
                -0.03316112647484736,
                0.04880428816414311,
                -0.07219956125645471,
                0.10782405069126237,
                -0.16394270544240652,
                0.258499760955651,
                -0.4427631689835921,
                0.9676722454476212,
            ):
                series = series * h + c
            return result + series * h
        result -= 1.0 / x
        x += 1.0
    # The asymptotic series with Bernoulli numbers, for x >= 10.
    z = 1.0 / (x * x)
    tail = z * (
        1 / 12
        - z
        * (
            1 / 120
            - z * (1 / 252 - z * (1 / 240 - z * (1 / 132 - z * (691 / 32760 - z / 12))))
        )
    )
    return result + math.log(x) - 0.5 / x - tail


def _polygamma(n, x):
    """scipy.special.polygamma(n, x) for n >= 1: the n-th derivative of psi."""
    sign = 1.0 if n % 2 else -1.0  # (-1) ** (n + 1)
    if x != x:
        return x
    if x == math.inf:
        return sign * 0.0
    if x == -math.inf or (x <= 0 and x == math.floor(x)):  # the poles
        return sign * math.inf
    factorial = float(math.factorial(n))
    if x < 0 and n == 1:
        # Reflection: psi1(x) = pi**2 / sin(pi x)**2 - psi1(1 - x).
        s = math.sin(math.pi * math.fmod(x, 1.0))
        return (math.pi / s) ** 2 - _polygamma(1, 1.0 - x)
    # psi_n(x) = psi_n(x + 1) + (-1)**(n+1) n! / x**(n+1): for x > 0 every
    # term has the same sign, so the sum does not cancel.
    total = 0.0
    try:
        while x < 20.0:
            total += factorial * (1.0 / x) ** (n + 1)
            x += 1.0
    except (OverflowError, ZeroDivisionError):
        return sign * math.inf
    # Asymptotic series: (n-1)!/x**n + n!/(2 x**(n+1)) + sum of Bernoulli terms.
    t = 1.0 / x
    term = math.factorial(n - 1) * t**n  # (2k+n-1)! / (2k)! * t**(2k+n), k = 0
    tail = term + 0.5 * factorial * t ** (n + 1)
    for k, bernoulli in enumerate(
        (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510),
        start=1,
    ):
        term *= (2 * k + n - 2) * (2 * k + n - 1) / ((2 * k - 1) * (2 * k)) * t * t
        tail += bernoulli * term
    return sign * (total + tail)


def _ndtr(x):
    """scipy.special.ndtr: the standard normal distribution function."""
    t = x * 0.7071067811865476
    if abs(t) < 0.7071067811865476:
        return 0.5 + 0.5 * math.erf(t)
    y = 0.5 * math.erfc(abs(t))
    return 1.0 - y if t > 0 else y


def _log_ndtr(x):
    """scipy.special.log_ndtr: log(ndtr(x)), precise in both tails."""
    t = x * 0.7071067811865476
    if x >= -1 or x != x:
        return math.log1p(-0.5 * math.erfc(t))
    if x > -20:
        return math.log(0.5 * math.erfc(-t))
    if x == -math.inf:
        return -math.inf
    # erfc(z) = exp(-z*z) erfcx(z), with erfcx's asymptotic series for z > 14.
    z = -t
    w = 0.5 / (z * z)
    series, term = 1.0, 1.0
    for k in range(1, 12):
        term *= -(2 * k - 1) * w
        series += term
    return math.log(series / (2.0 * z * 1.7724538509055159)) - t * t


def _logsumexp(values):
    """scipy.special.logsumexp of a list, as SciPy computes it: the maximum
    (and its ties) taken out of the sum and added back through log1p."""
    if not values:
        return -math.inf
    top = _max(values)
    if top - top != 0:  # inf, -inf or nan: the plain formula gives it
        return _log(sum(_exp(x) for x in values))
    ties = 0
    rest = 0.0
    for x in values:
        if x == top:
            ties += 1
        else:
            rest += math.exp(x - top)
    return math.log1p(rest / ties) + math.log(ties) + top


def _logsumexp_b(pairs):
    """scipy.special.logsumexp(a, b=b) of a list of (a, b) pairs, as SciPy
    computes it: entries with b == 0 count for nothing, a negative total is
    nan, and an infinite or undefined result comes from the plain formula."""
    if not pairs:
        return -math.inf
    values = [x if w != 0 else -math.inf for x, w in pairs]
    top = _max(values)
    scale = 0.0
    rest = 0.0
    for x, (_, w) in zip(values, pairs):  # noqa: B905
        if x == top:
            scale += w
        else:
            rest += w * math.exp(x - top)
    if rest != 0:
        rest = _div(rest, scale)
    sign = ((rest + 1 > 0) - (rest + 1 < 0)) * ((scale > 0) - (scale < 0))
    if rest < -1:
        rest = -rest - 2
    out = _log1p(rest) + _log(abs(scale)) + top
    if sign < 0:
        out = math.nan
    if out - out != 0:
        out = _log(sum(w * _exp(x) for x, w in pairs))
    return out


# What each helper calls (other helpers): the target copies these in with it.
NEEDS = {
    "_xlogy": ("_log",),
    "_xlog1py": ("_log1p",),
    "_logsumexp": ("_max", "_log", "_exp"),
    "_logsumexp_b": ("_max", "_div", "_log1p", "_log", "_exp"),
}
