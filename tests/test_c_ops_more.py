"""Edge points of the C target's scans, products, diagonals, triangles,
logsumexp and log_ndtr, against the NumPy target: inf, NaN and +-0 in the
operands, zeros in products, empty axes (fixed and symbolic sizes), ties,
weights of 0; values (to the bit where NumPy's loop is sequential, with the
sign of zeros) and gradients to 1e-12, first and second order.

Skipped, with the reason, where no C compiler or no Python headers exist
(`tests.test_c_target.needs_cc`); each test builds in a private cache.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sc

import symgrad
from symgrad.codegen import c as c_target
from tests.test_c_target import _close, needs_cc, private_cache  # noqa: F401

SPECIALS = np.array(
    [
        [1.5, np.nan, -0.0, 2.0],
        [np.inf, -2.0, 0.0, -np.inf],
        [0.0, 3.0, -0.0, 1e-320],
    ]
)


def _same(ours, theirs, rtol=1e-14):
    """The same values (NaN where NumPy has NaN) and the same signed zeros."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)
    real = ~np.isnan(theirs)
    assert np.array_equal(np.signbit(ours)[real], np.signbit(theirs)[real])


def _forward(fn, *args, **options):
    """fn's results on the C target and on the NumPy target, at `args`."""
    ours = symgrad.compile(fn, *args, functions=("forward",), target="c", **options)
    theirs = symgrad.compile(fn, *args, functions=("forward",), **options)
    return ours.forward(*args), theirs.forward(*args)


def _check_gradients(fn, *args, **options):
    """value_and_grad, and the gradient of <grad, v>, agree with NumPy's."""
    argnums = tuple(range(len(args)))
    got = symgrad.value_and_grad(fn, argnums=argnums, target="c", **options)(*args)
    want = symgrad.value_and_grad(fn, argnums=argnums, **options)(*args)
    _close(got[0], want[0])
    for a, b in zip(got[1], want[1], strict=True):
        _close(a, b)
    direction = [np.cos(np.arange(np.size(a)) + 1.0).reshape(np.shape(a)) for a in args]

    def directional(target):
        first = symgrad.grad(fn, argnums=argnums, target=target, **options)

        def inner(*xs):
            gs = first(*xs)
            return sum(np.sum(g * v) for g, v in zip(gs, direction, strict=True))

        return inner

    got = symgrad.grad(directional("c"), argnums=argnums, target="c", **options)
    want = symgrad.grad(directional("numpy"), argnums=argnums, **options)
    for a, b in zip(got(*args), want(*args), strict=True):
        _close(a, b, rtol=1e-10)


# ------------------------------------------------------------ scans, prod


def scans(x):
    return (
        np.cumsum(x, axis=0),
        np.cumsum(x, axis=1),
        np.cumprod(x, axis=0),
        np.cumprod(x, axis=-1),
        np.cumsum(x),
        np.prod(x, axis=0),
        np.prod(x, axis=1, keepdims=True),
        np.prod(x),
        np.prod(x[None], axis=(0, 2)),
        np.prod(x[1:, 1]),
    )


@needs_cc
def test_scans_and_products_at_special_points():
    ours, theirs = _forward(scans, SPECIALS)
    for a, b in zip(ours, theirs, strict=True):
        _same(a, b)


@needs_cc
def test_products_with_zeros_differentiate_as_numpy():
    # One zero, two zeros, a -0.0 in a row: the gradients never divide by
    # an entry that is zero.
    x = np.array([[0.5, 0.0, -1.5, 2.0], [0.0, 3.0, 0.0, -0.5], [1.2, -0.0, 0.7, 0.9]])
    weight = np.linspace(-1.0, 1.3, 12).reshape(3, 4)

    def fn(x):
        return (
            np.sum(np.cumprod(x, axis=1) * weight)
            + np.sum(np.cumprod(x, axis=0) * weight)
            + np.sum(np.prod(x, axis=1) * weight[:, 0])
            + np.prod(x[2])
        )

    _check_gradients(fn, x)


