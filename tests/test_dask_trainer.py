"""Generated trainers on a Dask cluster (`train(..., client=)`, `--dask`): the
same steps as in one process, full batch and minibatches, refusals, CSV and
Parquet globs, a dataset larger than a worker's memory limit, and a worker
killed mid-run. One local cluster of two worker processes serves the module;
on its workers symgrad cannot be imported. Skipped without dask,
distributed, pandas and pyarrow."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from symgrad import api
from tests.test_codegen import run_isolated

pytest.importorskip("dask.dataframe")
pytest.importorskip("pyarrow")
distributed = pytest.importorskip("distributed")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import moons  # noqa: E402

sys.path.pop(0)
MOONS = os.path.join(ROOT, "generated", "moons_trainer.py")
MEMORY_LIMIT = 400_000_000  # bytes per worker


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Functions run on the workers, defined from text outside any importable
# module so that Dask sends them by value: a reference to this test module
# would make the workers import it, and symgrad with it.
_ON_WORKERS = """
import os
import sys


def block_symgrad():
    # From now on importing symgrad fails here; was it imported already?
    import importlib.abc

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "symgrad":
                raise ImportError("blocked on this worker: " + name)

    sys.meta_path.insert(0, Block())
    return "symgrad" in sys.modules


def peak_and_pid():
    # This worker's process id and the most memory it ever held, in bytes.
    import resource

    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""
ON_WORKERS = {"__name__": "dask_test_on_workers"}
exec(compile(_ON_WORKERS, "<test_dask_trainer workers>", "exec"), ON_WORKERS)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit=MEMORY_LIMIT,
        dashboard_address=None,
    )
    c = distributed.Client(cluster)
    try:
        assert not any(c.run(ON_WORKERS["block_symgrad"]).values())
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def trainer():
    return _load(MOONS, "moons_trainer_on_dask")


def _leaves(trainer, params):
    return [np.asarray(x, dtype=np.float64) for x in trainer._leaves(params)]


def _same(trainer, got, want, tol):
    for g, w in zip(_leaves(trainer, got), _leaves(trainer, want), strict=True):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def _moons(rows=1000, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 2))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=rows) > 0, 1.0, -1.0)
    return X, y


def _dask(X, y, rows_per_block):
    import dask.array as da

    return (
        da.from_array(X, chunks=(rows_per_block, X.shape[1])),
        da.from_array(y, chunks=rows_per_block),
    )


# ------------------------------------------------------------------ steps


def test_the_module_records_the_verdict(trainer):
    assert (trainer.ROWS_SPLIT, trainer.ROWS_PARAM_TERM) == ("mean", True)


def test_twenty_full_batch_steps_equal_one_process(client, trainer):
    X, y = _moons()
    params = trainer.initial_params()
    want, want_history = trainer.train(params, X, y, 20)
    Xd, yd = _dask(X, y, 300)  # blocks of 300, 300, 300, 100 rows
    got, history = trainer.train(params, Xd, yd, 20, client=client)
    _same(trainer, got, want, 1e-10)
    for (k, loss, acc), (k0, loss0, acc0) in zip(history, want_history, strict=True):
        assert k == k0 and acc == acc0
        assert loss == pytest.approx(loss0, rel=1e-12)


def test_minibatches_equal_one_process(client, trainer):
    X, y = _moons()
    params = trainer.initial_params()
    want, want_history = trainer.train(params, X, y, 12, batch_size=96, seed=5)
    got, history = trainer.train(
        params, *_dask(X, y, 250), 12, batch_size=96, seed=5, client=client
    )
    _same(trainer, got, want, 1e-10)
    assert [h[2] for h in history] == [h[2] for h in want_history]


def sum_loss(params, X, y):
    margins = y * (X @ params["w"] + params["b"])
    return np.sum(np.logaddexp(0.0, -margins)) + 0.5 * np.sum(params["w"] ** 2)


def standardized_loss(params, X, y):
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.mean(np.logaddexp(0.0, -y * (Z @ params["w"] + params["b"])))


def linear(params, X):
    return X @ params["w"] + params["b"]


def _write_trainer(tmp_path, loss, name, optimizer="sgd", features=2):
    params = {"w": np.full(features, 0.1), "b": 0.0}
    X, y = _moons(8)
    if features != 2:
        X = np.random.default_rng(0).normal(size=(8, features))
    source = api.trainer_source(loss, linear, (params, X, y), optimizer)
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return _load(str(path), name)


