"""`symgrad bench`: the measurements, each a ratio against peers in one run.

Contract: `run(quick)` returns a JSON-ready dict with sections
- `moons`: seconds per value-and-gradient step of micrograd's moons MLP for
  each available peer (absent peers carry a note instead of a time);
- `scaling`: the NumPy target against hand-written NumPy, PyTorch and JAX
  over hidden widths and batch sizes;
- `compile`: compile seconds and module size against graph size;
- `cheap_gradient`: value_and_grad time over forward time per target;
- `entry`: the cost of the generated modules' argument checks;
- `constants`: compiling with a large array closed over against passing it in
  (`bench.constants`);
- `sympy`: sympy.diff + lambdify against `from_sympy` (op counts and time).
`quick` uses fewer and smaller sizes (for CI smoke runs and tests).
"""

from __future__ import annotations

import platform

import numpy as np

from symgrad import api
from symgrad.bench import constants, peers
from symgrad.bench.timing import median_single, median_time, once


def _targets():
    return list(api.TARGETS)


def _measure(make, *args, **kw):
    try:
        fn = make(*args, **kw)
    except peers.Unavailable as exc:
        return {"note": str(exc)}
    return {"seconds": median_time(fn)}


def moons(quick=False) -> dict:
    params, X, y = peers.problem((2, 16, 16, 1), 100)
    out = {}
    for target in _targets():
        out[f"symgrad {target}"] = _measure(peers.make_symgrad, params, X, y, target)
    out["hand NumPy"] = _measure(peers.make_hand, params, X, y)
    out["PyTorch eager"] = _measure(peers.make_torch, params, X, y)
    out["JAX jit"] = _measure(peers.make_jax, params, X, y)
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


def scaling(quick=False) -> dict:
    widths = [16, 64] if quick else [16, 64, 256, 512]
    batches = [100, 1000] if quick else [100, 1000, 10000]
    makers = {
        "symgrad numpy": peers.make_symgrad,
        "hand NumPy": peers.make_hand,
        "PyTorch eager": peers.make_torch,
        "JAX jit": peers.make_jax,
    }
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
        full = median_time(peers.make_symgrad(params, X, y, target))
        fwd = median_time(peers.make_symgrad(params, X, y, target, "forward"))
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
        trivial = api.compile(_touch_every_leaf, params, X, y, target=target)
        args = (params, X, y)
        if target != "numpy":
            args = (
                [(W.tolist(), b.tolist()) for W, b in params],
                X.tolist(),
                y.tolist(),
            )
        check = median_time(lambda c=trivial, a=args: c.forward(*a))
        step = median_time(peers.make_symgrad(params, X, y, target))
        out[target] = {"entry_s": check, "step_s": step, "share": check / step}
    return out


def sympy_swell(quick=False) -> dict:
    """sympy.diff (+ lambdify) against from_sympy on a tanh MLP loss."""
    from symgrad.bench import swell

    sizes = [(2, 1), (2, 4)] if quick else [(2, 1), (2, 4), (2, 8), (4, 8)]
    swell.measure(1, 1)  # warm up imports and caches on both sides
    return {f"2-{h}-{h}-1 x {n}": swell.measure(h, n) for h, n in sizes}


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "system": platform.system(),
    }


def run(quick=False, progress=print) -> dict:
    results = {"machine": machine(), "quick": quick}
    for name, fn in (
        ("moons", lambda: moons(quick)),
        ("scaling", lambda: scaling(quick)),
        ("compile", lambda: compile_cost(quick)),
        ("cheap_gradient", cheap_gradient),
        ("entry", entry_cost),
        ("constants", lambda: constants.run(300 if quick else 1000)),
        ("sympy", lambda: sympy_swell(quick)),
    ):
        progress(f"measuring {name} ...")
        results[name] = fn()
    return results
