"""An MLP loss in plain NumPy against a hand-derived forward and backward,
on both targets, and the two targets against each other."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad

TARGETS = ("numpy", "python")


def mlp_loss(params, X, y):
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
    score = h[:, 0]
    data = np.maximum(1 - y * score, 0).mean()
    reg = 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in params)
    return data + reg


def hand_value_and_grad(params, X, y):
    (W1, b1), (W2, b2), (W3, b3) = params
    z1 = X @ W1.T + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2.T + b2
    a2 = np.maximum(z2, 0)
    s = a2 @ W3.T + b3
    margin = 1 - y * s[:, 0]
    value = np.maximum(margin, 0).mean() + 1e-4 * sum(
        (W * W).sum() + (b * b).sum() for W, b in params
    )
    dmargin = (margin > 0) / len(y)
    ds = (-y * dmargin)[:, None]
    dW3, db3 = ds.T @ a2, ds.sum(0)
    dz2 = (ds @ W3) * (z2 > 0)
    dW2, db2 = dz2.T @ a1, dz2.sum(0)
    dz1 = (dz2 @ W2) * (z1 > 0)
    dW1, db1 = dz1.T @ X, dz1.sum(0)
    grads = [(dW1, db1), (dW2, db2), (dW3, db3)]
    grads = [
        (gW + 2e-4 * W, gb + 2e-4 * b)
        for (gW, gb), (W, b) in zip(grads, params, strict=True)
    ]
    return value, grads


def _problem(seed=0, n=50):
    rng = np.random.default_rng(seed)
    sizes = [2, 16, 16, 1]
    params = [
        (rng.uniform(-1, 1, size=(o, i)), rng.uniform(-0.1, 0.1, size=o))
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    X = rng.normal(size=(n, 2))
    y = np.where(rng.normal(size=n) > 0, 1.0, -1.0)
    return params, X, y


@pytest.mark.parametrize("target", TARGETS)
def test_mlp_matches_hand_derivation(target):
    params, X, y = _problem()
    value, grads = symgrad.value_and_grad(mlp_loss, target=target)(params, X, y)
    want_value, want = hand_value_and_grad(params, X, y)
    assert np.isclose(value, want_value, rtol=1e-12, atol=0)
    assert isinstance(grads, list) and all(isinstance(p, tuple) for p in grads)
    for (gW, gb), (hW, hb) in zip(grads, want, strict=True):
        np.testing.assert_allclose(gW, hW, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(gb, hb, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("target", TARGETS)
def test_data_stays_an_input(target):
    params, X, y = _problem()
    f = symgrad.value_and_grad(mlp_loss, target=target)
    f(params, X, y)
    first = f.compiled
    assert repr(float(X[0, 0]))[:8] not in f.source
    params2, X2, y2 = _problem(seed=1)
    value, grads = f(params, X2, y2)
    assert f.compiled is first  # same shapes: no recompilation
    want_value, want = hand_value_and_grad(params, X2, y2)
    assert np.isclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(grads[0][0], want[0][0], rtol=1e-12, atol=1e-15)


def test_targets_agree_on_the_mlp():
    params, X, y = _problem(seed=2, n=100)
    numpy_value, numpy_grads = symgrad.value_and_grad(mlp_loss)(params, X, y)
    python = symgrad.value_and_grad(mlp_loss, target="python")
    value, grads = python(params, X, y)
    assert value == pytest.approx(numpy_value, rel=1e-12, abs=0)
    for pair, numpy_pair in zip(grads, numpy_grads, strict=True):
        for got, want in zip(pair, numpy_pair, strict=True):
            assert isinstance(got, list)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
