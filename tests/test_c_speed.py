"""The C target's speed work (issue 24): matrix products through SciPy's
BLAS or the own blocked loops, the binding's checks, fused loops and
reused workspace, each against the NumPy target.

Skipped, with the reason, where no C compiler or no Python headers exist
(the same rule as tests/test_c_target.py, whose private cache fixture this
module shares).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import symgrad
from symgrad import api
from symgrad.codegen.c import blas
from tests.test_c_target import _close, moons, needs_cc, private_cache  # noqa: F401


def _products(a, b, c, d):
    # Every way the lowering calls the helper: plain, a transposed left and
    # right operand (looked through), matrix-vector both ways, a batch, a
    # dot product, and blocks larger than the loops' panels.
    out = [a @ b, a.T.T @ b, (b.T @ a.T).T, a @ b[:, 0], a[0] @ b, c @ d]
    out += [np.matmul(c, d.transpose(0, 2, 1).transpose(0, 2, 1)), a[0] @ a[1]]
    out += [b.T @ a.T, a.T.T @ b.T.T]
    return sum(np.sum(np.tanh(o) * (k + 1.0)) for k, o in enumerate(out))


def _big(a, b):
    return np.sum(np.sin(a @ b) * 1.5) + np.sum(np.cos(a.T @ a))


def _args(rng):
    return (
        rng.normal(size=(5, 7)),
        rng.normal(size=(7, 3)),
        rng.normal(size=(2, 4, 3)),
        rng.normal(size=(2, 3, 6)),
    )


def _both(fn, args, monkeypatch):
    """value_and_grad on the C target with SciPy's BLAS and with the own
    loops (a fresh load without SciPy's capsules), and on the NumPy target."""
    argnums = tuple(range(len(args)))
    compiled = symgrad.compile(fn, *args, argnums=argnums, target="c")
    with_blas = compiled.value_and_grad(*args)
    kind = compiled.module.MATRIX_PRODUCTS
    monkeypatch.setattr(blas, "capsules", lambda: None)
    again = api.Compiled(compiled.program, "c")
    loops = again.value_and_grad(*args)
    assert again.module.MATRIX_PRODUCTS == "loops"
    monkeypatch.undo()
    theirs = symgrad.value_and_grad(fn, argnums=argnums)(*args)
    return kind, with_blas, loops, theirs


@needs_cc
@pytest.mark.parametrize("fn", [_products, _big])
def test_products_agree_with_numpy_with_blas_and_with_loops(fn, monkeypatch):
    rng = np.random.default_rng(3)
    args = _args(rng) if fn is _products else (rng.normal(size=(150, 70)),) * 2
    if fn is _big:
        args = (args[0], rng.normal(size=(70, 260)))
    kind, with_blas, loops, theirs = _both(fn, args, monkeypatch)
    assert kind == ("scipy-blas" if blas.capsules() is not None else "loops")
    for ours in (with_blas, loops):
        _close(ours[0], theirs[0])
        for a, b in zip(ours[1], theirs[1], strict=True):
            _close(a, b)


@needs_cc
def test_the_own_loops_add_in_order_of_k(monkeypatch):
    # Whatever the blocking (k and n larger than a panel), each element is
    # ((0 + a0 b0) + a1 b1) + ...: what NumPy's separate multiplies and adds
    # give, exactly.
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(9, 150)), rng.normal(size=(150, 300))
    monkeypatch.setattr(blas, "capsules", lambda: None)
    compiled = symgrad.compile(
        lambda x, y: (x @ y, x @ y.T.T, (y.T @ x.T).T),
        a,
        b,
        functions=("forward",),
        target="c",
    )
    assert compiled.module.MATRIX_PRODUCTS == "loops"
    expected = np.zeros((9, 300))
    for k in range(150):
        expected = expected + np.multiply.outer(a[:, k], b[k])
    for got in compiled.forward(a, b):
        assert np.array_equal(got, expected)


