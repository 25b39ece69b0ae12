"""`symgrad bench`: the measurements, each a ratio against peers in one run.

Contract: `run(quick, problems=..., peers=..., cpu=...)` returns a JSON-ready
dict with the sections of the selected names (`select`; default all):
- `problems` (names `moons`, `mlp128`, `mlp512`, `rnn`; group `peers`): the
  four peer-table problems, value and gradient, against hand-written NumPy,
  JAX jit and PyTorch eager, each problem in a child process pinned to one
  CPU, medians of interleaved rounds, each peer checked against symgrad
  (`bench.interleave`, `bench.problems`);
- `examples` (names `ex-softmax`, `ex-mixture`, `ex-rnn`, `ex-gp`; group
  `examples`): compile time and gradient time of the examples in examples/
  against JAX jit, in the same way (`bench.examples`);
- `micrograd`: micrograd's moons step on symgrad's two targets and on
  micrograd (with its garbage collector on and paused);
- `scaling`: the NumPy target against hand-written NumPy, PyTorch and JAX
  over hidden widths and batch sizes;
- `compile`: compile seconds and module size against graph size;
- `cheap_gradient`: value_and_grad time over forward time per target;
- `entry`: the cost of the generated modules' argument checks;
- `constants`: compiling with a large array closed over against passing it in
  (`bench.constants`);
- `sympy`: sympy.diff + lambdify against `from_sympy` (op counts and time).
The whole run is pinned to one CPU (`cpu`, default the last one allowed), so
every peer runs on one core. Absent peers carry a note instead of a time.
`quick` uses fewer and smaller sizes (for CI smoke runs and tests).
"""

from __future__ import annotations

import contextlib
import os
import platform

import numpy as np

from symgrad import api
from symgrad.bench import (
    constants,
    dynamic,
    examples,
    interleave,
    peers,
    problems,
    swell,
)
from symgrad.bench.timing import median_single, median_time, once

SECTIONS = ("micrograd", "scaling", "compile", "cheap_gradient", "entry")
SECTIONS += ("dynamic", "constants", "sympy")
GROUPS = {"peers": problems.NAMES, "examples": examples.NAMES}
NAMES = tuple(dict.fromkeys(problems.NAMES + examples.NAMES + SECTIONS))
PEERS = (*interleave.PEERS, "micrograd")  # the optional ones; symgrad always runs


def select(text: str | None) -> list:
    """The names a comma-separated `--problems` value stands for (groups
    expanded, order kept); all names for None. Raises ValueError."""
    if text is None:
        return list(NAMES)
    chosen = []
    for word in (w.strip() for w in text.split(",")):
        if word == "all":
            chosen += NAMES
        elif word in GROUPS:
            chosen += GROUPS[word]
        elif word in NAMES:
            chosen.append(word)
        elif word:
            raise ValueError(
                f"unknown problem {word!r}; choose from "
                + ", ".join((*NAMES, *GROUPS, "all"))
            )
    if not chosen:
        raise ValueError("no problem named")
    return list(dict.fromkeys(chosen))


@contextlib.contextmanager
def pinned(cpu: int | None):
    """Run this thread (and the threads it starts) on one CPU meanwhile."""
    before = os.sched_getaffinity(0)
    cpu = interleave.default_cpu() if cpu is None else cpu
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


def _targets():
    return list(api.TARGETS)


def _measure(make, *args, **kw):
    try:
        fn = make(*args, **kw)
    except peers.Unavailable as exc:
        return {"note": str(exc)}
    return {"seconds": median_time(fn)}


def micrograd(quick=False, chosen=PEERS) -> dict:
    """micrograd's moons step on symgrad's two targets and on micrograd (the
    NumPy peers are in the `problems` table, measured more carefully)."""
    params, X, y = peers.problem((2, 16, 16, 1), 100)
    out = {}
    for target in _targets():
        out[f"symgrad {target}"] = _measure(peers.make_symgrad, params, X, y, target)
    if "micrograd" not in chosen:
        return out
    try:
        step = peers.make_micrograd(params, X, y)
    except peers.Unavailable as exc:
        out["micrograd"] = {"note": str(exc)}
    else:
        repeats = 3 if quick else 7
        out["micrograd (GC on)"] = {"seconds": median_single(step, repeats)}
        out["micrograd (GC paused)"] = {
            "seconds": median_single(step, repeats, gc_paused=True)
        }
    return out


def _make_expert(params, X, y):
    return lambda: problems.hand_mlp(params, X, y, "hinge")


def scaling(quick=False, chosen=PEERS) -> dict:
    widths = [16, 64] if quick else [16, 64, 256, 512]
    batches = [100, 1000] if quick else [100, 1000, 10000]
    makers = {
        "symgrad numpy": peers.make_symgrad,
        "hand NumPy": _make_expert,
        "PyTorch eager": peers.make_torch,
        "JAX jit": peers.make_jax,
    }
    wanted = {"hand NumPy": "hand", "PyTorch eager": "torch", "JAX jit": "jax"}
    makers = {n: m for n, m in makers.items() if wanted.get(n, "symgrad") in chosen}
    makers.setdefault("hand NumPy", _make_expert)  # the ratios' base
    out = {"width": {}, "batch": {}}
    for name, make in makers.items():
        out["width"][name] = [
            _measure(make, *peers.problem((2, w, w, 1), 100)) for w in widths
        ]
        out["batch"][name] = [
            _measure(make, *peers.problem((2, 16, 16, 1), b)) for b in batches
        ]
    out["widths"], out["batches"] = widths, batches
    return out


