"""Passes: structural checks on tiny graphs, and equal results with them on or off."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad import ir, ops
from symgrad.passes import optimize
from tests.test_ops import ROWS, _setup


def _x(shape=(3,)):
    return ops.input_node(0, "x", shape, np.float64)


def test_identities_are_removed():
    with ir.scope():
        x = _x()
        (out,) = optimize(
            [ops.neg(ops.neg(ops.sub(ops.mul(ops.div(x, 1.0), 1.0), 0.0)))]
        )
        assert out is x
        (out,) = optimize([ops.pow(x, 1)])
        assert out is x
        t = ops.transpose(
            ops.transpose(ops.input_node(0, "m", (2, 3), np.float64), (1, 0)), (1, 0)
        )
        (out,) = optimize([t])
        assert out.op == "input"
        (out,) = optimize([ops.reshape(ops.reshape(x, (3, 1)), (3,))])
        assert out is x


def test_unsafe_rewrites_stay_off():
    with ir.scope():
        x = _x()
        for node in (ops.mul(x, 0.0), ops.div(x, x), ops.sub(x, x)):
            (out,) = optimize([node])
            assert out.op == node.op  # 0*inf, inf/inf and inf-inf are NaN


def test_constants_fold_but_never_grow():
    with ir.scope():
        x = _x()
        (out,) = optimize([ops.mul(x, ops.add(ops.const(2.0), ops.const(3.0)))])
        assert out.inputs[1].op == "const" and out.inputs[1].value == 5.0
        big = ops.broadcast_to(ops.const(0.0), (1000, 1000))
        (out,) = optimize([big])
        assert out.op == "broadcast_to"


def test_interning_merges_common_subexpressions():
    with ir.scope():
        x = _x()
        assert ops.mul(x, ops.tanh(x)) is ops.mul(ops.tanh(x), x)
        assert ops.add(ops.exp(x), 1.0) is ops.add(ops.exp(x), 1.0)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_results_identical_with_and_without_passes(name):
    row, args, loss = _setup(name, ROWS[name].shapes[-1])
    argnums = tuple(range(len(args)))
    on = symgrad.value_and_grad(loss, argnums=argnums)(*args)
    off = symgrad.value_and_grad(loss, argnums=argnums, optimize=False)(*args)
    assert on[0] == off[0]
    for a, b in zip(on[1], off[1], strict=True):
        np.testing.assert_array_equal(a, b)
