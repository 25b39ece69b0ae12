"""The examples of ordinary NumPy/SciPy code: gradients against finite
differences, on both targets where the example runs there.

Each example file exports its loss with `@symgrad.export(example=...)`; its
module in generated/ is checked byte for byte by test_generated.py.
"""

import os

import numpy as np
import pytest

import symgrad
from symgrad.cli.load import load_function
from symgrad.ir.pytree import flatten, unflatten
from tests.oracles import numeric_grad

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")

# example file, exported function, targets it runs on
EXAMPLES = [
    ("softmax_regression.py", "cross_entropy", ("numpy", "python")),
    ("mixture.py", "mixture_nll", ("numpy", "python")),
    ("rnn.py", "rnn_loss", ("numpy", "python")),
    ("gaussian_process.py", "gp_nll", ("numpy", "python")),
]


def _flat_loss(fun, example):
    """The loss as a function of its differentiated leaves, flattened."""
    params, *rest = example
    leaves, _, treedef = flatten(params)

    def loss(*xs):
        return fun(unflatten(treedef, list(xs)), *rest)

    return loss, leaves


@pytest.mark.parametrize("spec", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_gradient_matches_finite_differences(spec):
    filename, name, targets = spec
    fun, record = load_function(os.path.join(HERE, filename) + ":" + name)
    example = record.example_args()
    loss, leaves = _flat_loss(fun, example)
    # Move off the example's starting point so that no gradient is trivially 0.
    rng = np.random.default_rng(0)
    leaves = [
        np.asarray(x, dtype=float) + 0.1 * rng.normal(size=np.shape(x)) for x in leaves
    ]
    expected = numeric_grad(loss, leaves, range(len(leaves)))
    for target in targets:
        got = symgrad.grad(loss, argnums=tuple(range(len(leaves))), target=target)(
            *leaves
        )
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(
                np.asarray(g, dtype=float), e, rtol=1e-6, atol=1e-8
            )


def test_newton_trainer_converges_in_fewer_than_10_steps():
    import importlib.util

    path = os.path.join(HERE, "..", "generated", "newton_logistic_trainer.py")
    spec = importlib.util.spec_from_file_location("newton_trainer", path)
    trainer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trainer)
    _, record = load_function(os.path.join(HERE, "newton_logistic.py") + ":loss")
    params, X, y = record.example_args()
    params, history = trainer.train(params, X, y, steps=7)
    _, grads = trainer.value_and_grad(params, X, y)
    assert np.linalg.norm(grads["w"]) < 1e-8 and abs(grads["b"]) < 1e-8
    losses = [loss for _, loss, _ in history]
    assert all(a > b for a, b in zip(losses, losses[1:], strict=False))
