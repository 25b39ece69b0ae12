"""Bad input at the generated module's door, and special values inside it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symgrad

TARGETS = ["numpy", "python"]


def _loss(p, x):
    return (p[0]["w"] * x).sum() + p[1] * p[1]


def _args():
    return [{"w": np.ones(3)}, 2.0], np.arange(3.0)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "bad",
    [
        [{"w": np.ones(3)}],  # too short
        [{"w": np.ones(3)}, 2.0, 3.0],  # too long
        [{"v": np.ones(3)}, 2.0],  # another key
        [{"w": np.ones(3), "v": 1.0}, 2.0],  # an extra key
        ({"w": np.ones(3)},),  # wrong container, wrong length
        5.0,  # not a container at all
    ],
)
def test_mismatched_structure_is_a_value_error_naming_the_argument(target, bad):
    c = symgrad.compile(_loss, *_args(), target=target)
    x = _args()[1]
    with pytest.raises(ValueError, match=r"structure .* p = \[\{'w': \*\}, \*\]"):
        c.value_and_grad(bad, x if target == "numpy" else x.tolist())


def test_grad_retraces_for_a_new_structure():
    g = symgrad.grad(lambda p: sum(v * v for v in p))
    assert g([1.0, 2.0]) == [2.0, 4.0]
    assert g([1.0, 2.0, 3.0]) == [2.0, 4.0, 6.0]
    assert g((1.0,)) == (2.0,)


def special(x):
    return np.log(x) + 1.0 / x + np.sqrt(x) + np.exp(x * 1000.0) + x**-1.0


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("x", [0.0, -1.0, np.inf, -np.inf, np.nan, 1e308])
def test_special_values_propagate_like_numpy_without_warnings(target, x):
    c = symgrad.compile(special, 1.0, target=target)
    with np.errstate(all="ignore"):
        want = special(np.float64(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = c.forward(x)
        value2, grad = c.value_and_grad(x)
    np.testing.assert_equal(value, want)
    np.testing.assert_equal(value2, want)
    assert isinstance(grad, float)


@pytest.mark.parametrize("target", TARGETS)
def test_nan_and_inf_arrays(target):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0])

    def f(v):
        return (np.tanh(v) * v + np.maximum(v, 0.0)).sum()

    c = symgrad.compile(f, x, target=target)
    arg = x if target == "numpy" else x.tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = c.value_and_grad(arg)
    with np.errstate(all="ignore"):
        assert np.isnan(value) and np.isnan(f(x))
    assert np.isnan(grad[0]) and grad[4] == pytest.approx(
        1 + np.tanh(1) + 1 - np.tanh(1) ** 2
    )


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_big_python_ints_are_used_as_floats(target):
    # NumPy multiplies a float array by 2**64 as a float; so does symgrad
    # (it used to raise a bare TypeError).
    g = symgrad.grad(lambda x: (x * 2**64).sum(), target=target)(np.ones(2))
    np.testing.assert_allclose(g, [2.0**64, 2.0**64])


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_mean_of_an_empty_array_is_nan_without_a_warning(target):
    import warnings

    f = symgrad.value_and_grad(lambda x, e: x.sum() + np.mean(e), target=target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, g = f(np.ones(2), np.zeros(0))
    assert np.isnan(value)
    np.testing.assert_allclose(g, [1.0, 1.0])


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_empty_selection(target):
    g = symgrad.grad(lambda x: x[:, :0].sum() + x.sum(), target=target)(np.ones((2, 3)))
    np.testing.assert_allclose(g, np.ones((2, 3)))


def test_cast_of_a_literal_is_valid_code():
    from symgrad.codegen.numpy.lowering import LOWERINGS

    cast = LOWERINGS["cast"].expr
    assert cast("0", "float64") == "np.float64(0)"
    assert cast("True", "bool") == "np.bool_(True)"
    assert cast("x", "float32") == "np.float32(x)"