def test_the_choice_is_recorded_and_a_module_without_products_has_none():
    source = symgrad.compile(lambda x: np.sum(x * x), np.ones(3), target="c").source
    assert "sg_gemm" not in source
    source = symgrad.compile(lambda x: np.sum(x @ x), np.ones((3, 3)), target="c")
    assert "sg_gemm(" in source.source and "sg_blas_dgemm" in source.source


@needs_cc
def test_a_module_without_products_records_none():
    compiled = symgrad.compile(lambda x: np.sum(x * x), np.ones(3), target="c")
    assert compiled.module.MATRIX_PRODUCTS is None


def _mixed(p, x, n):
    # A dict of arrays and a float, and a static string.
    z = x @ p["W"] + p["b"]
    h = np.tanh(z) if n == "tanh" else np.sin(z)
    return np.sum(h * h) + p["s"] ** 2.0


def _mixed_args():
    rng = np.random.default_rng(7)
    p = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4), "s": 0.5}
    return p, rng.normal(size=(5, 3)), "tanh"


@needs_cc
def test_the_binding_checks_and_converts_arguments():
    p, x, n = _mixed_args()
    compiled = symgrad.compile(_mixed, p, x, n, target="c")
    theirs = symgrad.compile(_mixed, p, x, n).value_and_grad(p, x, n)
    ours = compiled.value_and_grad(p, x, n)
    assert isinstance(ours[0], float) and list(ours[1]) == ["W", "b", "s"]
    assert isinstance(ours[1]["s"], float)
    _close(ours[0], theirs[0])
    for key in p:
        _close(ours[1][key], theirs[1][key])
    # Lists, float32, strided and read-only arrays are converted in C.
    strided = np.asfortranarray(x)
    frozen = x.copy()
    frozen.flags.writeable = False
    for arg in (x.tolist(), x.astype(np.float32), strided, frozen):
        got = compiled.value_and_grad(p, arg, n)
        _close(got[0], symgrad.value_and_grad(_mixed)(p, np.asarray(arg, float), n)[0])
    # The same messages as the NumPy target's checks, raised in C.
    with pytest.raises(ValueError, match=r"must have shape \(5, 3\), got \(3, 5\)"):
        compiled.value_and_grad(p, x.T, n)
    with pytest.raises(ValueError, match=r"must have shape \(4,\), got \(\)"):
        compiled.value_and_grad(dict(p, b=1.0), x, n)
    with pytest.raises(ValueError, match="do not have the structure"):
        compiled.value_and_grad({"b": p["b"], "W": p["W"], "s": 0.5}, x, n)
    with pytest.raises(ValueError, match="do not have the structure"):
        compiled.value_and_grad([p], x, n)
    with pytest.raises(ValueError, match="was 'tanh' when this module was generated"):
        compiled.value_and_grad(p, x, "sin")
    with pytest.raises(TypeError, match="takes 3 arguments, got 2"):
        compiled.value_and_grad(p, x)
    with pytest.raises(TypeError, match="must be real number"):
        compiled.value_and_grad(dict(p, s="a"), x, n)


@needs_cc
def test_bool_results_and_tuples_come_back_as_from_numpy():
    def f(x):
        return x > 0.5, np.sum(x) > 1.0, [x * 2.0]

    x = np.linspace(0, 1, 6)
    ours = symgrad.compile(f, x, functions=("forward",), target="c").forward(x)
    theirs = symgrad.compile(f, x, functions=("forward",)).forward(x)
    assert type(ours) is type(theirs) and type(ours[2]) is type(theirs[2])
    assert ours[0].dtype == bool and np.array_equal(ours[0], theirs[0])
    assert type(ours[1]) is type(theirs[1]) and ours[1] == theirs[1]
    assert np.array_equal(ours[2][0], theirs[2][0])


def test_flattener_and_builder_round_trip():
    from symgrad.codegen.c import calls
    from symgrad.ir import pytree

    obj = ([1, (2, {"a": 3, "b": []}), {}], 4, ((5,),))
    leaves, _, treedef = pytree.flatten(obj)
    assert calls.Flattener(treedef)(obj) == leaves == [1, 2, 3, 4, 5]
    assert calls.Builder(treedef)(leaves) == obj
    assert (
        calls.Flattener(treedef)(([1, (2, {"b": [], "a": 3}), {}], 4, ((5,),))) is None
    )
    assert (
        calls.Flattener(treedef)(([1, [2, {"a": 3, "b": []}], {}], 4, ((5,),))) is None
    )
    assert calls.Flattener(treedef)(([1, (2, {"a": 3, "b": []})], 4, ((5,),))) is None
    leaf = pytree.flatten(7)[2]
    assert calls.Builder(leaf)([7]) == 7


