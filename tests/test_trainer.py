"""Generated trainers: micrograd's trajectory, parameter files, the CSV command
line, other optimizers, all without symgrad importable."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest

import symgrad
from symgrad import api
from tests.test_codegen import BLOCKED, run_isolated

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import moons  # noqa: E402

sys.path.pop(0)
MICROGRAD_STEP0 = 0.8958441028683222
MICROGRAD_STEP99 = 0.010978370135492717


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trainer():
    return _load(os.path.join(ROOT, "generated", "moons_trainer.py"), "moons_trainer")


def test_reproduces_micrograds_trajectory(trainer):
    params, X, y = moons.example()
    _, history = trainer.train(params, X, y, 100)
    assert history[0][1] == pytest.approx(MICROGRAD_STEP0, rel=1e-9)
    assert history[99][1] == pytest.approx(MICROGRAD_STEP99, rel=1e-9)
    assert history[99][2] == 1.0


def test_csv_command_line_without_symgrad(tmp_path):
    _, X, y = moons.example()
    data = tmp_path / "moons.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    saved = tmp_path / "params.json"
    out = run_isolated(
        os.path.join(ROOT, "generated", "moons_trainer.py"),
        f"""
        import moons_trainer
        moons_trainer.main([{str(data)!r}, "--save", {str(saved)!r}])
        """,
    )
    *lines, confirmation = out.splitlines()
    assert len(lines) == 100
    assert confirmation == f"saved the trained parameters to {saved}"
    first = float(lines[0].split()[3].rstrip(","))
    last = float(lines[-1].split()[3].rstrip(","))
    assert first == pytest.approx(MICROGRAD_STEP0, rel=1e-9)
    assert last == pytest.approx(MICROGRAD_STEP99, rel=1e-9)
    assert lines[-1].endswith("accuracy 100.0%")
    records = json.loads(saved.read_text())
    assert records["format"] == "symgrad-params/1"
    assert [r["shape"] for r in records["leaves"]][:2] == [[16, 2], [16]]
    assert records["leaves"][0]["name"] == "params[0][0]"


def test_python_target_trainer_without_numpy(tmp_path):
    _, X, y = moons.example()
    data = tmp_path / "moons.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    out = run_isolated(
        os.path.join(ROOT, "generated", "moons_trainer_python.py"),
        f"""
        import moons_trainer_python as m
        m.main([{str(data)!r}, "--steps", "3"])
        """,
        blocked=BLOCKED + ("numpy",),
    )
    lines = out.splitlines()
    assert len(lines) == 3
    assert float(lines[0].split()[3].rstrip(",")) == pytest.approx(
        MICROGRAD_STEP0, rel=1e-9
    )


def test_params_round_trip(trainer, tmp_path):
    params, _, _ = moons.example()
    trainer.save_params(params, tmp_path / "p.json")
    back = trainer.load_params(tmp_path / "p.json")
    for (W, b), (W2, b2) in zip(params, back, strict=True):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_other_optimizers_learn(optimizer, tmp_path):
    params, X, y = moons.example()
    source = api.trainer_source(moons.loss, moons.scores, (params, X, y), optimizer)
    path = tmp_path / f"{optimizer}.py"
    path.write_text(source)
    module = _load(path, f"trainer_{optimizer}")
    _, history = module.train(params, X, y, 60)
    assert history[-1][1] < 0.5 * history[0][1]
    assert history[-1][2] >= 0.9


def test_make_moons_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.datasets")
    np.random.seed(1337)
    want_X, want_y = sklearn.make_moons(n_samples=100, noise=0.1)
    np.random.seed(1337)
    X, y = moons.make_moons(n_samples=100, noise=0.1)
    np.testing.assert_array_equal(X, want_X)
    np.testing.assert_array_equal(y, want_y)


def test_first_steps_match_micrograd_itself():
    engine = pytest.importorskip("micrograd.engine")
    nn = pytest.importorskip("micrograd.nn")
    params, X, y = moons.example()
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    for (W, _), layer in zip(params, model.layers, strict=True):
        for row, neuron in zip(W, layer.neurons, strict=True):
            assert [w.data for w in neuron.w] == list(row)
    trainer = _load(os.path.join(ROOT, "generated", "moons_trainer.py"), "mt")
    _, history = trainer.train(params, X, y, 3)
    for k in range(3):
        inputs = [list(map(engine.Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
        total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(
            p * p for p in model.parameters()
        )
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 3) * p.grad
        assert history[k][1] == pytest.approx(total.data, rel=1e-12)


def _tiny_loss(params, X, y):
    scores = X @ params["w"] + params["b"]
    return np.maximum(1.0 - y * scores, 0.0).mean()


def _tiny_predict(params, X):
    return X @ params["w"] + params["b"]


def _tiny(target, n=4):
    X = np.linspace(-1.0, 1.0, 2 * n).reshape(n, 2)
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    params = {"w": np.array([0.5, -0.5]), "b": 0.0}
    source = api.trainer_source(
        _tiny_loss, _tiny_predict, (params, X, y), "sgd", target
    )
    namespace = {}
    exec(compile(source, f"<tiny {target}>", "exec"), namespace)
    return namespace, source


@pytest.mark.parametrize("shape", [(4, 1), (1, 4), (2, 2), ()])
def test_predict_must_give_one_score_per_sample(shape):
    X = np.ones((4, 2))
    y = np.ones(4)
    params = {"w": np.ones(2), "b": 0.0}

    def predict(p, X):
        scores = X @ p["w"] + p["b"]
        return scores.reshape(shape) if shape else scores.sum()

    with pytest.raises(symgrad.ArgumentError, match="one score per sample") as info:
        api.trainer_source(_tiny_loss, predict, (params, X, y), batch=None)
    assert "shape (4,), like y" in str(info.value)
    if shape == (4, 1):
        assert "scores[:, 0]" in str(info.value)


def test_predict_must_give_one_score_per_sample_for_any_rows():
    X, y, params = np.ones((4, 2)), np.ones(4), {"w": np.ones(2), "b": 0.0}

    def predict(p, X):
        return (X @ p["w"] + p["b"])[:, None]

    with pytest.raises(symgrad.ArgumentError, match="one score per sample") as info:
        api.trainer_source(_tiny_loss, predict, (params, X, y))
    assert "shape (n,), like y" in str(info.value)
    assert "scores[:, 0]" in str(info.value)


CSV_CASES = {
    "plain": ("1,2,1\n3,4,-1\n5,6,1\n7,8,-1\n", [1.0, -1.0, 1.0, -1.0]),
    "header and BOM": (
        "\ufeffx1,x2,label\n1,2,1\n3,4,-1\n\n5,6,1\n7,8,-1\n",
        [1.0, -1.0, 1.0, -1.0],
    ),
    "0/1 labels": ("1,2,1\n3,4,0\n5,6,1\n7,8,0\n", [1.0, -1.0, 1.0, -1.0]),
    "ragged": ("1,2,1\n3,4,-1\n5,6\n7,8,-1\n", "line 3 has 2 fields, line 1 has 3"),
    "text": ("1,2,1\n3,x,-1\n5,6,1\n7,8,-1\n", "line 2: 'x' is not a number"),
    "labels": ("1,2,1\n3,4,2\n5,6,1\n7,8,-1\n", "line 2: the label 2.0 is not -1/+1"),
    "mixed labels": (
        "1,2,1\n3,4,0\n5,6,-1\n7,8,1\n",
        "line 3: the label -1.0 is not 0/1",
    ),
    "empty": ("a,b,c\n\n", "no data rows"),
    "one column": ("1\n2\n", "line 1 has one field"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_csv_files_read_the_same_on_both_targets(case, tmp_path):
    text, want = CSV_CASES[case]
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode("utf-8"))
    results = []
    for target in ("numpy", "python"):
        module, _ = _tiny(target)
        if isinstance(want, str):
            with pytest.raises(ValueError) as info:
                module["load_csv"](str(path))
            results.append(str(info.value))
        else:
            X, y = module["load_csv"](str(path))
            assert np.asarray(X).tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
            assert list(np.asarray(y)) == want
            results.append(repr(np.asarray(y).tolist()))
    assert results[0] == results[1]
    if isinstance(want, str):
        assert results[0] == f"{path}: {want}" or results[0].startswith(
            f"{path}: {want}"
        )


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_trainer_command_line_errors_are_one_line(target, tmp_path):
    _, source = _tiny(target)
    module = tmp_path / "tiny_trainer.py"
    module.write_text(source)
    good = tmp_path / "good.csv"
    good.write_text("x1,x2,y\n1,2,1\n3,4,0\n5,6,1\n7,8,0\n")
    cases = [
        ([str(good), "--steps", "2"], 0, "step 1 loss"),
        ([str(tmp_path / "missing.csv")], 2, "No such file"),
        ([str(good), "--params", str(good)], 2, "not a parameter file"),
        ([str(good), "--steps", "-1"], 2, "--steps must be 0 or more"),
    ]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("1,2,1\n3,4\n")
    cases.append(([str(ragged)], 2, "line 2 has 2 fields"))
    wide = tmp_path / "wide.csv"
    wide.write_text("1,2,3,1\n3,4,5,-1\n")
    cases.append(([str(wide)], 2, f"{wide}: a row holds 3 feature(s) and a label"))
    saved = tmp_path / "p.json"
    cases.append(
        (
            [str(good), "--save", str(saved)],
            0,
            f"saved the trained parameters to {saved}",
        )
    )
    few = tmp_path / "few.csv"  # any number of rows is fine
    few.write_text("1,2,1\n3,4,-1\n")
    cases.append(([str(few), "--steps", "1"], 0, "step 0 loss"))
    cases.append(([str(good), "--batch-size", "0"], 2, "--batch-size must be 1"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for argv, code, text in cases:
        out = subprocess.run(
            [sys.executable, str(module), *argv],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert out.returncode == code, (argv, out.stderr)
        shown = out.stdout if code == 0 else out.stderr
        assert text in shown, (argv, shown)
        if code == 0:  # accuracy as a percentage to one decimal
            assert re.search(r"accuracy \d+\.\d%$", shown.splitlines()[0]), shown
        if code:
            assert "Traceback" not in out.stderr
            assert out.stderr.strip().splitlines()[-1].startswith("tiny_trainer.py: ")


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_trainer_docstring_shows_a_usage_line(target):
    _, source = _tiny(target)
    doc = source.split('"""')[1]
    assert "python <this file> data.csv" in doc and "{" not in doc


def test_python_trainer_needs_nothing_newer_than_python_3_8():
    import ast

    path = os.path.join(ROOT, "generated", "moons_trainer_python.py")
    with open(path, encoding="utf-8") as f:
        ast.parse(f.read(), feature_version=(3, 8))
