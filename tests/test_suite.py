"""Third-party style code (tests/suite_functions.py), handed to symgrad the
ways people do: through a lambda, a functools.partial with keywords and a
bound method of an object holding the function. Every gradient matches
central differences; the value is the function's."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import symgrad
from tests.oracles import assert_close, numeric_grad
from tests.suite_functions import SUITE


class Problem:
    """A benchmark-suite style object: the function and its parameters."""

    def __init__(self, fun, params):
        self.fun = fun
        self.params = params
        self.evaluations = 0

    def objective(self, x):
        self.evaluations += 1
        return self.fun(x, **self.params)


def _forms(fun, params) -> dict:
    return {
        "lambda": lambda x: fun(x, **params),
        "partial": functools.partial(fun, **params),
        "bound method": Problem(fun, params).objective,
    }


def _point(name, n, low, high):
    seed = sum(map(ord, name))  # one fixed point per function
    return np.random.default_rng(seed).uniform(low, high, size=n)


@pytest.mark.parametrize("name", sorted(SUITE))
def test_suite_function_through_every_form(name):
    fun, params, n, low, high = SUITE[name]
    x = _point(name, n, low, high)
    plain = functools.partial(fun, **params)
    expected = numeric_grad(plain, [x], [0])[0]
    for form, callable_ in _forms(fun, params).items():
        value, grad = symgrad.value_and_grad(callable_)(x)
        assert value == pytest.approx(plain(x), rel=1e-12, abs=1e-12), form
        assert_close(np.asarray(grad), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(SUITE))
def test_suite_function_on_the_python_target(name):
    fun, params, n, low, high = SUITE[name]
    x = _point(name, n, low, high)
    plain = functools.partial(fun, **params)
    value, grad = symgrad.value_and_grad(lambda x: fun(x, **params), target="python")(x)
    assert value == pytest.approx(plain(x), rel=1e-12, abs=1e-12)
    assert_close(np.asarray(grad), numeric_grad(plain, [x], [0])[0], atol=1e-7)
