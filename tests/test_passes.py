"""Passes: each one structurally on a tiny graph, and every result bit for bit
the same with the passes on and off (inf, NaN and signed zeros included)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symgrad
from symgrad import ir, ops
from symgrad.passes import FAST, PASSES, optimize, pipeline
from symgrad.passes.cse import eliminate_common_subexpressions
from symgrad.passes.dce import eliminate_dead_code, live_nodes
from symgrad.passes.fold import fold_rule
from symgrad.passes.reuse import recomputed, reuse_forward_values
from symgrad.passes.rewrite import rewrite
from symgrad.passes.simplify import simplify_rule
from tests.test_ops import ROWS, _setup


def _x(shape=(3,), name="x", index=0):
    return ops.input_node(index, name, shape, np.float64)


def _fold(out):
    return rewrite([out], fold_rule)[0]


def _simplify(out):
    return rewrite([out], simplify_rule)[0]


# ------------------------------------------------------------------ pipeline


def test_pipeline_lists_one_pass_per_module_in_order():
    assert [p.name for p in PASSES] == [
        "fold_constants",
        "simplify",
        "reuse_forward_values",
        "batch_row_products",
        "eliminate_common_subexpressions",
        "prune_regions",
        "eliminate_dead_code",
    ]
    assert FAST not in PASSES
    with ir.scope():
        x = _x()
        node = ops.mul(x, 1.0)
        assert optimize([node], passes=()) == [node]
        assert optimize([node]) == [x]


def test_optimize_flag_is_checked():
    with pytest.raises(symgrad.ArgumentError, match='"fast"'):
        symgrad.compile(lambda x: x * 2.0, 1.0, optimize="fastest")


# ------------------------------------------------------------------ fold


def test_constants_fold_but_never_grow():
    with ir.scope():
        x = _x()
        out = _fold(ops.mul(x, ops.add(ops.const(2.0), ops.const(3.0))))
        assert out.inputs[1].op == "const" and out.inputs[1].value == 5.0
        big = ops.broadcast_to(ops.const(0.0), (1000, 1000))
        assert _fold(big) is big


def test_elementwise_ops_on_broadcast_constants_fold_at_the_small_shape():
    with ir.scope():
        # broadcast(c1) * c2 -> broadcast(c1 * c2)
        node = ops.mul(ops.broadcast_to(ops.const(0.25), (64,)), 0.5)
        out = _fold(node)
        assert out.op == "broadcast_to" and out.shape == (64,)
        assert out.inputs[0].op == "const" and out.inputs[0].value == 0.125


def test_a_constant_condition_picks_its_branch():
    with ir.scope():
        x, y = _x(), _x(name="y", index=1)
        assert _fold(ops.where(ops.const(True), x, y)) is x
        assert _fold(ops.where(ops.const(np.zeros(3, bool)), x, y)) is y
        mixed = ops.where(ops.const(np.array([True, False, True])), x, y)
        assert _fold(mixed) is mixed


# ------------------------------------------------------------------ simplify


def test_identities_are_removed():
    with ir.scope():
        x = _x()
        m = _x((2, 3), "m")
        cases = [
            ops.neg(ops.neg(x)),  # --x -> x
            ops.mul(x, 1.0),  # x*1 -> x
            ops.mul(1.0, x),  # 1*x -> x
            ops.div(x, 1.0),  # x/1 -> x
            ops.sub(x, 0.0),  # x-0 -> x
            ops.add(x, -0.0),  # x + -0 -> x
            ops.pow(x, 1.0),  # x**1 -> x
            ops.reshape(ops.reshape(x, (3, 1)), (3,)),  # reshape to same shape
            ops.broadcast_to(x, (3,)),  # an unbroadcast that does nothing
            ops.where(ops.gt(x, 0.0), x, x),  # where(c, x, x) -> x
        ]
        for node in cases:
            assert _simplify(node) is x, node
        tt = ops.transpose(ops.transpose(m, (1, 0)), (1, 0))
        assert _simplify(tt) is m  # transpose of transpose


def test_sign_rules_are_exact():
    with ir.scope():
        x, y = _x(), _x(name="y", index=1)
        assert _simplify(ops.mul(x, -1.0)).op == "neg"  # x * -1 -> -x
        assert _simplify(ops.div(x, -1.0)).op == "neg"  # x / -1 -> -x
        both = _simplify(ops.mul(ops.neg(x), ops.neg(y)))  # (-x)(-y) -> xy
        assert both.op == "mul" and both.inputs == (x, y)
        out = _simplify(ops.neg(ops.div(ops.neg(x), y)))  # -((-x)/y) -> x/y
        assert out.op == "div" and out.inputs == (x, y)
        assert _simplify(ops.add(x, ops.neg(y))).op == "sub"  # x + (-y) -> x - y


def test_size_one_reductions():
    with ir.scope():
        col = _x((3, 1), "c")
        # max over an axis of size 1 only drops it
        assert _simplify(ops.reduce("max", col, (1,))).op == "reshape"
        # a sum over it is x + 0.0, which turns -0.0 into +0.0: kept...
        assert _simplify(ops.reduce("sum", col, (1,))).op == "sum"
        # ...unless x can never be -0.0 (x*x)
        square = ops.mul(col, col)
        assert _simplify(ops.reduce("sum", square, (1,))).op == "reshape"


def test_adding_plus_zero_keeps_the_sign_of_zero():
    # -0.0 + 0.0 is +0.0, so x + 0.0 -> x is not exact for x = -0.0...
    with ir.scope():
        x = _x()
        assert _simplify(ops.add(x, 0.0)).op == "add"
        assert _simplify(ops.sub(x, -0.0)).op == "sub"  # x - (-0) = x + 0
        # ...but it is for values that are never -0.0.
        assert _simplify(ops.add(ops.exp(x), 0.0)).op == "exp"
        assert _simplify(ops.add(0, ops.reduce("sum", ops.mul(x, x)))).op == "sum"

    def f(x):
        return np.sum(1.0 / (x + 0.0) + 1.0 / np.sum(x, axis=0, keepdims=True))

    x = np.array([-0.0])
    with np.errstate(all="ignore"):
        on = symgrad.value_and_grad(f)(x)
        off = symgrad.value_and_grad(f, optimize=False)(x)
    assert on[0] == off[0] == np.inf  # +0.0 both times: 1/+0 + 1/+0
    _identical(on[1], off[1])


def test_unsafe_rewrites_stay_off_unless_asked_for():
    with ir.scope():
        x = _x()
        unsafe = [
            ops.mul(x, 0.0),  # 0*inf is NaN
            ops.div(x, x),  # inf/inf and 0/0 are NaN
            ops.sub(x, x),  # inf-inf is NaN
            ops.add(x, 0.0),  # -0 + 0 is +0
            ops.log(ops.exp(x)),  # exp overflows
        ]
        for node in unsafe:
            (out,) = optimize([node])
            assert out.op == node.op, node
            (out,) = optimize([node], fast=True)
            assert out.op != node.op, node

    def f(x):
        return x * 0.0 + x / x

    assert symgrad.compile(f, 2.0, optimize="fast").stats["forward_ops"] == 0
    with pytest.raises(symgrad.ArgumentError, match='use True .* or "fast"'):
        symgrad.compile(f, 2.0, optimize="unsafe")  # the old name is gone
    assert np.isnan(symgrad.compile(f, 2.0).forward(np.inf))


def _mlp_loss(params, X, y):
    h = X
    for W, b in params[:-1]:
        h = np.maximum(h @ W.T + b, 0)
    W, b = params[-1]
    s = (h @ W.T + b)[:, 0]
    reg = sum((W * W).sum() + (b * b).sum() for W, b in params)
    return np.maximum(1 - y * s, 0).mean() + 1e-4 * reg


def _mlp_args(seed):
    rng = np.random.default_rng(seed)
    sizes = (3, 8, 8, 1)
    params = [
        (rng.normal(size=(o, i)), rng.normal(size=o))
        for i, o in zip(sizes[:-1], sizes[1:], strict=False)
    ]
    return params, rng.normal(size=(20, 3)), np.sign(rng.normal(size=20))


def test_fast_mode_rewrites_fire():
    """Each reassociating rewrite changes the graph the way it says, and
    the new graph computes the same values up to rounding."""
    rng = np.random.default_rng(0)
    with ir.scope():
        x, g = _x((4, 3)), _x((4, 3), "g", 1)
        h = _x((4, 5), "h", 2)
        cases = [
            # c1*x + c2*x -> (c1+c2)*x
            (ops.add(ops.mul(x, 2.0), ops.mul(3.0, x)), "mul"),
            # c1*(c2*x) -> (c1*c2)*x
            (ops.mul(2.0, ops.mul(x, 3.0)), "mul"),
            # (h.T @ g).T -> g.T @ h
            (ops.transpose(ops.matmul(ops.transpose(h, (1, 0)), g), (1, 0)), "matmul"),
            # sum(x * g) -> flat(x) @ flat(g)
            (ops.reduce("sum", ops.mul(x, g)), "matmul"),
            # x.T @ g + h.T @ x + x.T @ g: one product over all rows
            (
                ops.add(
                    ops.add(
                        ops.matmul(ops.transpose(x, (1, 0)), g),
                        ops.matmul(ops.transpose(g, (1, 0)), x),
                    ),
                    ops.matmul(ops.transpose(x, (1, 0)), ops.exp(g)),
                ),
                "matmul",
            ),
            # x.sum(0) + g.sum(0) -> concat(x, g).sum(0)
            (
                ops.add(ops.reduce("sum", x, (0,)), ops.reduce("sum", g, (0,))),
                "sum",
            ),
        ]
        for node, op in cases:
            (exact,) = optimize([node])
            (fast,) = optimize([node], fast=True)
            # Nodes are interned: another object is another computation.
            assert fast.op == op and fast is not exact, node
            values = [rng.normal(size=n.shape) for n in (x, g, h)]
            (want,) = ops.evaluate(ir.Graph([x, g, h], [exact]), values)
            (got,) = ops.evaluate(ir.Graph([x, g, h], [fast]), values)
            np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_fast_mode_agrees_to_rounding_and_differs_only_where_it_says(seed):
    args = _mlp_args(seed)
    exact = symgrad.compile(_mlp_loss, *args)
    fast = symgrad.compile(_mlp_loss, *args, optimize="fast")

    # The default mode reassociates gradients too; fast mode also the value
    # (`(W * W).sum()` as a dot product).
    def forward_part(c):
        return c.source.split("def _forward")[1].split("def forward")[0]

    assert forward_part(fast) != forward_part(exact)
    plain = symgrad.compile(_mlp_loss, *args, optimize=False)
    assert exact.value_and_grad(*args)[0] == plain.value_and_grad(*args)[0]
    v0, g0 = exact.value_and_grad(*args)
    v1, g1 = fast.value_and_grad(*args)
    np.testing.assert_allclose(v1, v0, rtol=1e-13)
    for (W0, b0), (W1, b1) in zip(g0, g1, strict=True):
        np.testing.assert_allclose(W1, W0, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b1, b0, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------ CSE, reuse, DCE


def test_interning_merges_common_subexpressions():
    with ir.scope():
        x = _x()
        assert ops.mul(x, ops.tanh(x)) is ops.mul(ops.tanh(x), x)
        assert ops.add(ops.exp(x), 1.0) is ops.add(ops.exp(x), 1.0)


def test_cse_merges_the_same_number_spelled_twice():
    with ir.scope():
        x = _x()
        a = ops.sub(1, x)  # the user's int
        b = ops.sub(1.0, x)  # a VJP rule's float
        c = ops.sub(ops.const(1.0), x)  # a strong float64
        assert len({a, b, c}) == 3
        (out,) = eliminate_common_subexpressions([ops.add(ops.mul(a, b), c)])
        assert out.inputs[0].inputs == (a, a) and out.inputs[1] is a
        # Different values, or an int compared with a float, stay apart.
        d = ops.sub(2.0, x)
        (out,) = eliminate_common_subexpressions([ops.mul(a, d)])
        assert out.inputs == (a, d)


def test_reuse_points_recomputed_forward_values_at_the_forward_node():
    with ir.scope():
        x = _x()
        forward = ops.exp(ops.mul(x, 2.0))
        again = ops.exp(ops.mul(x, ops.const(2.0)))  # spelled differently
        backward = ops.mul(again, 3.0)
        assert recomputed([forward, backward]) == {again: forward}
        new_forward, new_backward = reuse_forward_values([forward, backward])
        assert new_forward is forward and new_backward.inputs[0] is forward


@pytest.mark.parametrize("op", ["tanh", "exp", "sigmoid", "sqrt", "log", "sin"])
def test_backward_never_recomputes_a_forward_function(op):
    def f(x):
        return getattr(np, op, None)(x) * x if op != "sigmoid" else symgrad.sigmoid(x)

    c = symgrad.compile(f, 1.3)
    outputs = c.program.grad_graph().outputs
    assert recomputed(outputs) == {}
    forward = [n.op for n in ir.toposort(outputs[:1])].count(op)
    both = [n.op for n in ir.toposort(outputs)].count(op)
    assert both == forward  # tanh' from the tanh output, exp' from exp, ...


def test_dead_code_is_what_no_output_reaches():
    with ir.scope():
        x = _x()
        used = ops.tanh(x)
        unused = ops.exp(x)
        out = ops.where(ops.const(False), unused, used)
        (new,) = optimize([out])
        assert new is used
        assert unused not in live_nodes([new])
        assert eliminate_dead_code([new]) == [new]
        assert ir.Graph([x], [new]).nodes == [x, used]


# ------------------------------------------------------------------ equal results


def _identical(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.array_equal(a, b, equal_nan=True), (a, b)
    real = ~np.isnan(a)
    # Signed zeros too: 1/x would tell them apart.
    assert np.array_equal(np.signbit(a[real]), np.signbit(b[real])), (a, b)


def _compare(loss, args):
    argnums = tuple(range(len(args)))
    on = symgrad.compile(loss, *args, argnums=argnums)
    off = symgrad.compile(loss, *args, argnums=argnums, optimize=False)
    assert on.stats["value_and_grad_ops"] <= off.stats["value_and_grad_ops"]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            want = off.value_and_grad(*args)
        except Exception as exc:  # noqa: BLE001 - e.g. LinAlgError on nan input
            # What NumPy refuses, it refuses with the passes on too.
            with pytest.raises(type(exc)):
                on.value_and_grad(*args)
            return
        got = on.value_and_grad(*args)
    _identical(got[0], want[0])
    for a, b in zip(got[1], want[1], strict=True):
        _reassociated(a, b)


def _reassociated(a, b):
    """A gradient the default mode may sum in another order: NaN and inf
    exactly where they were (the same signs), the finite numbers equal to
    1e-12 of the largest of them (reassociation rounds differently)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.array_equal(np.isnan(a), np.isnan(b)), (a, b)
    assert np.array_equal(np.isinf(a), np.isinf(b)), (a, b)
    assert np.array_equal(a[np.isinf(a)], b[np.isinf(b)]), (a, b)
    finite = np.isfinite(b)
    scale = max(1.0, float(np.max(np.abs(b[finite]), initial=0.0)))
    np.testing.assert_allclose(a[finite], b[finite], rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_results_agree_with_and_without_passes(name):
    """The value bit for bit; gradients to rounding (see `_reassociated`)."""
    _, args, loss = _setup(name, ROWS[name].shapes[-1])
    _compare(loss, args)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_fast_mode_agrees_on_every_op_row(name):
    """`optimize="fast"` only reorders rounding on finite inputs: every op
    row's value and gradient agree with the exact module to 1e-12."""
    _, args, loss = _setup(name, ROWS[name].shapes[-1])
    argnums = tuple(range(len(args)))
    exact = symgrad.compile(loss, *args, argnums=argnums)
    fast = symgrad.compile(loss, *args, argnums=argnums, optimize="fast")
    want, got = exact.value_and_grad(*args), fast.value_and_grad(*args)
    for a, b in zip([got[0], *got[1]], [want[0], *want[1]], strict=True):
        scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * scale)


SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5, -2.0])


def _special(arg, shift):
    if np.ndim(arg) == 0:
        return float(SPECIAL[shift % len(SPECIAL)])
    flat = np.roll(np.resize(SPECIAL, np.size(arg)), shift)
    return flat.reshape(np.shape(arg))


@pytest.mark.parametrize("shift", range(len(SPECIAL)))
@pytest.mark.parametrize("name", sorted(ROWS))
def test_results_agree_on_inf_nan_and_signed_zeros(name, shift):
    _, args, loss = _setup(name, ROWS[name].shapes[-1])
    args = [_special(a, shift + 3 * i) for i, a in enumerate(args)]
    _compare(loss, args)


def test_pipeline_runs_adjacent_rules_in_one_walk(monkeypatch):
    walks = []
    real = pipeline.rewrite

    def counting(outputs, rule=None, mapping=None):
        walks.append(rule)
        return real(outputs, rule, mapping)

    monkeypatch.setattr(pipeline, "rewrite", counting)
    with ir.scope():
        optimize([ops.mul(_x(), 1.0)])
    assert len(walks) == 1


def test_scatter_that_writes_everything_in_order_is_a_reshape():
    with ir.scope():
        g = ops.input_node(0, "g", (4,), np.float64)
        full = ops.scatter(g, (4, 1), (("slice", None, None, None), 0))
        (out,) = optimize([full])
        assert out.op == "reshape"
        backwards = ops.scatter(g, (4,), (("slice", None, None, -1),))
        (out,) = optimize([backwards])
        assert out.op == "scatter"  # reversed order: not a reshape


