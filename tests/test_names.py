"""Names are data, not code: any string a user's names contain yields a valid
module that computes exactly what was traced."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad

HOSTILE = [
    "",
    "class",
    "def",
    "None",
    "print",
    "np",
    "math",
    "float",
    "value_and_grad",
    "__import__",
    "x); import os; os.system('echo pwned') #",
    'a"""b',
    "a'''b",
    "back\\slash",
    "line\nbreak\r\n",
    "tab\there",
    "ü",
    "Ω",
    "ﬁ",  # NFKC-normalizes to "fi": must not collide with "fi"
    "fi",
    "\u2028",
    "\x00",
    "a" * 300,
    "0starts_with_digit",
    "t1",
    "x_bar",
]

names = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))


def _loss(p):
    total = 0.0
    for k in p:
        total = total + (p[k] * p[k]).sum() * 0.5
    return total


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=1, max_size=5, unique=True))
def test_any_dict_keys(keys):
    params = {k: np.arange(1.0, 3.0) * (i + 1) for i, k in enumerate(keys)}
    grads = symgrad.grad(_loss)(params)
    assert list(grads) == keys
    for k in keys:
        np.testing.assert_array_equal(grads[k], params[k])


@pytest.mark.parametrize("name", HOSTILE)
def test_any_function_name_and_file(name, tmp_path):
    def f(x):
        return x * x

    f.__name__ = f.__qualname__ = name
    c = symgrad.compile(f, 3.0)
    assert c.gradient(3.0) == 6.0
    compile(c.source, "check", "exec")
    out = c.write(tmp_path / "m.py")
    assert os.path.exists(out)


@pytest.mark.parametrize(
    "params",
    [
        ("np", "math"),
        ("float", "x"),
        ("ü", "é"),
        ("mul", "_mul"),
        ("forward", "gradient"),
        ("t1", "t2"),
    ],
)
def test_any_parameter_names(params):
    # Build a function whose parameters have these names.
    a, b = params
    src = f"def g({a}, {b}):\n    return {a} * {b} * 2.0\n"
    scope = {}
    exec(src, scope)
    g = scope["g"]
    gx, gy = symgrad.grad(g, argnums=(0, 1))(3.0, 5.0)
    assert (gx, gy) == (10.0, 6.0)
