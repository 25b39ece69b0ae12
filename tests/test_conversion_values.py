"""Values the front end makes NumPy's way: sequences of traced values where
NumPy would call asarray, imports in a function's body, and Python / NumPy
casts of traced values (piecewise constant: no gradient through them)."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad.errors import ConcretizationError
from tests.oracles import assert_close, numeric_grad

TARGETS = ("numpy", "python")
X = np.array([0.6, -1.3, 2.1])


def _check(f, x=X, target="numpy"):
    value, grad = symgrad.value_and_grad(f, target=target)(x)
    assert value == pytest.approx(f(x), rel=1e-12, abs=1e-12)
    assert_close(np.asarray(grad), numeric_grad(f, [x], [0])[0])


def _append_sum(x):
    out = []
    for v in x:
        out.append(v * v)
    return np.sum(out)


def _pair(x):
    return x[0] * x[1], np.sin(x[2])


SEQUENCES = {
    "sum of a list": lambda x: np.sum([1.0, x[0] * x[0], 2.0]),
    "mean of a tuple": lambda x: np.mean((x[0], x[1])),
    "std of a list": lambda x: np.std([x[0], x[1] * 2.0]),
    "norm of a list": lambda x: np.linalg.norm([x[0], x[1]]),
    "asarray of joined lists": lambda x: np.sum(
        np.sin(np.asarray([0.0, x[0]] + list(x[1::2])))
    ),
    "nested mixed lists": lambda x: np.sum(
        np.array([[x[0], 1.0], [2.0, x[1] * x[2]]]) ** 2
    ),
    "list operand": lambda x: np.sum(x * [x[1], 2.0, 1.0]),
    "list on the left": lambda x: np.sum([x[2], 1.0, x[0]] - x) ** 2,
    "list of arrays": lambda x: np.sum(np.max([x, x * x], axis=0)),
    "append then sum": _append_sum,
    "tuple returned": lambda x: np.sum(_pair(x)),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_sequences_of_traced_values_are_arrays(name, target):
    _check(SEQUENCES[name], target=target)


def test_ragged_sequences_are_refused_as_numpy_does():
    with pytest.raises(symgrad.TraceError, match="inhomogeneous shape"):
        symgrad.grad(lambda x: np.sum([x, x[0]]))(X)


# ------------------------------------------------------------------ imports


def _imports(x):
    import scipy.special
    from numpy import linalg as la
    from scipy.special import logsumexp
    from scipy.stats import norm

    return (
        logsumexp(x)
        + np.sum(norm.logpdf(x, 0.5, 2.0))
        + la.norm(x)
        + np.sum(scipy.special.expit(x))
    )


@pytest.mark.parametrize("target", TARGETS)
def test_imports_in_the_body_resolve_as_module_level_ones(target):
    pytest.importorskip("scipy")
    _check(_imports, target=target)


# ------------------------------------------------------------------ casts


def _casts(x):
    k = int(x[0] * 3)  # 1 at X
    step = float(x[1] >= 0)  # a step function written the Python way
    m = np.int64(x[2] * 2)
    cut = (x * 2).astype(int)
    return k * x[1] + step * x[0] ** 2 + m * x[2] + np.sum(cut * x) + round(x[2]) * x[0]


@pytest.mark.parametrize("target", TARGETS)
def test_casts_are_piecewise_constant(target):
    _check(_casts, target=target)
    x = np.array([0.6, 0.4, 2.1])  # the step is on: x[0] ** 2 counts
    _check(_casts, x, target=target)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.sum(np.zeros(int(x[0] * 3)) + x[1]),
        lambda x: np.sum(x[: int(x[2])]),
        lambda x: np.sum(x.reshape(int(x[2]) + 1, 1)),
        lambda x: np.sum(np.arange(int(x[2])) * x[1]),
        lambda x: np.sum(np.repeat(x, int(x[2]))),
    ],
)
def test_a_traced_int_as_a_size_says_why_it_cannot_be(f):
    with pytest.raises(ConcretizationError) as info:
        symgrad.grad(f)(X)
    msg = str(info.value)
    assert "test_conversion_values.py" in msg
    assert "is traced too" in msg and "fixed when the module is compiled" in msg


def test_a_traced_int_as_an_index_works():
    _check(lambda x: x[int(x[2])] * x[0])
