"""Symbolic sizes: dimensions, batch=/shapes=, the checks generated modules
make, and trainers for any amount of data (issue #14).

The op table's rows run with a symbolic first axis in tests/test_ops.py
(`test_symbolic_leading_axis`); this file covers the rest: `symgrad.ir.dims`,
argument specs and their errors, entry checks on both targets, sizes as
values in generated code, the cache of `grad`, and the moons trainer
compiled from 100 rows trained on 150 and 1,000 rows and predicting a
10,000-point grid, against a hand-written NumPy reference.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest

import symgrad
from symgrad import api
from symgrad.errors import ArgumentError, ShapeError, TraceError
from symgrad.ir import dims

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import moons  # noqa: E402

sys.path.pop(0)
TARGETS = ("numpy", "python")


# ------------------------------------------------------------------ dims


def test_dimension_arithmetic_and_source():
    n, m = dims.symbol("n"), dims.symbol("m")
    assert repr(2 * n + 1) == "2 * n + 1"
    assert dims.source(n) == "n" and dims.source(7) == "7"
    assert dims.source(2 * n) == "(2 * n)" and dims.source(n * m) == "(m * n)"
    assert (6 * n * m + 2 * n) // (2 * n) == 3 * m + 1
    assert (n + 1) - n == 1 and isinstance((n + 1) - n, int)
    assert dims.evaluate(n * m - 3, {"n": 4, "m": 5}) == 17
    assert dims.known_ge(n + 2, 3) and not dims.known_ge(n, 3)
    assert dims.is_symbol(n) and not dims.is_symbol(2 * n)
    with pytest.raises(ShapeError, match="cannot divide"):
        (n + 1) // n
    with pytest.raises(ShapeError, match="is symbolic"):
        range(n)
    with pytest.raises(ShapeError, match="cannot compare"):
        n < 3  # noqa: B015


def test_shape_specs():
    n = dims.symbol("n")
    assert dims.parse_spec("n, 2") == (n, 2)
    assert dims.parse_spec("(n,)") == (n,)
    assert dims.parse_spec("") == ()
    with pytest.raises(ShapeError, match="is neither a size"):
        dims.parse_spec("n, 2.5")


# ------------------------------------------------------------------ API


def linear(w, X, y):
    r = X @ w - y
    return (r * r).mean() + 0.1 * (w * w).sum() / len(X)


def _data(n, rng):
    return rng.normal(size=(n, 3)), rng.normal(size=n)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "spec",
    [dict(batch={"X": 0, "y": 0}), dict(shapes={"X": "n, 3", "y": "n"})],
    ids=["batch", "shapes"],
)
def test_one_module_for_every_size(spec, target):
    rng = np.random.default_rng(0)
    w = rng.normal(size=3)
    compiled = symgrad.compile(linear, w, *_data(10, rng), target=target, **spec)
    assert re.search(r"\b10\b", compiled.source) is None
    for n in (1, 10, 33):
        X, y = _data(n, rng)
        value, grad = compiled.value_and_grad(w, X, y)
        fixed = symgrad.compile(linear, w, X, y, target=target)
        want_value, want_grad = fixed.value_and_grad(w, X, y)
        assert value == pytest.approx(want_value, rel=1e-13)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-12)


def test_grad_compiles_once_for_all_sizes():
    rng = np.random.default_rng(1)
    w = rng.normal(size=3)
    per_shape = symgrad.grad(linear)
    every_size = symgrad.grad(linear, batch={"X": 0, "y": 0}, cache_size=4)
    for n in (5, 6, 7):
        X, y = _data(n, rng)
        np.testing.assert_allclose(every_size(w, X, y), per_shape(w, X, y), rtol=1e-12)
    assert len(every_size._cache) == 1  # the key holds n, not the size
    with pytest.raises(ValueError, match="X has 7 rows but y has 6"):
        every_size(w, X, y[:-1])
    assert len(per_shape._cache) == 3  # JAX's default: one per shape
    assert "n = X.shape[0]" in every_size.source


@pytest.mark.parametrize("target", TARGETS)
def test_arguments_sharing_a_size_must_agree(target):
    rng = np.random.default_rng(2)
    w = rng.normal(size=3)
    compiled = symgrad.compile(linear, w, *_data(8, rng), batch={"X": 0, "y": 0})
    compiled = symgrad.compile(
        linear, w, *_data(8, rng), batch={"X": 0, "y": 0}, target=target
    )
    X, y = _data(150, rng)
    with pytest.raises(ValueError, match=r"^X has 150 rows but y has 149$"):
        compiled.value_and_grad(w, X, y[:-1])
    # A non-batch axis of the wrong size: the usual shape error.
    wrong = "got \\(150, 2\\)" if target == "numpy" else "got lengths \\[2\\] at axis 1"
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\), " + wrong):
        compiled.value_and_grad(w, X[:, :2], y)
    with pytest.raises(ValueError, match=r"w must have shape \(3,\)"):
        compiled.value_and_grad(w[:2], X, y)


def test_two_symbols_and_other_axes():
    def f(A, B):
        return np.sin(A @ B).sum() / (A.shape[0] * B.shape[1])

    rng = np.random.default_rng(3)
    compiled = symgrad.compile(
        f,
        rng.normal(size=(4, 3)),
        rng.normal(size=(3, 5)),
        argnums=(0, 1),
        shapes={0: "n, k", 1: "k, m"},
    )
    assert "np.zeros" not in compiled.source
    A, B = rng.normal(size=(6, 2)), rng.normal(size=(2, 9))
    value, (gA, gB) = compiled.value_and_grad(A, B)
    assert value == pytest.approx(f(A, B), rel=1e-13)
    assert gA.shape == (6, 2) and gB.shape == (2, 9)
    with pytest.raises(ValueError, match="A has 2 entries along axis 1 but B has 3"):
        compiled.value_and_grad(A, rng.normal(size=(3, 9)))


def test_a_parameter_named_like_the_size():
    def f(n, X):
        return (X * n).sum()

    compiled = symgrad.compile(f, 2.0, np.ones((4, 2)), batch={"X": 0}, argnums=1)
    assert compiled.value_and_grad(3.0, np.ones((7, 2)))[0] == 42.0
    assert "n_1" in compiled.source  # the parameter gave way to the size


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch={"Z": 0}), "names 'Z', which is not an argument"),
        (dict(batch={"X": 2}), "batch= axis 2 of X, which has 2 axes"),
        (dict(shapes={"X": "n, 4"}), r"the shape \(n, 4\), but the argument has"),
        (dict(shapes={"X": "n"}), r"the shape \(n,\), but the argument has"),
        (dict(shapes={"X": "n, 3", "y": "n"}, batch={"X": 0}), "both batch= and"),
        (dict(shapes={"X": "len, 3"}), "cannot name a size"),
        (
            dict(batch={"w": 0, "X": 0}),
            r"w has 3 rows but X has 8 \(both are the size n",
        ),
        (dict(batch=["X"]), "maps argument names to the axis"),
    ],
)
def test_spec_mistakes(kwargs, message):
    rng = np.random.default_rng(4)
    with pytest.raises(ArgumentError, match=message):
        symgrad.compile(linear, rng.normal(size=3), *_data(8, rng), **kwargs)


def test_what_needs_a_concrete_size_says_so():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 3))

    def loop(X):
        return sum(X[i].sum() for i in range(len(X)))

    def rows(X):
        return sum(row.sum() for row in X)

    def split(X):
        return np.split(X, 2)[0].sum()

    for fn, message in (
        (loop, "the size n is symbolic.*vectorized"),
        (rows, "iterating over the rows.*symbolic size n"),
        (split, "np.split into 2 sections of an axis of symbolic length n"),
    ):
        with pytest.raises((ShapeError, TraceError), match=message) as info:
            symgrad.compile(fn, X, batch={"X": 0})
        assert "test_symbolic.py" in str(info.value)  # the user's line


@pytest.mark.parametrize("target", TARGETS)
def test_sizes_are_computed_when_the_code_runs(target):
    def f(X):
        n = len(X)
        grid = np.arange(n)[:, None] * np.ones((n, 2))
        return (X * grid).sum() / n + np.eye(X.shape[0]).sum() * X.mean()

    rng = np.random.default_rng(6)
    compiled = symgrad.compile(f, rng.normal(size=(4, 2)), batch={0: 0}, target=target)
    for rows in (1, 9):
        X = rng.normal(size=(rows, 2))
        assert compiled.forward(X) == pytest.approx(f(X), rel=1e-12), compiled.source


# ------------------------------------------------------------------ the moons trainer


def _reference(params, X, y):
    """micrograd's loss and its gradient, derived by hand in NumPy."""
    hs, zs, h = [X], [], X
    for i, (W, b) in enumerate(params):
        z = h @ W.T + b
        zs.append(z)
        h = np.maximum(z, 0.0) if i < len(params) - 1 else z
        hs.append(h)
    margin = 1 - y * h[:, 0]
    loss = np.maximum(margin, 0.0).sum() * (1.0 / len(X))
    loss += 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in params)
    dh = (-y * (margin > 0) * (1.0 / len(X)))[:, None]
    grads = []
    for i in reversed(range(len(params))):
        W, b = params[i]
        dz = dh if i == len(params) - 1 else dh * (zs[i] > 0)
        grads.insert(0, (dz.T @ hs[i] + 2e-4 * W, dz.sum(0) + 2e-4 * b))
        dh = dz @ W
    return loss, grads


