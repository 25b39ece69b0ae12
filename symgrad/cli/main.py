"""The `symgrad` command: compile, show and demo.

Contract: `main(argv)` parses the command line and returns an exit code: 0 on
success, 2 for a user error (missing or non-Python file, a file that fails to
import, missing function or example inputs, a file it will not overwrite or
cannot write, a bad option value), with a one-line `symgrad: ...` message on
stderr saying what to do. Files are written atomically (temporary file,
rename).
"""

from __future__ import annotations

import argparse
import os
import sys

from symgrad._version import __version__
from symgrad.cli import commands
from symgrad.cli.load import UserError, one_line
from symgrad.errors import SymgradError

EPILOG_COMPILE = """\
example:
  symgrad compile examples/moons.py:loss --trainer sgd -o moons_trainer.py
  symgrad compile examples/moons.py:loss --trainer adam --target c -o train.c
    (one C file with main, no Python needed: cc -O2 train.c -lm -o train)

A trainer takes any number of rows: the first axis of X and y is a symbolic
size n unless --batch or --shapes say otherwise (--batch none: fixed sizes).
Any module can have symbolic sizes:
  symgrad compile examples/logistic.py:logistic_loss --batch X:0,y:0
  symgrad compile examples/logistic.py:logistic_loss --shapes "X=n,3;y=n"

The function must declare example inputs with @symgrad.export(example=...):

  @symgrad.export(example=lambda: (init_params(), X, y), predict=scores)
  def loss(params, X, y): ...
"""

EPILOG_SHOW = """\
examples:
  symgrad show examples/neuron.py:neuron --stage grad
  symgrad show examples/neuron.py:neuron --format dot -o neuron.dot
"""

EPILOG_DEMO = """\
example:
  symgrad demo            # compile examples/moons.py into generated/ and train it
  symgrad demo --out /tmp/moons --steps 20
"""


