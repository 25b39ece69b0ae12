"""generated/ is reproducible: regenerating from examples/ changes no byte,
and every generated module runs with symgrad, sympy and black unimportable
(and numpy too, for modules of the pure-Python target)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest

import symgrad
from tests.test_codegen import BLOCKED, run_isolated

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATED = os.path.join(ROOT, "generated")
MODULES = sorted(f for f in os.listdir(GENERATED) if f.endswith(".py"))


def test_regenerating_changes_nothing(tmp_path):
    subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "examples", "regenerate.py"),
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        # This checkout's symgrad, not whichever one is installed.
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    fresh = sorted(f for f in os.listdir(tmp_path) if f.endswith(".py"))
    assert fresh == MODULES
    for name in MODULES:
        with (
            open(os.path.join(GENERATED, name), "rb") as a,
            open(tmp_path / name, "rb") as b,
        ):
            assert (
                a.read() == b.read()
            ), f"generated/{name} is stale: run examples/regenerate.py"


def _regenerate_module():
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        import regenerate
    finally:
        sys.path.pop(0)
    return regenerate


@pytest.mark.parametrize("name", MODULES)
def test_generated_module_is_standalone(name, tmp_path):
    fun, record, target, _ = _regenerate_module().load(name)
    example = record.example_args()
    args, blocked = example, BLOCKED
    if target == "python":
        # Without numpy the arguments travel as nested lists.
        args, blocked = _as_lists(example), BLOCKED + ("numpy",)
    # Arguments travel as a pickle of floats, arrays and lists (no symgrad).
    blob = tmp_path / "args.pkl"
    blob.write_bytes(pickle.dumps(args))
    out = run_isolated(
        os.path.join(GENERATED, name),
        f"""
        import pickle
        import {name[:-3]} as mod
        with open({str(blob)!r}, "rb") as f:
            args = pickle.load(f)
        value, grads = mod.value_and_grad(*args)
        print(repr(value))
        """,
        blocked=blocked,
    )
    want, _ = symgrad.value_and_grad(fun, argnums=record.argnums, target=target)(
        *example
    )
    assert float(out) == want


def _as_lists(tree):
    if isinstance(tree, (list, tuple)):
        return type(tree)(_as_lists(x) for x in tree)
    return tree.tolist() if hasattr(tree, "tolist") else tree


def test_forward_code_and_argument_checks_are_written_once():
    # Each statement of the forward pass and each argument check appears once
    # in a module (value_and_grad reads the forward values from _forward).
    for name in (
        "mlp_grad.py",
        "logistic_grad.py",
        "lecture_mlp_grad.py",
        "softmax_regression_grad.py",
    ):
        with open(os.path.join(GENERATED, name), encoding="utf-8") as f:
            text = f.read()
        assert text.count("def _forward(") == 1
        assert text.count("def _arguments(") == 1
        forward = text.split("def _forward(")[1].split("\ndef ")[0]
        statements = [
            line.strip()
            for line in forward.splitlines()
            if " = " in line and not line.strip().startswith(("#", '"'))
        ]
        assert statements
        for statement in statements:
            assert text.count(statement) == 1, statement
        checks = [line for line in text.splitlines() if "must have shape" in line]
        assert len(checks) == len(set(checks)), "an argument is checked twice"