def _rnn(W, U, xs):
    h = np.zeros((xs.shape[1], U.shape[0]))
    for x in xs:
        h = np.tanh(x @ W + h @ U)
    return np.sum(h**2)


def test_a_weight_applied_to_every_step_is_one_product_with_the_same_bits():
    rng = np.random.default_rng(7)
    W, U, xs = (
        rng.normal(size=(3, 4)),
        rng.normal(size=(4, 4)),
        rng.normal(size=(6, 2, 3)),
    )
    batched = symgrad.compile(_rnn, W, U, xs, argnums=(0, 1))
    plain = symgrad.compile(_rnn, W, U, xs, argnums=(0, 1), optimize=False)
    assert "xs @ W" in batched.source and "xs @ W" not in plain.source
    assert batched.source.count("@ W\n") == 1  # one product for all six steps
    # The value keeps its bits: NumPy computes a stack's product matrix by
    # matrix, each as the per-step product would be.
    assert batched.value_and_grad(W, U, xs)[0] == plain.value_and_grad(W, U, xs)[0]
    assert batched.value_and_grad(W, U, xs)[0] == _rnn(W, U, xs)

    def one_row(W, xs):  # one row of a big stack: not worth a product of all
        return np.sum(np.tanh(xs[3] @ W))

    big = rng.normal(size=(40, 2, 3))
    assert "xs @ W" not in symgrad.compile(one_row, W, big).source