def _chain(n):
    def chain(x):
        for _ in range(n // 2):
            x = np.sin(x) * 0.999
        return x

    return chain


def _scalar_mlp(params, xs, ys):
    """An unrolled scalar MLP, micrograd-style: lists of floats and loops."""
    total = 0.0
    for x, target in zip(xs, ys, strict=True):
        h = x
        for layer in params:
            h = [
                np.tanh(sum(w * v for w, v in zip(ws, h, strict=True)) + b)
                for ws, b in layer
            ]
        total = total + (h[0] - target) ** 2
    return total


def _scalar_mlp_args(sizes=(2, 16, 16, 1), samples=8, seed=0):
    rng = np.random.default_rng(seed)
    params = [
        [([float(v) for v in rng.uniform(-1, 1, nin)], 0.0) for _ in range(nout)]
        for nin, nout in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    xs = [[float(v) for v in rng.normal(size=sizes[0])] for _ in range(samples)]
    ys = [float(v) for v in rng.normal(size=samples)]
    return params, xs, ys


def compile_cost(quick=False) -> dict:
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000]
    out = {"chain": []}
    for n in sizes:
        seconds, compiled = once(lambda n=n: api.compile(_chain(n), 0.3))
        out["chain"].append(
            {
                "nodes": n,
                "seconds": seconds,
                "lines": compiled.source.count("\n"),
                "stats": {k: v for k, v in compiled.stats.items() if k.endswith("_s")},
            }
        )
    args = _scalar_mlp_args()
    seconds, compiled = once(lambda: api.compile(_scalar_mlp, *args))
    out["scalar_mlp"] = {
        "weights": 337,
        "seconds": seconds,
        "lines": compiled.source.count("\n"),
    }
    return out


def cheap_gradient() -> dict:
    params, X, y = peers.problem((2, 16, 16, 1), 100)
    out = {}
    for target in _targets():
        try:
            full = median_time(peers.make_symgrad(params, X, y, target))
            fwd = median_time(peers.make_symgrad(params, X, y, target, "forward"))
        except peers.Unavailable as exc:  # the C target without a compiler
            out[target] = {"note": str(exc)}
            continue
        out[target] = {"forward_s": fwd, "value_and_grad_s": full, "ratio": full / fwd}
    return out


def _touch_every_leaf(p, X, y):
    return sum(W[0, 0] + b[0] for W, b in p) + X[0, 0] + y[0]


def entry_cost() -> dict:
    """What the generated entry checks cost: a function with the moons MLP's
    arguments that does almost nothing, against one full training step."""
    params, X, y = peers.problem((2, 16, 16, 1), 100)
    out = {}
    for target in _targets():
        try:
            step = median_time(peers.make_symgrad(params, X, y, target))
        except peers.Unavailable as exc:  # the C target without a compiler
            out[target] = {"note": str(exc)}
            continue
        trivial = api.compile(_touch_every_leaf, params, X, y, target=target)
        args = (params, X, y)
        if target == "python":
            args = (
                [(W.tolist(), b.tolist()) for W, b in params],
                X.tolist(),
                y.tolist(),
            )
        check = median_time(lambda c=trivial, a=args: c.forward(*a))
        out[target] = {"entry_s": check, "step_s": step, "share": check / step}
    return out


def sympy_swell(quick=False) -> dict:
    """sympy.diff (+ lambdify) against from_sympy on a tanh MLP loss."""

    sizes = [(2, 1), (2, 4)] if quick else [(2, 1), (2, 4), (2, 8), (4, 8)]
    swell.measure(1, 1)  # warm up imports and caches on both sides
    return {f"2-{h}-{h}-1 x {n}": swell.measure(h, n) for h, n in sizes}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "system": platform.system(),
        "cpus": os.cpu_count(),
        "load": list(os.getloadavg()),
        "peers": _versions(),
    }


def _versions() -> dict:
    from importlib import metadata

    out = {}
    for name in ("jax", "jaxlib", "torch", "micrograd"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _child(peers):
    return [p for p in peers if p in interleave.PEERS]


def peer_problems(names, quick=False, peers=PEERS, cpu=None, progress=print):
    out = {}
    for name in names:
        progress(f"measuring {name} (pinned child process) ...")
        out[name] = interleave.run("problem", name, quick, _child(peers), cpu)
    return out


def example_problems(names, quick=False, peers=PEERS, cpu=None, progress=print):
    out = {}
    for name in names:
        progress(f"measuring {name} (pinned child process) ...")
        jax = [p for p in peers if p == "jax"]  # the examples' only peer
        out[name] = interleave.run("example", name, quick, jax, cpu)
    return out


def run(quick=False, progress=print, names=None, peers=PEERS, cpu=None) -> dict:
    """Measure the sections of `names` (see `select`; None for all) with the
    optional `peers` (a subset of `PEERS`; symgrad always runs)."""
    names = select(None) if names is None else list(names)
    results = {"machine": machine(), "quick": quick}
    with pinned(cpu) as cpu:
        results["machine"]["pinned_cpu"] = cpu
        chosen = [n for n in problems.NAMES if n in names]
        if chosen:
            results["problems"] = peer_problems(chosen, quick, peers, cpu, progress)
        chosen = [n for n in examples.NAMES if n in names]
        if chosen:
            results["examples"] = example_problems(chosen, quick, peers, cpu, progress)
        for name, fn in (
            ("micrograd", lambda: micrograd(quick, peers)),
            ("scaling", lambda: scaling(quick, ("symgrad", *peers))),
            ("compile", lambda: compile_cost(quick)),
            ("cheap_gradient", cheap_gradient),
            ("entry", entry_cost),
            ("dynamic", lambda: dynamic.run(quick)),
            ("constants", lambda: constants.run(300 if quick else 1000)),
            ("sympy", lambda: sympy_swell(quick)),
        ):
            if name in names:
                progress(f"measuring {name} ...")
                results[name] = fn()
    results["machine"]["load_end"] = list(os.getloadavg())
    return results
