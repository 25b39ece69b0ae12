"""Losses split over row blocks: the compile-time verdict (no Dask needed) and
the value and gradient over Dask arrays on a local cluster of two worker
processes (skipped without dask and distributed)."""

from __future__ import annotations

import inspect
import os
import sys

import numpy as np
import pytest

import symgrad
from symgrad.errors import ArgumentError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import dask_local  # noqa: E402
import moons  # noqa: E402
import softmax_regression  # noqa: E402

sys.path.pop(0)

BATCH = {"X": 0, "y": 0}
RNG = np.random.default_rng(7)
X = RNG.normal(size=(203, 3))
Y = RNG.normal(size=203)
LABELS = np.where(RNG.normal(size=203) > 0, 1.0, -1.0)
W = RNG.normal(size=3)


def _line(fun, text: str) -> str:
    """`test_distributed.py:N` of the line of `fun` holding `text`."""
    lines, first = inspect.getsourcelines(fun)
    k = next(i for i, line in enumerate(lines) if text in line)
    return f"test_distributed.py:{first + k}"


# ------------------------------------------------------------------ losses


def mse_l2(w, X, y):
    r = X @ w - y
    return np.mean(r**2) + 1e-3 * np.sum(w * w)


def sse_l2(w, X, y):
    r = X @ w - y
    return np.sum(r**2) + 0.5 * np.dot(w, w)


def sse(w, X, y):
    return np.sum(np.abs(X @ w - y) ** 3)


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, -y * z)) + 1e-2 * np.sum(w**2)


def hand_mean(w, X, y):
    r = np.tanh(X @ w) - y
    return (r @ r) / len(X) - 2.0 * np.sum(np.abs(w))


def scaled_by_param(w, X, y, lam):
    r = X @ w - y
    return lam * np.mean(r**2) + lam * lam


def standardized(w, X, y):
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.mean((Z @ w - y) ** 2)


def pairwise(w, X, y):
    K = X @ X.T
    return np.sum(K) * np.sum(w)


def running_sum(w, X, y):
    return np.mean(np.cumsum(X @ w - y) ** 2)


def centered_sum(w, X, y):
    r = X @ w - y
    return np.sum(r - np.mean(r) + 0.0 * y)


def broadcast_mean(w, X, y):
    m = np.broadcast_to(np.mean(X @ w), y.shape)
    return np.sum(m * 1.0)


def flat_running_sum(w, X, y):
    return np.sum(np.cumsum(X @ w - y, axis=None))


def product_of_means(w, X, y):
    return np.mean(X @ w) * np.mean(y)


def mean_and_sum(w, X, y):
    return np.mean(X @ w) + np.sum(y)


def max_rows(w, X, y):
    return np.max(X @ w - y)


def _compile(fun, *args, batch=BATCH):
    return symgrad.compile(fun, *args, batch=batch)


# ------------------------------------------------------------------ verdicts


@pytest.mark.parametrize(
    "fun, kind, has_param",
    [
        (mse_l2, "mean", True),
        (sse_l2, "sum", True),
        (sse, "sum", False),
        (logistic, "mean", True),
        (hand_mean, "mean", True),
    ],
)
def test_separable_losses(fun, kind, has_param):
    verdict = _compile(fun, W, X, Y).separable
    assert verdict and verdict.kind == kind and verdict.has_param == has_param
    assert verdict.batched == ((1,), (2,))


def test_a_param_only_factor_keeps_it_separable():
    verdict = _compile(scaled_by_param, W, X, Y, 0.3).separable
    assert verdict and verdict.kind == "mean"


def test_picking_each_rows_label_is_row_wise():
    params, Xs, ys = softmax_regression.example()
    verdict = _compile(softmax_regression.cross_entropy, params, Xs, ys).separable
    assert verdict and verdict.kind == "mean"


def row_numbers(w, X, y):
    return np.mean((X @ w) * np.arange(len(X)))


def test_using_the_row_numbers_otherwise_mixes():
    verdict = _compile(row_numbers, W, X, Y).separable
    assert not verdict and "np.arange(n)" in verdict.reason
    assert verdict.reason.startswith(_line(row_numbers, "np.arange"))


def test_the_moons_mlp_is_a_mean():
    params, Xm, ym = moons.example()
    verdict = _compile(moons.loss, params, Xm, ym).separable
    assert verdict and verdict.kind == "mean" and verdict.has_param


@pytest.mark.parametrize(
    "fun, text, what",
    [
        (standardized, "X.mean(axis=0)", "combines each row with a reduction"),
        (pairwise, "X @ X.T", "puts the rows on an axis other than the first"),
        (running_sum, "np.cumsum", "cumsum combines different rows"),
        (centered_sum, "r - np.mean(r)", "combines each row with a reduction"),
        (broadcast_mean, "np.broadcast_to", "spreads a reduction over rows"),
        (flat_running_sum, "np.cumsum", "cumsum combines different rows"),
        (product_of_means, "np.mean(X @ w) *", "multiplies two reductions"),
        (mean_and_sum, "np.sum(y)", "adds a mean over the rows to a sum"),
        (max_rows, "np.max", "max over the rows"),
    ],
)
def test_mixing_rows_is_named_with_its_line(fun, text, what):
    verdict = _compile(fun, W, X, Y).separable
    assert not verdict
    assert verdict.reason.startswith(_line(fun, text) + ": "), verdict.reason
    assert what in verdict.reason


def test_without_symbolic_rows_nothing_splits():
    verdict = symgrad.compile(mse_l2, W, X, Y).separable
    assert not verdict and "batch=" in verdict.reason


