"""`jax.nn` functions in code written for JAX: values equal JAX's and
gradients equal finite differences, on both targets. Skipped without JAX."""

import numpy as np
import pytest

import symgrad
from tests.oracles import assert_close, numeric_grad

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.nn as nn  # noqa: E402
import jax.numpy as jnp  # noqa: E402


def activations(x):
    return (
        nn.relu(x)
        + nn.relu6(x * 4.0)
        + nn.sigmoid(x)
        + nn.log_sigmoid(x)
        + nn.softplus(x)
        + nn.silu(x)
        + nn.gelu(x)
        + nn.gelu(x, approximate=False)
        + nn.elu(x, alpha=0.7)
        + nn.leaky_relu(x, negative_slope=0.2)
    )


def classifier(w, x, labels):
    logits = x @ w
    targets = nn.one_hot(labels, 3)
    return -jnp.mean(jnp.sum(targets * nn.log_softmax(logits), axis=-1)) + jnp.sum(
        nn.softmax(logits)[:, 0] * nn.logsumexp(logits, axis=1)
    )


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_activations(target):
    x = np.array([-2.5, -0.7, 0.3, 1.1, 2.4])

    def loss(x):
        return jnp.sum(activations(x) ** 2)

    value, grad = symgrad.value_and_grad(loss, target=target)(x)
    assert value == pytest.approx(float(loss(jnp.asarray(x))), rel=1e-13)
    (want,) = numeric_grad(lambda x: float(loss(jnp.asarray(x))), (x,), (0,))
    assert_close(grad, want, rtol=1e-6)


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_softmax_classifier(target):
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(4, 3)), rng.normal(size=(6, 4))
    labels = np.array([0, 2, 1, 1, 0, 2])
    value, grad = symgrad.value_and_grad(classifier, target=target)(w, x, labels)
    assert value == pytest.approx(float(classifier(w, x, labels)), rel=1e-13)
    want = np.asarray(jax.grad(classifier)(jnp.asarray(w), jnp.asarray(x), labels))
    assert_close(grad, want, rtol=1e-10)
