"""What `symgrad bench` does once its process runs single-threaded.

Contract: `run(args)` measures (or, with `args.profile`, profiles; with
`args.dask`, measures only rows per second on Dask, `bench.dask_rows`) the
problems named by `args.problems`, prints the tables, writes `args.json` and
`args.plot` when asked, and returns 0; a problem that cannot be profiled
raises `cli.UserError`. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import json
import sys

from symgrad import api
from symgrad.bench import examples, problems, profile, report, suite
from symgrad.bench.peers import Unavailable
from symgrad.cli.load import UserError
from symgrad.files import write_atomic


def _progress(message):
    print(message, file=sys.stderr, flush=True)


def _peers(text):

    if text is None:
        return suite.PEERS
    return tuple(p for p in text.split(",") if p and p != "none")


def run(args) -> int:

    names = suite.select(getattr(args, "problems", None))
    if getattr(args, "profile", False):
        return _profile(args, names)
    if getattr(args, "dask", False):
        return _dask(args)

    results = suite.run(
        args.quick,
        progress=_progress,
        names=names,
        peers=_peers(getattr(args, "peers", None)),
        cpu=getattr(args, "cpu", None),
    )
    print(report.table(results), end="")
    if args.json:
        write_atomic(args.json, json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    if getattr(args, "plot", None):
        if "scaling" not in results:
            print("no plot: the scaling section was not measured (--problems)")
        elif report.plot(results, args.plot):
            print(f"wrote {args.plot}")
        else:
            print("for the plot: pip install matplotlib  (or .[plot])")
    return 0


def _dask(args) -> int:
    """Rows per second in one process and on 1 and 2 Dask workers."""
    from symgrad.bench import dask_rows

    try:
        result = dask_rows.run(args.quick, progress=_progress)
    except Unavailable as exc:
        raise UserError(f"bench --dask needs Dask: {exc}") from None
    print(dask_rows.table(result), end="")
    if args.json:
        out = {"machine": suite.machine(), "quick": args.quick, "dask": result}
        write_atomic(args.json, json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def _profile(args, names) -> int:

    if getattr(args, "problems", None) is None:
        names = list(problems.NAMES)
    others = [n for n in names if n not in problems.NAMES + examples.NAMES]
    if others:
        raise UserError(
            f"--profile times a generated module; {', '.join(others)} has none "
            f"(choose from {', '.join(problems.NAMES + examples.NAMES)})"
        )
    out = {"machine": suite.machine(), "quick": args.quick, "profiles": {}}
    with suite.pinned(getattr(args, "cpu", None)) as cpu:
        out["machine"]["pinned_cpu"] = cpu
        for name in names:
            _progress(f"profiling {name} ...")
            if name in problems.NAMES:
                problem = problems.get(name, args.quick)
            else:
                try:
                    problem = examples.get(name)
                except Unavailable as exc:
                    raise UserError(f"cannot profile {name}: {exc}") from None
            data = problem.data()
            compiled = api.compile(problem.loss, *data)
            result = profile.profile(compiled, data, 0.3 if args.quick else 2.0)
            result["title"] = problem.title
            if getattr(problem, "hand", None) is not None:
                result["peer_statements"] = profile.statements_run(problem.hand, data)
            out["profiles"][name] = result
            print(profile.table(result, getattr(args, "top", 20), problem.title))
    if args.json:
        write_atomic(args.json, json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
