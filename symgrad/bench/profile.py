"""`symgrad bench --profile`: what each statement of a generated module costs.

Contract: `profile(compiled, args, seconds)` runs `compiled`'s
`value_and_grad(*args)` repeatedly with every statement of the generated
functions timed, and returns a JSON-ready dict: per statement its line in
`compiled.source`, its text, the comment it sits under (the user's line it
computes, or `grad of:` that line), the kind of operation, and the time per
call of value_and_grad; plus the uninstrumented time per call. `table(result,
top)` renders the costliest statements, then the time per source comment
and per kind of operation.

How: the generated functions are parsed from `compiled.source` and
re-executed in a copy of the loaded module's namespace (constants, helpers)
with two clock reads around each simple statement (an `if` counts as one
statement with its body, so an argument check is one row; the bodies of
`try`, `with` and loops are timed statement by statement). Time spent in a
call to another generated function is charged to that function's
statements, not to the calling line (exclusive times). The clock reads' own
cost is measured on empty statements and subtracted. `statements_run(fn,
args)` counts the lines a hand-written peer runs, for comparison.
"""

from __future__ import annotations

import ast
import gc
import os
import re
import statistics
import time
import types

import numpy as np

_PREFIX = "_symgrad_prof_"
_COMMENT = re.compile(r"^\s*# (.*)$")


def _stmt_kind(node, modules=frozenset({"np", "math"})) -> str:
    """A short name for what a statement does (for the per-kind summary)."""
    if isinstance(node, ast.If):
        return "argument check"
    if isinstance(node, ast.Delete):
        return "del"
    if isinstance(node, ast.AugAssign):
        return f"{_OPS.get(type(node.op), '?')}= (in place)"
    value = getattr(node, "value", None)
    if isinstance(node, ast.Expr) and isinstance(value, ast.Call):
        return _call_kind(value, modules)
    if isinstance(node, ast.Return):
        return "return"
    if value is None:
        return type(node).__name__.lower()
    return _expr_kind(value, modules)


_OPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}


def _call_kind(call, modules) -> str:
    """`np.where()`, `scipy.special.logsumexp()`, `.sum()` (a method), ..."""
    func, root = call.func, call.func
    while isinstance(root, ast.Attribute):
        root = root.value
    if isinstance(func, ast.Attribute) and not (
        isinstance(root, ast.Name) and root.id in modules
    ):
        return f".{func.attr}()"  # a method of a value
    out = any(k.arg == "out" for k in call.keywords)
    return ast.unparse(func) + ("(out=)" if out else "()")


def _expr_kind(value, modules) -> str:
    if isinstance(value, ast.BinOp):
        return (
            "a @ b"
            if isinstance(value.op, ast.MatMult)
            else (f"a {_OPS.get(type(value.op), '?')} b")
        )
    if isinstance(value, ast.UnaryOp):
        return "-a" if isinstance(value.op, ast.USub) else "unary op"
    if isinstance(value, ast.Compare):
        return "comparison"
    if isinstance(value, ast.Call):
        return _call_kind(value, modules)
    if isinstance(value, ast.Attribute):
        return f".{value.attr}"
    if isinstance(value, ast.Subscript):
        return "indexing a[...]"
    if isinstance(value, ast.Name | ast.Constant):
        return "alias"
    if isinstance(value, ast.Tuple | ast.List | ast.Dict):
        return "packing results"
    if isinstance(value, ast.IfExp):
        return "a if c else b"
    return type(value).__name__.lower()


class _Instrument:
    """Wraps each statement of a function in clock reads; `records` (shared
    by all the functions of a module) gets (function name, node) per slot."""

    def __init__(self, function, records):
        self.function = function
        self.records = records

    def _timed(self, node, stmt=None):
        k = len(self.records)
        self.records.append((self.function, node))
        p = _PREFIX
        before = ast.parse(f"{p}s = {p}seen[0]; {p}t = {p}clock()").body
        after = ast.parse(
            f"{p}e = {p}clock() - {p}t\n"
            f"{p}acc[{k}] += {p}e - ({p}seen[0] - {p}s)\n"
            f"{p}cnt[{k}] += 1\n"
            f"{p}seen[0] = {p}s + {p}e"
        ).body
        return [*before, stmt or node, *after]

    def body(self, statements):
        out = []
        for node in statements:
            if isinstance(node, ast.Try):
                node.body = self.body(node.body)
                node.orelse = self.body(node.orelse)
                node.finalbody = self.body(node.finalbody)
                out.append(node)
            elif isinstance(node, ast.With | ast.For | ast.While):
                node.body = self.body(node.body)
                out.append(node)
            elif isinstance(node, ast.Return) and node.value is not None:
                result = ast.Name(f"{_PREFIX}r", ast.Store())
                assign = ast.Assign([result], node.value, lineno=node.lineno)
                out += self._timed(node, assign)
                out.append(ast.Return(ast.Name(f"{_PREFIX}r", ast.Load())))
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                out.append(node)
            else:
                out += self._timed(node)
        return out