def _reference_train(params, X, y, steps, lr, batches):
    params = [(W.copy(), b.copy()) for W, b in params]
    losses = []
    for k in range(steps):
        picked = next(batches)
        Xb, yb = (X, y) if picked is None else (X[picked], y[picked])
        loss, grads = _reference(params, Xb, yb)
        losses.append(loss)
        rate = lr * (1.0 - 0.9 * k / steps)
        params = [
            (W - rate * gW, b - rate * gb)
            for (W, b), (gW, gb) in zip(params, grads, strict=True)
        ]
    return params, losses


def _epochs(n, size, seed, shuffle=True):
    """The batch order the trainers document, written out again."""
    rng = random.Random(seed)
    while True:
        order = list(range(n))
        if shuffle:
            rng.shuffle(order)
        for start in range(0, n, size):
            yield order[start : start + size]


def _load(source, name, tmp_path):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trainers(tmp_path_factory):
    params, X, y = moons.example()
    assert len(X) == 100
    folder = tmp_path_factory.mktemp("trainers")
    out = {}
    for target in TARGETS:
        source = api.trainer_source(
            moons.loss, moons.scores, (params, X, y), "sgd", target
        )
        out[target] = (source, _load(source, f"moons_{target}", folder))
    return out


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), b, rtol=1e-12, atol=1e-15)


