"""Buffer slots kept between calls (NumPy target, `codegen.memory`).

Every big temporary that an op can write with `out=` lives in an array the
module keeps per thread and reuses on the next call. What must hold: the
same bits as without slots (every op row, with every array made big enough
to get a slot, on ordinary and inf/NaN/±0 inputs, called twice with other
inputs in between), results that never alias a slot, each other or an
earlier call's results, threads that never share a buffer, `release()`, and
memory bounded when the batch size changes.
"""

import threading

import numpy as np
import pytest

import symgrad
from symgrad.codegen import memory
from symgrad.codegen import numpy as numpy_target
from tests.op_rows import ROWS
from tests.test_memory import _args as _seeded_args
from tests.test_memory import _same as _bits


def _args(shapes, seed, special=False):
    return _seeded_args(shapes, np.random.default_rng(seed), special)


def _compile(fn, args, plan, monkeypatch, **kwargs):
    # FREE_SIZE 1: every array is "big", so every one that can gets a slot.
    monkeypatch.setattr(memory, "FREE_SIZE", 1 if plan else memory.FREE_SIZE)
    monkeypatch.setattr(numpy_target, "PLANS_MEMORY", plan)
    try:
        return symgrad.compile(fn, *args, **kwargs)
    finally:
        monkeypatch.undo()


def _run(c, args):
    try:
        with np.errstate(all="ignore"):
            return c.value_and_grad(*args)
    except Exception as exc:  # noqa: BLE001 - both modules must fail alike
        return type(exc)


def _same_results(first, second):
    if isinstance(first, type) or isinstance(second, type):
        assert first == second
        return
    (v1, g1), (v2, g2) = first, second
    assert _bits(v1, v2)
    for x, y in zip(g1, g2, strict=True):
        assert _bits(x, y)


def _copy(result):
    if isinstance(result, type):
        return result
    value, grads = result
    return value, [np.array(g, copy=True) for g in grads]


@pytest.mark.parametrize("name", sorted(ROWS))
def test_slots_change_no_bit_and_results_outlive_the_next_call(name, monkeypatch):
    row = ROWS[name]
    if "numpy" not in row.targets:
        pytest.skip("numpy target only")
    shapes = row.shapes[-1]
    args = _args(shapes, 0)

    def loss(*a):
        return np.sum(row.fn(*a))

    argnums = tuple(range(len(args)))
    slotted = _compile(loss, args, True, monkeypatch, argnums=argnums)
    plain = _compile(loss, args, False, monkeypatch, argnums=argnums)
    kept = None
    for special in (False, True, False):
        a = _args(shapes, 1 + special, special)
        got = _run(slotted, a)
        _same_results(got, _run(plain, a))
        if kept is not None:
            # The previous call's results are untouched by this call.
            _same_results(kept[0], kept[1])
        kept = (got, _copy(got))


def _mlp(params, X, y):
    h = X
    for W, b in params[:-1]:
        h = np.maximum(h @ W + b, 0.0)
    W, b = params[-1]
    return np.mean((h @ W + b - y) ** 2)


def _mlp_args(rows, seed=0, widths=(8, 96, 96, 3)):
    rng = np.random.default_rng(seed)
    params = [
        (rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b))
        for a, b in zip(widths, widths[1:], strict=False)
    ]
    return params, rng.normal(size=(rows, widths[0])), rng.normal(size=(rows, 3))


def _leaves(grads):
    return [g for pair in grads for g in pair]


@pytest.mark.parametrize("batch", [None, {"X": 0, "y": 0}])
def test_an_mlp_keeps_its_temporaries_and_hands_out_fresh_results(batch, monkeypatch):
    params, X, y = _mlp_args(200)
    kwargs = {} if batch is None else {"batch": batch}
    c = symgrad.compile(_mlp, params, X, y, **kwargs)
    plain = _compile(_mlp, [params, X, y], False, monkeypatch, **kwargs)
    assert "_buffers(" not in plain.source
    assert "_buffers(" in c.source and "out=buffer" in c.source
    v1, g1 = c.value_and_grad(params, X, y)
    saved = [g.copy() for g in _leaves(g1)]
    params2, X2, y2 = _mlp_args(200, seed=1)
    v2, g2 = c.value_and_grad(params2, X2, y2)
    # Call 2 left call 1's results alone, and no result shares memory with
    # another, with an argument or with anything call 2 returned.
    assert all(np.array_equal(a, b) for a, b in zip(_leaves(g1), saved, strict=True))
    everything = _leaves(g1) + _leaves(g2)
    for i, a in enumerate(everything):
        for b in everything[i + 1 :] + [X, y, X2, y2]:
            assert not np.shares_memory(a, b)
    want = plain.value_and_grad(params2, X2, y2)
    assert v2 == want[0]
    for a, b in zip(_leaves(g2), _leaves(want[1]), strict=True):
        assert np.array_equal(a, b)