def test_workspace_shares_memory_only_between_disjoint_lifetimes():
    from symgrad.codegen.c import workspace

    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        firsts = sorted(int(v) for v in rng.integers(0, 10, size=n))
        buffers = [
            (int(rng.integers(1, 50)), f, f + int(rng.integers(0, 6))) for f in firsts
        ]
        offsets, total = workspace.assign(buffers)
        assert total <= sum(size for size, _, _ in buffers)
        for i, (si, fi, _) in enumerate(buffers):
            assert 0 <= offsets[i] and offsets[i] + si <= total
            for j, (sj, _, lj) in enumerate(buffers[:i]):
                overlap = offsets[i] < offsets[j] + sj and offsets[j] < offsets[i] + si
                if overlap:  # j's last read strictly before i's first write
                    assert lj < fi, (buffers, offsets)


def test_workspace_with_symbolic_sizes_never_overlaps_or_overflows():
    # Sizes as polynomials of two symbols, some not comparable (n against
    # 1, n against m): at every value of the symbols, each buffer lies
    # inside the workspace and live buffers never share memory. (A free
    # tail once shrank under a later, smaller buffer: found by the moons
    # rows with a symbolic batch.)
    from symgrad.codegen.c import workspace
    from symgrad.ir import dims

    n, m = dims.symbol("n"), dims.symbol("m")
    choices = [1, 3, n, 2 * n, n * m, m, n + 1, 3 * n * m + 2]
    rng = np.random.default_rng(5)
    for _ in range(200):
        count = int(rng.integers(1, 10))
        firsts = sorted(int(v) for v in rng.integers(0, 8, size=count))
        buffers = [
            (choices[int(rng.integers(len(choices)))], f, f + int(rng.integers(0, 4)))
            for f in firsts
        ]
        offsets, total = workspace.assign(buffers)
        for values in ({"n": 0, "m": 0}, {"n": 1, "m": 5}, {"n": 7, "m": 2}):

            def at(d, values=values):
                return dims.evaluate(d, values) if dims.is_symbolic(d) else d

            end = at(total)
            for i, (si, fi, _) in enumerate(buffers):
                start, size = at(offsets[i]), at(si)
                assert 0 <= start and start + size <= end
                for j, (sj, _, lj) in enumerate(buffers[:i]):
                    other = at(offsets[j])
                    if start < other + at(sj) and other < start + size:
                        assert lj < fi, (buffers, offsets)


@needs_cc
def test_the_kept_workspace_grows_with_the_sizes():
    # The binding keeps its workspace between calls; a call with more rows
    # needs more and replaces it, a call with fewer reuses it: every result
    # still equals the NumPy target's.
    def f(a):
        h = np.tanh(a * 0.5 + 1.0)
        return np.sum(np.sin(h) * h) + np.sum(np.cos(h) @ np.ones((3, 2)))

    ours = symgrad.value_and_grad(f, target="c", batch={"a": 0})
    theirs = symgrad.value_and_grad(f, batch={"a": 0})
    rng = np.random.default_rng(2)
    for rows in (3, 50, 2, 400, 0, 1, 400, 7):
        a = rng.normal(size=(rows, 3))
        got, want = ours(a), theirs(a)
        _close(got[0], want[0])
        _close(got[1], want[1])


