"""The pure-Python target: standalone modules, argument handling, helpers.

Modules import only the standard library and run where numpy, symgrad, sympy
and black cannot be imported; they take floats, nested lists, tuples and NumPy
arrays, return floats and nested lists in the structure of the arguments, and
reject wrongly shaped input with a ValueError naming the argument. The helpers
copied into modules are checked against NumPy directly.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import math
import re

import numpy as np
import pytest

import symgrad
from symgrad.codegen.python import helpers as h
from tests.test_codegen import run_isolated
from tests.test_mlp import _problem, hand_value_and_grad, mlp_loss


def _mlp(n=50):
    params, X, y = _problem(n=n)
    return symgrad.compile(mlp_loss, params, X, y, target="python"), params, X, y


def test_imports_only_the_standard_library():
    c, *_ = _mlp()
    imports = [
        line for line in c.source.splitlines() if re.match(r"(import|from) ", line)
    ]
    assert imports == ["import math", "from operator import mul as _mul"]
    code = [line for line in c.source.splitlines() if not line.lstrip().startswith("#")]
    assert not any("np." in line for line in code)


def test_module_size_does_not_grow_with_the_batch():
    small, *_ = _mlp(n=100)
    large, *_ = _mlp(n=1000)
    lines = small.source.count("\n")
    assert lines < 3000
    assert large.source.count("\n") == lines


def test_runs_without_numpy_symgrad_sympy_black(tmp_path):
    c, params, X, y = _mlp()
    path = c.write(tmp_path / "mlp_pure.py")
    data = {
        "params": [[W.tolist(), b.tolist()] for W, b in params],
        "X": X.tolist(),
        "y": y.tolist(),
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    stdout = run_isolated(
        str(path),
        """
        import json
        import mlp_pure
        for name in ("numpy", "symgrad", "sympy", "black"):
            try:
                __import__(name)
            except ImportError:
                continue
            raise SystemExit(name + " was importable")
        with open("data.json") as f:
            data = json.load(f)
        params = [tuple(pair) for pair in data["params"]]
        args = params, data["X"], data["y"]
        value, grads = mlp_pure.value_and_grad(*args)
        print(json.dumps([value, mlp_pure.forward(*args), grads]))
        """,
        blocked=("numpy", "symgrad", "sympy", "black"),
    )
    value, forward, grads = json.loads(stdout)
    want_value, want = c.value_and_grad(params, X, y)
    assert value == forward == want_value
    assert grads == [list(pair) for pair in want]
    hand_value, hand = hand_value_and_grad(params, X, y)
    assert value == pytest.approx(hand_value, rel=1e-12)
    np.testing.assert_allclose(grads[0][0], hand[0][0], rtol=1e-12, atol=1e-15)


def test_arguments_may_be_lists_tuples_or_arrays():
    c, params, X, y = _mlp()
    want_value, want = c.value_and_grad(params, X, y)
    as_lists = [(W.tolist(), b.tolist()) for W, b in params]
    as_tuples = [(tuple(map(tuple, W)), tuple(b)) for W, b in params]
    for args in ((as_lists, X.tolist(), y.tolist()), (as_tuples, X, tuple(y))):
        value, grads = c.value_and_grad(*args)
        assert value == want_value
        assert grads == want


def test_outputs_keep_the_argument_structure():
    def f(p, x):
        return (p["w"] @ x).sum() * p["scale"][0] + (p["scale"][1] * p["b"]).sum()

    params = {"w": np.ones((2, 3)), "b": 0.5, "scale": (2.0, np.array([1.0]))}
    x = np.array([1.0, 2.0, 3.0])
    value, g = symgrad.value_and_grad(f, target="python")(params, x)
    assert value == 24.5 and type(value) is float
    assert list(g) == ["w", "b", "scale"] and type(g["scale"]) is tuple
    assert g["w"] == [[2.0, 4.0, 6.0], [2.0, 4.0, 6.0]]
    assert g["b"] == 1.0 and type(g["b"]) is float
    assert g["scale"] == (12.0, [0.5])
    assert all(type(v) is float for row in g["w"] for v in row)


def test_gradients_are_new_lists():
    # Identity-like gradients must not hand back the caller's own lists.
    c = symgrad.compile(
        lambda w, v: (w * v).sum(), np.ones(3), np.ones(3), argnums=1, target="python"
    )
    w = [1.0, 2.0, 3.0]
    g = c.gradient(w, [0.0, 0.0, 0.0])
    assert g == w and g is not w
    g.append(4.0)
    assert c.gradient(w, [0.0, 0.0, 0.0]) == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "X, message",
    [
        # Ragged: the check both targets share (see test_safety_limits).
        ([[1.0, 2.0], [3.0]], r"X must be an array of numbers, got a ragged seq"),
        ([[1.0, 2.0]], r"X must have shape \(2, 2\), got lengths \[1\] at axis 0"),
        ([1.0, 2.0], r"X must have shape \(2, 2\), got a number at axis 1"),
        ([[[1.0], [2.0]], [[3.0], [4.0]]], r"X must have shape \(2, 2\) and hold"),
        (np.ones((2, 3)), r"X must have shape \(2, 2\), got lengths \[3\] at axis 1"),
        (5.0, r"X must have shape \(2, 2\), got a number at axis 0"),
    ],
)
def test_wrong_shapes_raise_value_error(X, message):
    c = symgrad.compile(lambda X: (X * X).sum(), np.ones((2, 2)), target="python")
    with pytest.raises(ValueError, match=message):
        c.value_and_grad(X)


def test_integer_and_bool_data_arrays():
    def f(w, labels, mask):
        return np.where(mask, w * labels, 0.0).sum()

    labels, mask = np.array([1, -1, 2]), np.array([True, False, True])
    c = symgrad.compile(f, np.ones(3), labels, mask, target="python")
    assert c.gradient(np.ones(3), labels, mask) == [1.0, 0.0, 2.0]
    # Compiled once from arrays, the module takes plain lists too.
    assert c.gradient([1, 1, 1], [3, 3, 3], [True, True, False]) == [3.0, 3.0, 0.0]
    assert '_array(labels, (3,), "labels", int)' in c.source
    assert '_array(mask, (3,), "mask", bool)' in c.source


def test_static_arguments_are_checked():
    # (n sets a size, so it is static: a branch on it alone would be staged,
    # lambdas being converted, and work for every n.)
    c = symgrad.compile(
        lambda x, n: x * np.ones(n).sum(), 1.0, 2, argnums=0, target="python"
    )
    assert c.value_and_grad(3.0, 2) == (6.0, 2.0)
    with pytest.raises(ValueError, match="n was 2 when this module was generated"):
        c.value_and_grad(3.0, 3)


def test_helpers_are_copied_only_when_used():
    src = symgrad.compile(lambda x: x * x + 1.0, 2.0, target="python").source
    assert "def _arguments(" in src  # the module's own argument checks
    own = src.count("def _arguments(") + src.count("def _forward(")
    # (A float argument is converted by _number, which checks it first.)
    own += src.count("def _number(") + src.count("def _check_argument(")
    assert src.count("def _") == own and "_mul" not in src
    src = symgrad.compile(lambda x: np.exp(x).sum(), np.ones(3), target="python").source
    assert "def _exp(" in src and "def _array(" in src and "def _nested(" in src
    assert "def _matmul(" not in src and "def _log(" not in src


def test_zero_size_arrays():
    def f(a, b):
        return (a @ b).sum() + a.mean(axis=1).sum() + np.sum(b, axis=0).sum()

    f = symgrad.value_and_grad(f, argnums=(0, 1), target="python")
    value, (ga, gb) = f(np.zeros((2, 0)), np.zeros((0, 3)))
    assert math.isnan(value)  # the mean of no values
    assert ga == [[], []] and gb == []


def test_code_is_valid_python_3_8():
    # "Runs anywhere CPython runs": no syntax newer than 3.8 in modules or helpers.
    c, *_ = _mlp()
    ast.parse(c.source, feature_version=(3, 8))
    ast.parse(inspect.getsource(h), feature_version=(3, 8))


# ------------------------------------------------------------------ helpers


def _flat(a):
    return np.asarray(a, dtype=float).ravel().tolist()


SHAPE_PAIRS = [
    ((3,), (2, 3)),
    ((2, 1), (2, 3)),
    ((1, 3), (4, 3)),
    ((2, 1, 3), (2, 4, 3)),
    ((1, 2, 1), (3, 2, 4)),
    ((1,), (2, 2, 2)),
    ((2, 1, 1), (2, 3, 2)),
]


@pytest.mark.parametrize("shape,to", SHAPE_PAIRS)
def test_broadcast_helper(shape, to):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    assert h._broadcast(_flat(a), shape, to) == _flat(np.broadcast_to(a, to))


def test_transpose_and_reduce_helpers():
    rng = np.random.default_rng(0)
    for shape in [(2, 3), (2, 3, 4), (3, 1, 2, 2)]:
        a = rng.normal(size=shape)
        for axes in itertools.permutations(range(len(shape))):
            got = h._transpose(_flat(a), shape, axes)
            assert got == _flat(np.transpose(a, axes))
        for r in range(1, len(shape) + 1):
            for axes in itertools.combinations(range(len(shape)), r):
                for fn, ref in ((h._max, np.max), (sum, np.sum), (h._mean, np.mean)):
                    got = h._reduce(fn, _flat(a), shape, axes)
                    np.testing.assert_allclose(got, _flat(ref(a, axis=axes)), 1e-14)


def test_matmul_helper():
    rng = np.random.default_rng(1)
    for m, k, n, batches in [(3, 1, 2, 1), (2, 2, 3, 1), (4, 3, 2, 2), (2, 5, 3, 3)]:
        a = rng.normal(size=(batches, m, k))
        b = rng.normal(size=(batches, k, n))
        got = h._matmul(_flat(a), _flat(b), m, k, n, batches)
        np.testing.assert_allclose(got, _flat(a @ b), rtol=1e-14)


def test_indexing_helpers():
    a = np.arange(24.0).reshape(2, 3, 4)
    for index in [
        (1,),
        (slice(None), 2),
        (None, slice(None, None, -1), slice(1, 3)),
        (-1, slice(0, 3, 2), None, 3),
        (slice(None), slice(None), slice(None, None, -3)),
    ]:
        assert h._take(_flat(a), a.shape, index) == _flat(a[index])
        out = np.zeros_like(a)
        out[index] = -1.0 - a[index]
        values = _flat(-1.0 - a[index])
        assert h._scatter(values, a.shape, index, 0.0) == _flat(out)


def test_array_and_nested_helpers_round_trip():
    a = np.arange(24.0).reshape(2, 3, 4)
    flat = h._array(a.tolist(), (2, 3, 4), "a", float)
    assert flat == _flat(a)
    assert h._nested(flat, (2, 3, 4)) == a.tolist()
    assert h._nested([1, 2], (2,)) == [1.0, 2.0]
    assert h._array((True, 0, np.True_), (3,), "m", bool) == [True, False, True]


def test_helpers_declare_what_they_call():
    # The module copies a helper in with exactly what NEEDS declares, so a
    # helper calling another one it does not declare would fail at run time.
    import ast
    import inspect

    from symgrad.codegen import python as python_target

    table = python_target.helper_table()
    known = set(table) | set(python_target.IMPORT_LINES)
    for module in python_target.HELPER_MODULES:
        for name, (source, declared) in table.items():
            if name not in vars(module):
                continue
            used = {
                n.id
                for n in ast.walk(ast.parse(source))
                if isinstance(n, ast.Name) and n.id in known and n.id != name
            }
            assert used == set(declared), name
            assert inspect.getsource(vars(module)[name]).rstrip("\n") == source
