"""Memory planning (reuse and free dead temporaries) changes no bit.

Every op row is compiled with planning on and off (the NumPy target) and the
two modules must give bit-identical values and gradients, also on inputs
holding inf, NaN and signed zeros.
"""

import numpy as np
import pytest

import symgrad
from symgrad.codegen import memory
from symgrad.codegen import numpy as numpy_target
from tests.op_rows import ROWS

SPECIAL = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e308, -1e-320, 2.5])


def _args(shapes, rng, special):
    out = []
    for shape in shapes:
        x = rng.normal(size=shape)
        if special and np.size(x):
            flat = np.reshape(x, -1)
            flat[: min(flat.size, SPECIAL.size)] = SPECIAL[: flat.size]
        out.append(float(x) if shape == () else x)
    return out


def _compiled(fn, args, plan):
    saved = numpy_target.PLANS_MEMORY
    numpy_target.PLANS_MEMORY = plan
    try:
        loss = lambda *a: np.sum(fn(*a))  # noqa: E731
        return symgrad.compile(loss, *args, argnums=tuple(range(len(args))))
    finally:
        numpy_target.PLANS_MEMORY = saved


def _same(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize("name", sorted(ROWS))
def test_planning_changes_no_bit(name):
    row = ROWS[name]
    if "numpy" not in row.targets:
        pytest.skip("numpy target only")
    rng = np.random.default_rng(0)
    shapes = row.shapes[-1]
    args = _args(shapes, rng, special=False)
    planned = _compiled(row.fn, args, True)
    plain = _compiled(row.fn, args, False)
    for special in (False, True):
        a = _args(shapes, np.random.default_rng(1), special)
        results = []
        for c in (planned, plain):
            try:
                with np.errstate(all="ignore"):
                    results.append(c.value_and_grad(*a))
            except Exception as exc:  # noqa: BLE001 - both must fail alike
                results.append(type(exc))
        first, second = results
        if isinstance(first, type) or isinstance(second, type):
            assert first == second
            continue
        (v1, g1), (v2, g2) = first, second
        assert _same(v1, v2)
        for x, y in zip(g1, g2, strict=True):
            assert _same(x, y)


def test_plan_reuses_a_dying_temporary_and_frees_big_ones():
    def f(W, X):
        h = X @ W
        h = h + 1.0
        return np.sum(np.tanh(h))

    W, X = np.ones((64, 64)), np.ones((128, 64))
    src = symgrad.compile(f, W, X).source
    assert "np.add(t1, 1.0, out=t1)" in src or ", out=" in src
    # 128 x 64 arrays live in buffers kept between calls (or are freed
    # after their last use when the op cannot write into a given array).
    assert "np.matmul(X, W, out=buffer" in src
    assert memory.FREE_SIZE <= 128 * 64


def test_masked_gradient_is_written_into_the_dead_upstream_gradient():
    """A ReLU's gradient `np.where(h > 0, g, 0.0)` fills `g`'s buffer when
    `g` dies there: no new array, the same bits (inf and NaN included)."""

    def f(W, X):
        return (np.maximum(X @ W, 0.0) @ W) ** 2

    rng = np.random.default_rng(3)
    # (600 x 8: big enough to plan; small arrays keep np.where, cheaper there)
    W, X = rng.normal(size=(8, 8)), rng.normal(size=(600, 8))
    planned, plain = _compiled(f, [W, X], True), _compiled(f, [W, X], False)
    assert "np.copyto(" in planned.source and "np.copyto(" not in plain.source
    X[0, :3] = [np.inf, np.nan, -0.0]
    with np.errstate(all="ignore"):
        (v1, g1), (v2, g2) = planned.value_and_grad(W, X), plain.value_and_grad(W, X)
    assert _same(v1, v2) and all(_same(a, b) for a, b in zip(g1, g2, strict=True))


def test_results_never_share_memory_with_each_other_or_the_arguments():
    def same(a, b):  # one gradient array for both arguments
        return np.sum(np.sin(a + b))

    def weights(W, X):  # W's gradient is (X.T @ g).T: a transpose of our own array
        return np.sum(np.tanh(X @ W.T))

    rng = np.random.default_rng(2)
    a, b = rng.normal(size=5), rng.normal(size=5)
    ga, gb = symgrad.compile(same, a, b, argnums=(0, 1)).gradient(a, b)
    assert not np.shares_memory(ga, gb)
    ga -= 1.0  # a caller updating one in place leaves the other alone
    assert not np.array_equal(ga, gb)
    W, X = rng.normal(size=(4, 3)), rng.normal(size=(6, 3))
    c = symgrad.compile(weights, W, X, argnums=(0, 1))
    assert "np.array(" not in c.source  # no copy of the transposed gradient
    gW, gX = c.gradient(W, X)
    for g in (gW, gX):
        assert not any(np.shares_memory(g, x) for x in (W, X))
    assert not np.shares_memory(gW, gX)
    np.testing.assert_allclose(gW, ((1 - np.tanh(X @ W.T) ** 2).T @ X), rtol=1e-12)


def test_a_view_received_from_forward_keeps_its_base_alive():
    """`_forward` returns a base and a view of it (a row of a sum): the
    gradient may not write into the base while the view is still read. The
    fuzzer found `np.cos(t2, out=t2)` clobbering `t3 = t2[0]`."""
    from tests.test_fuzz import run

    steps = [
        ("unary", "abs", 0, None),
        ("unary", "sum_last", 1, None),
        ("unary", "row", 3, None),
        ("binary", "add", 4, 0),
        ("matmul", "matmul", 4, 4),
        ("unary", "sin", 3, None),
    ]
    args = [1.0, np.ones((2, 3))]
    planned, plain = (
        _compiled(lambda *xs: run(steps, *xs), args, plan) for plan in (True, False)
    )
    assert "np.cos(" in planned.source and ", out=" in planned.source
    (v1, g1), (v2, g2) = planned.value_and_grad(*args), plain.value_and_grad(*args)
    assert _same(v1, v2)
    for a, b in zip(g1, g2, strict=True):
        assert _same(a, b)
