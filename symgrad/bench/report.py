"""Turning benchmark results into a table and a plot.

Contract: `table(results)` is plain text (the README's results section is
pasted from it), with a part for each section present in `results`;
`plot(results, path)` writes the scaling curves as PNG when matplotlib is
installed and returns False otherwise.
"""

from __future__ import annotations

import io

from symgrad.bench import constants, dynamic
from symgrad.bench.interleave import LABELS, RTOL
from symgrad.files import write_atomic


def _us(entry) -> str:
    if "seconds" not in entry:
        return "skipped"
    return f"{entry['seconds'] * 1e6:,.0f} us"


def _ratio(entry, base) -> str:
    if "seconds" not in entry or "seconds" not in base:
        return ""
    return f"{entry['seconds'] / base['seconds']:.2f}x"


def _times(seconds) -> str:
    return f"{seconds:.2f}x" if seconds < 10 else f"{seconds:.1f}x"


def _rounds(section) -> str:
    rounds = sorted(
        {
            e["rounds"]
            for r in section.values()
            for e in r.get("peers", {}).values()
            if "rounds" in e
        }
    )
    if not rounds:
        return ""
    return f"{rounds[0]}" if len(rounds) == 1 else f"{rounds[0]}-{rounds[-1]}"


def _notes(section) -> list:
    """One line per peer that did not run or did not agree, per problem."""
    lines = []
    for name, result in section.items():
        if "error" in result:
            lines.append(f"  {name}: failed: {result['error'].splitlines()[-1]}")
            continue
        if "note" in result:
            lines.append(f"  {name}: {result['note']}")
        for peer, entry in result["peers"].items():
            for key in ("mismatch", "note", "error"):
                if key in entry:
                    lines.append(f"  {name}, {LABELS[peer]}: {entry[key]}")
    notes = sorted(set(lines), key=lines.index)
    return ["", "Notes:", *notes] if notes else []


def problems_table(section) -> list:
    """Issue #16's table: each peer's time as a ratio to hand NumPy and to
    symgrad, then absolute times with page faults and kernel time."""
    cols = (("symgrad", "hand"), ("fast", "hand"), ("c", "hand"), ("jax", "hand"))
    cols += (("torch", "hand"), ("jax", "symgrad"), ("torch", "symgrad"))
    cols += (("c", "jax"),)
    short = {"symgrad": "symgrad", "fast": "fast", "jax": "JAX jit", "torch": "PyTorch"}
    short["c"] = "C"
    groups = ((0, 5), (5, 7), (7, 8))  # to hand NumPy, to symgrad, to JAX
    lines = [
        "Value and gradient, float64, one pinned core; medians of "
        f"{_rounds(section)} interleaved rounds (ratios: lower is faster; C is "
        "symgrad's C target)",
        "",
        f"{'':<56}{'ratio to hand NumPy':^45}   {'ratio to symgrad':^18}"
        f"   {'to JAX':>9}",
        f"{'problem':<44}{'hand NumPy':>12}"
        + "   ".join(
            "".join(f"{short[p]:>9}" for p, _ in cols[a:b]) for a, b in groups
        ),
    ]
    for name, result in section.items():
        if "error" in result:
            lines.append(f"{name:<44}{'failed':>12}")
            continue
        entries = result["peers"]
        row = f"{result['title']:<44}{_us(entries.get('hand', {})):>12}"
        for i, (p, base) in enumerate(cols):
            row += ("   " if i in (5, 7) else "") + (
                f"{_ratio(entries.get(p, {}), entries.get(base, {})):>9}"
            )
        lines.append(row)
    lines += [
        "",
        "Time per call, page faults and kernel time per call, and the peak",
        "resident memory of the peer's process (same runs)",
        "",
        f"{'problem':<10}{'peer':<16}{'time':>14}{'faults':>10}{'kernel':>12}"
        f"{'peak':>10}{'agrees to':>11}",
    ]
    for name, result in section.items():
        for peer, entry in result.get("peers", {}).items():
            if "seconds" not in entry:
                continue
            agree = entry.get("disagreement")
            lines.append(
                f"{name:<10}{LABELS[peer]:<16}{_us(entry):>14}"
                f"{entry['page_faults_per_call']:>10,.1f}"
                f"{entry['kernel_s_per_call'] * 1e3:>9.2f} ms"
                + (
                    f"{entry['max_rss_mib']:>6,.0f} MiB"
                    if "max_rss_mib" in entry
                    else f"{'':>10}"
                )
                + ("  (reference)" if agree is None else f"{agree:>11.0e}")
            )
    return lines + _notes(section)


