"""Reductions and structure functions beyond the op rows: NumPy's values for
many argument forms (through the reference interpreter, no code generated),
exact gradients of prod and cumprod at zeros, the pure-Python helpers,
errors, symbolic shapes, and what the generated code looks like."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy import array as np_array
from numpy import asarray as np_asarray

import symgrad
from symgrad import ir, ops
from symgrad.ad import autodiff
from symgrad.api import build_program
from symgrad.codegen.python import helpers_structure as hs
from symgrad.errors import ShapeError, TraceError
from symgrad.ir import dims
from symgrad.numpy_api import structure as composites
from symgrad.ops import evaluate


def _forward(fun, *args):
    """`fun` traced at `args` and run by the reference interpreter."""
    args = [np.asarray(a, dtype=float) for a in args]
    with ir.scope():
        program = build_program(fun, args, argnums=None)
        (value,) = evaluate(program.forward_graph(), args)
    return value


R = np.random.default_rng(7)
A = R.normal(size=(3, 4))
V = R.normal(size=(5,))
T = R.normal(size=(2, 3, 4))

VALUES = {
    "pad_wide_reflect": (lambda a: np.pad(a, (4, 7), mode="reflect"), (A,)),
    "pad_wide_symmetric": (lambda a: np.pad(a, (5, 9), mode="symmetric"), (V,)),
    "pad_wide_wrap": (lambda a: np.pad(a, ((7, 1), (0, 9)), mode="wrap"), (A,)),
    "pad_edge_3d": (lambda a: np.pad(a, ((0, 0), (2, 1), (1, 3)), "edge"), (T,)),
    "pad_const": (lambda a: np.pad(a, ((1, 2),), constant_values=(3, 4)), (A,)),
    "pad_traced_value": (lambda a: np.pad(a, 2, constant_values=a[0, 0]), (A,)),
    "pad_reflect_one": (lambda a: np.pad(a[:1], 3, mode="reflect"), (V,)),
    "split_indices": (
        lambda a: sum(p.sum() * i for i, p in enumerate(np.split(a, [1, -1, 9], 1))),
        (A,),
    ),
    "array_split": (
        lambda a: np.concatenate([p * i for i, p in enumerate(np.array_split(a, 3))]),
        (V,),
    ),
    "dsplit": (lambda a: np.dsplit(a, 2)[1] - np.dsplit(a, [3])[0][..., :2], (T,)),
    "roll": (
        lambda a: np.roll(a, -7) + np.roll(a, (1, -2, 1), axis=(0, 2, 0)),
        (T,),
    ),
    "tile": (
        lambda a: np.tile(a, (2, 1, 3)).sum()
        + np.tile(a, (1, 2))
        + np.tile(a, 0).sum(),
        (A,),
    ),
    "tile_vector": (lambda a: np.tile(a, (3, 1, 2)), (V,)),
    "repeat": (
        lambda a: np.repeat(a, [2, 0, 1, 1, 3]) * 2
        + np.repeat(a[:4], 2).sum()
        + np.repeat(a[0], 3)[1],
        (V,),
    ),
    "repeat_axis": (lambda a: np.repeat(a, [1, 2, 2], axis=1), (T,)),
    "tri_3d": (lambda a: np.triu(a, -1) + np.tril(a, 2) * 2, (T,)),
    "tri_vector": (lambda a: np.triu(a) + np.tril(a, 1), (V,)),
    "diag": (lambda a: np.diag(a, 2) + np.diag(a, -2).T, (V,)),
    "diagonal_3d": (
        lambda a: np.diagonal(a, -1, 2, 1) + np.diagonal(a, 1, 1, 2)[..., :2].sum(),
        (T,),
    ),
    "trace": (
        lambda a: np.trace(a, 1, 0, 2) + np.trace(a, axis1=1, axis2=2).sum(),
        (T,),
    ),
    "diff": (
        lambda a: np.diff(a, 2, axis=1).sum()
        + np.diff(a, axis=0, append=np.ones((1, 4)))[:2],
        (A,),
    ),
    "cross_axes": (
        lambda a, b: np.cross(a, b, axisa=0, axisb=0, axisc=0),
        (A[:, :3], A[:, 1:]),
    ),
    "cross_broadcast": (lambda a, b: np.cross(a, b), (T[..., :3], A[0, :3])),
    "select": (
        lambda a: np.select([a > 0, a < -1], [a, np.sin(a)]) + np.select([a > 1], [2]),
        (A,),
    ),
    "stack_axes": (lambda a: np.stack([a, 2 * a, a * a], axis=-2), (T,)),
    "hstack_scalars": (lambda a: np.hstack([a[0], 1.0, a[1:3]]), (V,)),
    "vstack_vectors": (lambda a: np.vstack([a, a * 2]), (V,)),
    "column_stack": (lambda a: np.column_stack([a[:, 0], a, a[:, 1] * 2]), (A,)),
    "expand_squeeze": (
        lambda a: np.expand_dims(a, (-1, 1)).squeeze(axis=(1, 4))
        + np.squeeze(a[:, None]),
        (T,),
    ),
    "moveaxis": (lambda a: np.moveaxis(a, [0, -1], [-1, 0]), (T,)),
    "atleast": (
        lambda a: np.atleast_3d(a[0]) * np.atleast_3d(a)[:1]
        + np.atleast_2d(a[0])
        + np.atleast_1d(a[0, 0]),
        (A,),
    ),
    "prod_axes": (
        lambda a: np.prod(a, axis=(0, 2), keepdims=True)
        + a.prod(1, initial=2.0)[:, None],
        (T,),
    ),
    "cumsum_int": (lambda a: np.cumsum(a > 0, axis=1) * 1.5 + np.cumprod(a, 0), (A,)),
    "argmax_keepdims": (
        lambda a: np.argmax(a, axis=1, keepdims=True) * 1.0
        + np.argmin(a, keepdims=True)
        + a.argmax(2)[:, :, None] * 2.0,
        (T,),
    ),
    "average_axes": (
        lambda a, w: np.average(a, axis=(2, 0), weights=w, keepdims=True),
        (T, R.uniform(0.5, 1.0, size=(4, 2))),
    ),
    "var_ddof": (
        lambda a: np.var(a, axis=(0, 2), ddof=2) + np.std(a, correction=1),
        (T,),
    ),
    "logical": (
        lambda a: np.all(a > -3, axis=(0, 1)) * 1.0
        + np.any(a[:, :0] > 0, axis=1) * 2.0
        + np.all(a[:0]) * 4.0
        + np.count_nonzero(a > 0.2)
        + (a > 0).any(0).sum(0) * 8.0,
        (T,),
    ),
    "nan_reductions": (
        lambda a: np.nansum(np.where(a > 1.0, np.nan, a), axis=1)
        + np.nanmean(np.where(a > 0.0, np.nan, a), axis=-1),
        (A,),
    ),
    "array_nested": (
        lambda a: np.array([[a[0], 1], [2.5, a[1] * a[2]]], dtype=float, ndmin=3),
        (V,),
    ),
    "like_shapes": (
        lambda a: np.zeros_like(a, shape=(2, 1)) + np.full_like(a[0], 3.0, dtype=int),
        (A,),
    ),
    "append": (lambda a: np.append(a, a[:1], axis=0) * 2, (A,)),
    "row_stack": (lambda a: np.row_stack([a, a[0] * 2]), (A,)),
    "block_3d": (lambda a: np.block([[[a[0]], [a[1]]], [[a[0]], [a[1]]]]), (V,)),
    "rot90_3d": (
        lambda a: np.rot90(a, 3, axes=(2, 0))
        + np.rot90(a, axes=(1, 2)).sum(0)[None, :3, :2]
        + np.rot90(a, 1, (0, 2)).sum(),
        (T,),
    ),
    "rollaxis": (lambda a: np.rollaxis(a, 0, 3) + np.rollaxis(a, -1, 1).sum(), (T,)),
    "cumulative": (
        lambda a: np.cumulative_prod(a, axis=0, include_initial=True)[1:]
        + np.cumulative_sum(a, axis=-1, dtype=float)[..., :3].sum(),
        (A,),
    ),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_match_numpy(name):
    fun, args = VALUES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # np.row_stack
        expected = fun(*args)
    got = _forward(fun, *args)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cross_of_2_vectors():
    a, b = A[:, :2], A[:, 2:]
    fun = lambda a, b: (  # noqa: E731
        np.cross(a, b)
        + np.cross(a, T[0, :, :3]).sum(-1) * np.cross(T[1, :, :3], b)[:, 2]
    )
    np.testing.assert_allclose(_forward(fun, a, b), fun(a, b), rtol=1e-13)


def test_front_end_resolves_array_imported_from_numpy():
    def f(x):
        return np_array([x[0], 2.0, x[1] * x[2]]).sum() * np_asarray((x, x)).sum()

    x = np.array([0.5, -1.0, 2.0])
    g = symgrad.grad(f)(x)
    s = x[0] + 2.0 + x[1] * x[2]  # np_array(...).sum()
    expected = np.array([1.0, x[2], x[1]]) * 2 * x.sum() + s * 2
    np.testing.assert_allclose(g, expected, rtol=1e-12)


# ------------------------------------------------------------------ zeros in products


def _hessian(f, x, target):
    first = symgrad.grad(f, target=target)
    rows = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = 1.0
        rows.append(symgrad.grad(lambda y, e=e: np.sum(first(y) * e), target=target)(x))
    return np.array(rows)


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_prod_gradient_at_zeros_is_the_product_of_the_others(target):
    f = lambda x: np.prod(x)  # noqa: E731
    x = np.array([2.0, 0.0, 3.0, -4.0])
    g = symgrad.grad(f, target=target)(x)
    np.testing.assert_array_equal(g, [0.0, -24.0, 0.0, 0.0])
    g2 = symgrad.grad(f, target=target)(np.array([2.0, 0.0, 3.0, 0.0]))
    np.testing.assert_array_equal(g2, [0.0, 0.0, 0.0, 0.0])
    # Second derivatives are exact at a zero too: d2/dxi dxj = product of the rest.
    h = _hessian(f, x, target)
    expected = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i, j] = np.prod(np.delete(x, [i, j]))
    np.testing.assert_array_equal(h, expected)


def test_prod_over_axes_at_zeros():
    x = np.array([[[1.0, 2.0], [0.0, 3.0]], [[4.0, 0.0], [0.0, 5.0]]])
    g = symgrad.grad(lambda x: np.sum(np.prod(x, axis=(0, 2)) * [1.0, 10.0]))(x)
    expected = np.zeros_like(x)
    expected[:, 0] = [[0.0, 0.0], [0.0, 8.0]]  # group [1, 2, 4, 0]: one zero
    np.testing.assert_array_equal(g, expected)  # group [0, 3, 0, 5]: two zeros


def _cumprod_gradient(x, w):
    """d/dx_j sum_i w_i prod_(k<=i) x_k, summed term by term (no division)."""
    out = np.zeros_like(x)
    for j in range(x.size):
        for i in range(j, x.size):
            out[j] += w[i] * np.prod(np.delete(x[: i + 1], j))
    return out


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_cumprod_gradient_at_zeros(target):
    w = np.array([0.5, -1.0, 2.0, 1.5, -0.5])
    f = lambda x: np.sum(np.cumprod(x) * w)  # noqa: E731
    for x in (
        [2.0, 0.0, 3.0, -4.0, 0.5],  # one zero
        [0.0, 2.0, 0.0, 3.0, 1.5],  # two zeros
        [1.5, 2.0, -1.0, 3.0, 0.0],  # a zero last
    ):
        x = np.array(x)
        g = symgrad.grad(f, target=target)(x)
        np.testing.assert_allclose(g, _cumprod_gradient(x, w), rtol=1e-14)


def test_cumprod_second_derivatives_at_a_zero():
    # Pinned: away from zeros cumprod's second derivatives are exact (the op
    # rows check them); at a zero, the gradient of an entry after the first
    # zero is 0 as a function (it is exactly 0 there), so its derivative with
    # respect to that zero comes out 0 rather than the product of the rest.
    w = np.array([0.5, -1.0, 2.0, 1.5])
    f = lambda x: np.sum(np.cumprod(x) * w)  # noqa: E731
    x = np.array([2.0, 0.0, 3.0, -4.0])
    h = _hessian(f, x, "numpy")
    exact = np.array(
        [
            [0.0, -13.0, 0.0, 0.0],
            [-13.0, 0.0, -8.0, 9.0],
            [0.0, -8.0, 0.0, 0.0],
            [0.0, 9.0, 0.0, 0.0],
        ]
    )
    np.testing.assert_array_equal(h[:2], exact[:2])  # rows of the first zero and before
    np.testing.assert_array_equal(h[2:], 0.0)  # rows after it


# ------------------------------------------------------------------ generated code


def test_generated_code_reads_like_numpy():
    def rnn_step(x, h):
        z = np.concatenate([h, x], axis=1)
        return np.sum(np.tanh(z) * np.cumsum(z, axis=1)) + np.prod(np.stack([x, h])[0])

    x, h = np.ones((2, 3)) * 0.1, np.ones((2, 3)) * 0.2
    source = symgrad.compile(rnn_step, x, h, argnums=(0, 1)).source
    assert "z = np.concatenate([h, x], axis=1)" in source
    assert "np.cumsum(z, axis=1)" in source
    assert "np.stack([x, h])" in source
    assert "= z_bar[:, :3]" in source and "= z_bar[:, 3:]" in source
    python = symgrad.compile(rnn_step, x, h, argnums=(0, 1), target="python").source
    assert "_concatenate([h, x], [3, 3], 2)" in python
    assert "[*x, *h]" in python


# ------------------------------------------------------------------ helpers


def _flat(a):
    return np.asarray(a).ravel().tolist()


def test_python_helpers_match_numpy():
    a = R.normal(size=(2, 3, 4))
    for axis in range(3):
        n, inner = a.shape[axis], int(np.prod(a.shape[axis + 1 :]))
        assert hs._cumsum(_flat(a), n, inner) == _flat(np.cumsum(a, axis))
        assert hs._cumprod(_flat(a), n, inner) == _flat(np.cumprod(a, axis))
        b = np.ones(a.shape[:axis] + (2,) + a.shape[axis + 1 :])
        outer = int(np.prod(a.shape[:axis]))
        joined = hs._concatenate(
            [_flat(a), _flat(b)], [a.size // outer, b.size // outer], outer
        )
        assert joined == _flat(np.concatenate([a, b], axis))
    for offset, axis1, axis2 in [(0, 0, 1), (1, 2, 1), (-2, 1, 2), (5, 0, 2)]:
        got = hs._diagonal(_flat(a), a.shape, offset, axis1, axis2)
        assert got == _flat(np.diagonal(a, offset, axis1, axis2))
    for values in ([1.0, 3.0, 3.0, -1.0], [2.0, np.nan, 5.0, np.nan], [-1.0]):
        assert hs._argmax(values) == np.argmax(values)
        assert hs._argmin(values) == np.argmin(values)
    assert hs._prod([]) == 1 and hs._prod([2.0, -0.0]) == np.prod([2.0, -0.0])


# ------------------------------------------------------------------ errors


def _raises(fun, *args, match, cls=TraceError):
    with pytest.raises(cls, match=match):
        symgrad.grad(lambda *a: np.sum(fun(*a)))(*args)


def test_clear_errors():
    x = np.ones((4, 3))
    _raises(lambda x: np.split(x, 3)[0], x, match="does not split into 3 equal parts")
    _raises(lambda x: np.pad(x, 1, mode="mean"), x, match="mode='mean'")
    _raises(lambda x: np.average(x, weights=x, returned=True), x, match="returned")
    _raises(lambda x: np.repeat(x, x[0, 0]), x, match="traced repeat counts")
    _raises(lambda x: np.array([x[0], x[0, 0]]), x, match="inhomogeneous")
    _raises(lambda x: np.concatenate([x[0, 0], x[1, 1]]), x, match="zero-dimensional")
    _raises(lambda x: np.select([x], [x]), x, match="should be boolean")
    _raises(lambda x: np.squeeze(x, axis=0), x, match="cannot squeeze axis 0")
    _raises(lambda x: np.diag(x[None]), x, match="1-D or 2-D")
    _raises(lambda x: np.stack([x, x[:2]]), x, match="same shape", cls=ShapeError)
    _raises(lambda x: np.argmax(x[:0]) * x, x, match="empty sequence", cls=ShapeError)
    # empty_like may hold anything: symgrad's holds zeros.
    empty = _forward(lambda x: np.empty_like(x, shape=(2, 3)) + x, x[0])
    np.testing.assert_array_equal(empty, np.ones((2, 3)))
    # ndarray.ptp is gone in NumPy 2, but code written for NumPy 1 still works.
    g = symgrad.grad(lambda x: x.ptp())(np.array([1.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, [-1.0, 1.0, 0.0])


def test_symbolic_sizes():
    n = dims.symbol("n")
    with ir.scope():
        x = ops.input_node(0, "x", (n, 3), np.dtype(float))
        y = ops.input_node(1, "y", (2, 3), np.dtype(float))
        joined = composites.concatenate([x, y])
        assert joined.shape == (n + 2, 3)
        gx, gy = autodiff.gradients(ops.reduce("sum", ops.mul(joined, joined)), [x, y])
        assert gx.shape == (n, 3) and gy.shape == (2, 3)
        assert composites.stack([x, x], axis=1).shape == (n, 2, 3)
        assert composites.tile(x, (1, 2)).shape == (n, 6)
        assert composites.repeat(x, 2, axis=1).shape == (n, 6)
        assert [p.shape for p in composites.split(x, 3, axis=1)] == [(n, 1)] * 3
        with pytest.raises(ShapeError, match="symbolic length n"):
            composites.split(x, 2)
        with pytest.raises(ShapeError, match="symbolic length n"):
            composites.roll(x, 1, axis=0)
        with pytest.raises(ShapeError, match="min"):
            composites.diagonal(x)


def _joins(x):
    a = np.r_[x, 0.5, x[:2] * 2]
    b = np.c_[x, x**2, np.ones(3)]
    return np.sum(a**2) + np.sum(b[:, 1] * b[:, 0] + b[:, 2]) + np.r_[1:3][1]


@pytest.mark.parametrize("target", ["numpy", "python"])
def test_r_and_c_join_traced_values(target):
    x = np.array([0.5, 1.5, -0.3])
    value, grad = symgrad.value_and_grad(_joins, target=target)(x)
    assert value == pytest.approx(_joins(x), rel=1e-14)
    want = 2 * x + np.r_[8 * x[:2], 0.0] + 3 * x**2
    np.testing.assert_allclose(grad, want, rtol=1e-13)
    with pytest.raises(symgrad.TraceError, match="directive"):
        symgrad.grad(lambda x: np.sum(np.r_["0,2", x, x]))(x)
