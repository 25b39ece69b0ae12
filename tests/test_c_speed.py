"""The C target's speed work (issue 24): matrix products through SciPy's
BLAS or the own blocked loops, the binding's checks, fused loops and
reused workspace, each against the NumPy target.

Skipped, with the reason, where no C compiler or no Python headers exist
(the same rule as tests/test_c_target.py, whose private cache fixture this
module shares).
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad import api
from symgrad.codegen.c import blas
from tests.test_c_target import _close, needs_cc, private_cache  # noqa: F401


def _products(a, b, c, d):
    # Every way the lowering calls the helper: plain, a transposed left and
    # right operand (looked through), matrix-vector both ways, a batch, a
    # dot product, and blocks larger than the loops' panels.
    out = [a @ b, a.T.T @ b, (b.T @ a.T).T, a @ b[:, 0], a[0] @ b, c @ d]
    out += [np.matmul(c, d.transpose(0, 2, 1).transpose(0, 2, 1)), a[0] @ a[1]]
    out += [b.T @ a.T, a.T.T @ b.T.T]
    return sum(np.sum(np.tanh(o) * (k + 1.0)) for k, o in enumerate(out))


def _big(a, b):
    return np.sum(np.sin(a @ b) * 1.5) + np.sum(np.cos(a.T @ a))


def _args(rng):
    return (
        rng.normal(size=(5, 7)),
        rng.normal(size=(7, 3)),
        rng.normal(size=(2, 4, 3)),
        rng.normal(size=(2, 3, 6)),
    )


def _both(fn, args, monkeypatch):
    """value_and_grad on the C target with SciPy's BLAS and with the own
    loops (a fresh load without SciPy's capsules), and on the NumPy target."""
    argnums = tuple(range(len(args)))
    compiled = symgrad.compile(fn, *args, argnums=argnums, target="c")
    with_blas = compiled.value_and_grad(*args)
    kind = compiled.module.MATRIX_PRODUCTS
    monkeypatch.setattr(blas, "capsules", lambda: None)
    again = api.Compiled(compiled.program, "c")
    loops = again.value_and_grad(*args)
    assert again.module.MATRIX_PRODUCTS == "loops"
    monkeypatch.undo()
    theirs = symgrad.value_and_grad(fn, argnums=argnums)(*args)
    return kind, with_blas, loops, theirs


@needs_cc
@pytest.mark.parametrize("fn", [_products, _big])
def test_products_agree_with_numpy_with_blas_and_with_loops(fn, monkeypatch):
    rng = np.random.default_rng(3)
    args = _args(rng) if fn is _products else (rng.normal(size=(150, 70)),) * 2
    if fn is _big:
        args = (args[0], rng.normal(size=(70, 260)))
    kind, with_blas, loops, theirs = _both(fn, args, monkeypatch)
    assert kind == ("scipy-blas" if blas.capsules() is not None else "loops")
    for ours in (with_blas, loops):
        _close(ours[0], theirs[0])
        for a, b in zip(ours[1], theirs[1], strict=True):
            _close(a, b)


@needs_cc
def test_the_own_loops_add_in_order_of_k(monkeypatch):
    # Whatever the blocking (k and n larger than a panel), each element is
    # ((0 + a0 b0) + a1 b1) + ...: what NumPy's separate multiplies and adds
    # give, exactly.
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(9, 150)), rng.normal(size=(150, 300))
    monkeypatch.setattr(blas, "capsules", lambda: None)
    compiled = symgrad.compile(
        lambda x, y: (x @ y, x @ y.T.T, (y.T @ x.T).T),
        a,
        b,
        functions=("forward",),
        target="c",
    )
    assert compiled.module.MATRIX_PRODUCTS == "loops"
    expected = np.zeros((9, 300))
    for k in range(150):
        expected = expected + np.multiply.outer(a[:, k], b[k])
    for got in compiled.forward(a, b):
        assert np.array_equal(got, expected)


def test_the_choice_is_recorded_and_a_module_without_products_has_none():
    source = symgrad.compile(lambda x: np.sum(x * x), np.ones(3), target="c").source
    assert "sg_gemm" not in source
    source = symgrad.compile(lambda x: np.sum(x @ x), np.ones((3, 3)), target="c")
    assert "sg_gemm(" in source.source and "sg_blas_dgemm" in source.source


@needs_cc
def test_a_module_without_products_records_none():
    compiled = symgrad.compile(lambda x: np.sum(x * x), np.ones(3), target="c")
    assert compiled.module.MATRIX_PRODUCTS is None
