"""Peers timed side by side: one child process per problem, pinned to one CPU.

Contract: `run(kind, name, ...)` starts a child Python process with the
BLAS / OpenMP / XLA thread variables set to one thread, which pins itself to
one CPU (`os.sched_setaffinity`, before importing anything: JAX ignores the
thread flags, only pinning holds it to one core) and runs `child`. The
child builds every available peer of the problem, checks that each one's
value and gradient agree with symgrad's (relative to each array's largest
entry, `RTOL`), warms each one up, then times them in interleaved rounds
(A, B, C, A, B, C, ...) and reports per peer the median seconds per call,
every round's sample, and the page faults and kernel time per call. A peer
that is not installed carries a `note`; one that disagrees with symgrad
carries `mismatch` and is not timed. `kind` is "problem" (`problems.get`)
or "example" (`examples.get`, which also times compiling: symgrad's compile
plus first call against JAX's trace, compile and first call, interleaved).

Returns the child's JSON-ready dict, or `{"error": ...}` with the end of its
stderr when it failed.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from symgrad.commands import SINGLE_THREAD as THREAD_VARS

RTOL = 1e-8
PEERS = ("hand", "jax", "torch")
LABELS = {
    "symgrad": "symgrad",
    "hand": "hand NumPy",
    "jax": "JAX jit",
    "torch": "PyTorch eager",
}


def default_cpu() -> int:
    """The last CPU this process may run on (CPU 0 takes most interrupts)."""
    return max(os.sched_getaffinity(0))


def run(
    kind: str,
    name: str,
    quick: bool = False,
    peers=PEERS,
    cpu: int | None = None,
    budget: float | None = None,
) -> dict:
    cpu = default_cpu() if cpu is None else cpu
    spec = {
        "kind": kind,
        "name": name,
        "quick": quick,
        "peers": list(peers),
        "budget": budget if budget is not None else (2.0 if quick else 40.0),
    }
    env = dict(os.environ, **THREAD_VARS)
    # The child must import this very symgrad (a work tree, not the installed one).
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="symgrad-bench-") as tmp:
        out = os.path.join(tmp, "result.json")
        # Pinned before anything is imported: threads started later inherit it.
        boot = (
            f"import os, sys; os.sched_setaffinity(0, {{{cpu}}}); "
            "from symgrad.bench.interleave import child; "
            "sys.exit(child(sys.argv[1], sys.argv[2]))"
        )
        proc = subprocess.run(
            [sys.executable, "-c", boot, json.dumps(spec), out],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
            return {"error": "\n".join(tail) or f"exit code {proc.returncode}"}
        with open(out) as f:
            return json.load(f)


# --- the peers -------------------------------------------------------------


def _as_numpy(leaves):
    import numpy as np

    return [np.asarray(leaf, dtype=np.float64) for leaf in leaves]


def make_symgrad(problem, args):
    from symgrad import api
    from symgrad.bench.problems import flatten

    fn = api.compile(problem.loss, *args).value_and_grad
    return (lambda: fn(*args)), lambda out: (float(out[0]), _as_numpy(flatten(out[1])))


def make_hand(problem, args):
    from symgrad.bench.peers import Unavailable
    from symgrad.bench.problems import flatten

    if problem.hand is None:
        raise Unavailable("no hand-written version")
    hand = problem.hand
    return (lambda: hand(*args)), lambda out: (
        float(out[0]),
        _as_numpy(flatten(out[1])),
    )


def _jax():
    try:
        import jax
    except ImportError:
        from symgrad.bench.peers import Unavailable

        raise Unavailable("pip install jax (or .[bench])") from None
    jax.config.update("jax_enable_x64", True)
    return jax


def jax_compiled(problem):
    """A fresh `jax.jit(jax.value_and_grad(loss))` (a new function each
    call, so nothing is reused from an earlier compile of the same loss)."""
    jax = _jax()
    loss = problem.jax_loss

    def fresh(*args):
        return loss(*args)

    return jax.jit(jax.value_and_grad(fresh))


def make_jax(problem, args):
    from symgrad.bench.problems import flatten, tree_map

    jax = _jax()
    import jax.numpy as jnp

    if problem.jax_loss is None:
        from symgrad.bench.peers import Unavailable

        raise Unavailable("no JAX version")
    fn = jax_compiled(problem)
    jargs = tree_map(jnp.asarray, args)
    return (lambda: jax.block_until_ready(fn(*jargs))), lambda out: (
        float(out[0]),
        _as_numpy(flatten(out[1])),
    )


def make_torch(problem, args):
    from symgrad.bench.peers import Unavailable
    from symgrad.bench.problems import flatten, tree_map

    if problem.torch_loss is None:
        raise Unavailable("no PyTorch version")
    try:
        import torch
    except ImportError:
        raise Unavailable("pip install torch==2.13.0 (or .[bench])") from None
    torch.set_num_threads(1)
    params = tree_map(lambda a: torch.tensor(a, requires_grad=True), args[0])
    rest = tree_map(torch.from_numpy, args[1:])
    leaves = flatten(params)
    loss = problem.torch_loss

    def step():
        for p in leaves:
            p.grad = None
        total = loss(params, *rest)
        total.backward()
        return total

    return step, lambda out: (
        float(out.detach()),
        [p.grad.numpy().astype("float64") for p in leaves],
    )


MAKERS = {
    "symgrad": make_symgrad,
    "hand": make_hand,
    "jax": make_jax,
    "torch": make_torch,
}


# --- measuring (in the child) ------------------------------------------------


def disagreement(result, reference) -> float:
    """Largest difference of values and gradients, relative to the largest
    entry of each (0.0 when identical)."""
    import numpy as np

    (value, grads), (ref_value, ref_grads) = result, reference
    worst = abs(value - ref_value) / max(abs(ref_value), 1e-300)
    if len(grads) != len(ref_grads):
        return float("inf")
    for a, b in zip(grads, ref_grads, strict=True):
        if a.shape != b.shape:
            return float("inf")
        scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
        worst = max(worst, float(np.max(np.abs(a - b), initial=0.0)) / scale)
    return float(worst)


def _usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_minflt + r.ru_majflt, r.ru_stime


def _seconds_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(steps: dict, budget: float, quick: bool = False) -> dict:
    """Median seconds per call of each of `steps` (name -> callable), timed
    in interleaved rounds after a warm-up; each round's sample loops a step
    long enough to measure. `budget` bounds the rounds' total time."""
    per_call = {}
    for name, fn in steps.items():  # warm-up: at least 2 calls and 0.1 s
        calls, spent = 0, 0.0
        while calls < 2 or (spent < (0.02 if quick else 0.1) and calls < 1000):
            spent += _seconds_once(fn)
            calls += 1
        per_call[name] = spent / calls
    sample = 0.005 if quick else 0.1
    loops = {n: max(1, round(sample / max(t, 1e-9))) for n, t in per_call.items()}
    round_s = sum(loops[n] * per_call[n] for n in steps)
    rounds = int(min(3 if quick else 21, max(3 if quick else 5, budget / round_s)))
    samples = {n: [] for n in steps}
    faults = {n: 0 for n in steps}
    kernel = {n: 0.0 for n in steps}
    for _ in range(rounds):
        for name, fn in steps.items():
            n = loops[name]
            f0, k0 = _usage()
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n)
            f1, k1 = _usage()
            faults[name] += f1 - f0
            kernel[name] += k1 - k0
    calls = {n: rounds * loops[n] for n in steps}
    return {
        name: {
            "seconds": statistics.median(samples[name]),
            "samples": samples[name],
            "loops": loops[name],
            "rounds": rounds,
            "page_faults_per_call": faults[name] / calls[name],
            "kernel_s_per_call": kernel[name] / calls[name],
        }
        for name in steps
    }


