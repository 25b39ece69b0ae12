"""Compiling from many threads at once: in a fresh process (so black, which is
imported lazily, is not loaded yet), 8 threads released together all compile,
agree with a single-threaded compile, and leave the garbage collector on."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np

import symgrad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import gc, sys, threading
    import numpy as np
    import symgrad
    from symgrad import api

    assert "black" not in sys.modules, "black was imported before compiling"

    def loss(params, X, y):
        # Long names make long lines, which only black can format.
        scores = X @ params["a_rather_long_parameter_name_for_the_weights"]
        scores = scores + params["and_an_equally_long_name_for_the_bias_term"]
        return np.maximum(1.0 - y * scores, 0.0).mean()

    def predict(params, X):
        return X @ params["a_rather_long_parameter_name_for_the_weights"]

    params = {
        "a_rather_long_parameter_name_for_the_weights": np.full(3, 0.5),
        "and_an_equally_long_name_for_the_bias_term": 0.25,
    }
    X = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    y = np.array([1.0, -1.0, 1.0, -1.0])
    barrier = threading.Barrier(8)
    results, errors = {}, []

    def work(i):
        try:
            target = ("numpy", "python")[i % 2]
            barrier.wait()
            if i < 6:
                c = api.compile(loss, params, X, y, target=target)
                results[i] = (target, c.source, c.value_and_grad(params, X, y)[0])
            else:
                results[i] = (target, api.trainer_source(
                    loss, predict, (params, X, y), target=target), None)
        except BaseException as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert "black" in sys.modules
    assert gc.isenabled(), "the garbage collector was left off"
    for target in ("numpy", "python"):
        sources = {results[i][1] for i in range(6) if results[i][0] == target}
        assert len(sources) == 1, "threads produced different modules"
        print(target, repr(sorted({results[i][2] for i in range(6)
                                   if results[i][0] == target})))
    """)


def test_eight_threads_compile_at_once_in_a_fresh_process():
    env = dict(os.environ, PYTHONPATH=ROOT)
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert (
            len(lines) == 2 and lines[0][len("numpy ") :] == lines[1][len("python ") :]
        )


def test_grad_cache_from_threads():
    import threading

    g = symgrad.grad(lambda x: (x * x).sum(), cache_size=2)
    out, errors = [], []

    def work(n):
        try:
            for k in range(5):
                out.append(g(np.ones(n + k % 3)).sum())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(g._cache) <= 2 and len(out) == 20
