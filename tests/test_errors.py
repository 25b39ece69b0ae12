"""Untraceable code and bad arguments: errors that say where and what to do."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symgrad
from symgrad import ArgumentError, ShapeError, SymgradError, TraceError

HERE = "test_errors.py"


def _raises(cls, fn, *args, match=None, **kw):
    with pytest.raises(cls, match=match) as info:
        fn(*args, **kw)
    assert isinstance(info.value, SymgradError)
    return str(info.value)


def test_if_on_traced_array_names_line_and_fix():
    # An if on a traced scalar is staged (tests/test_frontend.py); one on an
    # array has no single truth value.
    def f(x):
        if x > 0:  # the line the error must name
            return x.sum()
        return -x.sum()

    msg = _raises(TraceError, symgrad.grad(f), np.ones(3))
    line = f.__code__.co_firstlineno + 1
    assert f"{HERE}:{line}" in msg
    assert "np.where" in msg


def test_float_and_math_on_traced_value():
    # Lambdas are converted: float(), int() and max() of traced numbers are
    # symgrad's there (a cast with no gradient, np.where).
    assert symgrad.grad(lambda x: float(x) * 2)(1.0) == 2.0
    assert symgrad.grad(lambda x: int(x) * x)(2.5) == 2.0
    assert symgrad.grad(lambda x: max(x, 0.0))(-1.0) == 0.0
    msg = _raises(TraceError, symgrad.grad(lambda x: math.frexp(x)[0]), 1.0)
    assert HERE in msg and ".tanh()" in msg
    _raises(TraceError, symgrad.grad(lambda x: len(x) * x), 1.0)
    # Code without source is traced as it is: Python's float() and max()
    # of a traced value say what to use instead.
    ns = {}
    exec("def g(x):\n    return float(x) * 2\n", ns)  # noqa: S102
    msg = _raises(TraceError, symgrad.grad(ns["g"]), 1.0)
    assert "<string>:2" in msg and "np." in msg
    exec("def h(x):\n    return max(x, 0.0)\n", ns)  # noqa: S102
    _raises(TraceError, symgrad.grad(ns["h"]), 1.0, match="np.maximum")


def test_unsupported_numpy_function_is_named():
    msg = _raises(TraceError, symgrad.grad(lambda x: np.frexp(x)[0]), 1.0)
    assert "np.frexp" in msg and HERE in msg
    msg = _raises(TraceError, symgrad.grad(lambda x: np.fft.rfft(x).sum()), np.ones(2))
    assert "np.fft.rfft" in msg
    msg = _raises(
        TraceError, symgrad.grad(lambda x: np.sum(x, where=x > 0)), np.ones(2)
    )
    assert "np.sum with where=" in msg and HERE in msg


def test_sum_with_dtype():
    g = symgrad.grad(lambda x: np.sum(x * x, dtype=np.float64))(np.ones(2))
    np.testing.assert_allclose(g, [2.0, 2.0])


def test_missing_attribute_is_a_trace_error_naming_it():
    msg = _raises(TraceError, symgrad.grad(lambda x: x.frobnicate()), np.ones(2))
    assert ".frobnicate" in msg and HERE in msg
    # Also an AttributeError, so hasattr keeps working on traced values.
    assert symgrad.grad(lambda x: x.sum() * hasattr(x, "frobnicate"))(np.ones(2))[
        0
    ] == pytest.approx(0.0)


def test_non_scalar_output():
    msg = _raises(TraceError, symgrad.grad(lambda x: x * 2), np.ones(3))
    assert "shape (3,)" in msg and ".sum()" in msg
    _raises(TraceError, symgrad.grad(lambda x: (x, x)), 1.0)


def test_argnums_problems():
    f = lambda x, y: x * y  # noqa: E731
    msg = _raises(ArgumentError, symgrad.grad(f, argnums=2), 1.0, 2.0)
    assert "argnums=2" in msg
    msg = _raises(ArgumentError, symgrad.grad(f, argnums=1), 1.0, 2)
    assert "3.0, not 3" in msg
    _raises(ArgumentError, symgrad.grad(f, argnums=0), "a", 2.0)
    _raises(ArgumentError, symgrad.grad(f, argnums=0), np.array([1, 2]), 2.0)
    _raises(ArgumentError, symgrad.grad(f, argnums=0), True, 2.0)


def test_shape_error_reports_both_shapes_and_line():
    msg = _raises(
        ShapeError, symgrad.grad(lambda a, b: (a + b).sum()), np.ones(3), np.ones(4)
    )
    assert "(3,)" in msg and "(4,)" in msg and HERE in msg
    msg = _raises(ShapeError, symgrad.grad(lambda a: (a @ a).sum()), np.ones((2, 3)))
    assert "(2, 3)" in msg


def test_assignment_through_a_traced_mask_needs_a_scalar():
    # x[0] = 1.0 works (tests/test_setitem.py); which entries a traced mask
    # selects is only known at run time, so v must fill them all alike.
    def f(x):
        x[x > 0] = x[:2]
        return x.sum()

    _raises(TraceError, symgrad.grad(f), np.ones(3), match="np.where")


def test_generated_module_checks_shapes():
    c = symgrad.compile(lambda W: (W * W).sum(), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"W must have shape \(2, 3\)"):
        c.gradient(np.ones((3, 2)))


def test_failures_inside_numpy_name_the_users_line():
    # The shape error is found inside NumPy's solve signature handling; the
    # message still points at this file.
    A = np.eye(3)
    msg = _raises(
        symgrad.ShapeError,
        symgrad.grad(lambda b: np.linalg.solve(A, b).sum()),
        np.ones(4),
    )
    assert HERE in msg


def test_list_where_an_array_goes_is_an_array():
    # A list argument is a pytree of separate numbers (as in JAX); where the
    # function uses it as an array, NumPy's conversion makes one, and the
    # gradient comes back as a list of the same numbers as for an array.
    def f(w, X):
        return np.sum(np.tanh(X @ w))

    X = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    listed = symgrad.grad(f)([1.0, 2.0, 3.0], X)
    arrayed = symgrad.grad(f)(np.array([1.0, 2.0, 3.0]), X)
    assert isinstance(listed, list) and len(listed) == 3
    np.testing.assert_allclose(listed, arrayed, rtol=1e-15)


def test_sizes_that_are_not_polynomials_name_the_line_and_a_way_out():
    def half(w, X):
        return np.sum(X[: len(X) // 2] @ w)

    def all_but_last(w, X):
        return np.sum(X[: len(X) - 1] @ w)

    X = np.ones((4, 3))
    grad = symgrad.grad(half, shapes={"X": "n, 3"})
    msg = _raises(ShapeError, grad, np.ones(3), X)
    assert f"{HERE}:{half.__code__.co_firstlineno + 1}" in msg
    assert "batch=/shapes=" in msg
    grad = symgrad.grad(all_but_last, shapes={"X": "n, 3"})
    msg = _raises(TraceError, grad, np.ones(3), X)
    assert f"{HERE}:{all_but_last.__code__.co_firstlineno + 1}" in msg
    assert "symbolic size n - 1" in msg and "x[:-1]" in msg
    assert "not traced values" not in msg

    # What the message proposes works, for any number of rows.
    def proposed(w, X):
        return np.sum(X[:-1] @ w)

    g = symgrad.grad(proposed, shapes={"X": "n, 3"})
    for rows in (2, 5):
        assert np.allclose(g(np.ones(3), np.ones((rows, 3))), rows - 1)


def test_boolean_mask_argument_is_called_an_argument():
    def f(w, mask):
        return np.sum(w[mask] ** 2)

    mask = np.array([True, False, True, True])
    msg = _raises(TraceError, symgrad.grad(f), np.arange(4.0), mask)
    assert "boolean argument mask" in msg
    assert "computed from traced values" not in msg

    def kept(w, mask):  # the rewrite the message proposes
        return np.sum(np.where(mask, w, 0.0) ** 2)

    assert np.allclose(symgrad.grad(kept)(np.arange(4.0), mask), [0, 0, 4, 6])
