"""The C target's np.linalg lowerings (inv, solve, det, slogdet, cholesky)
against the NumPy target: NumPy's errors for singular and non-positive-
definite matrices (same type, same message), stacks (solve broadcasting
them), the one triangle cholesky reads, and the signs of det and slogdet.

Skipped where no C compiler or Python headers exist (as test_c_target).
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from tests.test_c_target import _close, needs_cc, private_cache  # noqa: F401

pytestmark = needs_cc


def _both(fn, *args):
    """fn compiled for the C and NumPy targets (forward only)."""
    ours = symgrad.compile(fn, *args, target="c", functions=("forward",))
    theirs = symgrad.compile(fn, *args, functions=("forward",))
    return ours.forward, theirs.forward


def _raised(fn, *args):
    try:
        fn(*args)
    except Exception as error:  # noqa: BLE001 - compared below
        return type(error), str(error)
    return None


def _inv(m):
    return np.linalg.inv(m)


def _solve(m, b):
    return np.linalg.solve(m, b)


def _chol(m):
    return np.linalg.cholesky(m)


def _dets(m):
    sign, logdet = np.linalg.slogdet(m)
    return np.linalg.det(m), sign, logdet


_SINGULAR = [
    np.array([[2.0, 1.0], [2.0, 1.0]]),  # equal rows
    np.array([[1.0, 0.0], [0.0, 0.0]]),  # a zero pivot, no swap
    np.array([[0.0, 1.0], [0.0, 3.0]]),  # a zero column
    np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),
]


@pytest.mark.parametrize("k", range(len(_SINGULAR)))
def test_singular_inv_and_solve_raise_as_numpy(k):
    m = _SINGULAR[k]
    b = np.ones((m.shape[0], 2))
    for fn, args in ((_inv, (m,)), (_solve, (m, b)), (_solve, (m, b[:, 0]))):
        ours, theirs = _both(fn, *args)
        expected = _raised(theirs, *args)
        assert expected == (np.linalg.LinAlgError, "Singular matrix")
        assert _raised(ours, *args) == expected


def test_one_singular_matrix_of_a_stack_raises():
    m = np.stack([np.eye(2) * 2.0, _SINGULAR[0], np.eye(2)])
    ours, theirs = _both(_inv, m)
    assert _raised(ours, m) == _raised(theirs, m) is not None
    # The same function still works on the next call.
    good = np.stack([np.eye(2) * 2.0, np.eye(2) * 4.0, np.eye(2)])
    _close(ours(good), theirs(good))


@pytest.mark.parametrize("k", range(len(_SINGULAR)))
def test_singular_det_and_slogdet_as_numpy(k):
    m = _SINGULAR[k]
    ours, theirs = _both(_dets, m)
    got, want = ours(m), theirs(m)
    assert want[0] == 0.0 and want[1] == 0.0 and want[2] == -np.inf
    assert got == want


_NOT_DEFINITE = [
    -np.eye(2),
    np.array([[1.0, 2.0], [2.0, 1.0]]),  # indefinite
    np.array([[1.0, 1.0], [1.0, 1.0]]),  # semidefinite: a zero pivot
    np.array([[0.0, 0.0], [0.0, 1.0]]),
]


@pytest.mark.parametrize("k", range(len(_NOT_DEFINITE)))
def test_not_positive_definite_raises_as_numpy(k):
    m = _NOT_DEFINITE[k]
    ours, theirs = _both(_chol, m)
    expected = _raised(theirs, m)
    assert expected == (np.linalg.LinAlgError, "Matrix is not positive definite")
    assert _raised(ours, m) == expected


@pytest.mark.parametrize(
    "m",
    [
        np.array([[np.nan, 0.0], [0.0, 1.0]]),
        np.array([[1.0, 0.0], [np.nan, 1.0]]),
        np.array([[4.0, 0.0], [np.nan, -1.0]]),
    ],
)
def test_cholesky_nan_goes_through_as_numpy(m):
    # NumPy's LAPACK (OpenBLAS) checks the diagonal with <= 0 only, so a
    # NaN makes NaNs in the factor, not an error.
    ours, theirs = _both(_chol, m)
    np.testing.assert_array_equal(ours(m), theirs(m))


def test_cholesky_reads_the_lower_triangle():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 4))
    spd = x @ np.swapaxes(x, 1, 2) + 4.0 * np.eye(4)
    # The upper triangle is junk (not symmetric, even negative): unread.
    m = np.tril(spd) + np.triu(rng.normal(size=(2, 4, 4)) * 50.0, 1)
    ours, theirs = _both(_chol, m)
    _close(ours(m), theirs(m))
    _close(ours(m), np.linalg.cholesky(spd))

    def loss(a):
        return np.sum(np.sin(np.linalg.cholesky(a)))

    got = symgrad.value_and_grad(loss, target="c")(m)
    want = symgrad.value_and_grad(loss)(m)
    _close(got[0], want[0])
    _close(got[1], want[1])
    # Exactly zero on the triangle it does not read.
    assert np.all(np.triu(got[1], 1) == 0.0)

    def directional(a):
        return np.sum(symgrad.grad(loss)(a) * np.cos(a))

    second = symgrad.grad(directional, target="c")(m)
    _close(second, symgrad.grad(directional)(m), rtol=1e-11)


def test_cholesky_upper_reads_the_upper_triangle():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 3))
    spd = x @ x.T + 3.0 * np.eye(3)
    m = np.triu(spd) + np.tril(rng.normal(size=(3, 3)) * 9.0, -1)

    def upper(a):
        return np.linalg.cholesky(a, upper=True)

    ours, theirs = _both(upper, m)
    _close(ours(m), theirs(m))
    _close(ours(m), np.linalg.cholesky(spd).T)


def test_det_and_slogdet_signs():
    swap = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    cycle = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    rng = np.random.default_rng(5)
    stack = np.stack(
        [
            swap * 2.0,  # one row swap: negative
            cycle * 3.0,  # two swaps: positive
            np.diag([-1.0, 2.0, 3.0]),  # a negative pivot, no swap
            np.diag([-1.0, -2.0, 3.0]),
            rng.normal(size=(3, 3)),
            -np.eye(3),
        ]
    )
    ours, theirs = _both(_dets, stack)
    got, want = ours(stack), theirs(stack)
    assert list(want[1]) == [-1.0, 1.0, -1.0, 1.0, np.sign(want[0][4]), -1.0]
    np.testing.assert_array_equal(got[1], want[1])
    for g, w in zip(got, want, strict=True):
        _close(g, w)


def test_stacks_and_broadcast_solve_first_and_second_order():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(2, 1, 3, 3)) + 3.0 * np.eye(3)
    b = rng.normal(size=(4, 3, 2))

    def loss(a, b):
        x = np.linalg.solve(a, b)  # (2, 4, 3, 2)
        sign, logdet = np.linalg.slogdet(a)
        return (
            np.sum(np.sin(x))
            + np.sum(np.linalg.inv(a) ** 2)
            + np.sum(np.linalg.det(a) * sign + logdet)
        )

    got = symgrad.value_and_grad(loss, argnums=(0, 1), target="c")(a, b)
    want = symgrad.value_and_grad(loss, argnums=(0, 1))(a, b)
    _close(got[0], want[0])
    for g, w in zip(got[1], want[1], strict=True):
        _close(g, w)

    def directional(a, b):
        ga, gb = symgrad.grad(loss, argnums=(0, 1))(a, b)
        return np.sum(ga * np.cos(a)) + np.sum(gb * b)

    second = symgrad.grad(directional, argnums=(0, 1), target="c")(a, b)
    want2 = symgrad.grad(directional, argnums=(0, 1))(a, b)
    for g, w in zip(second, want2, strict=True):
        _close(g, w, rtol=1e-11)


def test_solve_vector_shared_by_a_stack():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(3, 4, 4)) + 4.0 * np.eye(4)
    b = rng.normal(size=(4,))
    ours, theirs = _both(_solve, a, b)
    assert ours(a, b).shape == (3, 4)
    _close(ours(a, b), theirs(a, b))


def test_pivoting_needs_a_swap():
    # A zero in the first pivot place: only a row swap makes it solvable.
    m = np.array([[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.0, 1.0]])
    b = np.array([1.0, 2.0, 3.0])
    ours, theirs = _both(_solve, m, b)
    _close(ours(m, b), theirs(m, b))
    ours, theirs = _both(_inv, m)
    _close(ours(m), theirs(m))


def test_symbolic_matrix_size_and_stack():
    # n (the matrix size) and k (the stack) symbolic: one module, any sizes.
    def loss(a, b):
        spd = a @ np.swapaxes(a, -1, -2)
        sign, logdet = np.linalg.slogdet(a)
        return (
            np.sum(np.sin(np.linalg.inv(spd)))
            + np.sum(np.linalg.solve(spd, b) ** 2)
            + np.sum(np.linalg.det(spd) * sign + logdet)
            + np.sum(np.cos(np.linalg.cholesky(spd)))
        )

    shapes = {"a": "k, n, n", "b": "n"}
    ours = symgrad.value_and_grad(loss, argnums=(0, 1), target="c", shapes=shapes)
    theirs = symgrad.value_and_grad(loss, argnums=(0, 1), shapes=shapes)
    rng = np.random.default_rng(8)
    for k, n in ((2, 3), (1, 5), (3, 1), (0, 2), (2, 0)):
        a, b = rng.normal(size=(k, n, n)) + 2.0 * np.eye(n), rng.normal(size=n)
        got, want = ours(a, b), theirs(a, b)
        _close(got[0], want[0])
        for g, w in zip(got[1], want[1], strict=True):
            _close(g, w)
