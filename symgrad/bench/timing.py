"""Timing that holds up on a shared, noisy machine.

Contract: `median_time(fn)` calls `fn` in loops long enough to measure
(calibrated to about `target` seconds a repeat) and returns the median
seconds per call over `repeats` repeats. Figures are meant to be compared as
ratios against peers measured in the same run, never against constants.
"""

from __future__ import annotations

import gc
import statistics
import time

# Every peer runs on one thread, as PyTorch is told to: BLAS thread pools on
# a shared 2-core machine otherwise make NumPy timings erratic (and unfair).
SINGLE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def median_time(fn, repeats: int = 5, target: float = 0.05) -> float:
    fn()  # warm up (first-call compilation, caches)
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= target or loops >= 1 << 20:
            break
        loops = max(loops * 2, int(loops * target / max(elapsed, 1e-9)))
    samples = [elapsed / loops]
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - start) / loops)
    return statistics.median(samples)


def once(fn):
    """(seconds, result) of one call, for things too slow to repeat (compiles)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_single(fn, repeats: int = 7, gc_paused: bool = False) -> float:
    """Median of single calls, collecting garbage between calls (not timed).

    With `gc_paused` the collector is off during each call, as a user who
    disables it would run; it is turned back on (and run) between calls so
    memory stays bounded.
    """
    fn()
    samples = []
    for _ in range(repeats):
        gc.collect()
        if gc_paused:
            gc.disable()
        try:
            samples.append(once(fn)[0])
        finally:
            gc.enable()
    return statistics.median(samples)
