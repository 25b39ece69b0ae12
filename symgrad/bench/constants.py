"""What closing over a large array costs at compile time.

Contract: `run(size, repeats)` compiles the same computation twice per target,
once with a `size` x `size` matrix closed over (a constant in the graph) and
once with it passed as an argument, and returns the median seconds of each
(compile, then first call, which loads the module) and the size of the
generated source. `python -m symgrad.bench.constants [SIZE]` prints them.

Before constants were stored compactly, a 300x300 closed-over array took 81 s
to compile (printed element by element, then formatted by black); the bar is
that a 1000x1000 one costs under a second more than the argument version.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from symgrad import api


def _seconds(fn, repeats):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(size: int = 1000, repeats: int = 3) -> dict:
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((size, size))
    x = rng.standard_normal(size)

    def closed(v):
        h = matrix @ v
        return (h * h).sum()

    def passed(v, m):
        h = m @ v
        return (h * h).sum()

    out = {"size": size}
    # Stored constants are a thing of the Python modules (the C target
    # writes its constants into the C source).
    for target in ("numpy", "python"):
        arg = x if target == "numpy" else x.tolist()

        def with_array(target=target, arg=arg):
            c = api.compile(closed, x, target=target)
            c.forward(arg)
            return c

        def without_array(target=target, arg=arg):
            c = api.compile(passed, x, matrix, target=target)
            c.forward(arg, matrix if target == "numpy" else matrix.tolist())
            return c

        with_s = _seconds(with_array, repeats)
        without_s = _seconds(without_array, repeats)
        out[target] = {
            "with_array_s": with_s,
            "without_s": without_s,
            "extra_s": with_s - without_s,
            "source_bytes": len(with_array().source),
        }
    return out


def table(result: dict) -> str:
    n = result["size"]
    lines = [
        f"Compiling with a {n}x{n} array closed over, against passing it in "
        "(compile + first call, median)",
        "",
        f"{'target':<8}{'closed over':>14}{'argument':>12}{'extra':>10}"
        f"{'module size':>14}",
    ]
    # Stored constants are a thing of the Python modules (the C target
    # writes its constants into the C source).
    for target in ("numpy", "python"):
        r = result[target]
        lines.append(
            f"{target:<8}{r['with_array_s']:>12.3f} s{r['without_s']:>10.3f} s"
            f"{r['extra_s']:>8.3f} s{r['source_bytes'] / 1e6:>11.1f} MB"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    size = int(argv[0]) if argv else 1000
    print(table(run(size)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