def test_the_verdict_does_not_change_the_module():
    compiled = _compile(mse_l2, W, X, Y)
    before = compiled.source
    assert compiled.separable
    assert compiled.source == before
    np.testing.assert_allclose(
        compiled.value_and_grad(W, X, Y)[0], mse_l2(W, X, Y), rtol=1e-13
    )


# ------------------------------------------------------------------ Dask


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("dask")
    pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit="400MB",
        dashboard_address=None,
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _close(got, want):
    got_leaves = symgrad.api.flat_leaves((got,))
    want_leaves = symgrad.api.flat_leaves((want,))
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def _split(client, *arrays, chunks=(50, 70, 0, 83)):
    import dask.array as da

    return [da.from_array(a, chunks=(chunks,) + a.shape[1:]) for a in arrays]


@pytest.mark.parametrize(
    "fun, extra, labels",
    [
        (mse_l2, (), False),
        (sse_l2, (), False),
        (sse, (), False),
        (logistic, (), True),
        (scaled_by_param, (0.3,), False),
    ],
)
def test_value_and_gradient_over_blocks(client, fun, extra, labels):
    y = LABELS if labels else Y
    compiled = _compile(fun, W, X, y, *extra)
    Xd, yd = _split(client, X, y)
    want = compiled.value_and_grad(W, X, y, *extra)
    _close(compiled.value_and_grad(W, Xd, yd, *extra), want)
    _close(compiled.gradient(W, Xd, yd, *extra), want[1])
    # A NumPy y beside a Dask X is split the same way.
    _close(compiled.value_and_grad(W, Xd, y, *extra), want)


def test_the_blocks_run_on_the_workers_from_source(client):
    compiled = _compile(logistic, W, X, LABELS)
    Xd, yd = _split(client, X, LABELS)
    compiled.value_and_grad(W, Xd, yd)

    def held():
        from symgrad import distributed

        return len(distributed._MODULES)

    # The workers executed the module's source; this process did not.
    assert sum(client.run(held).values()) >= 1
    assert held() == 0


def test_the_moons_mlp_over_blocks(client):
    params, Xm, ym = moons.example()
    compiled = _compile(moons.loss, params, Xm, ym)
    Xd, yd = _split(client, Xm, ym, chunks=(40, 35, 25))
    want = compiled.value_and_grad(params, Xm, ym)
    got = compiled.value_and_grad(params, Xd, yd)
    _close(got, want)
    assert symgrad.api.flat_leaves((got,))[0] == pytest.approx(0.8958441028683222)


def test_cross_entropy_over_blocks(client):
    params, Xs, ys = softmax_regression.example()
    compiled = _compile(softmax_regression.cross_entropy, params, Xs, ys)
    Xd, yd = _split(client, Xs, ys, chunks=(60, 50, 40))
    want = compiled.value_and_grad(params, Xs, ys)
    _close(compiled.value_and_grad(params, Xd, yd), want)


def test_a_loss_mixing_rows_is_refused_with_its_line(client):
    compiled = _compile(standardized, W, X, Y)
    Xd, yd = _split(client, X, Y)
    with pytest.raises(ArgumentError) as info:
        compiled.value_and_grad(W, Xd, yd)
    assert _line(standardized, "X.mean(axis=0)") in str(info.value)
    # In one process it still runs.
    assert np.isfinite(compiled.value_and_grad(W, X, Y)[0])


def test_dask_for_an_argument_without_rows_is_refused(client):
    import dask.array as da

    compiled = _compile(mse_l2, W, X, Y)
    with pytest.raises(ArgumentError, match="argument 0"):
        compiled.value_and_grad(da.from_array(W), X, Y)


def test_the_readme_example_runs(client, capsys):
    value, grad = dask_local.main(rows=2000, client=client)
    out = capsys.readouterr().out
    assert "separable=True, kind='mean'" in out
    assert "refused: standardized cannot be split" in out
    assert "dask_local.py:21: sub combines each row" in out


# ------------------------------------------------------------------ grad(batch=)


def test_grad_callables_take_dask_arrays(client):
    Xd, yd = _split(client, X, LABELS)
    want = symgrad.compile(logistic, W, X, LABELS, batch=BATCH).value_and_grad(
        W, X, LABELS
    )
    both = symgrad.value_and_grad(logistic, batch=BATCH)
    _close(both(W, Xd, yd), want)
    _close(symgrad.grad(logistic, batch=BATCH)(W, Xd, yd), want[1])
    # One module for the Dask call and for NumPy data of any number of rows.
    _close(both(W, X, LABELS), want)
    assert len(both._cache) == 1


def test_grad_callables_take_dask_dataframes(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=3)
    labels = dd.from_pandas(pd.Series(Y), npartitions=3)
    want = _compile(mse_l2, W, X, Y).value_and_grad(W, X, Y)
    _close(symgrad.value_and_grad(mse_l2, batch=BATCH)(W, frame, labels), want)


def test_grad_callables_need_symbolic_rows_for_dask(client):
    Xd, yd = _split(client, X, Y)
    with pytest.raises(ArgumentError, match="batch="):
        symgrad.grad(mse_l2)(W, Xd, yd)


def test_grad_callables_refuse_a_loss_mixing_rows(client):
    Xd, yd = _split(client, X, Y)
    with pytest.raises(ArgumentError) as info:
        symgrad.grad(standardized, batch=BATCH)(W, Xd, yd)
    assert _line(standardized, "X.mean(axis=0)") in str(info.value)
