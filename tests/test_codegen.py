"""Generated modules: standalone, deterministic, black-formatted, readable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symgrad
from symgrad import ir
from symgrad.api import build_program
from symgrad.codegen import generate
from symgrad.codegen import python as python_target
from tests.test_mlp import _problem, mlp_loss
from tests.test_ops import ROWS, _setup

BLOCKED = ("symgrad", "sympy", "black")


def blocker(names=BLOCKED) -> str:
    """Source that makes importing any of `names` fail."""
    return textwrap.dedent(f"""
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {tuple(names)!r}:
                    raise ImportError("blocked for this test: " + name)

        sys.meta_path.insert(0, Block())
        """)


BLOCKER = blocker()


def run_isolated(module_path, script, blocked=BLOCKED):
    """Run `script` with the module importable and the `blocked` packages not."""
    code = blocker(blocked) + textwrap.dedent(script)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.path.dirname(module_path)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.path.dirname(module_path),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_module_runs_without_symgrad_sympy_black(tmp_path):
    params, X, y = _problem()
    c = symgrad.compile(mlp_loss, params, X, y)
    path = c.write(tmp_path / "mlp_grad.py")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    for i, (W, b) in enumerate(params):
        np.save(tmp_path / f"W{i}.npy", W)
        np.save(tmp_path / f"b{i}.npy", b)
    stdout = run_isolated(
        str(path),
        """
        import json
        import numpy as np
        import mlp_grad
        try:
            import symgrad
        except ImportError:
            pass
        else:
            raise SystemExit("symgrad was importable")
        params = [(np.load(f"W{i}.npy"), np.load(f"b{i}.npy")) for i in range(3)]
        X, y = np.load("X.npy"), np.load("y.npy")
        value, grads = mlp_grad.value_and_grad(params, X, y)
        print(json.dumps([value, grads[0][0].tolist()]))
        """,
    )
    value, gW = json.loads(stdout)
    want_value, want = c.value_and_grad(params, X, y)
    assert value == want_value
    np.testing.assert_array_equal(gW, want[0][0])


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_generation_is_deterministic_across_processes(target):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.getcwd()!r})
        import symgrad
        from tests.test_mlp import _problem, mlp_loss
        params, X, y = _problem()
        c = symgrad.compile(mlp_loss, params, X, y, target={target!r})
        sys.stdout.write(c.source)
        """)
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        res = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outs.append(res.stdout)
    assert outs[0] == outs[1]
    params, X, y = _problem()
    assert symgrad.compile(mlp_loss, params, X, y, target=target).source == outs[0]


@pytest.mark.parametrize("target", ["numpy", "python"])
@pytest.mark.parametrize("name", sorted(ROWS))
def test_emitter_output_is_already_black_formatted(name, target):
    # Large modules skip whole-module black and trust the emitter: it must
    # write exactly what black would, for every op.
    if target not in ROWS[name].targets:
        pytest.skip(f"{name} is not implemented on the {target} target")
    row, args, loss = _setup(name, row_shapes(name))
    with ir.scope():
        program = build_program(loss, args, argnums=tuple(range(len(args))))
        fast = generate(program, target, whole=False)
        assert fast == generate(program, target, whole=True)


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_whole_module_is_black_formatted(target):
    # Helpers are spliced in without black; the module must still be stable.
    import black

    params, X, y = _problem()
    src = symgrad.compile(mlp_loss, params, X, y, target=target).source
    assert black.format_str(src, mode=black.Mode()) == src
    everything = python_target.support(list(python_target.helper_table()))
    text = "import math\n\n\n" + "\n\n\n".join(everything) + "\n"
    assert black.format_str(text, mode=black.Mode()) == text


def row_shapes(name):
    return ROWS[name].shapes[-1]


def test_codegen_matches_reference_interpreter():
    params, X, y = _problem()
    with ir.scope():
        program = build_program(mlp_loss, (params, X, y))
        from symgrad.ops import evaluate

        leaves = [W for pair in params for W in pair] + [X, y]
        expected = evaluate(program.grad_graph(), leaves)
        c = symgrad.api.Compiled(program)
    value, grads = c.value_and_grad(params, X, y)
    assert value == expected[0]
    flat = [g for pair in grads for g in pair]
    for got, want in zip(flat, expected[1:], strict=True):
        np.testing.assert_array_equal(got, want)


def test_readable_names_and_comments():
    def loss(params, X):
        h = np.tanh(X @ params["W1"] + params["b1"])
        out = (h * h).sum()
        return out

    c = symgrad.compile(
        loss, {"W1": np.ones((2, 3)), "b1": np.zeros(3)}, np.ones((4, 2))
    )
    src = c.source
    assert "Generated by symgrad" in src and "Do not edit" in src
    assert "test_codegen.py:loss" in src
    assert 'W1 = _as_array(params["W1"]' in src
    assert "h = np.tanh(" in src
    assert "W1_bar" in src and "h_bar" in src
    assert '# h = np.tanh(X @ params["W1"] + params["b1"])  (test_codegen.py:' in src
    assert "# grad of: h = np.tanh" in src
    for banned in ("import symgrad", "import sympy", "import black"):
        assert banned not in src


def test_hostile_names_stay_data(tmp_path):
    evil = "x); import os; os.system('echo pwned') #"
    keys = {
        evil: np.ones(2),
        "class": np.ones(2),
        "": 1.0,
        "ü\nnew": 2.0,
        "a" * 300: 3.0,
    }

    def f(p):
        total = 0.0
        for k in p:
            total = total + (p[k] * p[k]).sum()
        return total

    g = symgrad.grad(f)(keys)
    assert list(g) == list(keys)
    np.testing.assert_array_equal(g[evil], [2.0, 2.0])
    assert g[""] == 2.0 and g["ü\nnew"] == 4.0 and g["a" * 300] == 6.0


def test_deeply_indented_lines_are_left_as_black_leaves_them():
    from symgrad.codegen import formatting

    line = " " * 84 + "else:"
    assert formatting.format_source(line + "\n", whole=False) == line + "\n"
