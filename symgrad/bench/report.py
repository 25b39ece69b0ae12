"""Turning benchmark results into a table and a plot.

Contract: `table(results)` is plain text (the README's results section is
pasted from it); `plot(results, path)` writes the scaling curves as PNG when
matplotlib is installed and returns False otherwise.
"""

from __future__ import annotations


def _us(entry) -> str:
    if "seconds" not in entry:
        return "skipped"
    return f"{entry['seconds'] * 1e6:,.0f} us"


def _ratio(entry, base) -> str:
    if "seconds" not in entry or "seconds" not in base:
        return ""
    return f"{entry['seconds'] / base['seconds']:.2f}x"


def table(results) -> str:
    lines = []
    m = results["machine"]
    lines.append(
        f"machine: {m['system']} {m['machine']}, Python {m['python']}, "
        f"NumPy {m['numpy']}" + ("  (quick run)" if results.get("quick") else "")
    )
    moons = results["moons"]
    base = moons.get("symgrad numpy", {})
    lines += ["", "Moons MLP step (2-16-16-1 ReLU, 100 samples, value + gradient)", ""]
    lines.append(f"{'peer':<26}{'time':>12}{'vs symgrad numpy':>20}")
    for name, entry in moons.items():
        note = entry.get("note", "")
        lines.append(f"{name:<26}{_us(entry):>12}{_ratio(entry, base):>20}  {note}")

    sc = results["scaling"]
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

    comp = results["compile"]
    lines += ["", "Compile time against graph size (scalar chain)", ""]
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

    lines += ["", "Cheap-gradient ratio: value_and_grad time / forward time", ""]
    for target, entry in results["cheap_gradient"].items():
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
            lines.append(
                f"{target:<10}{entry['entry_s'] * 1e6:8.1f} us  "
                f"{entry['share']:.1%} of a value_and_grad step"
            )
    if "constants" in results:
        from symgrad.bench import constants

        lines += ["", *constants.table(results["constants"]).rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def plot(results, path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sc = results["scaling"]
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
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
