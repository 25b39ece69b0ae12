"""Advanced indexing, sorting and order statistics beyond the op rows.

Index arrays that are arguments stay inputs of the generated code; constant
ones are literals checked against the axes while tracing; out-of-range
values at run time raise IndexError on both targets. The pure-Python
positions helper follows NumPy's rules (checked against NumPy directly).
Sorting is stable with NaN last; order statistics give NaN for lanes with a
NaN and send the gradient to the selected entries (ties: the first by index).
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad.codegen.python import helpers_indexing as hi
from symgrad.errors import SymgradError, TraceError
from symgrad.ops.indexing import layout
from tests.op_rows import TARGETS
from tests.oracles import assert_close, numeric_grad
from tests.test_setitem import _forward


def _cross_entropy(x, y):
    lp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))
    return -np.mean(lp[np.arange(x.shape[0]), y])


@pytest.mark.parametrize("target", TARGETS)
def test_index_arguments_stay_inputs(target):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    c = symgrad.compile(_cross_entropy, x, np.array([0, 3, 3]), target=target)
    if target == "numpy":
        assert "lp[np.arange(3), y]" in c.source
        assert "np.add.at(lp_bar, (np.arange(3), y), " in c.source
    else:
        assert '_array(y, (3,), "y", int)' in c.source
    for y in (np.array([0, 3, 3]), np.array([2, 1, -4])):
        value, g = c.value_and_grad(x, y)
        assert value == pytest.approx(_cross_entropy(x, y), rel=1e-12)
        expected = numeric_grad(lambda x, y=y: _cross_entropy(x, y), [x], (0,))[0]
        assert_close(g, expected)
    with pytest.raises(IndexError):
        c.value_and_grad(x, np.array([0, 4, 1]))


def test_constant_indices_are_literals():
    def f(x):
        return np.sum(x[[2, 0], 1:] * x[np.array([1, 1])][:, None, :2])

    src = symgrad.compile(f, np.ones((3, 3))).source
    assert "x[[2, 0], 1:]" in src and "x[[1, 1]]" in src
    # Repeated constant positions accumulate; distinct ones assign.
    assert "np.add.at(" in src and "[[2, 0], 1:] = " in src


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda x: x[[0, 5]], "index 5 is out of bounds for axis 0 with size 3"),
        (lambda x: x[:, [-4]], "index -4 is out of bounds for axis 1"),
        (lambda x: x[[0, 1], [0, 1, 2]], "could not be broadcast together"),
        (lambda x: x[np.array([0.0])], "integer .or boolean. type"),
        (lambda x: x[np.ones((3, 2), dtype=bool)], "boolean index did not match"),
        (lambda x: x[x > 0], "np.where"),
        (lambda x: x[[x[0, 0]]], "list of traced values"),
        (lambda x: x[True], "single True or False"),
        (lambda x: np.take_along_axis(x, np.array([0]), axis=0), "dimensions"),
        (lambda x: np.take(x, [0], axis=0, mode="wrap") + x.sort(), "np.sort"),
        (lambda x: np.quantile(x, x[0, 0]), "traced quantiles"),
        (lambda x: np.percentile(x, 101), r"range \[0, 100\]"),
        (lambda x: np.quantile(x, 0.5, method="weibull"), "not supported"),
    ],
)
def test_errors_name_the_line(fn, message):
    def f(x):
        return np.sum(fn(x))

    with pytest.raises(SymgradError, match=message) as info:
        symgrad.grad(f)(np.ones((3, 3)))
    assert "test_indexing.py" in str(info.value)


def test_traced_mask_errors_are_trace_errors():
    with pytest.raises(TraceError, match="shape would depend on the data"):
        symgrad.grad(lambda x: x[x > 0].sum())(np.ones(3))


INDEXES = [
    ([0, 1, 1],),
    (slice(None), [1, -1]),
    ([0, 1], slice(None), [1, 0]),
    (slice(None), [1, 1], None, 0),
    ([0, 1], Ellipsis, 0),
    (None, [1], 0),
    (1, slice(None), [0, 1, 1]),
    (np.array([[1], [0]]), slice(0, 3, 2), np.array([[0, 1, 1]])),
    (slice(None, None, -1), np.array([[2, 0], [1, 1]])),
    (Ellipsis, np.array(1)),
    ([0, 1], Ellipsis, 1, [1, 2]),  # an empty ... still separates
    ([0, 1], 2, [1, 2]),
]


def _items(index, shape):
    """An index as the helper takes it (Ellipsis expanded into slices)."""
    out = []
    n = sum(1 for i in index if i is not None and i is not Ellipsis)
    for item in index:
        if item is Ellipsis:
            out += [slice(None)] * (len(shape) - n)
        elif isinstance(item, (list, np.ndarray)):
            arr = np.asarray(item)
            out.append((arr.ravel().tolist(), arr.shape))
        else:
            out.append(item)
    return tuple(out)


def _template(index, shape):
    from symgrad.numpy_api.args import parse_index

    return parse_index(index, shape).template


@pytest.mark.parametrize("index", INDEXES, ids=str)
def test_positions_helper_follows_numpy(index):
    shape = (2, 3, 4)
    grid = np.arange(24).reshape(shape)
    expected = grid[index]
    out_shape, bshape, front, _ = layout(shape, _template(index, shape))
    assert out_shape == expected.shape
    got = hi._adv_positions(shape, _items(index, shape), bshape, front)
    assert got == expected.ravel().tolist()
    values = (np.arange(expected.size) * 1.5 + 1).tolist()
    added = hi._scatter_add(values, got, 24, 0.0)
    ref = np.zeros(shape)
    np.add.at(ref, index, np.reshape(values, expected.shape))
    assert added == ref.ravel().tolist()
    with pytest.raises(IndexError, match="out of bounds"):
        hi._adv_positions(shape, ((np.arange(3).tolist(), (3,)),), (3,), False)


SPECIAL = np.array(
    [[1.0, np.nan, -0.0, 0.0, 2.0, 0.0], [3.0, np.inf, -np.inf, 1.0, 1.0, -0.0]]
)


@pytest.mark.parametrize(
    "fn, stable",
    [
        (np.sort, lambda x: np.sort(x, kind="stable")),
        (lambda x: np.sort(x, axis=0), lambda x: np.sort(x, axis=0, kind="stable")),
        (lambda x: np.argsort(x) * 1.0, lambda x: np.argsort(x, kind="stable")),
        (
            lambda x: np.argsort(x.T, axis=0) * 1.0,
            lambda x: np.argsort(x.T, axis=0, kind="stable"),
        ),
    ],
)
def test_sorting_is_stable_with_nan_last(fn, stable):
    # kind="stable" is the reference: NumPy's default kind orders ties (and
    # 0.0 against -0.0) as it likes; the targets agree on every bit.
    want = np.asarray(stable(SPECIAL), dtype=float)
    for target in TARGETS:
        got = _forward(fn, [SPECIAL], target)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: np.median(x, axis=1),
        lambda x: np.median(x[:, 2:4]),
        lambda x: np.percentile(x, [0, 30, 50, 100], axis=1),
        lambda x: np.quantile(x[1, :2] * np.array([1.0, 5.0]), [0.0, 0.5, 1.0]),
        lambda x: np.quantile(x[1], 1) + np.median(np.array([3, 1, 2]) * x[0, 0]),
    ],
)
def test_order_statistics_on_special_values(fn):
    # A lane with a NaN gives NaN; infinities interpolate as in NumPy (a
    # neighbour of inf gives nan through inf - inf).
    with np.errstate(all="ignore"):
        want = fn(SPECIAL)
    for target in TARGETS:
        np.testing.assert_array_equal(_forward(fn, [SPECIAL], target), want)


@pytest.mark.parametrize(
    "fn, x, expected",
    [
        # Ties: the entry that sorts first by index gets the cotangent.
        (lambda x: np.sort(x)[1], [2.0, 1.0, 2.0], [1.0, 0.0, 0.0]),
        (lambda x: np.sort(x)[2], [2.0, 1.0, 2.0], [0.0, 0.0, 1.0]),
        (lambda x: np.median(x), [3.0, 1.0, 3.0], [1.0, 0.0, 0.0]),
        (lambda x: np.median(x), [1.0, 2.0, 2.0, 0.0], [0.5, 0.5, 0.0, 0.0]),
        (lambda x: np.percentile(x, 100), [5.0, 1.0, 5.0], [0.0, 0.0, 1.0]),
        (lambda x: np.percentile(x, 50), [1.0, 4.0], [0.5, 0.5]),
        (lambda x: np.quantile(x, 0.25, method="lower"), [1.0, 4.0, 0.0], [0, 0, 1]),
    ],
)
def test_gradients_reach_the_selected_entries(fn, x, expected):
    for target in TARGETS:
        g = symgrad.grad(fn, target=target)(np.array(x))
        np.testing.assert_array_equal(g, expected)


def test_integer_data():
    # Integer arrays sort and index as ints; their order statistics are floats.
    def f(x, k):
        return np.sum(x[np.argsort(k)] * np.median(k)) + np.percentile(k, 40)

    x, k = np.array([1.0, 2.0, 3.0]), np.array([7, -2, 5])
    for target in TARGETS:
        value, g = symgrad.value_and_grad(f, target=target)(x, k)
        assert value == f(x, k)
        np.testing.assert_array_equal(g, [5.0, 5.0, 5.0])


def test_take_modes():
    def f(x):
        return np.take(x, [-1, 4, 7], mode="wrap") + np.take(x, [-1, 9], mode="clip")[0]

    x = np.arange(1.0, 6.0)
    for target in TARGETS:
        np.testing.assert_array_equal(_forward(f, [x], target), f(x))


def test_helpers_are_valid_python_3_8():
    import ast
    import inspect

    ast.parse(inspect.getsource(hi), feature_version=(3, 8))


def test_views_of_an_array_are_forgotten_when_dropped():
    # Each basic index of a traced array is remembered as a view (to read it
    # again after writes); temporaries must not pile up.
    seen = {}

    def f(x):
        s = 0.0
        for i in range(1000):
            s = s + x[i % 2 :][:1].sum()
        seen["views"] = len(x._views)
        return s

    symgrad.grad(f)(np.ones(3))
    assert seen["views"] < 64


def test_a_mask_computed_from_constants_is_a_constant():
    # A traced operation on constants only (no argument involved) gives a
    # mask whose value is known while tracing: it indexes like NumPy's.
    from symgrad import ir, ops
    from symgrad.numpy_api.indexing import getitem

    with ir.scope():
        x = ops.input_node(0, "x", (4,), np.dtype(np.float64))
        mask = ops.gt(ops.const(np.array([1.0, -1.0, 2.0, 0.0])), 0.0)
        out = getitem(x, mask)
        assert out.op == "gather" and out.shape == (2,)
        assert out.attr("index") == (("array", (2,), (0, 2)),)