def _build(problem, peer_names):
    """(steps, entries): the timed callables of the peers that run and agree
    with symgrad, and an entry per peer (setup time, check, or a note)."""
    from symgrad.bench.peers import Unavailable

    args = problem.data()
    steps, entries, reference = {}, {}, None
    for peer in ("symgrad", *peer_names):
        try:
            start = time.perf_counter()
            step, extract = MAKERS[peer](problem, args)
            result = extract(step())
            setup = time.perf_counter() - start
        except Unavailable as exc:
            entries[peer] = {"note": str(exc)}
            continue
        entry = {"setup_s": setup}
        if reference is None:
            reference = result
        else:
            entry["disagreement"] = diff = disagreement(result, reference)
            if not diff <= RTOL:
                entry["mismatch"] = (
                    f"value or gradient differs from symgrad's by {diff:.1e} "
                    f"(relative; the bar is {RTOL:.0e}): not timed"
                )
                entries[peer] = entry
                continue
        entries[peer] = entry
        steps[peer] = step
    return args, steps, entries


def measure_problem(spec) -> dict:
    from symgrad.bench import problems

    problem = problems.get(spec["name"], spec["quick"])
    _, steps, entries = _build(problem, spec["peers"])
    timed = interleaved(steps, spec["budget"], spec["quick"])
    for peer, entry in timed.items():
        entries[peer].update(entry)
    return {"title": problem.title, "info": problem.info, "peers": entries}


def measure_example(spec) -> dict:
    from symgrad import api
    from symgrad.bench import examples
    from symgrad.bench.peers import Unavailable

    try:
        problem = examples.get(spec["name"])
    except Unavailable as exc:
        return {"title": spec["name"], "note": str(exc), "peers": {}}
    args, steps, entries = _build(problem, [p for p in spec["peers"] if p == "jax"])
    out = {"title": problem.title, "info": problem.info, "peers": entries}
    compiled = api.compile(problem.loss, *args)
    out["lines"] = compiled.source.count("\n")
    out["stats"] = {
        k: v for k, v in compiled.stats.items() if isinstance(v, int | float)
    }

    def symgrad_compile():
        api.compile(problem.loss, *args).value_and_grad(*args)

    compiles = {"symgrad": symgrad_compile}
    if "jax" in steps:
        import jax
        import jax.numpy as jnp

        from symgrad.bench.problems import tree_map

        jargs = tree_map(jnp.asarray, args)

        def jax_compile():
            jax.block_until_ready(jax_compiled(problem)(*jargs))

        compiles["jax"] = jax_compile
    repeats = 2 if spec["quick"] else 5
    for fn in compiles.values():
        fn()  # warm-up: imports, first-use caches
    samples = {n: [] for n in compiles}
    for _ in range(repeats):
        for name, fn in compiles.items():
            samples[name].append(_seconds_once(fn))
    for name, values in samples.items():
        entries[name]["compile_s"] = statistics.median(values)
        entries[name]["compile_samples"] = values
    timed = interleaved(steps, spec["budget"], spec["quick"])
    for peer, entry in timed.items():
        entries[peer].update(entry)
    return out


def child(spec_text: str, out_path: str) -> int:
    spec = json.loads(spec_text)
    measure = measure_example if spec["kind"] == "example" else measure_problem
    load = os.getloadavg()
    result = measure(spec)
    result["cpus"] = sorted(os.sched_getaffinity(0))
    result["load"] = [load[0], os.getloadavg()[0]]
    with open(out_path, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(child(sys.argv[1], sys.argv[2]))
