"""`symgrad bench --dask`: rows per second of a generated trainer's
full-batch steps in one process and on a local Dask cluster of 1 and 2
worker processes.

Contract: `run(quick, progress, rows=None)` returns `{"rows", "features", "steps",
"runs": [{"name", "workers", "seconds_per_step", "rows_per_s", "ratio"}]}`,
`ratio` being rows per second over the in-process trainer's, measured in the
same run; `table(result)` formats it. Needs the dask extra; raises
`peers.Unavailable` without it. Each worker runs one thread, as the
in-process trainer does (the bench's single-thread settings are inherited);
the data is held in the workers' memory (persisted) before timing, so the
figures are compute and coordination, not reading files.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from symgrad import api
from symgrad.bench.peers import Unavailable


def _loss(params, X, y):
    margins = y * (X @ params["w"] + params["b"])
    return np.mean(np.logaddexp(0.0, -margins)) + 1e-4 * np.sum(params["w"] ** 2)


def _scores(params, X):
    return X @ params["w"] + params["b"]


def _problem(quick, rows=None):
    rows, features = rows or (200_000 if quick else 2_000_000), 16
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, features))
    w = rng.normal(size=features)
    y = np.where(X @ w + rng.normal(size=rows) > 0, 1.0, -1.0)
    return X, y


def _load(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_dask_trainer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scattered(client, X, y, count):
    """X and y as Dask arrays of `count` row blocks held by the workers
    (sent once, spread over them; not embedded in a task graph)."""
    import dask.array as da

    bounds = np.linspace(0, len(X), count + 1).astype(int)
    pieces = [(X[a:b], y[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    xs = client.scatter([p[0] for p in pieces])
    ys = client.scatter([p[1] for p in pieces])
    Xd = da.concatenate(
        [
            da.from_delayed(f, shape=p[0].shape, dtype=X.dtype)
            for f, p in zip(xs, pieces, strict=True)
        ]
    )
    yd = da.concatenate(
        [
            da.from_delayed(f, shape=p[1].shape, dtype=y.dtype)
            for f, p in zip(ys, pieces, strict=True)
        ]
    )
    return Xd, yd


def _per_step(train, steps) -> float:
    """Seconds per step: the best of three runs of `steps` steps (after one
    warm-up step), so a busy moment of a shared machine counts least."""
    train(1)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        train(steps)
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def run(quick=False, progress=print, rows=None) -> dict:
    try:
        import dask.array  # noqa: F401 - present, or Unavailable
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise Unavailable(f"pip install 'symgrad[dask]' ({exc})") from None
    X, y = _problem(quick, rows)
    rows, features = X.shape
    steps = 3 if quick else 5
    params = {"w": np.zeros(features), "b": 0.0}
    source = api.trainer_source(_loss, _scores, (params, X[:8], y[:8]), "sgd")
    runs = []
    with tempfile.TemporaryDirectory(prefix="symgrad-bench-dask-") as folder:
        path = os.path.join(folder, "bench_dask_trainer.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        trainer = _load(path)
        start = trainer.initial_params()
        progress(f"dask: in-process trainer, {rows} rows ...")
        here = _per_step(lambda n: trainer.train(start, X, y, n), steps)
        runs.append(_run("in-process trainer", 0, here, rows, here))
        for workers in (1, 2):
            progress(f"dask: {workers} worker process(es) ...")
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
            try:
                client.wait_for_workers(workers)
                Xd, yd = _scattered(client, X, y, 4 * workers)
                seconds = _per_step(
                    lambda n, Xd=Xd, yd=yd, client=client: trainer.train(
                        start, Xd, yd, n, client=client
                    ),
                    steps,
                )
            finally:
                client.close()
                cluster.close()
            name = f"Dask, {workers} worker{'s' if workers > 1 else ''}"
            runs.append(_run(name, workers, seconds, rows, here))
    return {"rows": rows, "features": features, "steps": steps, "runs": runs}


def _run(name, workers, seconds, rows, here) -> dict:
    return {
        "name": name,
        "workers": workers,
        "seconds_per_step": seconds,
        "rows_per_s": rows / seconds,
        "ratio": here / seconds,
    }


def table(result) -> str:
    lines = [
        f"Data beyond one machine: full-batch steps of a logistic regression "
        f"trainer, {result['rows']:,} rows x {result['features']} features",
        "(rows per second; ratio: against the in-process trainer, same run)",
        f"  {'':<22} {'s/step':>9} {'rows/s':>14} {'ratio':>7}",
    ]
    for r in result["runs"]:
        lines.append(
            f"  {r['name']:<22} {r['seconds_per_step']:>9.4f} "
            f"{r['rows_per_s']:>14,.0f} {r['ratio']:>7.2f}"
        )
    return "\n".join(lines) + "\n"
