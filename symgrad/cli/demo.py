"""`symgrad demo`: micrograd's moons demo, compiled and trained.

Contract: `run_demo(out, steps)` compiles `examples/moons.py:loss` into trainer
modules in `out` (default: the repository's `generated/`) for both targets,
imports the NumPy one (not symgrad) to train, prints micrograd's per-step lines (with a
progress bar when writing to a terminal), and writes `moons.png` with the
decision boundary and the loss curve when matplotlib is installed. It also
writes the data it trained on to `moons.csv` in `out`, so that the command it
prints at the end (the pure-Python trainer on that file) works as printed.

It overwrites files as `symgrad compile` does: a module only if symgrad
wrote it, the plot only if it is a PNG file, the data only if it is the
demo's own CSV, anything else only with `force`; never a FIFO, device or
folder (see `files.check_overwrite`). Every check runs before the first file
is written.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys

from symgrad import api
from symgrad.cli.load import UserError, load_function
from symgrad.errors import SymgradError
from symgrad.files import check_overwrite, starts_with, write_atomic

# symgrad/cli/demo.py -> the checkout
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "moons.py")
# micrograd's published trajectory (demo.ipynb), for the closing comparison.
MICROGRAD = {0: 0.8958441028683222, 99: 0.010978370135492717}
TRAINERS = (("moons_trainer.py", "numpy"), ("moons_trainer_python.py", "python"))
PLOT = "moons.png"
_PNG = b"\x89PNG\r\n\x1a\n"
DATA = "moons.csv"
_HEADER = b"x1,x2,label\n"  # the first line of the data file the demo writes


def _import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Progress:
    """Step lines always; a redrawn bar under them only on a terminal."""

    def __init__(self, steps, stream):
        self.steps = steps
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, k, loss, acc):
        line = f"step {k} loss {loss!r}, accuracy {acc * 100:.1f}%"
        if not self.tty:
            print(line, file=self.stream)
            return
        done = (k + 1) * 30 // self.steps
        bar = "#" * done + "." * (30 - done)
        self.stream.write(f"\r\033[K{line}\n[{bar}] {k + 1}/{self.steps}")
        if k + 1 == self.steps:
            self.stream.write("\n")
        self.stream.flush()


def _check_outputs(out, force):
    for name, _ in TRAINERS:
        check_overwrite(os.path.join(out, name), force, [EXAMPLE])
    for name, head, what in ((PLOT, _PNG, "a PNG file"), (DATA, _HEADER, "its data")):
        path = os.path.join(out, name)
        check_overwrite(path, True, [EXAMPLE])  # special files: never
        if not force and os.path.exists(path) and not starts_with(path, (head,)):
            raise SymgradError(
                f"{path} exists and is not {what}; choose another --out or pass "
                "--force to overwrite it"
            )


def run_demo(out=None, steps=100, force=False) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise UserError(f"--steps must be 1 or more, got {steps!r}")
    if not os.path.isfile(EXAMPLE):
        raise UserError(
            f"the demo needs {EXAMPLE} from a checkout of the symgrad repository "
            "(pip install -e . from the checkout)"
        )
    out = out or os.path.join(ROOT, "generated")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"--out {out} is not a folder")
    os.makedirs(out, exist_ok=True)
    _check_outputs(out, force)
    loss, record = load_function(f"{EXAMPLE}:loss")
    example = record.example_args()
    for name, target in TRAINERS:
        source = api.trainer_source(loss, record.predict, example, "sgd", target)
        written = write_atomic(os.path.join(out, name), source, [EXAMPLE])
        print(f"compiled {os.path.relpath(EXAMPLE)}:loss -> {os.path.relpath(written)}")
    path = os.path.join(out, "moons_trainer.py")
    print(f"training micrograd's MLP(2, [16, 16, 1]) for {steps} steps of SGD\n")

    trainer = _import_file(path, "moons_trainer")
    params, X, y = example
    params, history = trainer.train(
        params, X, y, steps, callback=_Progress(steps, sys.stdout)
    )

    print()
    for k, want in MICROGRAD.items():
        if k < len(history):
            got = history[k][1]
            verdict = (
                "matches" if abs(got - want) <= 1e-9 * abs(want) else "differs from"
            )
            print(f"step {k}: loss {got!r} {verdict} micrograd's {want!r}")
    print(f"final accuracy: {history[-1][2] * 100:.1f}%")
    data = write_atomic(os.path.join(out, DATA), _csv(X, y), [EXAMPLE])
    print(
        "the same training without NumPy: python "
        + os.path.relpath(os.path.join(out, "moons_trainer_python.py"))
        + " "
        + os.path.relpath(data)
    )
    _plot(trainer, params, X, y, history, os.path.join(out, PLOT))
    return 0


def _csv(X, y) -> str:
    """The demo's data as the trainers read it: a header, then x1, x2, label
    per row, numbers written exactly (repr) so training on the file repeats
    the demo's steps."""
    rows = [_HEADER.decode().rstrip("\n")]
    pairs = zip(X.tolist(), y.tolist(), strict=True)
    rows += [f"{a!r},{b!r},{label!r}" for (a, b), label in pairs]
    return "\n".join(rows) + "\n"


def _plot(trainer, params, X, y, history, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        print("\nfor the decision-boundary plot: pip install matplotlib  (or .[plot])")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    h = 0.25
    xs = np.arange(X[:, 0].min() - 1, X[:, 0].max() + 1, h)
    ys = np.arange(X[:, 1].min() - 1, X[:, 1].max() + 1, h)
    xx, yy = np.meshgrid(xs, ys)
    grid = np.c_[xx.ravel(), yy.ravel()]
    # The trainer takes any number of rows: the whole grid at once.
    Z = (trainer.predict(params, grid) > 0).reshape(xx.shape)
    left.contourf(xx, yy, Z, cmap=plt.cm.Spectral, alpha=0.8)
    left.scatter(X[:, 0], X[:, 1], c=y, s=40, cmap=plt.cm.Spectral)
    left.set_title("decision boundary")
    right.plot([k for k, _, _ in history], [loss for _, loss, _ in history])
    right.set_yscale("log")
    right.set_xlabel("step")
    right.set_title("loss")
    fig.tight_layout()
    # Through the one file writer (atomic, regular files only), as bytes.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    write_atomic(path, buffer.getvalue(), [EXAMPLE])
    print(f"\nwrote {os.path.relpath(path)}")