@needs_cc
def test_the_kept_workspace_under_threads_of_different_sizes():
    # Concurrent calls with different row counts: one uses the kept
    # workspace, the others their own; a larger one replaces the kept one
    # only when nobody uses it. Every result equals the NumPy target's.
    from concurrent.futures import ThreadPoolExecutor

    def f(a):
        h = np.tanh(a @ np.ones((3, 4)) * 0.5 + 1.0)
        return np.sum(np.sin(h) * h)

    ours = symgrad.value_and_grad(f, target="c", batch={"a": 0})
    theirs = symgrad.value_and_grad(f, batch={"a": 0})
    rng = np.random.default_rng(8)
    inputs = [rng.normal(size=(int(rows), 3)) for rows in rng.integers(0, 3000, 64)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(ours, inputs))
    for a, (value, grad) in zip(inputs, got, strict=True):
        want = theirs(a)
        _close(value, want[0])
        _close(grad, want[1])


@needs_cc
def test_fused_loops_and_reused_slices_in_the_moons_source():
    params, X, y = moons.example()
    compiled = symgrad.compile(moons.loss, params, X, y, target="c")
    source = compiled.source
    # The bias add and the ReLU's gradient mask are locals of one loop each,
    # products read W.T in place, gradients are written in place.
    # (Temporary numbers move with the passes: matched by pattern.)
    assert re.search(r"\n        double t\d+ = t10\[_i\] > 0\.0;", source)
    assert "sg_gemm(0, 1, 100, 16, 2, X, 2, params_0_0, 2, t3, 16);" in source
    assert "params_0_0_bar_out; /* written in place */" in source
    assert "memcpy(params_0_0_bar_out" not in source
    # Bias rows and column sums: loop nests reading at _c, no division.
    assert "h[_i] = t3[_i] + params_0_1[_c];" in source
    assert re.search(r"t\d+\[_c\] \+= h_2_bar\[_o \* 16 \+ _c\];", source)
    assert "% 16]" not in source
    # The workspace is a third of one slice per temporary (25,761 doubles).
    sizes = [int(w) for w in re.findall(r"malloc\((\d+) \*", source)]
    assert max(sizes) < 25761 // 2


@needs_cc
def test_tanh_is_within_3_ulp_of_exact_and_keeps_special_points():
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(13)
    x = np.concatenate(
        [
            rng.uniform(-1e-3, 1e-3, 500),
            rng.uniform(-0.5, 0.5, 500),
            rng.uniform(-3, 3, 1000),
            rng.uniform(-25, 25, 500),
            np.logspace(-320, 1.5, 400),
            -np.logspace(-20, 1.4, 200),
            [0.34657359027997264, 22.0, 21.999, 5e-324, 0.625, 1.0],
        ]
    )
    got = symgrad.compile(np.tanh, x, functions=("forward",), target="c").forward(x)
    with mpmath.workdps(40):
        exact = np.array([float(mpmath.tanh(mpmath.mpf(float(v)))) for v in x])
    ulps = np.abs(got - exact) / np.spacing(np.abs(exact))
    assert ulps.max() <= 3.0, x[np.argmax(ulps)]
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 30.0])
    ours = symgrad.compile(np.tanh, special, functions=("forward",), target="c")
    got = ours.forward(special)
    want = np.tanh(special)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_the_cache_key_holds_the_cpu_and_native_flags(monkeypatch):
    from symgrad.codegen.c import build

    assert build.cpu()
    before = build.key("int a;", "b")
    monkeypatch.setattr(build, "cpu", lambda: "another machine")
    assert build.key("int a;", "b") != before
    assert "-march=native" in build.NATIVE


@needs_cc
def test_bench_times_the_c_peer_against_hand_numpy_and_jax():
    from symgrad.bench import interleave, report

    result = interleave.run("problem", "moons", quick=True, peers=("c", "hand"))
    c_entry = result["peers"]["c"]
    assert c_entry["seconds"] > 0 and c_entry["disagreement"] <= 1e-12
    text = "\n".join(report.problems_table({"moons": result}))
    assert "symgrad C" in text and "to JAX" in text


def test_bench_skips_the_c_peer_without_a_compiler(tmp_path, monkeypatch):
    from symgrad.bench import interleave

    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # nothing cached
    result = interleave.run("problem", "moons", quick=True, peers=("c",))
    note = result["peers"]["c"]["note"]
    assert "C compiler" in note and "seconds" not in result["peers"]["c"]