def _assert_params(ours, want):
    for (W, b), (rW, rb) in zip(ours, want, strict=True):
        _close(W, rW)
        _close(b, rb)


@pytest.mark.parametrize("target", TARGETS)
def test_moons_trainer_takes_any_number_of_rows(trainers, target):
    _, trainer = trainers[target]
    params, _, _ = moons.example()
    rng = np.random.default_rng(7)
    for rows, steps in ((150, 20), (1000, 3)):
        X, y = moons.make_moons(rows, noise=0.1)
        y = y * 2.0 - 1
        trained, history = trainer.train(params, X, y, steps)
        want, losses = _reference_train(params, X, y, steps, 1.0, iter(lambda: None, 0))
        _assert_params(trained, want)
        _close([loss for _, loss, _ in history], losses)
    grid = rng.uniform(-2, 3, size=(10_000, 2))
    scores = trainer.predict(trained, grid)
    h = grid
    for i, (W, b) in enumerate(want):
        h = h @ W.T + b
        h = np.maximum(h, 0.0) if i < len(want) - 1 else h
    _close(scores, h[:, 0])


@pytest.mark.parametrize("target", TARGETS)
def test_minibatches_follow_the_documented_order(trainers, target):
    _, trainer = trainers[target]
    params, X, y = moons.example()
    for size, seed, shuffle in ((32, 3, True), (40, 0, False)):
        trained, history = trainer.train(
            params, X, y, 9, 0.5, batch_size=size, shuffle=shuffle, seed=seed
        )
        batches = _epochs(len(X), size, seed, shuffle)
        want, losses = _reference_train(params, X, y, 9, 0.5, batches)
        _assert_params(trained, want)
        _close([loss for _, loss, _ in history], losses)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        trainer.train(params, X, y, 1, batch_size=0)
    with pytest.raises(ValueError, match="X has 100 rows but y has 99"):
        trainer.train(params, X, y[:-1], 1)