@needs_cc
def test_empty_axes_fixed_and_symbolic():
    # np.prod of no entries is 1; a scan of none is empty; logsumexp of
    # none is log(0) = -inf.
    def fn(x):
        return (
            np.prod(x, axis=0),
            np.cumsum(x, axis=0),
            np.cumprod(x, axis=1),
            sc.logsumexp(x, axis=0),
            np.prod(x),
        )

    empty = np.ones((0, 3))
    ours, theirs = _forward(fn, empty)
    for a, b in zip(ours, theirs, strict=True):
        _same(a, b)
    assert np.array_equal(ours[0], [1.0, 1.0, 1.0])
    assert np.array_equal(ours[3], [-np.inf] * 3)
    compiled = symgrad.compile(
        fn, np.ones((2, 3)), functions=("forward",), target="c", batch={0: 0}
    )
    reference = symgrad.compile(
        fn, np.ones((2, 3)), functions=("forward",), batch={0: 0}
    )
    for rows in (0, 1, 4):
        x = np.arange(rows * 3.0).reshape(rows, 3) * 0.25 - 1.0
        for a, b in zip(compiled.forward(x), reference.forward(x), strict=True):
            _same(a, b)


# ------------------------------------------------------ diagonals, triangles


def structure(a, b):
    return (
        np.tril(a),
        np.triu(a),
        np.tril(a, -1),
        np.triu(a, 2),
        np.tril(b, 1),
        np.triu(b, -1),
        np.diagonal(a),
        np.diagonal(a, -1),
        np.diagonal(b, 1, 2, 0),
        np.diag(a[0]),
        np.diag(a[1], -2),
        np.diag(a[:, 1], 1),
    )


@needs_cc
def test_triangles_and_diagonals_at_special_points():
    # NaN and inf outside a triangle give +0.0 (NumPy selects), -0.0
    # inside stays -0.0; non-square and batched matrices, offsets either way.
    a = SPECIALS
    b = np.concatenate([SPECIALS, -SPECIALS])[None].repeat(2, 0).reshape(2, 6, 4)
    ours, theirs = _forward(structure, a, b)
    for a_, b_ in zip(ours, theirs, strict=True):
        _same(a_, b_, rtol=0)


@needs_cc
def test_structure_gradients_fixed_and_symbolic():
    def fn(a):
        return (
            np.sum(np.sin(np.tril(a, -1)) * np.triu(a.T, 1))
            + np.sum(np.diag(np.diagonal(a)) @ a)
            + np.sum(np.diagonal(a, 1) ** 2)
        )

    a = np.linspace(-1.0, 2.0, 16).reshape(4, 4)
    _check_gradients(fn, a)
    ours = symgrad.value_and_grad(fn, target="c", shapes={"a": "n, n"})
    theirs = symgrad.value_and_grad(fn, shapes={"a": "n, n"})
    for n in (1, 2, 5):
        x = np.cos(np.arange(n * n) * 0.7).reshape(n, n)
        got, want = ours(x), theirs(x)
        _close(got[0], want[0])
        _close(got[1], want[1])


# ------------------------------------------------------------ logsumexp


@needs_cc
def test_logsumexp_edges():
    # Rows of all -inf, with +inf, with NaN; weights of 0 drop entries
    # (even a NaN or an inf one); negative weights summing below 0 are NaN.
    a = np.array(
        [
            [-np.inf, -np.inf, -np.inf],
            [np.inf, 1.0, -np.inf],
            [np.nan, 0.0, 1.0],
            [1000.0, 1000.0, -1000.0],
            [np.nan, np.inf, 2.0],
            [-0.0, 0.0, -750.0],
        ]
    )
    b = np.array([[1.0, 0.5, 2.0]] * 4 + [[0.0, 0.0, 1.5], [-1.0, 0.25, 0.5]])

    def fn(a, b):
        return (
            sc.logsumexp(a, axis=1),
            sc.logsumexp(a, axis=0, keepdims=True),
            sc.logsumexp(a[3:4]),
            sc.logsumexp(a, axis=1, b=b),
            sc.logsumexp(a, axis=(0, 1), b=b[:, :1], keepdims=True),
            sc.logsumexp(a, b=0.5),
        )

    with np.errstate(invalid="ignore", divide="ignore"):
        ours, theirs = _forward(fn, a, b)
    for x, y in zip(ours, theirs, strict=True):
        _same(x, y, rtol=1e-13)


