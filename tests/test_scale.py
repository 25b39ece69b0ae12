"""Deep graphs: no recursion anywhere in trace, autodiff, passes or codegen."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad

N_OPS = 100_000


def chain(x):
    for _ in range(N_OPS // 2):
        x = np.sin(x) * 0.999
    return x


def test_100k_operation_chain_compiles_and_runs():
    c = symgrad.compile(chain, 0.3)
    assert c.stats["forward_ops"] == N_OPS
    assert c.stats["value_and_grad_ops"] <= 3 * N_OPS
    value, grad = c.value_and_grad(0.3)
    # The same chain evaluated and differentiated by hand, step by step.
    x, d = 0.3, 1.0
    for _ in range(N_OPS // 2):
        d *= np.cos(x) * 0.999
        x = np.sin(x) * 0.999
    assert value == pytest.approx(x, rel=1e-12)
    assert grad == pytest.approx(d, rel=1e-9)
