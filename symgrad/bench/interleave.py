"""Peers timed side by side, each in its own process pinned to one CPU.

Contract: `run(kind, name, ...)` starts one worker process per peer (symgrad
first), each with the BLAS / OpenMP / XLA thread variables set to one thread
and pinned to the same CPU (`os.sched_setaffinity` before it imports
anything: JAX ignores the thread flags, only pinning holds it to one core).
A worker loads only its own peer, so no peer's allocations or thread pools
change another's timings (with PyTorch and JAX loaded in the same process,
symgrad's RNN step took twice as long, in page faults). The parent drives
them in turn over pipes, one at a time: it checks that each peer's value
and gradient agree with symgrad's (relative to each array's largest entry,
`RTOL`), warms each one up, then times them in interleaved rounds (A, B, C,
A, B, C, ...). Per peer it reports the median seconds per call, every
round's sample, and page faults and kernel time per call. A peer that is
not installed carries a `note`; one that disagrees with symgrad carries
`mismatch` and is not timed. `kind` is "problem" (`problems.get`) or
"example" (`examples.get`; compiling is timed too, in interleaved repeats:
symgrad's compile and first call against a fresh `jax.jit` traced, compiled
and called once).

Returns a JSON-ready dict; `{"error": ...}` with the end of a worker's
stderr when the symgrad worker failed (a peer's failure is that peer's
`error`).
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
import traceback

from symgrad import api
from symgrad.bench import examples, problems
from symgrad.bench.peers import Unavailable
from symgrad.bench.problems import flatten, tree_map
from symgrad.bench.timing import SINGLE_THREAD as THREAD_VARS

RTOL = 1e-8
PEERS = ("fast", "c", "hand", "jax", "torch")
LABELS = {
    "symgrad": "symgrad",
    "fast": "symgrad fast",
    "c": "symgrad C",
    "hand": "hand NumPy",
    "jax": "JAX jit",
    "torch": "PyTorch eager",
}


def default_cpu() -> int:
    """The last CPU this process may run on (CPU 0 takes most interrupts)."""
    return max(os.sched_getaffinity(0))


class WorkerError(Exception):
    """A worker process failed; the message ends with its stderr."""


class _Worker:
    """One peer in its own pinned process, answering JSON requests."""

    def __init__(self, spec, peer, cpu, folder):
        env = dict(os.environ, **THREAD_VARS)
        # The worker must import this very symgrad (a work tree, say).
        root = os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (root, env.get("PYTHONPATH")) if p
        )
        boot = (
            f"import os, sys; os.sched_setaffinity(0, {{{cpu}}}); "
            "from symgrad.bench.interleave import worker; "
            "sys.exit(worker(sys.argv[1]))"
        )
        self.peer = peer
        self.stderr_path = os.path.join(folder, f"{peer}.stderr")
        self.result_path = os.path.join(folder, f"{peer}.npz")
        spec = dict(spec, peer=peer, result=self.result_path)
        with open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", boot, json.dumps(spec)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )

    def ask(self, **request) -> dict:
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        reply = json.loads(line) if line else {"error": self._stderr_tail()}
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply

    def _stderr_tail(self) -> str:
        self.proc.wait(timeout=30)
        with open(self.stderr_path) as f:
            tail = f.read().strip().splitlines()[-12:]
        return "\n".join(tail) or f"exit code {self.proc.returncode}"

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _load_result(path):
    import numpy as np

    with np.load(path) as data:
        n = len(data.files) - 1
        return float(data["value"]), [data[f"g{i}"] for i in range(n)]


def run(
    kind: str,
    name: str,
    quick: bool = False,
    peers=PEERS,
    cpu: int | None = None,
    budget: float | None = None,
) -> dict:
    spec = {"kind": kind, "name": name, "quick": quick}
    budget = budget if budget is not None else (2.0 if quick else 40.0)
    cpu = default_cpu() if cpu is None else cpu
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="symgrad-bench-") as folder:
        workers = {}
        try:
            for peer in ("symgrad", *peers):
                workers[peer] = _Worker(spec, peer, cpu, folder)
            return _drive(workers, kind, quick, budget, load)
        except WorkerError as exc:
            return {"error": str(exc)}
        finally:
            for w in workers.values():
                w.close()


def _drive(workers, kind, quick, budget, load) -> dict:
    first = workers["symgrad"].ask(do="setup")
    out = {k: first[k] for k in ("title", "info", "cpus", "lines") if k in first}
    if "note" in first:  # an example that is not here
        return {"title": first.get("title", ""), "note": first["note"], "peers": {}}
    entries = {"symgrad": {"setup_s": first["setup_s"]}}
    reference = _load_result(workers["symgrad"].result_path)
    active = ["symgrad"]
    for peer, w in workers.items():
        if peer == "symgrad":
            continue
        try:
            reply = w.ask(do="setup")
        except WorkerError as exc:
            entries[peer] = {"error": str(exc).strip().splitlines()[-1]}
            continue
        if "note" in reply:
            entries[peer] = {"note": reply["note"]}
            continue
        entry = entries[peer] = {"setup_s": reply["setup_s"]}
        diff = disagreement(_load_result(w.result_path), reference)
        entry["disagreement"] = diff
        if not diff <= RTOL:
            entry["mismatch"] = (
                f"value or gradient differs from symgrad's by {diff:.1e} "
                f"(relative; the bar is {RTOL:.0e}): not timed"
            )
            continue
        active.append(peer)
    for peer in workers:
        if peer not in active:
            workers[peer].close()

    if kind == "example":
        repeats = 2 if quick else 5
        samples = {p: [] for p in active}
        for _ in range(repeats + 1):  # the first is a warm-up
            for p in active:
                samples[p].append(workers[p].ask(do="compile")["seconds"])
        for p in active:
            entries[p]["compile_s"] = statistics.median(samples[p][1:])
            entries[p]["compile_samples"] = samples[p][1:]

    warm = 0.02 if quick else 0.1
    per_call = {p: workers[p].ask(do="warmup", seconds=warm)["seconds"] for p in active}
    sample = 0.005 if quick else 0.1
    loops = {p: max(1, round(sample / max(t, 1e-9))) for p, t in per_call.items()}
    round_s = sum(loops[p] * per_call[p] for p in active)
    rounds = int(min(3 if quick else 21, max(3 if quick else 5, budget / round_s)))
    timed = {p: [] for p in active}
    for _ in range(rounds):
        for p in active:
            timed[p].append(workers[p].ask(do="sample", loops=loops[p]))
    for p in active:
        calls = rounds * loops[p]
        entries[p].update(
            {
                "seconds": statistics.median(r["seconds"] for r in timed[p]),
                "samples": [r["seconds"] for r in timed[p]],
                "loops": loops[p],
                "rounds": rounds,
                "page_faults_per_call": sum(r["faults"] for r in timed[p]) / calls,
                "kernel_s_per_call": sum(r["kernel_s"] for r in timed[p]) / calls,
                "max_rss_mib": max(r["rss"] for r in timed[p]),
            }
        )
    out["peers"] = entries
    out["load"] = [load, os.getloadavg()[0]]
    return out


# --- the peers (in the workers) ----------------------------------------------


def _as_numpy(leaves):
    import numpy as np

    return [np.asarray(leaf, dtype=np.float64) for leaf in leaves]


def make_symgrad(problem, args):

    fn = api.compile(problem.loss, *args).value_and_grad
    return (lambda: fn(*args)), lambda out: (float(out[0]), _as_numpy(flatten(out[1])))


def make_fast(problem, args):
    """symgrad with `optimize="fast"` (rewrites that may round differently)."""

    fn = api.compile(problem.loss, *args, optimize="fast").value_and_grad
    return (lambda: fn(*args)), lambda out: (float(out[0]), _as_numpy(flatten(out[1])))


def make_c(problem, args):
    """symgrad's C target (issue 24); skipped, with the reason, where it
    cannot build (no C compiler or headers) or refuses the problem."""
    from symgrad.errors import SymgradError

    try:
        fn = api.compile(problem.loss, *args, target="c").value_and_grad
        fn(*args)  # builds (or loads) the extension now
    except SymgradError as exc:
        raise Unavailable(f"symgrad C: {str(exc).splitlines()[0]}") from None
    return (lambda: fn(*args)), lambda out: (float(out[0]), _as_numpy(flatten(out[1])))


def make_hand(problem, args):

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

    jax = _jax()
    import jax.numpy as jnp

    if problem.jax_loss is None:

        raise Unavailable("no JAX version")
    fn = jax_compiled(problem)
    jargs = tree_map(jnp.asarray, args)
    return (lambda: jax.block_until_ready(fn(*jargs))), lambda out: (
        float(out[0]),
        _as_numpy(flatten(out[1])),
    )


def make_torch(problem, args):

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
    "fast": make_fast,
    "c": make_c,
    "hand": make_hand,
    "jax": make_jax,
    "torch": make_torch,
}


# --- the worker process --------------------------------------------------------


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


def _setup(spec, state) -> dict:
    import numpy as np

    try:
        if spec["kind"] == "example":
            problem = examples.get(spec["name"])
        else:
            problem = problems.get(spec["name"], spec["quick"])
    except Unavailable as exc:
        return {"note": str(exc)}
    reply = {"title": problem.title, "info": problem.info}
    reply["cpus"] = sorted(os.sched_getaffinity(0))
    args = problem.data()
    try:
        start = time.perf_counter()
        step, extract = MAKERS[spec["peer"]](problem, args)
        value, grads = extract(step())
        reply["setup_s"] = time.perf_counter() - start
    except Unavailable as exc:
        return {"note": str(exc)}
    grads = {f"g{i}": g for i, g in enumerate(grads)}
    np.savez(spec["result"], value=np.float64(value), **grads)
    if spec["peer"] == "symgrad":

        reply["lines"] = api.compile(problem.loss, *args).source.count("\n")
    state.update(problem=problem, args=args, step=step)
    return reply


def _compile(spec, state) -> dict:
    """Compile from scratch and call once (an example's compile time)."""
    problem, args = state["problem"], state["args"]
    start = time.perf_counter()
    if spec["peer"] == "symgrad":

        api.compile(problem.loss, *args).value_and_grad(*args)
    else:
        import jax
        import jax.numpy as jnp

        jargs = tree_map(jnp.asarray, args)
        start = time.perf_counter()
        jax.block_until_ready(jax_compiled(problem)(*jargs))
    return {"seconds": time.perf_counter() - start}


def _warmup(seconds, state) -> dict:
    """At least two calls and `seconds`; the time per call."""
    step, calls, spent = state["step"], 0, 0.0
    while calls < 2 or (spent < seconds and calls < 1000):
        start = time.perf_counter()
        step()
        spent += time.perf_counter() - start
        calls += 1
    return {"seconds": spent / calls}


def _sample(loops, state) -> dict:
    step = state["step"]
    f0, k0 = _usage()
    start = time.perf_counter()
    for _ in range(loops):
        step()
    seconds = (time.perf_counter() - start) / loops
    f1, k1 = _usage()
    # The worker process's peak resident memory so far (Linux: KiB): its
    # memory high-water mark, this peer's data and temporaries included.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "faults": f1 - f0, "kernel_s": k1 - k0, "rss": peak}


def worker(spec_text: str) -> int:
    """Answer the parent's requests (one JSON line each) until stdin closes."""
    spec = json.loads(spec_text)
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not the replies
    state = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            what = request["do"]
            if what == "setup":
                reply = _setup(spec, state)
            elif what == "compile":
                reply = _compile(spec, state)
            elif what == "warmup":
                reply = _warmup(request["seconds"], state)
            else:
                reply = _sample(request["loops"], state)
        except Exception:  # noqa: BLE001 - reported to the parent
            reply = {"error": traceback.format_exc()[-3000:]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0