def test_buffers_are_reused_per_thread_bounded_and_released():
    params, X, y = _mlp_args(300)
    c = symgrad.compile(_mlp, params, X, y, batch={"X": 0, "y": 0})
    module = c.module
    c.value_and_grad(params, X, y)
    store = module._BUFFERS.store
    first = {k: [id(a) for a in v] for k, v in store.items()}
    c.value_and_grad(params, X, y)
    assert {k: [id(a) for a in v] for k, v in store.items()} == first  # reused
    # Ten batch sizes: each function keeps its last few shape sets only.
    for rows in range(10, 20):
        p, Xr, yr = _mlp_args(rows)
        c.value_and_grad(p, Xr, yr)
    per_function: dict = {}
    for key in store:
        per_function[key[0]] = per_function.get(key[0], 0) + 1
    assert per_function and max(per_function.values()) <= module._KEEP
    c.release()
    assert len(store) == 0
    want = symgrad.compile(_mlp, params, X, y).value_and_grad(params, X, y)
    got = c.value_and_grad(params, X, y)  # buffers made again
    assert got[0] == want[0]


def test_eight_threads_calling_one_module_get_one_threads_results():
    c = symgrad.compile(_mlp, *_mlp_args(400), batch={"X": 0, "y": 0})
    inputs = [_mlp_args(400 - 7 * k, seed=k) for k in range(8)]
    alone = [c.value_and_grad(*a) for a in inputs]
    results: dict = {}
    start = threading.Barrier(8)

    def work(k):
        start.wait()
        for _ in range(5):
            results[k] = c.value_and_grad(*inputs[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(8):
        assert results[k][0] == alone[k][0]
        for a, b in zip(_leaves(results[k][1]), _leaves(alone[k][1]), strict=True):
            assert np.array_equal(a, b)
    # Each thread made its own buffers; the module saw all of them.
    assert len(c.module._STORES) >= 1


@pytest.mark.parametrize(
    "shape", [(50, 16, 8, 32), (5, 3, 7, 2), (4, 1, 300, 3), (3, 257, 129, 65)]
)
def test_numpy_multiplies_a_stack_matrix_by_matrix(shape):
    """What `passes.batch` relies on to keep forward values bit for bit:
    `(X @ W)[t]` is `X[t] @ W` exactly, W C- or F-ordered."""
    T, B, D, H = shape
    rng = np.random.default_rng(0)
    X = rng.normal(size=(T, B, D))
    for W in (rng.normal(size=(D, H)), rng.normal(size=(H, D)).T):
        full = X @ W
        for t in range(T):
            assert _bits(full[t], X[t] @ W)


def test_a_loops_per_step_gradients_are_written_into_one_block(monkeypatch):
    """The gradient of a weight used at every step is one product over the
    joined rows of all steps; each step's gradient is computed straight into
    its rows of that join's buffer, so joining copies nothing."""

    def rnn(W, U, b, xs):
        h = np.zeros((xs.shape[1], U.shape[0]))
        for x in xs:
            h = np.tanh(x @ W + h @ U + b)
        return np.mean(h**2)

    rng = np.random.default_rng(5)
    args = [
        rng.normal(size=(8, 32)) / 3,
        rng.normal(size=(32, 32)) / 6,
        rng.normal(size=32),
        rng.normal(size=(12, 64, 8)),
    ]
    argnums = (0, 1, 2)
    c = symgrad.compile(rnn, *args, argnums=argnums)
    plain = _compile(rnn, args, False, monkeypatch, argnums=argnums)
    grad_part = c.source.split("def value_and_grad")[1]
    assert "out=buffer" in grad_part
    assert grad_part.count("np.concatenate(") < plain.source.split(
        "def value_and_grad"
    )[1].count("np.concatenate(")
    assert "[704:768])" in grad_part  # step 11's rows of the 768-row join
    (v1, g1), (v2, g2) = c.value_and_grad(*args), plain.value_and_grad(*args)
    assert v1 == v2
    for a, b in zip(g1, g2, strict=True):
        assert np.array_equal(a, b)


def _loop(W, X):
    h = X @ W
    i = 0
    while np.sum(h * h) < 50.0 and i < 20:
        h = np.tanh(h @ W.T @ W + 0.5) * 1.7 + h
        i += 1
    return np.sum(h**2)


def _branch(W, X):
    h = np.tanh(X @ W)
    if np.mean(h) > 0:
        g = h * h + X @ W
    else:
        g = np.exp(-h) * 2.0
    return np.sum(g @ W.T) + np.sum(h)


def _branch_in_loop(W, X):
    acc = X @ W
    for k in range(3):
        if np.max(acc) > k:
            acc = np.sin(acc) + acc @ (W.T @ W)
        else:
            acc = acc * 0.5
    return np.sum(acc * acc)


@pytest.mark.parametrize("fn", [_loop, _branch, _branch_in_loop])
def test_slots_around_branches_and_loops_change_no_bit(fn, monkeypatch):
    """Arrays read by a loop's body or a branch, and the values stacked for
    the gradient of a loop, live next to slots: same bits as without them."""
    rng = np.random.default_rng(1)
    for _ in range(3):
        W, X = rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(6, 4))
        slotted = _compile(fn, [W, X], True, monkeypatch, argnums=(0, 1))
        plain = _compile(fn, [W, X], False, monkeypatch, argnums=(0, 1))
        assert "_buffers(" in slotted.source
        for args in ([W, X], [W * 1.1, X]):  # a second call reuses the slots
            _same_results(_run(slotted, args), _run(plain, args))