def test_no_batch_size_is_written_in_the_module(trainers):
    params, X, y = moons.example()
    odd = np.vstack([X, X[:37]]), np.concatenate([y, y[:37]])
    for target, (source, _) in trainers.items():
        # The compiled functions name the size n; 100 (the example's rows)
        # appears nowhere in them.
        start, end = source.index("def _arguments("), source.index("def _map(")
        assert re.search(r"\b100\b", source[start:end]) is None
        assert "n = X.shape[0]" in source or "n = X_shape[0]" in source
        # Compiled from 137 rows instead, the module is the same, byte for byte.
        again = api.trainer_source(
            moons.loss, moons.scores, (params, *odd), "sgd", target
        )
        assert again == source


def test_trainer_command_line_on_any_csv(tmp_path):
    X, y = moons.make_moons(150, noise=0.1)
    data = tmp_path / "data.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    module = tmp_path / "t.py"
    cli = [sys.executable, "-m", "symgrad", "compile", "examples/moons.py:loss"]
    subprocess.run(cli + ["--trainer", "sgd", "-o", str(module)], check=True, cwd=ROOT)
    run = [sys.executable, str(module)]
    helped = subprocess.run(run + ["--help"], capture_output=True, text=True)
    text = " ".join(helped.stdout.split())
    assert "the 2 features of one sample, then its label" in text
    assert "any number of rows" in text
    assert "--batch-size" in text and "--seed" in text
    out = subprocess.run(
        run + [str(data), "--steps", "4", "--batch-size", "64", "--seed", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(out.stdout.splitlines()) == 4
    wrong = tmp_path / "wrong.csv"
    np.savetxt(wrong, np.column_stack([X, X, y]), delimiter=",")
    failed = subprocess.run(run + [str(wrong)], capture_output=True, text=True)
    assert failed.returncode == 2
    assert f"{wrong}: a row holds 4 feature(s) and a label" in failed.stderr
    assert "the model needs 2 feature(s) per row" in failed.stderr


def test_compile_flags(tmp_path):
    out = tmp_path / "m.py"
    base = [
        sys.executable,
        "-m",
        "symgrad",
        "compile",
        "examples/logistic.py:logistic_loss",
    ]
    for flags in (["--batch", "X:0,y:0"], ["--shapes", "X=n,3;y=n"]):
        subprocess.run(base + flags + ["-o", str(out), "--force"], check=True, cwd=ROOT)
        text = out.read_text()
        assert "n = X.shape[0]" in text and "X has " in text
    bad = subprocess.run(
        base + ["--batch", "Q:0", "-o", str(out), "--force"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and "'Q', which is not an argument" in bad.stderr


def test_export_declares_symbolic_sizes(tmp_path):
    source = tmp_path / "model.py"
    source.write_text(
        "import numpy as np\n"
        "import symgrad\n\n\n"
        "@symgrad.export(\n"
        "    example=(np.ones(2), np.ones((5, 2))), shapes={'X': 'rows, 2'}\n"
        ")\n"
        "def f(w, X):\n"
        "    return np.tanh(X @ w).mean()\n"
    )
    out = tmp_path / "f_grad.py"
    subprocess.run(
        [sys.executable, "-m", "symgrad", "compile", f"{source}:f", "-o", str(out)],
        check=True,
        cwd=ROOT,
    )
    text = out.read_text()
    assert "rows = X.shape[0]" in text and "/ rows" in text


def test_benchmark_figure_runs():
    # The figure itself is measured by `python -m symgrad.bench.dynamic`;
    # here only its shape (no timing is asserted).
    from symgrad.bench import dynamic

    result = dynamic.run(quick=True)
    assert {row["target"] for row in result["rows"]} == set(TARGETS)
    assert all(row["ratio"] > 0 for row in result["rows"])
    assert "dynamic" in dynamic.table(result)


@pytest.mark.parametrize("target", TARGETS)
def test_writes_through_index_arrays_of_any_length(target):
    def f(x, i, v):
        y = x * 1.0
        y[i] = v * 2.0  # repeated indices: the last write wins, as in NumPy
        return (y * y).sum()

    rng = np.random.default_rng(8)
    sizes = dict(shapes={"x": "n, 3", "i": "m", "v": "m, 3"})
    x, v = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    compiled = symgrad.compile(f, x, np.array([0, 2, 0]), v, target=target, **sizes)
    x, i, v = rng.normal(size=(6, 3)), np.array([5, 1, 5, 0]), rng.normal(size=(4, 3))
    value, grad = compiled.value_and_grad(x, i, v)
    fixed = symgrad.compile(f, x, i, v, target=target).value_and_grad(x, i, v)
    assert value == fixed[0]
    np.testing.assert_array_equal(grad, fixed[1])
