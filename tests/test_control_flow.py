"""Branches and loops staged as regions: values, gradients and code.

Programs use `symgrad.cond` / `symgrad.while_loop` (JAX's call shapes);
the front end turns Python `if` / `while` into these. Gradients are checked
against float64 central differences of the plain Python function, first and
second order, on both targets, for inputs that take different paths.
"""

import numpy as np
import pytest

import symgrad
from symgrad.frontend import staging
from tests.oracles import assert_close, numeric_grad

TARGETS = ("numpy", "python")


def piecewise(x):
    # The untaken branch would give NaN (sqrt of a negative number) under
    # np.where; a real branch never evaluates it.
    return staging.cond(x > 0.0, lambda: np.sqrt(x) * x, lambda: x * x * 3.0)


def piecewise_ref(x):
    return np.sqrt(x) * x if x > 0 else x * x * 3.0


def iterate(x):
    def body(c):
        a, i = c
        return (np.sin(a) * x + a * 0.5, i + 1.0)

    a, _ = staging.while_loop(lambda c: c[1] < 4.0, body, (x, 0.0))
    return a * a


def iterate_ref(x):
    a, i = x, 0.0
    while i < 4.0:
        a, i = np.sin(a) * x + a * 0.5, i + 1.0
    return a * a


def until_small(x):
    # A data-dependent trip count: halve until below 0.1.
    def body(c):
        a, n = c
        return (a * 0.5 + 0.001 * x * x, n + 1.0)

    a, n = staging.while_loop(lambda c: c[0] > 0.1, body, (x * x, 0.0))
    return a * n


def until_small_ref(x):
    a, n = x * x, 0.0
    while a > 0.1:
        a, n = a * 0.5 + 0.001 * x * x, n + 1.0
    return a * n


def branch_in_loop(x):
    def body(c):
        a, i = c
        a = staging.cond(a > 1.0, lambda: a * 0.5, lambda: a * x + 0.3)
        return (a, i + 1.0)

    a, _ = staging.while_loop(lambda c: c[1] < 5.0, body, (x, 0.0))
    return a


def branch_in_loop_ref(x):
    a, i = x, 0.0
    while i < 5.0:
        a = a * 0.5 if a > 1.0 else a * x + 0.3
        i += 1.0
    return a


CASES = {
    "piecewise": (piecewise, piecewise_ref, [2.0, -1.5, 0.3]),
    "iterate": (iterate, iterate_ref, [0.7, -0.4]),
    "until_small": (until_small, until_small_ref, [1.3, 2.9]),
    "branch_in_loop": (branch_in_loop, branch_in_loop_ref, [0.9, 1.7]),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(CASES))
def test_first_order(name, target):
    fn, ref, points = CASES[name]
    vg = symgrad.value_and_grad(fn, target=target)
    for x in points:
        value, g = vg(x)
        assert value == pytest.approx(ref(x), rel=1e-12)
        assert_close(g, numeric_grad(ref, [x], [0])[0])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(CASES))
def test_second_order(name, target):
    fn, ref, points = CASES[name]
    second = symgrad.grad(symgrad.grad(fn), target=target)

    def first_ref(x):
        return numeric_grad(ref, [x], [0])[0]

    for x in points:
        expected = (first_ref(x + 1e-4) - first_ref(x - 1e-4)) / 2e-4
        assert_close(second(x), expected, rtol=1e-4, atol=1e-6)


def nested_loops(x):
    # Both loops staged (traced conditions): the inner loop's tape is kept
    # once per outer iteration (a stack of stacks).
    def inner(c):
        (b,) = c
        return (b * 1.3 + np.sin(b) * 0.1 + 0.1 * x,)

    def outer(c):
        a, total = c
        (b,) = staging.while_loop(lambda d: d[0] < 2.0 * a, inner, (a,))
        return (a + 0.7, total + np.sin(b))

    _, total = staging.while_loop(lambda c: c[0] < 3.0, outer, (x, 0.0))
    return total


