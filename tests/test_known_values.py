"""Known values: micrograd's own tests and the lecture's neuron."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad

TARGETS = ("numpy", "python")


def sanity(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def more_ops(a, b):
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


@pytest.mark.parametrize("target", TARGETS)
def test_micrograd_sanity_check(target):
    value, dx = symgrad.value_and_grad(sanity, target=target)(-4.0)
    assert value == -20.0
    assert dx == 46.0
    assert isinstance(dx, float)


@pytest.mark.parametrize("target", TARGETS)
def test_micrograd_more_ops(target):
    value, (da, db) = symgrad.value_and_grad(more_ops, argnums=(0, 1), target=target)(
        -4.0, 2.0
    )
    assert value == pytest.approx(24.70408163265306, rel=1e-12)
    assert da == pytest.approx(138.83381924198250, rel=1e-12)
    assert db == pytest.approx(645.5772594752187, rel=1e-12)


B = 6.8813735870195432


def neuron_tanh(x1, x2, w1, w2, b):
    n = x1 * w1 + x2 * w2 + b
    return n.tanh()


def neuron_exp(x1, x2, w1, w2, b):
    n = x1 * w1 + x2 * w2 + b
    e = (2 * n).exp()
    return (e - 1) / (e + 1)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("neuron", [neuron_tanh, neuron_exp])
def test_lecture_neuron(neuron, target):
    value, grads = symgrad.value_and_grad(neuron, argnums=(0, 1, 2, 3), target=target)(
        2.0, 0.0, -3.0, 1.0, B
    )
    assert value == pytest.approx(np.sqrt(0.5), rel=1e-9)
    for got, want in zip(grads, (-1.5, 0.5, 1.0, 0.0), strict=True):
        assert got == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("target", TARGETS)
def test_reused_node_accumulates(target):
    # micrograd's early bug: b = a + a must give db/da = 2, not 1.
    assert symgrad.grad(lambda a: a + a, target=target)(3.0) == 2.0
    assert symgrad.grad(lambda a: (a * a) * a, target=target)(3.0) == 27.0


@pytest.mark.parametrize("target", TARGETS)
def test_kinks_are_pinned(target):
    # relu'(0) = 0 and abs'(0) = 0, like micrograd's (x > 0) rule.
    assert symgrad.grad(lambda x: x.relu(), target=target)(0.0) == 0.0
    assert symgrad.grad(lambda x: symgrad.relu(x), target=target)(0.0) == 0.0
    assert symgrad.grad(lambda x: abs(x), target=target)(0.0) == 0.0
    # np.maximum(x, c) with a constant c: the strict rule, as relu'(0) = 0;
    # JAX's even split on request. Between two traced values ties split.
    assert symgrad.grad(lambda x: np.maximum(x, 0.0), target=target)(0.0) == 0.0
    with symgrad.tie_rule("split"):
        assert symgrad.grad(lambda x: np.maximum(x, 0.0), target=target)(0.0) == 0.5
    assert symgrad.grad(lambda x, y: np.minimum(x, y), argnums=(0, 1), target=target)(
        1.0, 1.0
    ) == (
        0.5,
        0.5,
    )
    # max over an axis: tied entries share the gradient equally.
    g = symgrad.grad(lambda v: v.max(), target=target)(np.array([1.0, 3.0, 3.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 1 / 3, 1 / 3, 1 / 3])
    g = symgrad.grad(lambda v: np.min(v, axis=0).sum(), target=target)(
        np.array([[1.0, 2.0], [1.0, 0.0]])
    )
    np.testing.assert_array_equal(g, [[0.5, 0.0], [0.5, 1.0]])
    # The same rules elementwise on arrays.
    g = symgrad.grad(
        lambda v: (symgrad.relu(v) + abs(v) + 2.0 * np.maximum(v, 0.0)).sum(),
        target=target,
    )(np.array([0.0, -0.0, 1.0, -1.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 4.0, -1.0])
