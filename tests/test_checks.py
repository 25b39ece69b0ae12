"""A user's `raise` or `assert` on a traced condition stays in the generated
code: the module raises the same built-in exception with the same message
where the function would, and computes the same value and gradient where
it does not. Checks on plain values run while tracing, as in Python."""

import numpy as np
import pytest

import symgrad
from symgrad import TraceError


class NegativeInput(ValueError):
    pass


def guarded(x):
    if x.sum() < -10.0:
        raise ValueError("the sum is below -10")
    if np.any(x > 100.0):
        raise NegativeInput('x is too "big"\nfor this model')
    return np.sum(np.log1p(x**2))


def asserted(x, scale):
    assert x.ndim == 1, "x must be a vector"  # plain: checked while tracing
    assert np.all(x > 0), "x must be positive"
    assert scale > 0
    return np.sum(np.log(x)) * scale


def check_in_loop(x):
    s = 0.0
    while s < 3.0:
        if s < -1.0:
            raise ValueError("negative")
        s = s + x
    return s


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_a_raise_on_a_traced_condition_is_kept(target):
    x = np.array([0.5, -1.5, 2.0])
    compiled = symgrad.compile(guarded, x, target=target)
    value, grad = compiled.value_and_grad(x)
    assert value == pytest.approx(guarded(x), rel=1e-14)
    np.testing.assert_allclose(grad, 2 * x / (1 + x**2), rtol=1e-14)
    with pytest.raises(ValueError, match="the sum is below -10"):
        compiled.value_and_grad(np.array([-20.0, 1.0, 2.0]))
    # A user's own class becomes its nearest built-in base; the message is
    # data (quotes and newlines intact), printed by the safe literal printer.
    with pytest.raises(ValueError) as info:
        compiled.forward(np.array([1.0, 200.0, 2.0]))
    assert str(info.value) == 'x is too "big"\nfor this model'
    assert "class NegativeInput" not in compiled.source


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_asserts_on_traced_values_become_checks(target):
    x = np.array([0.5, 1.5])
    grad = symgrad.grad(asserted, argnums=(0, 1), target=target)
    gx, gs = grad(x, 2.0)
    np.testing.assert_allclose(gx, 2.0 / x, rtol=1e-14)
    assert gs == pytest.approx(np.sum(np.log(x)), rel=1e-14)
    with pytest.raises(AssertionError, match="x must be positive"):
        grad(np.array([0.5, -1.5]), 2.0)
    with pytest.raises(AssertionError):
        grad(x, -1.0)
    with pytest.raises(AssertionError, match="x must be a vector"):
        grad(np.ones((2, 2)), 2.0)  # plain: raised while tracing


def test_a_check_inside_a_traced_loop_is_refused_with_its_line():
    with pytest.raises(TraceError, match=r"test_checks.py:\d+.*inside an if or loop"):
        symgrad.grad(check_in_loop)(0.7)