def test_a_sum_with_a_parameter_term_counts_it_once(client, tmp_path):
    trainer = _write_trainer(tmp_path, sum_loss, "sum_trainer", "adam")
    assert (trainer.ROWS_SPLIT, trainer.ROWS_PARAM_TERM) == ("sum", True)
    X, y = _moons()
    params = trainer.initial_params()
    want, _ = trainer.train(params, X, y, 10, lr=0.01)
    got, _ = trainer.train(params, *_dask(X, y, 170), 10, lr=0.01, client=client)
    _same(trainer, got, want, 1e-10)


def _line(fun, text):
    lines, first = inspect.getsourcelines(fun)
    k = next(i for i, line in enumerate(lines) if text in line)
    return f"test_dask_trainer.py:{first + k}"


def test_a_loss_mixing_rows_is_refused_full_batch_and_trains_on_minibatches(
    client, tmp_path
):
    trainer = _write_trainer(tmp_path, standardized_loss, "mixing_trainer")
    assert trainer.ROWS_SPLIT is None
    assert trainer.ROWS_MIXED.startswith(_line(standardized_loss, "X.mean(axis=0)"))
    X, y = _moons()
    Xd, yd = _dask(X, y, 300)
    params = trainer.initial_params()
    with pytest.raises(ValueError) as info:
        trainer.train(params, Xd, yd, 3, client=client)
    assert "full-batch training on Dask" in str(info.value)
    assert _line(standardized_loss, "X.mean(axis=0)") in str(info.value)
    # Each minibatch is one block on one worker: exact for any loss.
    want, _ = trainer.train(params, X, y, 5, batch_size=200)
    got, _ = trainer.train(params, Xd, yd, 5, batch_size=200, client=client)
    _same(trainer, got, want, 1e-10)


def test_the_python_target_refuses_a_client(tmp_path):
    params, X, y = moons.example()
    source = api.trainer_source(
        moons.loss, moons.scores, (params, X, y), "sgd", "python"
    )
    path = tmp_path / "pure.py"
    path.write_text(source, encoding="utf-8")
    pure = _load(str(path), "pure")
    assert pure.ROWS_SPLIT == "mean"
    with pytest.raises(ValueError, match="pure Python and Dask needs NumPy"):
        pure.train(pure.initial_params(), X, y, 1, client=object())
    out = subprocess.run(
        [sys.executable, str(path), "data.csv", "--dask", "local"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and "Dask needs NumPy" in out.stderr


# ------------------------------------------------------------------ files


def _write_csvs(folder, X, y, parts, header=False):
    for i, rows in enumerate(np.array_split(np.arange(len(X)), parts)):
        labels = (y[rows] + 1) / 2  # 0/1 labels, read as -1/+1
        text = "a,b,label\n" if header else ""
        text += "".join(
            f"{float(X[r, 0])!r},{float(X[r, 1])!r},{float(labels[j])!r}\n"
            for j, r in enumerate(rows)
        )
        (folder / f"part-{i}.csv").write_text(text)


def test_command_line_on_a_csv_glob_without_symgrad(client, tmp_path):
    X, y = _moons(600)
    _write_csvs(tmp_path, X, y, 3, header=True)
    saved = tmp_path / "params.json"
    address = client.scheduler.address
    out = run_isolated(
        MOONS,
        f"""
        import moons_trainer
        moons_trainer.main([{str(tmp_path / "part-*.csv")!r}, "--steps", "5",
                            "--dask", {address!r}, "--save", {str(saved)!r}])
        """,
    )
    trainer = _load(MOONS, "moons_trainer_check")
    want, history = trainer.train(trainer.initial_params(), X, y, 5)
    lines = out.splitlines()
    assert len(lines) == 6 and lines[-1].startswith("saved the trained parameters")
    for line, (k, loss, _) in zip(lines, history, strict=False):
        assert line.startswith(f"step {k} loss ")
        assert float(line.split()[3].rstrip(",")) == pytest.approx(loss, rel=1e-12)
    _same(trainer, trainer.load_params(str(saved)), want, 1e-10)


def test_command_line_errors(client, tmp_path):
    address = client.scheduler.address

    def run(*argv):
        return subprocess.run(
            [sys.executable, MOONS, *argv, "--dask", address],
            capture_output=True,
            text=True,
            check=False,
        )

    out = run(str(tmp_path / "none-*.csv"))
    assert out.returncode == 2 and "no file matches" in out.stderr
    (tmp_path / "bad.csv").write_text("1.0,2.0,5.0\n")
    out = run(str(tmp_path / "bad.csv"))
    assert out.returncode == 2 and "label is not -1/+1" in out.stderr


def test_load_dask_reads_csv_like_one_file(client, trainer, tmp_path):
    # A byte order mark, no header, -1/+1 labels, blank lines: as load_csv.
    (tmp_path / "a.csv").write_bytes(b"\xef\xbb\xbf0.5,1.5,1\n\n-2,3,-1\n")
    (tmp_path / "b.csv").write_text("4,5.25,1\n")
    X, y = trainer.load_dask(str(tmp_path / "*.csv"))
    want_X, want_y = trainer.load_csv(str(tmp_path / "a.csv"))
    np.testing.assert_array_equal(X.compute()[:2], want_X)
    np.testing.assert_array_equal(y.compute(), [1.0, -1.0, 1.0])
    assert want_y.tolist() == [1.0, -1.0]


def _write_parquet(folder, files, rows_per_file, features):
    import pandas as pd

    rng = np.random.default_rng(11)
    w = rng.normal(size=features)
    for i in range(files):
        X = rng.normal(size=(rows_per_file, features))
        y = np.where(X @ w + 0.5 * rng.normal(size=rows_per_file) > 0, 1.0, -1.0)
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(features)])
        frame["label"] = y
        frame.to_parquet(folder / f"part-{i:03d}.parquet")
    return files * rows_per_file * (features + 1) * 8


