"""Large constant arrays: stored as one base64 line in written modules, bound
directly (never decoded) in-process, exact for every dtype, on both targets;
small ones stay literals. Trainers store their example parameters the same way.
"""

from __future__ import annotations

import base64
import os
import pickle

import black
import numpy as np
import pytest

import symgrad
from symgrad import api
from symgrad.codegen.constants import SMALL
from tests.test_codegen import BLOCKED, run_isolated

TARGETS = ["numpy", "python"]
rng = np.random.default_rng(0)
A = rng.standard_normal((30, 40))
A[0, :3] = [np.nan, np.inf, -np.inf]
A32 = rng.standard_normal(40).astype(np.float32)
I64 = np.arange(40, dtype=np.int64) - 20
U8 = (np.arange(40) % 7).astype(np.uint8)
MASK = np.arange(40) % 3 == 0
SMALL_ARRAY = np.array([1.5, -2.0, 3.25])
FINITE = np.nan_to_num(A, nan=0.0, posinf=1.0, neginf=-1.0)


def closes_over(x):
    h = FINITE @ x
    extra = (x * A32).sum() + (x * I64).sum() + (x * U8).sum()
    masked = np.where(MASK, x, 0.0).sum()
    return (h * h).sum() + extra + masked + (x[:3] * SMALL_ARRAY).sum()


def plain(x):
    h = FINITE @ x
    return (h * h).sum()


def _arg(x, target):
    return x if target == "numpy" else x.tolist()


def _fresh(source):
    namespace = {}
    exec(compile(source, "<written>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("target", TARGETS)
def test_large_constants_are_stored_and_exact(target):
    x = rng.standard_normal(40)
    with np.errstate(all="ignore"):
        want = closes_over(x)
    c = symgrad.compile(closes_over, x, target=target)
    src = c.source
    assert "_const_1 = _constant(" in src
    assert "import base64" in src
    # No array is printed element by element: the module is about the size
    # of the base64 of its arrays.
    stored = sum(a.nbytes for a in (A, A32, I64, U8, MASK)) * 2  # and transposes
    assert len(src) < 1.34 * stored + 30_000
    # Small arrays stay readable literals.
    assert "1.5, -2.0, 3.25" in src
    value, grad = c.value_and_grad(_arg(x, target))
    value2, grad2 = _fresh(src)["value_and_grad"](_arg(x, target))
    assert value == value2 == pytest.approx(want, rel=1e-12)
    np.testing.assert_array_equal(grad, grad2)


@pytest.mark.parametrize("target", TARGETS)
def test_in_process_modules_bind_arrays_without_decoding(target, monkeypatch):
    c = symgrad.compile(plain, np.ones(40), target=target)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded base64 in-process")

    monkeypatch.setattr(base64, "b64decode", no_decoding)
    bound = c.module._const_1
    if target == "numpy":
        assert isinstance(bound, np.ndarray) and not bound.flags.writeable
        np.testing.assert_array_equal(bound, FINITE)
    else:
        assert bound == FINITE.ravel().tolist()
    assert c.forward(_arg(np.ones(40), target)) == pytest.approx(plain(np.ones(40)))


@pytest.mark.parametrize("target", TARGETS)
def test_stored_constants_are_black_stable_and_standalone(target, tmp_path):
    x = np.linspace(-1, 1, 40)
    c = symgrad.compile(closes_over, x, target=target)
    assert black.format_str(c.source, mode=black.Mode()) == c.source
    path = c.write(tmp_path / "closes_over_grad.py")
    blob = tmp_path / "x.pkl"
    blob.write_bytes(pickle.dumps(_arg(x, target)))
    out = run_isolated(
        str(path),
        f"""
        import pickle
        import closes_over_grad as m
        with open({str(blob)!r}, "rb") as f:
            x = pickle.load(f)
        print(repr(m.value_and_grad(x)[0]))
        """,
        blocked=BLOCKED + (("numpy",) if target == "python" else ()),
    )
    assert float(out) == c.value_and_grad(_arg(x, target))[0]


def test_equal_constants_are_stored_once():
    B = A.copy()

    def f(x):
        return (A @ x).sum() + (B @ x).sum()

    src = symgrad.compile(f, np.ones(40)).source
    # A once; its transpose (in the gradient) is a view, not a second copy.
    assert src.count(" = _constant(") == 1


def test_the_threshold():
    at_limit = np.arange(float(SMALL))
    over = np.arange(float(SMALL + 1))
    small = symgrad.compile(lambda x: (x * at_limit).sum(), np.ones(SMALL)).source
    large = symgrad.compile(lambda x: (x * over).sum(), np.ones(SMALL + 1)).source
    assert "= _constant(" not in small and "np.array(\n" in small
    assert "_const_1 = _constant(" in large


def _loss(params, X, y):
    h = np.tanh(X @ params[0])
    scores = h @ params[1]
    return np.maximum(1.0 - y * scores, 0.0).mean()


def _predict(params, X):
    return np.tanh(X @ params[0]) @ params[1]


@pytest.mark.parametrize("target", TARGETS)
def test_trainer_example_parameters_are_stored(target):
    W = rng.standard_normal((3, 30))
    v = rng.standard_normal(30)
    X = rng.standard_normal((8, 3))
    y = np.sign(rng.standard_normal(8))
    source = api.trainer_source(_loss, _predict, ((W, v), X, y), target=target)
    assert "_shaped(_const_1, (3, 30))" in source
    start = _fresh(source)["initial_params"]()
    if target == "numpy":
        np.testing.assert_array_equal(start[0], W)
        assert start[0].flags.writeable  # a copy the caller may change
    else:
        assert start[0] == W.tolist() and start[1] == v.tolist()


def test_constants_benchmark_smoke():
    from symgrad.bench import constants

    result = constants.run(size=60, repeats=1)
    assert set(result) == {"size", "numpy", "python"}
    assert result["numpy"]["with_array_s"] > 0
    assert os.path.basename(constants.__file__) == "constants.py"
