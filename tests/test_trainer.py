"""Generated trainers: micrograd's trajectory, parameter files, the CSV command
line, other optimizers, all without symgrad importable."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import sys

import numpy as np
import pytest

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
    lines = out.splitlines()
    assert len(lines) == 100
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