def test_parquet_larger_than_a_workers_memory_trains_within_it(client, tmp_path):
    features = 9
    trainer = _write_trainer(tmp_path, sum_loss, "big_trainer", "adam", features)
    data = tmp_path / "data"
    data.mkdir()
    size = _write_parquet(data, 40, 130_000, features)
    assert size > MEMORY_LIMIT * 1.03  # bigger than one worker may hold
    before = client.run(ON_WORKERS["peak_and_pid"])
    X, y = trainer.load_dask(str(data / "*.parquet"))
    assert X.shape == (40 * 130_000, features)
    start = trainer.initial_params()
    params, history = trainer.train(start, X, y, 1, lr=0.01, client=client)
    assert len(history) == 1 and np.isfinite(history[0][1])
    assert not np.allclose(params["w"], start["w"])
    after = client.run(ON_WORKERS["peak_and_pid"])
    assert sorted(before) == sorted(after)  # no worker was restarted
    for address, (pid, peak) in after.items():
        assert pid == before[address][0]
        assert peak < MEMORY_LIMIT, (address, peak)


# ------------------------------------------------------------------ faults


def test_a_killed_worker_leaves_a_loadable_parameter_file(client, trainer, tmp_path):
    X, y = _moons(2000)
    Xd, yd = _dask(X, y, 250)
    params = trainer.initial_params()
    want, _ = trainer.train(params, X, y, 8)
    killed = []

    def kill_a_worker(k, loss, acc):
        if k == 3:
            pid = sorted(client.run(os.getpid).values())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    got, history = trainer.train(
        params, Xd, yd, 8, callback=kill_a_worker, client=client
    )
    assert killed and len(history) == 8
    path = tmp_path / "params.json"
    trainer.save_params(got, str(path))
    assert json.loads(path.read_text())["format"] == "symgrad-params/1"
    _same(trainer, trainer.load_params(str(path)), want, 1e-10)


class _FailingClient:
    """A client whose every computation loses its worker."""

    def __init__(self, client):
        self.client = client
        self.computed = 0

    def scatter(self, *args, **kwargs):
        return self.client.scatter(*args, **kwargs)

    def compute(self, *args, **kwargs):
        self.computed += 1
        raise distributed.comm.CommClosedError("the worker went away")


def test_a_step_failing_three_times_stops_with_the_step(client, trainer):
    X, y = _moons(300)
    failing = _FailingClient(client)
    with pytest.raises(OSError, match="step 0: the Dask cluster failed three times"):
        trainer.train(trainer.initial_params(), *_dask(X, y, 100), 3, client=failing)
    assert failing.computed == 3


# ------------------------------------------------------------------ bench


def test_bench_reports_rows_per_second_against_the_in_process_trainer():
    from symgrad.bench import dask_rows

    result = dask_rows.run(quick=True, progress=lambda _: None, rows=20_000)
    names = [r["name"] for r in result["runs"]]
    assert names == ["in-process trainer", "Dask, 1 worker", "Dask, 2 workers"]
    first = result["runs"][0]
    assert first["ratio"] == 1.0
    for r in result["runs"]:
        assert r["rows_per_s"] == pytest.approx(20_000 / r["seconds_per_step"])
        assert r["ratio"] == pytest.approx(
            first["seconds_per_step"] / r["seconds_per_step"]
        )
    text = dask_rows.table(result)
    assert "20,000 rows x 16 features" in text and "Dask, 2 workers" in text


def test_numpy_data_with_a_client_is_sent_once_and_trains_the_same(client, trainer):
    X, y = _moons(500)
    params = trainer.initial_params()
    want, _ = trainer.train(params, X, y, 5)
    got, _ = trainer.train(params, X, y, 5, client=client)
    _same(trainer, got, want, 1e-10)
