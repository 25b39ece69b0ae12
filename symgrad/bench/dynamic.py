"""Dynamic-size modules against fixed-size ones: what a symbolic batch costs.

Contract: `run(quick=False)` returns a JSON-ready dict. For micrograd's
moons MLP (the bench's `peers.loss`, as `loss` here) and each target, one
module compiled with the batch axis symbolic (`batch={"X": 0, "y": 0}`, from
100 rows) and, per batch size, one compiled for exactly that size are timed
on the same value-and-gradient step; `rows` lists `{target, batch, fixed_s, dynamic_s,
ratio}` (ratio = dynamic / fixed; the goal is at most 1.05, the
`goal`). The two modules are timed in alternation, several rounds, and each
keeps its median, so load on a shared machine falls on both alike.
"""

from __future__ import annotations

import statistics

from symgrad import api
from symgrad.bench import peers
from symgrad.bench.timing import median_time
from symgrad.frontend.tracing import relu

GOAL = 1.05
SIZES = {"numpy": (100, 1000, 10_000), "python": (100, 1000)}
QUICK_SIZES = {"numpy": (100,), "python": (100,)}


def loss(params, X, y):
    """`peers.loss`, with `y.shape[0]` for `len(y)`: symgrad reads `len` of
    a symbolic size in the user's code, but this file is library code."""
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = relu(h)
    margins = relu(1 - y * h[:, 0])
    data = margins.sum() * (1.0 / y.shape[0])
    return data + 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in params)


def _step(compiled, target, params, X, y):
    run = compiled.value_and_grad
    if target == "numpy":
        return lambda: run(params, X, y)
    lists = ([(W.tolist(), b.tolist()) for W, b in params], X.tolist(), y.tolist())
    return lambda: run(*lists)


def run(quick: bool = False) -> dict:
    sizes = QUICK_SIZES if quick else SIZES
    rounds = 3 if quick else 7
    rows = []
    for target, batches in sizes.items():
        params, X, y = peers.problem((2, 16, 16, 1), 100)
        dynamic = api.compile(loss, params, X, y, target=target, batch={"X": 0, "y": 0})
        for batch in batches:
            params, X, y = peers.problem((2, 16, 16, 1), batch)
            fixed = api.compile(loss, params, X, y, target=target)
            steps = {
                "fixed": _step(fixed, target, params, X, y),
                "dynamic": _step(dynamic, target, params, X, y),
            }
            times: dict = {"fixed": [], "dynamic": []}
            for _ in range(rounds):
                for name, fn in steps.items():
                    times[name].append(median_time(fn, repeats=3, target=0.02))
            fixed_s = statistics.median(times["fixed"])
            dynamic_s = statistics.median(times["dynamic"])
            rows.append(
                {
                    "target": target,
                    "batch": batch,
                    "fixed_s": fixed_s,
                    "dynamic_s": dynamic_s,
                    "ratio": dynamic_s / fixed_s,
                }
            )
    return {"goal": GOAL, "rows": rows}


def table(result: dict) -> str:
    """The rows as a text table."""
    lines = [
        "dynamic-size module vs fixed-size module (moons MLP value_and_grad)",
        f"{'target':<8} {'batch':>7} {'fixed':>12} {'dynamic':>12} {'ratio':>7}",
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['target']:<8} {row['batch']:>7} {row['fixed_s'] * 1e6:>10.1f}us "
            f"{row['dynamic_s'] * 1e6:>10.1f}us {row['ratio']:>7.3f}"
        )
    lines.append(f"goal: ratio <= {result['goal']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(table(run("--quick" in sys.argv)), end="")
