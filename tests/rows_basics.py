"""Op test rows: the arithmetic, transcendental, comparison, reduction, shape,
matmul and basic-indexing primitives of the first dialect."""

import numpy as np

import symgrad
from tests.op_rows import BINARY, MATRIX, UNARY, Row


def _checked(a):
    # A user's raise and assert on traced conditions: `check` nodes.
    if np.any(a > 1e6):
        raise ValueError("too large")
    assert np.all(a > -1e6), "too small"
    return np.sin(a) * 2.0


ROWS = {
    "check": Row(("check",), _checked, ("any",), (((),), ((2, 3),))),
    "add": Row(("add",), lambda a, b: a + b, ("any", "any"), BINARY),
    "sub": Row(("sub",), lambda a, b: a - b, ("any", "any"), BINARY),
    "mul": Row(("mul",), lambda a, b: a * b, ("any", "any"), BINARY),
    "div": Row(("div",), lambda a, b: a / b, ("any", "away"), BINARY),
    "neg": Row(("neg",), lambda a: -a, ("any",), UNARY),
    "pow_const": Row(
        ("pow",), lambda a: a**3, ("any",), UNARY, special=((0.0,), (np.zeros(3),))
    ),
    # Exponents 0, 1, 2, 3 (ints and floats) at 0: x**0 is the constant 1, so
    # its derivatives are 0 there too, at every order (not 0 * inf).
    "pow_zero_exponent": Row(
        ("pow",),
        lambda a: a**0.0
        + 2.0 * a**0
        + np.power(a, 0.0) * a
        + a**1
        + a**1.0 * a**2.0
        + a ** np.array([0.0, 2.0, 1.0]),
        ("any",),
        (((3,),), ((2, 3),)),
        special=((np.zeros(3),), (np.array([[0.0, 1.0, -2.0], [0.0, 0.0, 0.5]]),)),
    ),
    "pow_frac": Row(("pow",), lambda a: a**-1.5, ("pos",), UNARY),
    # At b == 0 the derivative of b * a**(b-1) in b (1/a) must stay.
    "pow_traced": Row(
        ("pow",),
        lambda a, b: a**b,
        ("pos", "any"),
        BINARY,
        special=((2.0, 0.0), (np.array([0.5, 2.0]), np.zeros(2))),
    ),
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
    # Its gradient is checked in test_transforms; here only that the op
    # lowers and evaluates like its operand on both targets.
    "stop_gradient": Row(
        ("stop_gradient",),
        lambda a: a * a + 0.0 * symgrad.stop_gradient(a),
        ("any",),
        UNARY,
    ),
    "cast": Row(
        ("cast", "gt"), lambda a: a * np.greater(a, 0).astype(float), ("away",), UNARY
    ),
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
        symbolic=r"cannot broadcast shape \(n, 1\) to \(2, 3\)",
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
        symbolic="a slice with step -2 of the symbolic axis n",
    ),
    # Sizes as values and shapes: with a symbolic first axis they are computed
    # when the code runs (`1.0 / n`, `np.zeros((n, 3))`, `np.arange(n)`).
    "sizes": Row(
        ("dim", "arange", "broadcast_to", "eq", "cast"),
        lambda a, b: a * (1.0 / len(b))
        + np.broadcast_to(b[:, None], (b.shape[0], 3)) * np.arange(len(b))[:, None]
        + np.ones((len(a), 1)) * (np.eye(len(b)) @ b)[:, None]
        + np.zeros((a.shape[0], 3)) * 2.0
        + a.shape[0] ** 2 * b.mean() * 0.1
        + np.sin(a.reshape(len(a), -1, 1)).sum(-1),
        ("any", "any"),
        (((2, 3), (2,)),),
    ),
    # Arrays built from plain sizes with more than 16 numbers stay
    # constructions too (np.tri, np.eye, np.full): the module builds them.
    "constructions": Row(
        ("arange", "le", "eq", "cast", "broadcast_to"),
        lambda a: (np.tri(len(a), 5, -1) @ np.full(5, 0.5)) * a
        + (np.eye(len(a), 6, 1) @ np.arange(6)) * a * a
        + np.ones((len(a), 4)).sum(1) * np.identity(len(a)).sum(0),
        ("any",),
        (((5,),),),
    ),
}