def nested_loops_ref(x):
    a, total = x, 0.0
    while a < 3.0:
        b = a
        while b < 2.0 * a:
            b = b * 1.3 + np.sin(b) * 0.1 + 0.1 * x
        a, total = a + 0.7, total + np.sin(b)
    return total


@pytest.mark.parametrize("target", TARGETS)
def test_nested_staged_loops(target):
    vg = symgrad.value_and_grad(nested_loops, target=target)
    for x in (0.7, 1.1):
        value, g = vg(x)
        assert value == pytest.approx(nested_loops_ref(x), rel=1e-12)
        assert_close(g, numeric_grad(nested_loops_ref, [x], [0])[0])
    grad = symgrad.grad(nested_loops)
    second = symgrad.grad(grad, target=target)(0.7)
    assert_close(second, (grad(0.7 + 1e-5) - grad(0.7 - 1e-5)) / 2e-5, rtol=1e-7)


def _horner(x, n):
    return symgrad.fori_loop(0, n, lambda i, v: v * x + i, 1.0)


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_fori_loop_with_plain_and_traced_bounds(target):
    """`symgrad.fori_loop` is JAX's: one while loop, right for every bound
    when the bound is an input of the module (an int argument)."""
    compiled = symgrad.compile(_horner, 1.5, 3, target=target)
    assert "while" in compiled.source
    for n in (0, 1, 4):
        (want,) = numeric_grad(lambda x, n=n: _horner(x, n), (1.3,), (0,))
        assert_close(compiled.gradient(1.3, n), want, rtol=1e-6)
    static = symgrad.compile(_horner, 1.5, 3, static_argnums=(1,), target=target)
    assert_close(static.gradient(1.5, 3), 3 * 1.5**2 + 1, rtol=1e-12)
    assert _horner(2.0, 3) == 2.0**3 + 2.0 + 2  # outside a trace: plain Python
    assert symgrad.cond is staging.cond and symgrad.while_loop is staging.while_loop


def _rows_loop(x, X):
    s = 0.0
    for i in range(len(X)):
        s = s + np.sin(X[i] * x)
    return s


def test_loop_over_a_symbolic_size_is_a_loop_in_the_module():
    compiled = symgrad.compile(_rows_loop, 0.7, np.arange(4.0), batch={"X": 0})
    assert "while" in compiled.source
    for rows in (0, 1, 6):
        X = np.linspace(0.1, 1.0, rows)
        (want,) = numeric_grad(lambda x, X=X: _rows_loop(x, X), (0.7,), (0,))
        assert_close(compiled.gradient(0.7, X), want, rtol=1e-6)


def _recursive(x, n):
    if n == 0:
        return x
    return np.sin(_recursive(x, n - 1)) * x


@pytest.mark.parametrize("n", [0, 3])
def test_a_function_calling_itself_by_name(n):
    (want,) = numeric_grad(lambda x: _recursive(x, n), (0.5,), (0,))
    assert_close(symgrad.grad(_recursive)(0.5, n), want, rtol=1e-6)


def _newton_sqrt(a):
    x = a
    while True:
        nx = 0.5 * (x + a / x)
        if abs(nx - x) < 1e-12:
            return nx
        x = nx


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_while_true_that_returns_from_inside(target):
    """`while True:` with a return inside (and no break) ends only by
    returning: no 'reaches its end' error, and its derivatives are
    d sqrt(a) / da = 1 / (2 sqrt(a)) and -1 / (4 a^1.5)."""
    grad = symgrad.grad(_newton_sqrt, target=target)
    for a in (0.3, 2.0, 9.0):
        assert_close(grad(a), 0.5 / np.sqrt(a), rtol=1e-12)
        second = symgrad.grad(symgrad.grad(_newton_sqrt), target=target)(a)
        assert_close(second, -0.25 * a**-1.5, rtol=1e-9)
