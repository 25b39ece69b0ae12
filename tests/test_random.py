"""Random draws inside compiled functions.

The generated code draws on every call from its `rng` argument (a fresh
generator by default), the draws have no gradient and the parameters of the
distributions do (reparameterization), and with the generator the original
function would have used (`np.random.RandomState(seed)` for `np.random.*`,
`np.random.default_rng(seed)` for a Generator) the module gives exactly the
function's numbers, on both targets.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symgrad
from symgrad.errors import TraceError
from tests.oracles import assert_close, numeric_grad

TARGETS = ("numpy", "python")


def _forward_code(source: str) -> str:
    """The code that computes the value: _forward when the module shares it
    between forward and value_and_grad, else forward itself."""
    if "def _forward(" in source:
        return source.split("def _forward(")[1].split("\ndef ")[0]
    return source.split("def forward")[1].split("def gradient")[0]


def objective(params):
    # A variational objective: z ~ N(mu, sigma^2) by reparameterization.
    mu, log_sigma = params[0], params[1]
    eps = np.random.normal(size=4)
    z = mu + np.exp(log_sigma) * eps
    return ((z - 1.0) ** 2).mean() - log_sigma


def seeded(f, seed):
    def run(*args):
        np.random.seed(seed)
        return f(*args)

    return run


PARAMS = np.array([0.3, -0.5])


@pytest.mark.parametrize("target", TARGETS)
def test_two_calls_draw_different_samples(target):
    c = symgrad.compile(objective, PARAMS, target=target)
    assert c.forward(PARAMS) != c.forward(PARAMS)
    vg = symgrad.value_and_grad(objective, target=target)
    assert vg(PARAMS)[0] != vg(PARAMS)[0]


@pytest.mark.parametrize("target", TARGETS)
def test_seeded_module_reproduces_the_function(target):
    c = symgrad.compile(objective, PARAMS, target=target)
    for seed in (0, 7):
        value = c.forward(PARAMS, rng=np.random.RandomState(seed))
        assert value == seeded(objective, seed)(PARAMS)
        v, g = c.value_and_grad(PARAMS, rng=np.random.RandomState(seed))
        assert v == value
        # The draws are constants of the gradient: finite differences of the
        # function with the same draws.
        assert_close(g, numeric_grad(seeded(objective, seed), [PARAMS], [0])[0])
        assert_close(c.gradient(PARAMS, rng=np.random.RandomState(seed)), g)


def generator_objective(theta):
    rng = np.random.default_rng(12)
    a = rng.normal(theta, 2.0, size=3)
    b = rng.uniform(-1.0, theta, size=3)
    c = rng.exponential(theta)
    d = rng.standard_normal()
    k = rng.choice(5) + rng.integers(0, 10)
    return (a * b).sum() + c * d + k * theta


@pytest.mark.parametrize("target", TARGETS)
def test_generator_methods_with_the_same_seed(target):
    c = symgrad.compile(generator_objective, 0.7, target=target)
    value = c.forward(0.7, rng=np.random.default_rng(12))
    assert value == pytest.approx(generator_objective(0.7), rel=1e-15)
    _, g = c.value_and_grad(0.7, rng=np.random.default_rng(12))
    assert_close(g, numeric_grad(generator_objective, [0.7], [0])[0])


RNG = np.random.default_rng(3)


def global_generator(x):
    return x * RNG.normal() + RNG.random()


def test_a_global_generator_is_the_modules_rng():
    c = symgrad.compile(global_generator, 2.0)
    expected = np.random.default_rng(5)
    want = 2.0 * expected.normal() + expected.random()
    assert c.forward(2.0, rng=np.random.default_rng(5)) == want


def test_a_generator_argument_draws_in_the_graph():
    def f(x, rng):
        return x * rng.standard_normal()

    g = symgrad.grad(f)
    rng = np.random.default_rng(0)
    first = g(1.0, rng)
    assert first != g(1.0, rng)  # a fresh draw each call


def legacy(x):
    u = np.random.rand(2, 3)
    n = np.random.randn(3)
    s = np.random.random_sample(2)
    i = np.random.choice(4, size=2, replace=False)
    p = np.random.choice(3, p=[0.2, 0.3, 0.5])
    return (u.sum() + n.sum() * x + s.sum() * x * x) * (i.sum() + p + 1.0)


@pytest.mark.parametrize("target", TARGETS)
def test_legacy_functions_with_a_seeded_randomstate(target):
    c = symgrad.compile(legacy, 0.4, target=target)
    got = c.value_and_grad(0.4, rng=np.random.RandomState(11))
    assert got[0] == pytest.approx(seeded(legacy, 11)(0.4), rel=1e-15)
    assert_close(got[1], numeric_grad(seeded(legacy, 11), [0.4], [0])[0])


def test_the_targets_agree_on_numpy_generators():
    a = symgrad.compile(legacy, 0.4, target="numpy")
    b = symgrad.compile(legacy, 0.4, target="python")
    for seed in (1, 2):
        va = a.value_and_grad(0.4, rng=np.random.RandomState(seed))
        vb = b.value_and_grad(0.4, rng=np.random.RandomState(seed))
        assert va[0] == pytest.approx(vb[0], rel=1e-14)


def test_pure_python_default_generator_is_the_standard_librarys():
    import random

    c = symgrad.compile(objective, PARAMS, target="python")
    assert "import numpy" not in c.source
    assert c.forward(PARAMS, rng=random.Random(1)) == c.forward(
        PARAMS, rng=random.Random(1)
    )


def test_draws_are_never_folded_or_merged():
    def f(x):
        a = np.random.normal(0.0, 1.0)
        b = np.random.normal(0.0, 1.0)
        return x * (a - b) + np.random.choice(3, p=np.array([0.5, 0.25, 0.25]))

    c = symgrad.compile(f, 1.0)
    forward = _forward_code(c.source)
    assert forward.count("rng.standard_normal()") == 2
    assert "rng.choice(3, p=" in forward
    values = {c.forward(1.0) for _ in range(5)}
    assert len(values) == 5


def test_draws_in_a_loop_and_a_branch():
    def walk(x):
        steps = 0.0
        while x < 3.0:
            x = x + np.random.uniform(0.5, 1.0)
            steps += 1.0
            if np.random.random() < 0.5:
                x = x + 0.1
        return x + steps

    c = symgrad.compile(walk, 0.2)
    for seed in (0, 1, 2):
        got = c.value_and_grad(0.2, rng=np.random.RandomState(seed))
        assert got[0] == seeded(walk, seed)(0.2)
        assert got[1] == 1.0


def test_unused_draw_warns():
    def f(x):
        np.random.normal()
        return x * np.random.normal()

    with pytest.warns(UserWarning, match="does not use"):
        symgrad.compile(f, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        symgrad.compile(objective, PARAMS)


def test_seed_inside_is_refused():
    def f(x):
        np.random.seed(0)
        return x * np.random.normal()

    with pytest.raises(TraceError, match="np.random.seed"):
        symgrad.grad(f)(1.0)


def test_unsupported_distribution_is_named():
    def f(x):
        rng = np.random.default_rng(0)
        return x * rng.gamma(2.0)

    with pytest.raises(TraceError, match="Generator.gamma"):
        symgrad.grad(f)(1.0)


def test_second_order_through_draws():
    def f(x):
        eps = np.random.normal(size=2)
        return (np.sin(x + eps) * eps).sum()

    h = symgrad.grad(symgrad.grad(f))
    # The draws of one call are shared by every derivative of it.
    c = symgrad.compile(symgrad.grad(f), 0.3)
    value = c.forward(0.3, rng=np.random.RandomState(4))
    assert value == pytest.approx(
        numeric_grad(seeded(f, 4), [0.3], [0])[0][()], rel=1e-6
    )
    assert np.isfinite(h(0.3))


def test_grad_takes_the_generator_as_rng():
    def f(x):
        return x * np.random.normal(0.0, 1.0)

    g = symgrad.grad(f)
    a = g(2.0, rng=np.random.default_rng(3))
    b = g(2.0, rng=np.random.default_rng(3))
    assert a == b == np.random.default_rng(3).standard_normal()
