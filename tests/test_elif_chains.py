"""Long if/elif chains on traced values (issue 21, item 3): one staged
`switch` with a branch per test, so that neither the converter, staging, AD,
the passes nor the generated code nest once per elif. 1,000-branch chains
compile on both targets, give the user's values and central-difference
gradients (second order too), and the generated code is as deep for 1,000
branches as for 10."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

import symgrad
from symgrad.frontend import syntax

TARGETS = ("numpy", "python")
_NAMES = itertools.count()


def _chain(tmp_path, n, returning=False, test="x < {c}"):
    """`f(x, w)`: a chain of `n` tests `x < c_k` (c_k = k / 2 - 1) and an else;
    branch k computes `sin(w * (k + 1)) * x * x + k`."""
    lines = ["import numpy as np", "", "", "def f(x, w):"]
    for k in range(n):
        word = "if" if k == 0 else "elif"
        value = f"np.sin(w * {float(k + 1)}) * x * x + {float(k)}"
        lines.append(f"    {word} {test.format(c=k / 2 - 1.0)}:")
        lines.append(f"        {'return' if returning else 'y ='} {value}")
    lines.append("    else:")
    lines.append(f"        {'return' if returning else 'y ='} x * x * x * w")
    if not returning:
        lines.append("    return y")
    name = f"elif_chain_{next(_NAMES)}"
    path = tmp_path / f"{name}.py"
    path.write_text("\n".join(lines) + "\n")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def _depth(source) -> int:
    return max(len(line) - len(line.lstrip(" ")) for line in source.splitlines())


def _points(n):
    # first branch, second, middle, last, else
    return [-2.0, -0.8, n / 4 - 1.1, n / 2 - 1.7, n / 2 + 3.0]


def _fd(f, x, w, h=1e-6):
    return (f(x + h, w) - f(x - h, w)) / (2 * h)


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chains")
    return {(n, ret): _chain(tmp, n, ret) for n in (10, 1000) for ret in (False, True)}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("returning", [False, True])
def test_a_1000_branch_chain_compiles_flat_with_values_and_gradients(
    chains, target, returning
):
    f = chains[(1000, returning)]
    c = symgrad.compile(f, 0.3, 1.5, target=target)
    short = symgrad.compile(chains[(10, returning)], 0.3, 1.5, target=target)
    assert "elif" in c.source
    assert _depth(c.source) == _depth(short.source)
    compile(c.source, "<chain>", "exec")  # Python loads it
    for x in _points(1000):
        assert c.forward(x, 1.5) == f(x, 1.5)
        np.testing.assert_allclose(
            c.gradient(x, 1.5), _fd(f, x, 1.5), rtol=1e-6, atol=1e-6
        )


@pytest.mark.parametrize("target", TARGETS)
def test_second_order_through_a_1000_branch_chain(chains, target):
    f = chains[(1000, False)]
    first = symgrad.grad(f, target=target)
    second = symgrad.grad(symgrad.grad(f), target=target)
    for x in _points(1000):
        expected = (first(x + 1e-5, 1.5) - first(x - 1e-5, 1.5)) / 2e-5
        np.testing.assert_allclose(second(x, 1.5), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("target", TARGETS)
def test_gradient_with_respect_to_every_argument(chains, target):
    f = chains[(10, False)]
    g = symgrad.grad(f, argnums=(0, 1), target=target)
    for x in _points(10):
        gx, gw = g(x, 0.7)
        np.testing.assert_allclose(gx, _fd(f, x, 0.7), rtol=1e-6, atol=1e-6)
        fw = (f(x, 0.7 + 1e-6) - f(x, 0.7 - 1e-6)) / 2e-6
        np.testing.assert_allclose(gw, fw, rtol=1e-6, atol=1e-6)


def _mixed(x, k):
    """Plain tests decide as Python does; a plain true test after traced ones
    ends the chain (it acts as the else); later tests are never evaluated."""
    if k == 0:
        y = x * 1.0
    elif k == 1:
        y = x * 2.0
    elif x < 0.0:
        y = x * 3.0
    elif k == 2:
        y = x * 4.0
    elif x < 1.0:
        y = x * 5.0
    elif k >= 3:
        y = x * 6.0
    elif 1 / 0:
        y = x * 7.0
    elif 2 / 0:
        y = x * 7.5
    else:
        y = x * 8.0
    return y


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_plain_tests_short_circuit_as_in_python(k):
    assert syntax.CHAIN_MIN <= 8
    for x in (-0.5, 0.5, 2.0):
        got = symgrad.grad(lambda v: _mixed(v, k))(x)
        h = 1e-6
        np.testing.assert_allclose(
            got, (_mixed(x + h, k) - _mixed(x - h, k)) / (2 * h), rtol=1e-6
        )
        c = symgrad.compile(lambda v: _mixed(v, k), x)  # noqa: B023
        assert c.forward(x) == _mixed(x, k)


def _unset(x):
    if x < 0.0:
        y = 1.0 * x
    elif x < 1.0:
        y = 2.0 * x
    elif x < 2.0:
        y = 3.0 * x
    elif x < 3.0:
        y = 4.0 * x
    elif x < 4.0:
        y = 5.0 * x
    elif x < 5.0:
        y = 6.0 * x
    elif x < 6.0:
        y = 7.0 * x
    elif x < 7.0:
        z = 8.0 * x  # noqa: F841 - y is what is missing
    else:
        y = x
    return y


def test_a_variable_unset_in_one_branch_is_an_error():
    with pytest.raises(symgrad.SymgradError, match="only some branches"):
        symgrad.grad(_unset)(0.5)


def _shared_zeros(x):
    # The cotangent of z is zeros in one branch and of x in another: the
    # zeros node is interned, and naming it after one branch's variable
    # clobbered the other's (a wrong gradient before, nested or flat).
    s = x.sum()
    z = np.sin(x) * 2.0
    if s < -1.0:
        y = x * x
    elif s < 2.0:
        y = z * z
    else:
        y = x * 3.0
    w = y * z + x
    return (w * w).sum()


def _shared_zeros_long(x):
    s = x.sum()
    z = np.sin(x) * 2.0
    if s < -3.0:
        y = z * x
    elif s < -2.0:
        y = np.exp(x) * z
    elif s < -1.0:
        y = x * x
    elif s < 0.0:
        y = np.cos(z) * x
    elif s < 1.0:
        y = z + x
    elif s < 2.0:
        y = z * z
    elif s < 3.0:
        y = np.tanh(x) * z
    elif s < 4.0:
        y = x
    else:
        y = x * 3.0
    w = y * z + x
    return (w * w).sum()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("f", [_shared_zeros, _shared_zeros_long])
def test_branches_sharing_a_cotangent_node(f, target):
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=50) * 0.01
    c = symgrad.compile(f, x0, target=target)
    for total in (-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5):
        x = x0 - x0.mean() + total / 50
        arg = x if target == "numpy" else x.tolist()
        # (the python target sums in its own order: equal to 1e-12)
        np.testing.assert_allclose(c.forward(arg), f(x), rtol=1e-12)
        e = np.zeros(50)
        e[7] = 1e-5
        fd = (f(x + e) - f(x - e)) / 2e-5
        np.testing.assert_allclose(c.gradient(arg)[7], fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("target", TARGETS)
def test_forward_mode_and_hvp_through_a_switch(chains, target):
    f = chains[(10, False)]

    def g(x):
        return f(x, 1.5)

    for x in _points(10):
        value, tangent = symgrad.jvp(g, (x,), (1.0,), target=target)
        assert value == g(x)
        np.testing.assert_allclose(tangent, _fd(f, x, 1.5), rtol=1e-6, atol=1e-6)
        first = symgrad.grad(g, target=target)
        expected = (first(x + 1e-5) - first(x - 1e-5)) / 2e-5
        np.testing.assert_allclose(
            symgrad.hvp(g, (x,), (1.0,), target=target), expected, rtol=1e-5
        )


def _in_loop(x, n):
    t = x
    for _ in range(n):
        if t < -1.0:
            t = t * 0.5 + 1.0
        elif t < -0.5:
            t = np.sin(t) * 2.0
        elif t < 0.0:
            t = t * t + 0.3
        elif t < 0.5:
            t = np.cos(t) * t
        elif t < 1.0:
            t = t * 1.1
        elif t < 1.5:
            t = np.exp(-t) + t * 0.5
        elif t < 2.0:
            t = t - 0.7
        elif t < 2.5:
            t = t * t * 0.3
        else:
            t = t * 0.2
    return t * x


@pytest.mark.parametrize("target", TARGETS)
def test_a_switch_inside_a_staged_loop_first_and_second_order(target):
    f = _in_loop
    first = symgrad.grad(f, target=target)
    second = symgrad.grad(symgrad.grad(f), target=target)
    c = symgrad.compile(f, 0.3, 5, target=target)
    for x in (-1.713, -0.689, 0.213, 0.737, 1.219, 1.683, 2.231, 3.071):
        np.testing.assert_allclose(c.forward(x, 5), f(x, 5), rtol=1e-14)
        fd = (f(x + 1e-6, 5) - f(x - 1e-6, 5)) / 2e-6
        np.testing.assert_allclose(first(x, 5), fd, rtol=1e-5, atol=1e-7)
        fd2 = (first(x + 1e-5, 5) - first(x - 1e-5, 5)) / 2e-5
        np.testing.assert_allclose(second(x, 5), fd2, rtol=1e-4, atol=1e-6)
