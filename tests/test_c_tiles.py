"""The C target's own product loops (`symgrad/codegen/c/tiles.py`): register
tiles for small matrix-matrix products (BLAS loaded or not) and for every
product without BLAS, each element added in order of k; and a transposed
right operand shared by several products computed once.

Skipped, with the reason, where no C compiler or no Python headers exist
(the rule of tests/test_c_target.py, whose private cache fixture this module
shares).
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad import api
from symgrad.codegen.c import blas
from tests.test_c_target import _close, needs_cc, private_cache  # noqa: F401

# (m, n, k): below, at and above a vector (2, 4 or 8 doubles) and a tile
# (4 or 8 rows), one column or row, a column panel (64) and a block of k
# (128) exceeded.
SHAPES = [
    (1, 1, 1),
    (3, 5, 7),
    (8, 16, 32),
    (9, 17, 3),
    (16, 32, 32),
    (17, 33, 1),
    (5, 1, 9),
    (1, 13, 6),
    (11, 70, 130),
    (20, 9, 129),
]


def _in_order(a, b):
    """op(A) @ op(B) with each element ((0 + a0 b0) + a1 b1) + ...: NumPy's
    separate, rounded multiplies and adds in order of k."""
    out = np.zeros((a.shape[0], b.shape[1]))
    for p in range(a.shape[1]):
        out = out + np.multiply.outer(a[:, p], b[p])
    return out


def _operands(rng, ta, tb):
    """Per shape, the stored operands: op(A) = A.T when ta, op(B) = B.T
    when tb."""
    out = []
    for m, n, k in SHAPES:
        a = rng.normal(size=(k, m) if ta else (m, k))
        b = rng.normal(size=(n, k) if tb else (k, n))
        out.append((a, b))
    return out


@needs_cc
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("with_blas", [True, False])
def test_small_products_add_in_order_of_k(ta, tb, with_blas, monkeypatch):
    # Every product here is small (below SG_SMALL): the tiles compute it,
    # with SciPy's BLAS loaded too, bit for bit the ordered sums; only a
    # single column or row goes to BLAS's dgemv where BLAS is loaded.
    rng = np.random.default_rng(11 + 2 * ta + tb)
    pairs = _operands(rng, ta, tb)

    def products(pairs):
        return tuple((a.T if ta else a) @ (b.T if tb else b) for a, b in pairs)

    if not with_blas:
        monkeypatch.setattr(blas, "capsules", lambda: None)
    compiled = symgrad.compile(products, pairs, functions=("forward",), target="c")
    got = compiled.forward(pairs)
    loaded = compiled.module.MATRIX_PRODUCTS == "scipy-blas"
    assert loaded == (with_blas and blas.capsules() is not None)
    for (m, n, _), (a, b), ours in zip(SHAPES, pairs, got, strict=True):
        a2, b2 = (a.T if ta else a), (b.T if tb else b)
        _close(ours, a2 @ b2)
        if not loaded or (m > 1 and n > 1):
            assert np.array_equal(ours, _in_order(a2, b2))


@needs_cc
def test_matrix_vector_products_in_the_tiles(monkeypatch):
    # 1-D operands: a column of the result (n = 1) and a row (m = 1). With
    # BLAS they go to dgemv; without, to the tiles' one-column case.
    rng = np.random.default_rng(12)
    a, v, w = rng.normal(size=(13, 9)), rng.normal(size=9), rng.normal(size=13)

    def products(a, v, w):
        return a @ v, w @ a, a.T @ w

    expected = (
        _in_order(a, v[:, None])[:, 0],
        _in_order(w[None, :], a)[0],
        _in_order(a.T, w[:, None])[:, 0],
    )
    compiled = symgrad.compile(products, a, v, w, functions=("forward",), target="c")
    for ours, theirs in zip(compiled.forward(a, v, w), expected, strict=True):
        _close(ours, theirs)
    monkeypatch.setattr(blas, "capsules", lambda: None)
    again = api.Compiled(compiled.program, "c")
    assert again.module.MATRIX_PRODUCTS == "loops"
    for ours, theirs in zip(again.forward(a, v, w), expected, strict=True):
        assert np.array_equal(ours, theirs)


def _steps(w, h):
    # Products back through time: w.T, the right operand of every one.
    total = 0.0
    for _ in range(4):
        h = np.tanh(h @ w.T)
        total = total + np.sum(h)
    return total


@needs_cc
def test_a_shared_transposed_right_operand_is_computed_once():
    rng = np.random.default_rng(13)
    w, h = rng.normal(size=(6, 6)) * 0.5, rng.normal(size=(3, 6))
    compiled = symgrad.compile(_steps, w, h, target="c")
    source = compiled.source
    # Forward: the four products read one transposed copy as a plain operand.
    assert source.count("sg_gemm(0, 1, 3, 6, 6,") == 0
    assert source.count("sg_gemm(0, 0, 3, 6, 6,") >= 4
    value, grad = compiled.value_and_grad(w, h)
    theirs = symgrad.value_and_grad(_steps)(w, h)
    _close(value, theirs[0])
    _close(grad, theirs[1])


@needs_cc
def test_large_products_still_take_blas():
    # Above SG_SMALL multiply-adds the helper calls BLAS where it is loaded.
    rng = np.random.default_rng(14)
    a, b = rng.normal(size=(130, 100)), rng.normal(size=(100, 90))
    assert a.shape[0] * b.shape[1] * a.shape[1] > 2**20
    compiled = symgrad.compile(
        lambda a, b: a @ b, a, b, functions=("forward",), target="c"
    )
    ours = compiled.forward(a, b)
    _close(ours, a @ b)
    if compiled.module.MATRIX_PRODUCTS == "scipy-blas":
        # BLAS adds in its own order: the ordered sums differ somewhere.
        assert not np.array_equal(ours, _in_order(a, b))
    assert "#define SG_SMALL 1048576.0" in blas.HELPERS["sg_gemm"]