def examples_table(section) -> list:
    """Issue #12's examples: compile time and gradient time against JAX jit."""
    lines = [
        "Examples: compile (trace to first result) and value-and-gradient time, "
        "symgrad against JAX jit, one pinned core",
        "",
        f"{'example':<52}{'compile':>10}{'JAX':>10}{'ratio':>8}"
        f"{'gradient':>12}{'JAX':>10}{'ratio':>8}",
    ]
    for name, result in section.items():
        entries = result.get("peers", {})
        ours, jax = entries.get("symgrad", {}), entries.get("jax", {})
        if "error" in result or "seconds" not in ours:
            lines.append(f"{result.get('title', name):<52}{'skipped':>10}")
            continue
        c_ours, c_jax = ours["compile_s"], jax.get("compile_s")
        row = f"{result['title']:<52}{c_ours * 1e3:>7.0f} ms"
        if c_jax is None:
            row += f"{'':>10}{'':>8}"
        else:
            row += f"{c_jax * 1e3:>7.0f} ms{_times(c_ours / c_jax):>8}"
        row += f"{_us(ours):>12}{_us(jax) if 'seconds' in jax else '':>10}"
        row += f"{_ratio(ours, jax):>8}"
        lines.append(row)
    lines += [
        "",
        "ratio = symgrad / JAX (below 1: symgrad is faster). Compile times are "
        "medians of repeated compiles after a warm-up one; gradients agree to "
        f"{RTOL:.0e}.",
    ]
    return lines + _notes(section)


def table(results) -> str:
    lines = []
    m = results["machine"]
    lines.append(
        f"machine: {m['system']} {m['machine']}, Python {m['python']}, "
        f"NumPy {m['numpy']}" + ("  (quick run)" if results.get("quick") else "")
    )
    if "processor" in m and "load" in m:
        versions = ", ".join(f"{k} {v}" for k, v in m.get("peers", {}).items())
        lines.append(
            f"{m['processor']}, {m.get('cpus', '?')} CPUs, pinned to CPU "
            f"{m.get('pinned_cpu', '?')}; load average {m['load'][0]:.2f} at the "
            f"start"
            + (f", {m['load_end'][0]:.2f} at the end" if "load_end" in m else "")
        )
        if versions:
            lines.append(f"peers: {versions}")
    if "problems" in results:
        lines += ["", *problems_table(results["problems"])]
    if "examples" in results:
        lines += ["", *examples_table(results["examples"])]
    if "micrograd" in results:
        moons = results["micrograd"]
        base = moons.get("symgrad numpy", {})
        lines += [
            "",
            "Moons MLP step on both targets and micrograd "
            "(2-16-16-1 ReLU, 100 samples, value + gradient)",
            "",
        ]
        lines.append(f"{'peer':<26}{'time':>12}{'vs symgrad numpy':>20}")
        for name, entry in moons.items():
            note = entry.get("note", "")
            lines.append(f"{name:<26}{_us(entry):>12}{_ratio(entry, base):>20}  {note}")
    if "scaling" in results:
        lines += _scaling(results["scaling"])
    lines += _rest(results)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _scaling(sc) -> list:
    lines = []
    for axis, label, values in (
        ("width", "hidden width (batch 100)", sc["widths"]),
        ("batch", "batch size (width 16)", sc["batches"]),
    ):
        lines += ["", f"Scaling with {label}: time per step, ratio to hand NumPy", ""]
        lines.append(f"{'peer':<18}" + "".join(f"{v:>18}" for v in values))
        hand = sc[axis]["hand NumPy"]
        for name, entries in sc[axis].items():
            cells = [
                f"{_us(e)} {_ratio(e, h)}".strip()
                for e, h in zip(entries, hand, strict=True)
            ]
            lines.append(f"{name:<18}" + "".join(f"{c:>18}" for c in cells))
    return lines


