"""Functional setitem: `x[key] = v` on traced arrays gives NumPy's results.

`x` is rebound to the updated array (JAX's `.at[key].set(v)`), every name
bound to the same traced array sees the write (as NumPy's aliases do), a view
made by basic indexing writes through to the array it looks into, and views
of a written array are read again. The generated code never writes into its
arguments. Values are compared with NumPy running the same function, on both
targets; gradients with finite differences or by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError, TraceError
from tests.op_rows import TARGETS
from tests.oracles import assert_close, numeric_grad


def _forward(fn, args, target):
    """fn's value from generated code, as a NumPy array: the gradient of
    sum(fn(*args) * d) with respect to d is fn(*args), exactly."""

    def probe(d, *args):
        return np.sum(fn(*args) * d)

    with np.errstate(all="ignore"):
        d = np.ones(np.shape(fn(*_copies(args))))
    return np.asarray(symgrad.grad(probe, target=target)(d, *args), dtype=float)


def _copies(args):
    return [np.array(a) if isinstance(a, np.ndarray) else a for a in args]


def basic_writes(x, v):
    x = x * 1.0
    x[0] = v[0]
    x[1, ::-2] = v[:2]
    x[None, 2:] = v[1]
    x[..., -1] = v[1] * 3
    x[3:, 1:2] = np.ones((1, 1, 1)) * v[2]  # extra leading axes of length 1
    x[1:3] += v
    x[:, 0] -= x[:, 1]
    return x


def advanced_writes(x, v):
    x = x * 1.0
    x[[0, 2], [1, 1]] = v[:2]
    x[[1, 1, 1]] += 1.0  # NumPy adds once: the value is read before writing
    x[np.array([True, False, True, False])] *= v
    x[:, [2, 0]] = x[:, [0, 2]]  # a swap through copies
    return x


def aliases(x, v):
    y = x
    x[0] = v  # an argument: the module works on a copy
    z = y * 1.0
    z[1] = y[0] * 2
    return z + x


def views(x, v):
    x = x + 0.0
    row = x[1]
    row[0] = v[0]  # reaches x
    col = x[:, 2]
    x[2, 2] = v[1]  # shows in col
    block = x[1:, ::2]
    inner = block[1:]
    inner[0, 0] = v[2] * col[2]  # a view of a view reaches x
    return x * col.sum() + row[None, :] + block.sum()


def loops(x, v):
    out = x * 0.0
    for i in range(x.shape[0]):
        out[i] = np.tanh(x[i] * v) + out[i - 1]
    for row in out:
        row[1:] = row[:-1] * v[0]
    return out


def copies(x, v):
    x = x * 1.0
    picked = x[[0, 1]]  # advanced indexing copies
    picked[0] = v
    scalar = x[2, 2]  # a scalar is a copy too
    x[2, 2] = 7.0
    return x + picked.sum() + scalar


def traced_mask(x, v):
    x = x * 1.0
    x[x > 0.5] = 0.0
    x[x < -0.5] = v[0]
    x[x[:, 0] > 0] = v  # a row mask: v fills each selected row
    return x


def int_array(k, v):
    k = k * 1
    k[1] = v[0]  # NumPy truncates floats written into an int array
    k[k > 2] = 9
    return k * v[1]


CASES = [basic_writes, advanced_writes, aliases, views, loops, copies, traced_mask]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fn", CASES + [int_array], ids=lambda f: f.__name__)
def test_values_equal_numpy(fn, target):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    if fn is int_array:
        x = np.array([[1, 5, 2], [3, 0, 4], [2, 2, 8], [7, 1, 0]])
    v = rng.normal(size=(3,)) * 2
    expected = fn(*_copies([x, v]))
    given = _copies([x, v])
    got = _forward(fn, given, target)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    # The module never writes into its arguments.
    assert all(np.array_equal(a, b) for a, b in zip(given, [x, v], strict=True))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fn", [views, loops, traced_mask], ids=lambda f: f.__name__)
def test_gradients(fn, target):
    rng = np.random.default_rng(1)
    x, v = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    w = rng.normal(size=(4, 3))

    def loss(x, v):
        return np.sum(fn(x, v) * w)

    ours = symgrad.grad(loss, argnums=(0, 1), target=target)(x, v)
    theirs = numeric_grad(lambda x, v: loss(np.array(x), v), [x, v], (0, 1))
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a, b)


@pytest.mark.parametrize("target", TARGETS)
def test_repeated_indices_keep_the_last_write(target):
    # NumPy keeps the last of several writes to one position; only it gets a
    # gradient. With index arrays that are arguments, that is found at run
    # time: the backward pass writes each write's number and reads it back.
    def f(x, v, idx):
        x = x * 1.0
        x[idx] = v
        x[[2, 0, 2]] = v * v
        return np.sum(x * np.arange(1.0, 5.0))

    x, v = np.ones(4), np.array([1.0, 2.0, 3.0])
    grad = symgrad.value_and_grad(f, argnums=(0, 1), target=target)
    # x[[3, 1, 3]] = v keeps v[2] at 3; x[[2, 0, 2]] = v * v keeps v[2]**2 at 2:
    # x = [v1**2, v1, v2**2, v2] = [4, 2, 9, 3].
    value, (gx, gv) = grad(x, v, np.array([3, 1, 3]))
    assert value == f(x, v, np.array([3, 1, 3])) == 4 + 2 * 2 + 9 * 3 + 3 * 4
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gv, [0.0, 2 + 2 * 2.0, 4 + 3 * 2 * 3.0])
    # Other index values, same module: the winners are found again.
    # x[[1, 1, 0]] = v keeps v[1] at 1: x = [v1**2, v1, v2**2, 1].
    value, (gx, gv) = grad(x, v, np.array([1, 1, 0]))
    assert value == f(x, v, np.array([1, 1, 0])) == 4 + 2 * 2 + 9 * 3 + 4
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0, 4.0])
    np.testing.assert_array_equal(gv, [0.0, 2 + 2 * 2.0, 3 * 2 * 3.0])


def test_sort_method_is_refused():
    def f(x):
        x.sort()
        return x[0]

    with pytest.raises(TraceError, match=r"np\.sort\(x\)") as info:
        symgrad.grad(f)(np.array([2.0, 1.0]))
    assert "test_setitem.py" in str(info.value)


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda x: x.__setitem__(x > 0, x[:2]), "np.where"),
        (lambda x: x.__setitem__(slice(0, 2), x), "could not broadcast"),
        (lambda x: x.__setitem__((0, 1), 1.0), "too many indices"),
        (lambda x: x.__setitem__([0, 3], 1.0), "out of bounds"),
    ],
)
def test_errors(fn, message):
    def f(x):
        fn(x)
        return x.sum()

    with pytest.raises(SymgradError, match=message):
        symgrad.grad(f)(np.ones(3))


def test_generated_code_reads_like_numpy():
    def f(x, v):
        x = x * 2.0
        x[1:3] = v
        x[[0, 3]] += v
        return x.sum()

    src = symgrad.compile(f, np.ones(4), np.ones(2), argnums=(0, 1)).source
    for line in ("x_2 = x_1.copy()", "x_2[1:3] = v", "x_3[[0, 3]] = t2"):
        assert f"    {line}\n" in src
    # Distinct constant positions: the adjoint assigns (no np.add.at).
    assert "t5[[0, 3]] = t2_bar" in src and "add.at" not in src


def _alias_update(x):
    y = x * 1.0
    z = y  # another name for the same array
    z += 1.0  # NumPy updates it in place: y changes too
    v = y[1:]  # a view
    v *= 3.0  # writes through to y
    return np.sum(y**2)


def _alias_update_ref(x):
    y = x + 1.0
    y[1:] = y[1:] * 3.0
    return np.sum(y**2)


def _scalar_update(s):
    t = s
    t += 1.0  # a number: += rebinds t, s keeps its value
    return s * t


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_augmented_assignment_updates_arrays_in_place(target):
    """`z += v` on a traced array changes it for every name bound to it and
    for the array a view of it looks into, as NumPy does (it used to rebind
    `z` only, a silently different value)."""
    x = np.array([0.5, -1.0, 2.0])
    value, grad = symgrad.value_and_grad(_alias_update, target=target)(x)
    assert value == pytest.approx(_alias_update(x.copy()), rel=1e-14)
    assert value == pytest.approx(_alias_update_ref(x), rel=1e-14)
    (want,) = numeric_grad(_alias_update_ref, (x,), (0,))
    assert_close(grad, want, rtol=1e-6)
    v, g = symgrad.value_and_grad(_scalar_update, target=target)(1.5)
    assert v == pytest.approx(1.5 * 2.5) and g == pytest.approx(2 * 1.5 + 1.0)
