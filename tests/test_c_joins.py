"""The C target's joins (`np.concatenate`, `np.stack`) against the NumPy target.

The default mode sums the per-step gradients of a weight used at every step
of a loop as one product over the joined rows of all steps, so an RNN's
gradient on the C target goes through these copies. Skipped, with the
reason, where no C compiler or no Python headers exist.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from tests.test_c_target import _why_not, private_cache  # noqa: F401

pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


def _agree(fn, *args):
    argnums = tuple(range(len(args)))
    c = symgrad.compile(fn, *args, argnums=argnums, target="c")
    ref = symgrad.compile(fn, *args, argnums=argnums)
    (v1, g1), (v2, g2) = c.value_and_grad(*args), ref.value_and_grad(*args)
    np.testing.assert_allclose(v1, v2, rtol=1e-12)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    return c


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_concatenate_and_stack_along_every_axis(axis):
    rng = np.random.default_rng(axis + 5)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    w = rng.normal(size=(4, 3, 4))

    def joined(a, b):
        if axis in (0, -1):
            c = np.concatenate([a, b * 2.0], axis=0 if axis == 0 else 2)
        else:
            c = np.concatenate([np.sin(a), b], axis=axis)
        return np.sum(np.tanh(c) ** 2) + np.sum(np.stack([a, b], axis=axis % 3) ** 3)

    _agree(joined, a, b)
    _agree(lambda x: np.sum(np.stack([x, x * x, np.exp(x)], axis=1) * 0.5), w)


def test_an_rnn_gradient_joins_the_steps_rows():
    rng = np.random.default_rng(7)
    W, U, xs = (
        rng.normal(size=(3, 4)),
        rng.normal(size=(4, 4)),
        rng.normal(size=(6, 2, 3)),
    )

    def rnn(W, U, xs):
        h = np.zeros((xs.shape[1], U.shape[0]))
        for x in xs:
            h = np.tanh(x @ W + h @ U)
        return np.sum(h**2)

    _agree(rnn, W, U, xs)
    # (The gradient's one product over all steps joins their rows.)
    numpy_source = symgrad.compile(rnn, W, U, xs, argnums=(0, 1)).source
    assert "np.concatenate" in numpy_source


def test_joins_with_a_symbolic_row_count():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 2)), rng.normal(size=(5, 3))

    def joined(a, b):
        c = np.concatenate([a, np.sin(b)], axis=1)
        d = np.concatenate([a, a * 2.0], axis=0)
        return np.sum(c**2) + np.sum(np.tanh(d)) + np.sum(np.stack([a, a], axis=1))

    shapes = {"batch": {"a": 0, "b": 0}}
    c = symgrad.compile(joined, a, b, argnums=(0, 1), target="c", **shapes)
    ref = symgrad.compile(joined, a, b, argnums=(0, 1), **shapes)
    for rows in (5, 1, 7):
        x, y = rng.normal(size=(rows, 2)), rng.normal(size=(rows, 3))
        (v1, g1), (v2, g2) = c.value_and_grad(x, y), ref.value_and_grad(x, y)
        np.testing.assert_allclose(v1, v2, rtol=1e-12)
        for p, q in zip(g1, g2, strict=True):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-13)