def _comments(lines) -> list:
    """For each line number (1-based), the last comment above it (or "")."""
    current, out = "", [""]
    for line in lines:
        match = _COMMENT.match(line)
        if match and line.startswith("    #"):
            current = match.group(1)
        elif line.startswith("def ") or line.startswith("@"):
            current = ""
        out.append(current)
    return out


def _statement_text(lines, node) -> str:
    text = " ".join(lines[i].strip() for i in range(node.lineno - 1, node.end_lineno))
    if isinstance(node, ast.If):
        text = lines[node.lineno - 1].strip()
        test = ast.unparse(node.test)
        text = f"if {test}: ..." if len(test) < 200 else text
    return re.sub(r"\s+", " ", text)


def instrument(source: str, namespace: dict, filename: str):
    """(records, acc, cnt): the functions defined in `source` re-executed in
    `namespace` with every statement timed; slot k of `acc` adds up the
    nanoseconds of `records[k]` = (function, statement node), `cnt` its runs."""
    tree = ast.parse(source)
    functions, records = [], []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            node.body = _Instrument(node.name, records).body(node.body)
            functions.append(node)
    module = ast.fix_missing_locations(ast.Module(body=functions, type_ignores=[]))
    acc, cnt = [0] * len(records), [0] * len(records)
    namespace.update(
        {
            f"{_PREFIX}clock": time.perf_counter_ns,
            f"{_PREFIX}acc": acc,
            f"{_PREFIX}cnt": cnt,
            f"{_PREFIX}seen": [0],
        }
    )
    exec(compile(module, filename, "exec"), namespace)
    return records, acc, cnt


def _overhead_ns() -> float:
    """What one timed empty statement records (the clock reads' own cost)."""
    source = "def f():\n" + "    pass\n" * 200
    namespace = {}
    _, acc, cnt = instrument(source, namespace, "<overhead>")
    best = float("inf")
    for _ in range(7):
        acc[:] = cnt[:] = [0] * len(acc)
        for _ in range(20):
            namespace["f"]()
        best = min(
            best, statistics.median(a / c for a, c in zip(acc, cnt, strict=True))
        )
    return best


class _GcClock:
    """Time spent in the cyclic garbage collector meanwhile (gc.callbacks);
    with `seen`, a profile's running total, it is also kept out of the
    statement that happened to trigger the collection."""

    def __init__(self, seen=None):
        self.ns, self.collections, self.seen, self._start = 0, 0, seen, 0

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter_ns()
            return
        spent = time.perf_counter_ns() - self._start
        self.ns += spent
        self.collections += 1
        if self.seen is not None:
            self.seen[0] += spent

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def profile(compiled, args, seconds: float = 1.0, function="value_and_grad"):
    """Time each statement of `compiled`'s `function(*args)` (see module doc).

    Each statement's figure is its median over the calls (a process switched
    in by the machine, or a garbage collection, lands on whichever statement
    is running; medians keep such spikes out), the total is the median time
    of an uninstrumented call; both runs take about `seconds` / 2.
    """
    plain = getattr(compiled, function)
    plain(*args)  # warm up (module load, first-call costs)
    samples, start = [], time.perf_counter()
    with _GcClock() as collector:
        while len(samples) < 3 or time.perf_counter() - start < seconds / 2:
            t0 = time.perf_counter()
            plain(*args)
            samples.append(time.perf_counter() - t0)

    # A copy of the loaded module's globals: constants and helpers are bound.
    namespace = dict(compiled.module.__dict__)
    records, acc, cnt = instrument(
        compiled.source, namespace, compiled.module.__file__ or "<generated>"
    )
    timed = namespace[function]
    timed(*args)
    acc[:] = cnt[:] = [0] * len(acc)
    per_call, previous = [], list(acc)
    start = time.perf_counter()
    with _GcClock(namespace[f"{_PREFIX}seen"]):
        while len(per_call) < 3 or time.perf_counter() - start < seconds / 2:
            timed(*args)
            per_call.append([a - b for a, b in zip(acc, previous, strict=True)])
            previous = list(acc)
    runs = len(per_call)
    instrumented_s = (time.perf_counter() - start) / runs
    overhead = _overhead_ns()
    medians = [statistics.median(column) for column in zip(*per_call, strict=True)]

    lines = compiled.source.splitlines()
    comments = _comments(lines)
    modules = {k for k, v in namespace.items() if isinstance(v, types.ModuleType)}
    rows = []
    for (fn, node), median, total, count in zip(
        records, medians, acc, cnt, strict=True
    ):
        if not count:
            continue
        rows.append(
            {
                "function": fn,
                "line": node.lineno,
                "end_line": node.end_lineno,
                "text": _statement_text(lines, node),
                "comment": comments[node.lineno],
                "kind": _stmt_kind(node, modules),
                "per_call": count / runs,
                "seconds": max(0.0, median - overhead * count / runs) * 1e-9,
                "mean_seconds": max(0.0, total - overhead * count) / runs * 1e-9,
            }
        )
    rows.sort(key=lambda r: -r["seconds"])
    return {
        "function": function,
        "lines": len(lines),
        "statements": len(rows),
        "seconds": statistics.median(samples),
        "gc_seconds": collector.ns * 1e-9 / len(samples),
        "gc_collections": collector.collections / len(samples),
        "instrumented_seconds": instrumented_s,
        "overhead_ns_per_statement": overhead,
        "calls": runs,
        "rows": rows,
    }