@needs_cc
def test_logsumexp_gradients():
    a = np.linspace(-3.0, 4.0, 12).reshape(3, 4)
    b = np.array([0.5, 2.0, 0.0, 1.0])

    def fn(a, b):
        return np.sum(sc.logsumexp(a, axis=1, b=b) ** 2) + sc.logsumexp(a * 2.0)

    _check_gradients(fn, a, b)


# ------------------------------------------------------------ log_ndtr


LOG_NDTR_POINTS = np.array(
    [-np.inf, np.inf, np.nan, 0.0, -0.0, 1e-320, -1.0, -1.0000001, -0.999]
    + [-5.0, -19.9, -20.0, -20.1, -37.0, -38.0, -50.0, -1e5, -1e10, -1e200]
    + [1.4, 3.0, 6.0, 10.0, 30.0, 40.0, 1e300]
)


@needs_cc
def test_log_ndtr_agrees_with_scipy():
    x = np.concatenate([LOG_NDTR_POINTS, np.linspace(-60.0, 37.0, 2001)])
    ours, theirs = _forward(sc.log_ndtr, x)
    # Past x = 37.5, 1 - Phi(x) is subnormal: SciPy's erfc gives 0 there a
    # little sooner than C's, so the value is -0.0 or a subnormal.
    tiny = np.abs(theirs) < 1e-300
    _same(ours[~tiny], theirs[~tiny], rtol=1e-13)
    assert np.all(np.abs(ours[tiny]) < 1e-300) and np.all(np.signbit(ours[tiny]))


@needs_cc
def test_log_ndtr_gradients_in_both_tails():
    x = np.array([-40.0, -21.0, -3.0, -0.5, 0.0, 2.0, 9.0])
    _check_gradients(lambda x: np.sum(sc.log_ndtr(x) * np.arange(1.0, 8.0)), x)


def test_the_new_lowerings_are_not_refusals():
    done = "cumsum cumprod prod diagonal embed_diagonal tril triu logsumexp"
    for op in done.split():
        assert not c_target.LOWERINGS[op].refuses, op
    assert "log_ndtr" in c_target.FORMULAS


# ------------------------------------------------------------ argmax, argmin


@needs_cc
def test_argmax_and_argmin_ties_nan_and_signed_zeros():
    """The first extreme wins a tie (0.0 and -0.0 tie), a NaN wins (the
    first one), along an axis, keepdims, or of the flattened array; the
    indices weigh the operand, so values and gradients carry them."""
    x = np.array(
        [[1.0, 5.0, 5.0, -0.0], [np.nan, 2.0, 0.0, 0.0], [3.0, 3.0, -1.0, np.nan]]
    )

    def fn(a):
        return (
            a * np.argmax(a, axis=0)
            + np.argmin(a, axis=1, keepdims=True) * a.argmax()
            + a.argmin()
            + np.argmax(a[:, 1:3], axis=-1)[:, None]
        )

    ours, theirs = _forward(fn, x)
    _same(ours, theirs)
    _check_gradients(lambda a: np.sum(fn(a)), np.abs(np.nan_to_num(x)) + 0.25)


@needs_cc
def test_argmax_of_no_rows_raises_as_numpy():
    compiled = symgrad.compile(
        lambda a: np.sum(a * np.argmin(a, axis=0)),
        np.ones((3, 2)),
        batch={"a": 0},
        target="c",
    )
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    assert compiled.forward(a) == np.sum(a * np.argmin(a, axis=0))
    with pytest.raises(ValueError, match="attempt to get argmin of an empty sequence"):
        compiled.forward(np.zeros((0, 2)))
