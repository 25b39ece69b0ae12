"""The public API: grad / value_and_grad / compile, pytrees, caching, nesting."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad


def test_decorator_forms():
    @symgrad.grad
    def f(x):
        return x * x

    @symgrad.grad(argnums=1)
    def g(x, y):
        return x * y

    assert f(3.0) == 6.0
    assert g(2.0, 5.0) == 2.0
    assert symgrad.grad(lambda x: x**3)(2.0) == 12.0
    assert f.__name__ == "f"


def test_source_and_compiled():
    f = symgrad.grad(lambda x: np.tanh(x) * 2.0)
    assert f.source is None
    f(0.5)
    assert "def value_and_grad(x):" in f.source
    assert "import numpy as np" in f.source
    assert isinstance(f.compiled, symgrad.Compiled)


def test_cache_per_signature():
    calls = []

    def f(x):
        calls.append(1)
        return (x * x).sum()

    g = symgrad.grad(f)
    g(np.ones(3))
    g(np.full(3, 2.0))
    assert len(calls) == 1
    np.testing.assert_array_equal(g(np.full(3, 2.0)), [4.0, 4.0, 4.0])
    g(np.ones(4))
    assert len(calls) == 2


def test_gradient_structure_follows_arguments():
    params = {"w": np.array([1.0, 2.0]), "b": 0.5, "layers": [1.0, (2.0, 3.0)]}

    def f(p, x):
        return (p["w"] * x).sum() + p["b"] * p["layers"][0] * p["layers"][1][1]

    g = symgrad.grad(f)(params, np.array([3.0, 4.0]))
    assert list(g) == ["w", "b", "layers"]
    np.testing.assert_array_equal(g["w"], [3.0, 4.0])
    assert g["b"] == 3.0 and isinstance(g["b"], float)
    assert g["layers"] == [1.5, (0.0, 0.5)]

    gx, gp = symgrad.grad(f, argnums=(1, 0))(params, np.array([3.0, 4.0]))
    np.testing.assert_array_equal(gx, [1.0, 2.0])
    assert gp["b"] == 3.0
    (only,) = symgrad.grad(f, argnums=(1,))(params, np.array([3.0, 4.0]))
    np.testing.assert_array_equal(only, [1.0, 2.0])


def test_operators_and_methods():
    def f(x, y):
        t = 2**x + x**y + abs(-x) - (-y)
        t += 1.0
        t *= 2.0
        t = t / y + 1 / y - 3 - t.exp().log()
        s = sum([x, y, t])
        return s + x.sigmoid() + x.tanh() + (x - 10).relu()

    def reference(x, y):
        t = 2**x + x**y + abs(-x) - (-y)
        t = (t + 1.0) * 2.0
        t = t / y + 1 / y - 3 - t
        return x + y + t + 1 / (1 + np.exp(-x)) + np.tanh(x)

    gx, gy = symgrad.grad(f, argnums=(0, 1))(1.3, 0.7)
    h = 1e-6
    assert gx == pytest.approx(
        (reference(1.3 + h, 0.7) - reference(1.3 - h, 0.7)) / (2 * h), rel=1e-6
    )
    assert gy == pytest.approx(
        (reference(1.3, 0.7 + h) - reference(1.3, 0.7 - h)) / (2 * h), rel=1e-6
    )


def test_array_methods_and_numpy_functions():
    def f(W, x):
        h = np.dot(W, x) + np.matmul(W, x) + W @ x
        m = (
            np.mean(W, axis=1, keepdims=True).sum()
            + W.mean()
            + np.max(W)
            - np.min(W, axis=0).sum()
        )
        r = W.T.reshape(-1)[::2].sum() + np.sum(np.reshape(W, (3, 2)), axis=0)[1]
        return (
            np.sum(np.where(h > 0, h, 0.1 * h)) + m + r + len(W) + W.shape[1] + W.ndim
        )

    W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    x = np.array([1.0, -2.0, 0.5])
    gW = symgrad.grad(f)(W, x)
    assert gW.shape == W.shape
    h = 1e-6
    for idx in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[idx] += h
        Wm[idx] -= h
        assert gW[idx] == pytest.approx(
            (f(Wp, x) - f(Wm, x)) / (2 * h), rel=1e-6, abs=1e-8
        )


def test_static_arguments_are_constants():
    def f(x, n, mode):
        for _ in range(n):
            x = np.sin(x)
        return x * 2.0 if mode == "double" else x

    g = symgrad.grad(f)
    assert g(0.5, 2, "double") == pytest.approx(
        2 * np.cos(np.sin(0.5)) * np.cos(0.5), rel=1e-12
    )
    assert g(0.5, 1, "single") == pytest.approx(np.cos(0.5), rel=1e-12)
    assert len(g._cache) == 2


def test_compile_object():
    def f(x, y):
        return (x * y).sum()

    c = symgrad.compile(f, np.ones(3), np.arange(3.0), argnums=(0, 1))
    assert "mul" in str(c.graph)
    assert c.forward(np.ones(3), np.arange(3.0)) == 3.0
    gx, gy = c.gradient(np.ones(3), np.arange(3.0))
    np.testing.assert_array_equal(gx, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(gy, [1.0, 1.0, 1.0])
    value, _ = c.value_and_grad(np.ones(3), np.arange(3.0))
    assert value == 3.0


def test_gradients_are_owned_writable_arrays():
    x = np.ones(3)
    g = symgrad.grad(lambda v: v.sum())(x)
    g += 1.0  # a broadcast view would be read-only
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])
    g = symgrad.grad(lambda v, w: (v * w).sum())(x, np.arange(3.0))
    assert g.flags.writeable


def test_nested_grad_second_derivative():
    d2 = symgrad.grad(symgrad.grad(lambda x: x**3 + np.sin(x)))
    assert d2(1.5) == pytest.approx(6 * 1.5 - np.sin(1.5), rel=1e-12)


def test_nested_grad_closure_is_constant():
    # d/dx [x * d/dy (x*y)] = d/dx [x * x] = 2x; perturbations must not mix.
    def outer(x):
        return x * symgrad.grad(lambda y: x * y)(1.0)

    assert symgrad.grad(outer)(3.0) == pytest.approx(6.0)


def test_integer_data_arrays_are_inputs():
    def f(w, labels):
        return (w * labels).sum()

    g = symgrad.grad(f)
    np.testing.assert_array_equal(g(np.ones(3), np.array([1, -1, 1])), [1, -1, 1])
    np.testing.assert_array_equal(g(np.ones(3), np.array([2, 2, 2])), [2, 2, 2])
    assert len(g._cache) == 1


def test_specialization_cache_is_a_bounded_lru():
    calls = []

    def f(x):
        calls.append(x.shape)
        return (x * x).sum()

    g = symgrad.grad(f, cache_size=2)
    for n in (1, 2, 1, 3, 1):  # 3 evicts 2 (least recently used), keeps 1
        g(np.ones(n))
    assert calls == [(1,), (2,), (3,)]
    g(np.ones(2))
    assert calls[-1] == (2,) and len(calls) == 4
    assert len(g._cache) == 2
    none = symgrad.value_and_grad(f, cache_size=0)
    none(np.ones(1))
    none(np.ones(1))
    assert len(calls) == 6 and len(none._cache) == 0
    assert symgrad.grad(f)._cache is not None
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(symgrad.ArgumentError, match="cache_size"):
            symgrad.grad(f, cache_size=bad)


def test_each_specialization_has_its_own_traceback_lines():
    import traceback

    def boom(x):
        return (x * x).sum()

    first = symgrad.compile(boom, np.ones(2))
    second = symgrad.compile(boom, np.ones(5))  # same file, same name
    files = {first.module.__file__, second.module.__file__}
    assert len(files) == 2
    for c, n, wrong in ((first, 2, np.ones(3)), (second, 5, np.ones(4))):
        with pytest.raises(ValueError) as info:
            c.forward(wrong)
        frame = traceback.extract_tb(info.value.__traceback__)[-1]
        assert frame.filename == c.module.__file__
        assert f"must have shape ({n},)" in frame.line


def test_evicted_modules_leave_linecache():
    import gc
    import linecache

    g = symgrad.grad(lambda x: (x * x).sum(), cache_size=1)
    g(np.ones(1))
    name = g.compiled.module.__file__
    assert name in linecache.cache
    g(np.ones(2))  # evicts the first specialization
    gc.collect()
    assert name not in linecache.cache


def test_large_closed_over_arrays_compile_fast_and_small():
    big = np.arange(90_000.0).reshape(300, 300) / 90_000.0

    def f(x):
        return (big @ x).sum()

    c = symgrad.compile(f, np.ones(300))
    assert len(c.source) < 3 * big.nbytes  # base64, not 90,000 literals
    np.testing.assert_allclose(c.gradient(np.ones(300)), big.sum(axis=0))
