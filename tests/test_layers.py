"""Imports point one way: the packages of symgrad are floors, and nothing imports
a floor above its own or makes a cycle.

The import graph is read from the source (module-level imports, imports inside
functions and `importlib.import_module("symgrad...")` alike), so an import moved
into a function to dodge a cycle still counts. Floors, bottom up:

0. `ir` (nodes, dims, pytrees, source locations), `errors`, `files`, `_version`
1. `ops` (the op table), `numpy_api` (composites)
2. `frontend`, `ad`, `passes`, `codegen`, `program`
3. `compiler`, `sympy_bridge`, `distributed`
4. `api`, `transforms_api`, the package itself
5. `cli`, `bench`, `__main__`

Modules of one floor may import each other, as long as no cycle forms.
"""

from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "symgrad")

FLOORS = [
    ["symgrad.ir", "symgrad.errors", "symgrad.files", "symgrad._version"],
    ["symgrad.ops", "symgrad.numpy_api"],
    [
        "symgrad.frontend",
        "symgrad.ad",
        "symgrad.passes",
        "symgrad.codegen",
        "symgrad.program",
    ],
    ["symgrad.compiler", "symgrad.sympy_bridge", "symgrad.distributed"],
    ["symgrad.api", "symgrad.transforms_api", "symgrad"],
    ["symgrad.cli", "symgrad.bench", "symgrad.__main__"],
]


def _modules() -> dict:
    """{dotted name: file} of every module of the package."""
    out = {}
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                out[dotted.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module `name` (a module, or a name inside one) belongs to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: str) -> dict:
    """{imported module: line} for one module."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    found = {}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                for a in node.names
            ]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        for name in names:
            target = _owner(name) if name.startswith("symgrad") else None
            if target and target != module:
                found.setdefault(target, node.lineno)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def floor(module: str) -> int:
    best = None
    for level, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (level, len(prefix))
    assert best is not None, f"{module} is on no floor: add its package to FLOORS"
    return best[0]


def test_every_module_is_on_a_floor():
    for module in MODULES:
        floor(module)


def test_no_import_points_up():
    upward = [
        f"{MODULES[m]}:{line}: {m} (floor {floor(m)}) imports {t} (floor {floor(t)})"
        for m, targets in sorted(GRAPH.items())
        for t, line in sorted(targets.items())
        if floor(t) > floor(m)
    ]
    assert not upward, "\n".join(upward)


def _cycles() -> list:
    """Strongly connected groups of more than one module (iterative Tarjan)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = 0
    for start in sorted(GRAPH):
        if start in index:
            continue
        work = [(start, iter(sorted(GRAPH[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_import_cycles():
    assert not _cycles(), _cycles()


def test_the_cycle_finder_finds_a_cycle():
    # The check above must be able to fail: a made-up cycle is found.
    saved = dict(GRAPH)
    try:
        GRAPH["symgrad.ir"] = {**GRAPH["symgrad.ir"], "symgrad.ops": 1}
        assert any({"symgrad.ir", "symgrad.ops"} <= set(g) for g in _cycles())
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
