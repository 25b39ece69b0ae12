"""Every primitive against float64 central finite differences.

One row per op (or per variant of an op): the function written with NumPy or
operators, the domain each input is drawn from, and the shapes to try
(scalars, vectors, matrices, broadcasting). First order checks `grad` against
finite differences of the NumPy function itself; second order checks the
gradient of <grad f, v> against finite differences of the first-order code.
Both run on every code generation target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import symgrad
from symgrad.codegen import python_target
from symgrad.ops import OPS
from tests.oracles import assert_close, numeric_grad


@dataclass
class Row:
    ops: tuple  # the primitives this row exercises
    fn: object
    domains: tuple  # per input: "any", "pos", "away" (|x| >= 0.5)
    shapes: tuple  # tuple of per-input shape tuples
    second: bool = True


UNARY = (((),), ((3,),), ((2, 3),))
BINARY = (
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((), (2, 3)),
)
MATRIX = (((2, 3),), ((4,),), ((2, 3, 2),))
TARGETS = ("numpy", "python")

ROWS = {
    "add": Row(("add",), lambda a, b: a + b, ("any", "any"), BINARY),
    "sub": Row(("sub",), lambda a, b: a - b, ("any", "any"), BINARY),
    "mul": Row(("mul",), lambda a, b: a * b, ("any", "any"), BINARY),
    "div": Row(("div",), lambda a, b: a / b, ("any", "away"), BINARY),
    "neg": Row(("neg",), lambda a: -a, ("any",), UNARY),
    "pow_const": Row(("pow",), lambda a: a**3, ("any",), UNARY),
    "pow_frac": Row(("pow",), lambda a: a**-1.5, ("pos",), UNARY),
    "pow_traced": Row(("pow",), lambda a, b: a**b, ("pos", "any"), BINARY),
    "rpow": Row(("pow",), lambda b: 2.0**b, ("any",), UNARY),
    "exp": Row(("exp",), np.exp, ("any",), UNARY),
    "log": Row(("log",), np.log, ("pos",), UNARY),
    "tanh": Row(("tanh",), np.tanh, ("any",), UNARY),
    "sin": Row(("sin",), np.sin, ("any",), UNARY),
    "cos": Row(("cos",), np.cos, ("any",), UNARY),
    "sqrt": Row(("sqrt",), np.sqrt, ("pos",), UNARY),
    "abs": Row(("abs", "sign"), np.abs, ("away",), UNARY),
    "sign": Row(("sign",), lambda a: np.sign(a) * a * a, ("away",), UNARY),
    "relu": Row(("relu", "gt"), lambda a: symgrad.relu(a) * a, ("away",), UNARY),
    "sigmoid": Row(("sigmoid",), symgrad.sigmoid, ("any",), UNARY),
    "maximum": Row(("maximum", "eq"), np.maximum, ("any", "any"), BINARY),
    "minimum": Row(("minimum", "lt"), np.minimum, ("any", "any"), BINARY),
    "where": Row(
        ("where", "lt", "le", "gt", "ge", "eq", "ne"),
        lambda a, b: np.where(a < b, a * b, np.where(a >= b, a - b, 0.0))
        + np.where(a != b, a, b)
        * np.where(a <= b, 2.0, 3.0)
        * np.where(a > b, 1.0, 0.5)
        + np.where(a == b, 5.0, b),
        ("any", "any"),
        BINARY,
    ),
    "sum": Row(("sum",), lambda a: np.sum(a * a), ("any",), MATRIX),
    "sum_axis": Row(
        ("sum",), lambda a: np.sum(np.tanh(a), axis=0) * 2.0, ("any",), MATRIX
    ),
    "sum_keep": Row(
        ("sum",), lambda a: a * np.sum(a, axis=-1, keepdims=True), ("any",), MATRIX
    ),
    "mean": Row(
        ("mean",), lambda a: np.mean(np.sin(a), axis=0) * a.mean(), ("any",), MATRIX
    ),
    "sum_axes": Row(
        ("sum", "mean"),
        lambda a: np.sum(a * a, axis=(0, 2)) + np.mean(np.cos(a), axis=(1, 2)).sum(),
        ("any",),
        (((2, 3, 2),),),
    ),
    "max": Row(("max",), lambda a: np.max(a * a, axis=0) + a.max(), ("any",), MATRIX),
    "min": Row(("min",), lambda a: a.min(axis=-1, keepdims=True) * a, ("any",), MATRIX),
    "matmul": Row(
        ("matmul", "transpose"),
        lambda a, b: np.tanh(a @ b),
        ("any", "any"),
        (
            ((2, 3), (3, 4)),
            ((3,), (3, 2)),
            ((2, 3), (3,)),
            ((3,), (3,)),
            ((2, 2, 3), (3, 2)),
            ((2, 3), (2, 3, 2)),
            ((2, 1, 3), (2, 3, 2)),
        ),
    ),
    "dot": Row(
        ("matmul",),
        lambda a, b: np.dot(a, b) * np.dot(b, a),
        ("any", "any"),
        (((3,), (3,)),),
    ),
    "transpose": Row(
        ("transpose",),
        lambda a: a.T * np.transpose(a, (1, 0, 2)).sum(),
        ("any",),
        (((2, 3, 4),),),
    ),
    "reshape": Row(
        ("reshape",),
        lambda a: np.sin(a.reshape(3, -1)) * a.reshape(-1)[0],
        ("any",),
        (((2, 3),),),
    ),
    "broadcast_to": Row(
        ("broadcast_to",),
        lambda a: np.broadcast_to(a, (2, 3)) * np.arange(6.0).reshape(2, 3),
        ("any",),
        (((3,),), ((2, 1),), ((),)),
    ),
    "getitem": Row(
        ("getitem", "scatter"),
        lambda a: (a[1:3] * a[0]).sum()
        + a[..., 1:2] * a[:, None][-1]
        + a[2, ::2].sum(),
        ("any",),
        (((4, 3),),),
    ),
    # Blocks that are not one evenly spaced run of the flat array.
    "getitem_block": Row(
        ("getitem", "scatter"),
        lambda a: np.exp(a[1:3, ::2]) * a[::-2, 1:][0, 0] + a[3, 2],
        ("any",),
        (((4, 3),),),
    ),
}


def _draw(domain, shape, rng):
    x = rng.normal(size=shape)
    if domain == "pos":
        x = rng.uniform(0.5, 2.0, size=shape)
    elif domain == "away":
        x = np.sign(x + 1e-9) * rng.uniform(0.5, 2.0, size=shape)
    return float(x) if shape == () else x


def _cases():
    for name, row in ROWS.items():
        for shapes in row.shapes:
            yield pytest.param(name, shapes, id=f"{name}-{'x'.join(map(str, shapes))}")


def _weighted(fn, weight):
    def loss(*args):
        return np.sum(fn(*args) * weight)

    return loss


def _setup(name, shapes, seed=0):
    row = ROWS[name]
    rng = np.random.default_rng(seed)
    args = [_draw(d, s, rng) for d, s in zip(row.domains, shapes, strict=True)]
    weight = rng.normal(size=np.shape(row.fn(*args)))
    return row, args, _weighted(row.fn, weight)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name,shapes", list(_cases()))
def test_first_order(name, shapes, target):
    row, args, loss = _setup(name, shapes)
    argnums = tuple(range(len(args)))
    ours = symgrad.grad(loss, argnums=argnums, target=target)(*args)
    theirs = numeric_grad(loss, args, argnums)
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a, b)
    value, _ = symgrad.value_and_grad(loss, argnums=argnums, target=target)(*args)
    assert value == pytest.approx(loss(*args), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "name,shapes", [c for c in _cases() if ROWS[c.values[0]].second]
)
def test_second_order(name, shapes, target):
    row, args, loss = _setup(name, shapes, seed=1)
    argnums = tuple(range(len(args)))
    rng = np.random.default_rng(2)
    direction = [rng.normal(size=np.shape(a)) for a in args]
    first = symgrad.grad(loss, argnums=argnums, target=target)

    def directional(*xs):
        gs = first(*xs)
        return sum(np.sum(g * v) for g, v in zip(gs, direction, strict=True))

    ours = symgrad.grad(directional, argnums=argnums, target=target)(*args)
    theirs = numeric_grad(directional, args, argnums)
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_every_op_has_everything():
    covered = {op for row in ROWS.values() for op in row.ops} | {"input", "const"}
    for name, op in OPS.items():
        assert name in covered, f"op {name} has no row in tests/test_ops.py"
        if name in ("input", "const"):
            continue
        assert op.eval is not None, name
        assert op.vjp is not None, name
        assert op.numpy is not None or op.numpy_stmts is not None, name
        # The pure-Python target: a scalar printer, or an array lowering in
        # its own table (never both, so there is one place to look).
        lowered = name in python_target.LOWERINGS
        assert (op.python is not None) != lowered, name
        if op.python is not None:
            assert "elementwise" in op.flags, name