def statements_run(fn, args) -> int:
    """How many lines of Python `fn(*args)` runs (its own and those of the
    Python functions it calls, NumPy's own excepted): the count of
    statements a hand-written peer executes, to set against the generated
    module's. Counted with `sys.settrace`, once."""
    import sys

    count = 0
    numpy_dir = os.path.dirname(np.__file__)

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename.startswith(numpy_dir):
            return None
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(previous)
    return count


def _us(seconds) -> str:
    us = seconds * 1e6
    return f"{us:,.1f}" if us < 100 else f"{us:,.0f}"


def _clip(text, width) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _grouped(rows, key):
    groups = {}
    for row in rows:
        entry = groups.setdefault(key(row), [0.0, 0])
        entry[0] += row["seconds"]
        entry[1] += 1
    return sorted(groups.items(), key=lambda item: -item[1][0])


def table(result, top: int = 20, title: str = "") -> str:
    rows = result["rows"]
    total = sum(r["seconds"] for r in rows) or 1e-300
    head = f"Profile of {result['function']}"
    lines = [
        head + (f": {title}" if title else ""),
        "",
        f"{_us(result['seconds'])} us a call (median, uninstrumented), of which "
        f"garbage collection {_us(result['gc_seconds'])} us "
        f"({result['gc_collections']:.2g} collections a call);",
        f"{result['statements']} statements of {result['lines']:,} lines, medians "
        f"over {result['calls']} calls, add up to {_us(total)} us "
        f"(clock overhead {result['overhead_ns_per_statement']:.0f} ns a "
        "statement subtracted)",
    ]
    if "peer_statements" in result:
        ran = sum(r["per_call"] for r in rows)
        lines.append(
            f"statements run a call: symgrad {ran:,.0f}, hand NumPy "
            f"{result['peer_statements']:,} (its lines, NumPy's own excepted)"
        )
    lines += [
        "",
        f"{'us/call':>10}{'share':>7}{'cum':>6}  {'line':>5}  statement",
    ]
    cum = 0.0
    for row in rows[:top]:
        cum += row["seconds"]
        times = "" if row["per_call"] == 1 else f"  [x{row['per_call']:g}]"
        lines.append(
            f"{_us(row['seconds']):>10}{row['seconds'] / total:>7.1%}"
            f"{cum / total:>6.0%}  {row['line']:>5}  "
            f"{_clip(row['text'], 72)}{times}"
        )
    if len(rows) > top:
        rest = sum(r["seconds"] for r in rows[top:])
        lines.append(
            f"{_us(rest):>10}{rest / total:>7.1%}        "
            f"({len(rows) - top} more statements)"
        )
    lines += ["", "By source line (the comment each statement sits under)", ""]
    for comment, (seconds, count) in _grouped(rows, lambda r: r["comment"])[:top]:
        lines.append(
            f"{_us(seconds):>10}{seconds / total:>7.1%}  {count:>4} st.  "
            f"{_clip(comment or '(argument checks and returns)', 80)}"
        )
    lines += ["", "By kind of operation", ""]
    for kind, (seconds, count) in _grouped(rows, lambda r: r["kind"]):
        lines.append(
            f"{_us(seconds):>10}{seconds / total:>7.1%}  {count:>4} st.  {kind}"
        )
    return "\n".join(lines) + "\n"
