"""Expression swell: sympy.diff on a tanh MLP loss versus symgrad.from_sympy.

Part of `symgrad bench` (its `sympy` section). Alone:
    python -m symgrad.bench.swell          (small sizes, about a minute)
    python -m symgrad.bench.swell --full   (adds 2-8-8-1 and 2-16-16-1 on 8
                                            samples: sympy.diff then takes
                                            minutes to hours)
    python -m symgrad.bench.swell H N      (one size: 2-H-H-1 on N samples)

The loss is the mean squared error of a 2 -> H -> H -> 1 tanh MLP over N
fixed samples, with every weight a SymPy symbol. SymPy differentiates the
loss once per weight, and each derivative repeats the expression trees it
came from, so the gradient grows far faster than the loss. symgrad converts
the loss to a graph once and runs reverse mode on it: the gradient program
stays within a small factor of the loss. Both gradients are evaluated at the
same random point and compared.

Operation counts: `sympy.count_ops` counts the expression tree (a repeated
subexpression counts each time it appears), symgrad counts the operations of
its generated functions (each value computed once). Times are wall-clock in
one run; "speedup" is (sympy.diff + lambdify) / (from_sympy + first call).
"""

import random
import sys
import time

import numpy as np
import sympy as sp

import symgrad


def mlp_loss(hidden, samples, seed=0):
    """(loss, weights) of a 2 -> hidden -> hidden -> 1 tanh MLP over samples."""
    rng = random.Random(seed)

    def matrix(name, rows, cols):
        return [
            [sp.Symbol(f"{name}_{i}_{j}") for j in range(cols)] for i in range(rows)
        ]

    def vector(name, rows):
        return [sp.Symbol(f"{name}_{i}") for i in range(rows)]

    w1, b1 = matrix("W1", hidden, 2), vector("b1", hidden)
    w2, b2 = matrix("W2", hidden, hidden), vector("b2", hidden)
    w3, b3 = vector("W3", hidden), sp.Symbol("b3")

    def layer(weights, biases, inputs):
        return [
            sp.tanh(sum(w * v for w, v in zip(row, inputs, strict=True)) + b)
            for row, b in zip(weights, biases, strict=True)
        ]

    total = 0
    for _ in range(samples):
        x = [sp.Float(round(rng.uniform(-1, 1), 3)) for _ in range(2)]
        target = rng.choice([-1, 1])
        h = layer(w2, b2, layer(w1, b1, x))
        out = sp.tanh(sum(w * v for w, v in zip(w3, h, strict=True)) + b3)
        total += (out - target) ** 2
    weights = [s for row in w1 + w2 for s in row] + b1 + b2 + w3 + [b3]
    return total / samples, weights


def measure(hidden, samples, with_lambdify=True):
    loss, weights = mlp_loss(hidden, samples)
    point = np.random.default_rng(1).uniform(-1, 1, size=len(weights))
    row = {"hidden": hidden, "samples": samples, "weights": len(weights)}
    row["loss_ops"] = sp.count_ops(loss)

    t0 = time.perf_counter()
    compiled = symgrad.from_sympy(loss, weights)
    row["ours_compile_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    value, grads = compiled.value_and_grad(*point)
    row["ours_first_call_s"] = time.perf_counter() - t0
    row["ours_forward_ops"] = compiled.stats["forward_ops"]
    row["ours_grad_ops"] = compiled.stats["value_and_grad_ops"]

    t0 = time.perf_counter()
    derivatives = [sp.diff(loss, w) for w in weights]
    row["diff_s"] = time.perf_counter() - t0
    if not with_lambdify:  # the long case: say where we are
        print(f"  (sympy.diff took {row['diff_s']:.0f} s; counting)", flush=True)
    row["sympy_grad_ops"] = sum(sp.count_ops(d) for d in derivatives)
    if with_lambdify:
        t0 = time.perf_counter()
        reference = sp.lambdify(weights, [loss] + derivatives, "numpy")
        theirs = [float(v) for v in reference(*point)]
        row["lambdify_s"] = time.perf_counter() - t0
        ours = np.array([value, *grads])
        row["max_rel_diff"] = float(
            np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300))
        )
        ours_s = row["ours_compile_s"] + row["ours_first_call_s"]
        row["speedup"] = (row["diff_s"] + row["lambdify_s"]) / ours_s
    return row


def report(row):
    name = f"2-{row['hidden']}-{row['hidden']}-1 x {row['samples']}"
    swell = row["sympy_grad_ops"] / row["loss_ops"]
    ours = row["ours_grad_ops"] / row["ours_forward_ops"]
    print(f"{name}: {row['weights']} weights, loss {row['loss_ops']} ops")
    print(
        f"  sympy.diff: {row['diff_s']:.2f} s, {row['sympy_grad_ops']} ops "
        f"({swell:.0f}x the loss)"
        + (f"; lambdify {row['lambdify_s']:.2f} s" if "lambdify_s" in row else "")
    )
    print(
        f"  from_sympy: {row['ours_compile_s']:.2f} s + first call "
        f"{row['ours_first_call_s']:.2f} s; forward {row['ours_forward_ops']} ops, "
        f"value_and_grad {row['ours_grad_ops']} ops ({ours:.2f}x)"
    )
    if "speedup" in row:
        print(
            f"  speedup {row['speedup']:.0f}x; largest relative difference "
            f"{row['max_rel_diff']:.1e}"
        )


def main(full=False):
    # Warm up both sides (imports, caches; a long `def` line makes symgrad
    # import black) so the first row measures the work alone.
    loss, weights = mlp_loss(1, 1)
    symgrad.from_sympy(loss, weights).value_and_grad(*[0.5] * len(weights))
    sp.lambdify(weights, [sp.diff(loss, w) for w in weights])(*[0.5] * len(weights))
    sizes = [(2, 1), (2, 4), (2, 8), (4, 8)]
    rows = []
    for hidden, samples in sizes:
        rows.append(measure(hidden, samples))
        report(rows[-1])
    if full:
        # lambdify on millions of operations is out of reach: diff only.
        for hidden in (8, 16):
            rows.append(measure(hidden, 8, with_lambdify=False))
            report(rows[-1])
    return rows


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    if len(numbers) == 2:  # one size: python -m symgrad.bench.swell 16 8
        report(measure(*numbers, with_lambdify=numbers[0] < 8))
    else:
        main(full="--full" in sys.argv[1:])
