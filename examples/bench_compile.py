"""How compile time grows with graph size: a scalar chain of 10,000 and of
100,000 operations, stage by stage.

Run it: python examples/bench_compile.py [sizes ...]
It prints, per size, the seconds spent in each stage (trace, differentiate,
passes, codegen, format), the time to load the module on first use, the
operation counts, and the ratio of the largest size to the smallest. The
issue's bound is a 100,000-op chain within 15x of a 10,000-op one. Timings
are wall-clock on whatever else the machine is doing: compare numbers from
one run, not across runs.
"""

import sys
import time

import numpy as np

import symgrad

STAGES = ("trace_s", "differentiate_s", "passes_s", "codegen_s", "format_s")


def chain_of(n_ops):
    """x -> sin(x) * 0.999, n_ops / 2 times: n_ops operations."""

    def chain(x):
        for _ in range(n_ops // 2):
            x = np.sin(x) * 0.999
        return x

    return chain


def measure(n_ops, repeat=1):
    """Best-of-`repeat` timings of compiling (and first calling) the chain."""
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        compiled = symgrad.compile(chain_of(n_ops), 0.3)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        compiled.value_and_grad(0.3)
        first_call_s = time.perf_counter() - t0
        row = dict(compiled.stats, compile_s=compile_s, first_call_s=first_call_s)
        if best is None or row["compile_s"] < best["compile_s"]:
            best = row
    return best


def main(sizes=(10_000, 100_000)):
    symgrad.compile(chain_of(10), 0.3).value_and_grad(0.3)  # imports, caches
    rows = {n: measure(n, repeat=3 if n <= 20_000 else 1) for n in sizes}
    head = f"{'ops':>8} " + " ".join(f"{s[:-2]:>13}" for s in STAGES)
    print(head + f" {'compile':>9} {'load':>7} {'fwd ops':>8} {'v&g ops':>8}")
    for n, r in rows.items():
        print(
            f"{n:>8} "
            + " ".join(f"{r[s]:>13.3f}" for s in STAGES)
            + f" {r['compile_s']:>9.3f} {r['load_s']:>7.3f}"
            + f" {r['forward_ops']:>8} {r['value_and_grad_ops']:>8}"
        )
    small, large = rows[min(rows)], rows[max(rows)]
    size_ratio = max(rows) / min(rows)
    compile_ratio = large["compile_s"] / small["compile_s"]
    total_ratio = (large["compile_s"] + large["first_call_s"]) / (
        small["compile_s"] + small["first_call_s"]
    )
    print(f"{size_ratio:.0f}x the operations: compile {compile_ratio:.1f}x the time,")
    print(f"compile + loading the module on first call {total_ratio:.1f}x")
    return rows


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (10_000, 100_000))
