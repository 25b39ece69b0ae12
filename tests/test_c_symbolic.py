"""Symbolic sizes on the C target (issue 24): the op rows with their leading
axis symbolic, the moons MLP with `batch=`, at several row counts, against
the NumPy target (1e-12), first and second order; the size checks and their
messages; the workspace guard.

Skipped, with the reason, where no C compiler or no Python headers exist
(`tests.test_c_target.needs_cc`); each test builds in a private cache.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad import api
from symgrad.codegen.c import sizes
from symgrad.errors import SymgradError
from symgrad.ir import dims
from tests.op_rows import ROWS, symbolic_case
from tests.test_c_target import (  # noqa: F401 - the fixture
    _close,
    _supported,
    moons,
    needs_cc,
    private_cache,
)
from tests.test_ops import _draw

# Rows the C target computes, with an axis to make symbolic (a str: the
# size is refused by the front end on every target).
ROW_NAMES = [
    name
    for name, row in ROWS.items()
    if _supported(row) and row.symbolic != () and not isinstance(row.symbolic, str)
]


def _resized(shape, spec, n):
    axes = [a.strip() for a in spec.split(",")] if spec else []
    return tuple(n if a == "n" else d for a, d in zip(axes, shape, strict=True))


def _symbolic(name, order):
    row = ROWS[name]
    shapes, specs = symbolic_case(row)
    symbolic = {k: spec for k, spec in enumerate(specs) if "n" in spec}
    if not symbolic:
        pytest.skip(f"{name} has no axis to make symbolic")
    fn = row.fn
    argnums = tuple(range(len(shapes)))

    def loss(*xs):
        return np.sum(np.sin(fn(*xs) * 0.7 + 0.2))

    def directional(target):
        first = symgrad.grad(loss, argnums=argnums, target=target, shapes=symbolic)

        def inner(*xs):
            gs = first(*xs)
            return sum(np.sum(g * np.cos(x)) for g, x in zip(gs, xs, strict=True))

        return inner

    def make(target):
        if order == 1:
            return symgrad.value_and_grad(
                loss, argnums=argnums, target=target, shapes=symbolic
            )
        return symgrad.grad(
            directional(target), argnums=argnums, target=target, shapes=symbolic
        )

    ours, theirs = make("c"), make("numpy")
    rng = np.random.default_rng(7)
    n0 = next(s[0] for s, spec in zip(shapes, specs, strict=True) if "n" in spec)
    for n in (n0, n0 + 2, 1, 0):
        args = [
            _draw(d, _resized(s, spec, n), rng)
            for d, s, spec in zip(row.domains, shapes, specs, strict=True)
        ]
        try:
            want = theirs(*args)
        except IndexError:
            # NumPy refuses an index past this size; so does C, never
            # reading outside the array.
            with pytest.raises(IndexError, match="outside an axis"):
                ours(*args)
            continue
        except ValueError as exc:
            if "zero-size array" in str(exc):
                # max/min of nothing: refused alike
                with pytest.raises(ValueError, match="zero-size array"):
                    ours(*args)
            continue  # NumPy refuses this size for this function
        try:
            got = ours(*args)
        except SymgradError as exc:
            assert "is not supported by the C target" in str(exc)
            pytest.skip(str(exc))
        except IndexError as exc:
            # A fixed slice past a smaller axis (np.gradient's `f[1:2]` at
            # one row): NumPy's slices clip and the NumPy target computes on
            # empty pieces, C refuses; the user's function refuses too.
            assert "outside an axis" in str(exc)
            with pytest.raises((ValueError, IndexError)):
                loss(*args)
            continue
        flat_got = [got[0], *got[1]] if order == 1 else list(got)
        flat_want = [want[0], *want[1]] if order == 1 else list(want)
        for a, b in zip(flat_got, flat_want, strict=True):
            _close(a, b, rtol=1e-12 if order == 1 else 1e-10)
    assert len(ours._cache) == 1  # one module for every size


@needs_cc
@pytest.mark.parametrize("name", ROW_NAMES)
def test_row_symbolic_first_order(name):
    _symbolic(name, 1)


@needs_cc
@pytest.mark.parametrize("name", [n for n in ROW_NAMES if ROWS[n].second][::4], ids=str)
def test_row_symbolic_second_order(name):
    _symbolic(name, 2)


def _moons(target):
    params, X, y = moons.example()
    return (
        api.compile(
            moons.loss, params, X, y, argnums=0, target=target, batch={"X": 0, "y": 0}
        ),
        params,
        X,
        y,
    )


@needs_cc
def test_moons_batch_rows():
    ours, params, X, y = _moons("c")
    theirs = _moons("numpy")[0]
    assert "long _n_n" in ours.source
    for rows in (100, 37, 2, 1):
        got = ours.value_and_grad(params, X[:rows], y[:rows])
        want = theirs.value_and_grad(params, X[:rows], y[:rows])
        _close(got[0], want[0])
        for (gw, gb), (ww, wb) in zip(got[1], want[1], strict=True):
            _close(gw, ww)
            _close(gb, wb)
        _close(ours.forward(params, X[:rows], y[:rows]), want[0])


@needs_cc
def test_zero_rows_sum():
    # 0 rows: the sum is 0 and the gradient an empty array, as in NumPy.
    def f(w, X):
        return np.sum(np.tanh(X @ w)) + np.sum(w * w)

    w = np.array([0.3, -0.2])
    ours = symgrad.value_and_grad(f, target="c", batch={"X": 0})
    theirs = symgrad.value_and_grad(f, batch={"X": 0})
    for rows in (0, 1, 3):
        Xr = np.random.default_rng(rows).normal(size=(rows, 2))
        got, want = ours(w, Xr), theirs(w, Xr)
        _close(got[0], want[0])
        _close(got[1], want[1])
    # The max of no rows: NumPy refuses it (no identity), so does C.
    peak = symgrad.compile(
        lambda X: np.max(X * X, axis=0),
        np.ones((2, 2)),
        target="c",
        batch={0: 0},
        functions=("forward",),
    )
    _close(peak.forward(np.ones((2, 2)) * 3.0), [9.0, 9.0])
    with pytest.raises(ValueError, match="reduction operation maximum which has no"):
        peak.forward(np.ones((0, 2)))


@needs_cc
def test_size_messages_match_numpy():
    ours, params, X, y = _moons("c")
    theirs = _moons("numpy")[0]
    for bad in ((params, X[:5], y[:4]), (params, X[:, :1], y), (params, X[0], y)):
        with pytest.raises(ValueError) as a:
            ours.value_and_grad(*bad)
        with pytest.raises(ValueError) as b:
            theirs.value_and_grad(*bad)
        assert str(a.value) == str(b.value)


@needs_cc
def test_two_symbols_and_expressions():
    # n and m both symbolic; an outer product n x m in the workspace, and a
    # slice whose length is an expression of n.
    def f(a, b):
        outer = a[:, None] * b[None, :]
        return np.sum(np.sin(outer)) + np.sum(a[1:] * a[:-1]) / len(a)

    ours = symgrad.value_and_grad(
        f, argnums=(0, 1), target="c", shapes={"a": "n", "b": "m"}
    )
    theirs = symgrad.value_and_grad(f, argnums=(0, 1), shapes={"a": "n", "b": "m"})
    rng = np.random.default_rng(3)
    for n, m in ((4, 3), (2, 7), (9, 1)):
        a, b = rng.normal(size=n), rng.normal(size=m)
        got, want = ours(a, b), theirs(a, b)
        _close(got[0], want[0])
        for x, z in zip(got[1], want[1], strict=True):
            _close(x, z)


def test_size_variables_are_safe_c():
    # Any identifier, even a non-ASCII one, becomes ASCII C; distinct names
    # stay distinct.
    names = ["n", "n_1", "n1", "_n", "ñ", "n__", "n_u"]
    out = [sizes.size_var(name) for name in names]
    assert len(set(out)) == len(out)
    assert all(v.isascii() and v.isidentifier() and v.startswith("_n_") for v in out)
    n, m = dims.symbol("n"), dims.symbol("m")
    assert sizes.c_size(3) == "3"
    assert sizes.c_size(n) == "_n_n"
    assert sizes.c_size(2 * n * m - 1) == "(-1 + 2 * _n_m * _n_n)"
    assert sizes.workspace_guard(n * n + 3) == (
        "3.0 + 1.0 * (double)_n_n * (double)_n_n > 1000000000000000.0"
    )


@needs_cc
def test_a_workspace_too_large_fails_cleanly():
    # An array of 10**16 rows and no columns holds nothing, but the row sums
    # need 10**16 numbers of workspace: refused before any allocation.
    def f(a):
        return np.sum(np.sin(np.sum(a, axis=1)))

    ours = symgrad.value_and_grad(f, target="c", batch={"a": 0})
    value, grad = ours(np.ones((3, 0)))
    assert value == 0.0 and grad.shape == (3, 0)
    for rows in (10**16, 10**18):
        with pytest.raises(MemoryError):
            ours(np.empty((rows, 0)))
