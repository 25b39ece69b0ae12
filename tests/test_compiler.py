"""The compiler stage: bind, trace and build called one at a time give what
`compile` gives; every front end goes through it; nothing below imports it."""

import ast
import os

import numpy as np

import symgrad
from symgrad import api, compiler, ir, transforms_api

ROOT = os.path.dirname(symgrad.__file__)


def loss(w, x, k):
    return np.sum(np.tanh(w * x) ** 2) * k


def test_the_stages_one_at_a_time_give_compiles_module():
    w, x = np.linspace(0.1, 1.0, 3), np.ones(3)
    with ir.scope():
        sig = compiler.bind(loss, (w, x, 2.0), argnums=0, ints=True)
        assert [leaf.node is not None for leaf in sig.leaves] == [True] * 3
        assert sig.params == ["w", "x", "k"] and sig.wrt == sig.inputs[:1]
        traced = compiler.trace(loss, sig, "scalar")
        assert len(traced.outputs) == 1 and traced.outputs[0].shape == ()
        program = compiler.build(traced)
        staged = api.Compiled(program).source
    assert [fn.name for fn in program.functions] == [
        "forward",
        "gradient",
        "value_and_grad",
    ]
    assert staged == symgrad.compile(loss, w, x, 2.0).source


def test_a_program_is_named_functions_only():
    c = symgrad.compile(loss, np.ones(2), np.ones(2), 3.0, functions="hessian")
    assert [fn.name for fn in c.program.functions] == ["hessian"]
    for legacy in ("value", "grads", "diff", "forward"):
        assert not hasattr(c.program, legacy)


def test_one_cache_serves_grad_and_the_transforms():
    g = symgrad.grad(loss)
    g(np.ones(2), np.ones(2), 1.0)
    assert isinstance(g._cache, compiler.Cache) and len(g._cache) == 1
    assert isinstance(transforms_api._cache, compiler.Cache)


def _imports(path):
    """(module-level imports, imports inside functions) of a file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    top = {n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    names, inner = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        else:
            continue
        if node not in top:
            inner.append(node.lineno)
    return names, inner


def test_the_stage_and_what_it_calls_never_import_what_is_above():
    above = {"symgrad.api", "symgrad.transforms_api", "symgrad.cli"}
    for name in ("compiler.py", "sympy_bridge.py", "program.py"):
        names, _ = _imports(os.path.join(ROOT, name))
        assert not {n for n in names if n.startswith(tuple(above))}, name
    names, _ = _imports(os.path.join(ROOT, "compiler.py"))
    assert "symgrad.sympy_bridge" not in names
    names, _ = _imports(os.path.join(ROOT, "program.py"))
    assert not [n for n in names if n.startswith("symgrad.codegen")]
    for name in ("compiler.py", "api.py", "transforms_api.py", "program.py"):
        assert _imports(os.path.join(ROOT, name))[1] == [], name