def _rest(results) -> list:
    lines = []
    if "compile" in results:
        lines += _compile(results["compile"])
    if "cheap_gradient" in results:
        lines += ["", "Cheap-gradient ratio: value_and_grad time / forward time", ""]
        for target, entry in results["cheap_gradient"].items():
            if "ratio" not in entry:
                lines.append(f"{target:<10}skipped: {entry.get('note', '')}")
                continue
            lines.append(f"{target:<10}{entry['ratio']:.2f}")
    if "sympy" in results:
        lines += ["", "SymPy: sympy.diff + lambdify against symgrad.from_sympy", ""]
        for name, row in results["sympy"].items():
            swell = row["sympy_grad_ops"] / row["loss_ops"]
            ours = row["ours_grad_ops"] / row["ours_forward_ops"]
            lines.append(
                f"{name:<16} sympy gradient {swell:6.0f}x the loss's ops, "
                f"symgrad {ours:.2f}x; symgrad {row['speedup']:.0f}x faster"
            )
    if "entry" in results:
        lines += ["", "Argument checks at entry (moons arguments) against one step", ""]
        for target, entry in results["entry"].items():
            if "entry_s" not in entry:
                lines.append(f"{target:<10}skipped: {entry.get('note', '')}")
                continue
            lines.append(
                f"{target:<10}{entry['entry_s'] * 1e6:8.1f} us  "
                f"{entry['share']:.1%} of a value_and_grad step"
            )
    if "dynamic" in results:

        lines += ["", *dynamic.table(results["dynamic"]).rstrip("\n").split("\n")]
    if "constants" in results:

        lines += ["", *constants.table(results["constants"]).rstrip("\n").split("\n")]
    return lines


def _compile(comp) -> list:
    lines = ["", "Compile time against graph size (scalar chain)", ""]
    first = comp["chain"][0]
    for entry in comp["chain"]:
        growth = entry["seconds"] / first["seconds"]
        lines.append(
            f"{entry['nodes']:>9,} nodes  {entry['seconds']:8.2f} s  "
            f"{entry['lines']:>9,} lines  "
            f"({growth:.1f}x the {first['nodes']:,}-node time)"
        )
    mlp = comp["scalar_mlp"]
    lines.append(
        f"unrolled scalar MLP, {mlp['weights']} weights, 8 samples: "
        f"{mlp['seconds']:.2f} s, {mlp['lines']:,} lines"
    )
    return lines


def plot(results, path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sc = results.get("scaling")
    if sc is None:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, axis, values, label in (
        (axes[0], "width", sc["widths"], "hidden width (batch 100)"),
        (axes[1], "batch", sc["batches"], "batch size (width 16)"),
    ):
        for name, entries in sc[axis].items():
            points = [
                (v, e["seconds"])
                for v, e in zip(values, entries, strict=True)
                if "seconds" in e
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, [t * 1e6 for t in ys], marker="o", label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(values)
        ax.set_xticklabels([str(v) for v in values])
        ax.minorticks_off()
        ax.set_xlabel(label)
        ax.set_ylabel("microseconds per step")
        ax.legend()
    fig.suptitle("MLP value and gradient: symgrad NumPy target against peers")
    fig.tight_layout()
    # Through the one file writer (atomic, regular files only), as bytes.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    write_atomic(path, buffer.getvalue())
    return True