EPILOG_BENCH = """\
examples:
  symgrad bench --plot scaling.png --json bench.json
  symgrad bench --problems peers          # the peer table only
  symgrad bench --problems rnn,examples --peers jax
  symgrad bench --profile --problems mlp128 --top 30
  symgrad bench --dask --quick            # rows/s on 1 and 2 Dask workers

problems: moons, mlp128, mlp512, rnn (group: peers); ex-softmax, ex-mixture,
ex-rnn, ex-gp (group: examples); sections: micrograd (the moons step on both
targets and micrograd), scaling, compile, cheap_gradient, entry, constants,
sympy; all (the default).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symgrad",
        description="Compile Python/NumPy functions into standalone gradient code.",
        epilog="example:\n  symgrad compile examples/neuron.py:neuron -o n_grad.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    comp = sub.add_parser(
        "compile",
        help="write the gradient module of FILE.py:FUNC",
        description="Trace FILE.py:FUNC at its example inputs and write its module.",
        epilog=EPILOG_COMPILE,
        formatter_class=raw,
    )
    comp.add_argument("target_fn", metavar="FILE.py:FUNC")
    comp.add_argument("-o", "--output", help="output file (default: FUNC_grad.py)")
    comp.add_argument("--target", choices=_targets(), default="numpy")
    comp.add_argument("--argnums", help="comma-separated argument positions, e.g. 0,1")
    comp.add_argument("--trainer", choices=_optimizers(), help="also write a trainer")
    comp.add_argument(
        "--functions",
        help="comma-separated functions the module holds (default: forward,"
        "gradient,value_and_grad; also vjp, jvp, jacobian, jacfwd, jacrev, "
        "hessian, hvp)",
    )
    comp.add_argument(
        "--batch",
        metavar="ARG:AXIS,...",
        help="axes of arguments that are the batch, a size n known only when the "
        "module runs (X:0,y:0; ARG alone means axis 0; none: no symbolic sizes)",
    )
    comp.add_argument(
        "--shapes",
        metavar="ARG=SPEC;...",
        help='shape specs of arguments, names being symbolic sizes ("X=n,2;y=n")',
    )
    comp.add_argument("--force", action="store_true", help="overwrite any file")

    show = sub.add_parser(
        "show",
        help="print a stage of the compilation of FILE.py:FUNC",
        description="Print the traced graph, the gradient graph, the optimized "
        "graph, the generated source or a LaTeX derivative.",
        epilog=EPILOG_SHOW,
        formatter_class=raw,
    )
    show.add_argument("target_fn", metavar="FILE.py:FUNC")
    show.add_argument(
        "--stage",
        choices=["graph", "grad", "optimized", "source", "latex"],
        default="source",
    )
    show.add_argument("--format", choices=["text", "dot"], default="text")
    show.add_argument("--target", choices=_targets(), default="numpy")
    show.add_argument("--argnums", help="comma-separated argument positions")
    show.add_argument(
        "-o", "--output", help="with --format dot: the .dot file to write"
    )

    demo = sub.add_parser(
        "demo",
        help="compile and train micrograd's moons MLP (examples/moons.py)",
        description="Compile examples/moons.py into a trainer and reproduce "
        "micrograd's demo: 100 SGD steps to 100%% accuracy.",
        epilog=EPILOG_DEMO,
        formatter_class=raw,
    )
    demo.add_argument("--out", help="folder for the generated modules and plot")
    demo.add_argument("--steps", type=int, default=100)
    demo.add_argument(
        "--force",
        action="store_true",
        help="overwrite files in --out that symgrad did not write",
    )

    bench = sub.add_parser(
        "bench",
        help="time symgrad against hand-written NumPy, PyTorch, JAX and micrograd",
        description="Time symgrad's generated code against hand-written NumPy, JAX "
        "jit and PyTorch eager\non four problems: moons, two MLPs and an RNN (one "
        "pinned core, medians of\ninterleaved rounds, each peer checked against "
        "symgrad), the "
        "examples' compile and gradient time against JAX,\nthe moons step against "
        "micrograd, scaling with width and batch, compile cost and the\n"
        "cheap-gradient ratio. Peers that are not installed are skipped with a "
        "note\n(pip install -e '.[bench]' gets them all).",
        epilog=EPILOG_BENCH,
        formatter_class=raw,
    )
    bench.add_argument("--quick", action="store_true", help="fewer, smaller sizes")
    bench.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    bench.add_argument("--plot", metavar="PNG", help="write the scaling curves here")
    bench.add_argument(
        "--problems",
        metavar="LIST",
        type=_bench_problems,
        help="comma-separated problems, groups or sections to run (default: all)",
    )
    bench.add_argument(
        "--peers",
        metavar="LIST",
        type=_bench_peers,
        help="optional peers to run: fast,c,hand,jax,torch,micrograd or none "
        "(default: all)",
    )
    bench.add_argument(
        "--profile",
        action="store_true",
        help="instead: time each statement of the generated value_and_grad of "
        "the --problems (default: moons, mlp128, mlp512, rnn)",
    )
    bench.add_argument(
        "--dask",
        action="store_true",
        help="instead: rows per second of a trainer's full-batch steps in one "
        "process and on a local Dask cluster of 1 and 2 workers (dask extra)",
    )
    bench.add_argument(
        "--top",
        type=_positive,
        default=20,
        metavar="N",
        help="with --profile: rows per table (default 20)",
    )
    bench.add_argument(
        "--cpu",
        type=_bench_cpu,
        metavar="N",
        help="the CPU to pin to (default: the last one this process may use)",
    )
    return parser


def _bench_problems(text):
    # Imported when the option is read: the benchmarks load SymPy and the
    # peers' adapters, which `symgrad compile` should not wait for.
    from symgrad.bench.suite import select

    try:
        select(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _bench_peers(text):
    from symgrad.bench.suite import PEERS

    words = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in words if w not in (*PEERS, "none")]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown peer {unknown[0]!r}; choose from {', '.join(PEERS)} or none"
        )
    return ",".join(words)


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}")
    return value


def _bench_cpu(text):
    allowed = sorted(os.sched_getaffinity(0))
    try:
        cpu = int(text)
    except ValueError:
        cpu = None
    if cpu not in allowed:
        raise argparse.ArgumentTypeError(
            f"CPU {text!r} is not one this process may use ({allowed})"
        )
    return cpu


def _targets():
    from symgrad.api import TARGETS

    return list(TARGETS)


def _optimizers():
    from symgrad.codegen.trainer import OPTIMIZERS

    return sorted(OPTIMIZERS)


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return getattr(commands, args.command)(args)
    except (UserError, SymgradError, OSError) as exc:
        print(f"symgrad: {one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
