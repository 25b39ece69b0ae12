"""Op test rows: NumPy's elementwise functions beyond the first dialect
(trigonometric, hyperbolic, logarithmic, rounding, remainders, logic) and
Python's math module on traced scalars.

Domains beyond "any", "pos" and "away" are made inside the function (tan of
x / 2 with |x| < 2, arcsin of 0.4 x, ...)."""

import math

import numpy as np

from tests.op_rows import Row

SCALAR_MATRIX = (((),), ((2, 3),))
PAIRS = (((), ()), ((2, 1), (1, 3)))


def _logic(a, b):
    both = np.logical_and(a > 0, b > 0) | np.logical_not(a < b) ^ (a == b)
    either = np.logical_or(a > 1, ~(b > 0)) & (a > -5) | np.logical_xor(a > 0, b)
    finite = np.isfinite(a) & ~np.isnan(b) & ~np.isinf(a * b)
    return np.where(both, a * b, a - b) + np.where(either & finite, a, 2.0 * b)


def _math(a, b):
    # b > 0 (domain "pos"); a anywhere.
    return (
        math.exp(a)
        + math.log(b)
        + math.log(b, 3)
        + math.log1p(b)
        + math.log2(b)
        + math.log10(b)
        + math.expm1(a)
        + math.sqrt(b)
        + math.sin(a) * math.cos(b)
        + math.tan(a * 0.5)
        + math.asin(b * 0.4)
        + math.acos(b * 0.3)
        + math.atan(a)
        + math.atan2(a, b)
        + math.sinh(a) * math.cosh(b)
        + math.tanh(a)
        + math.asinh(a)
        + math.acosh(b + 1.5)
        + math.atanh(b * 0.4)
        + math.hypot(a, b)
        + math.hypot(a, b, 2.0)
        + math.pow(b, a)
        + math.fabs(a) * a
        + math.floor(a) * a
        + math.ceil(a) * b
        + math.trunc(a) * a
        + math.copysign(a, b)
        + math.fmod(a, b)
        + math.degrees(a)
        + math.radians(b)
    )


ROWS = {
    "trigonometric": Row(
        ("tan", "arctan", "sinh", "cosh", "arcsinh", "cbrt", "where", "sin"),
        lambda a: np.tan(a * 0.5)
        + np.arctan(a) * np.sinh(a)
        + np.cosh(a * 0.5)
        + np.arcsinh(a) * np.cbrt(a)
        + np.sinc(a),
        ("away",),
        SCALAR_MATRIX,
    ),
    "inverse_and_logarithms": Row(
        ("arcsin", "arccos", "arccosh", "arctanh", "log2", "log10", "log1p", "expm1"),
        lambda a: np.arcsin(a * 0.4)
        + np.arccos(a * 0.3) * a
        + np.arccosh(a + 1.5) * np.arctanh(a * 0.4)
        + np.log2(a)
        + np.log10(a) * a
        + np.log1p(a)
        + np.expm1(-a) * a,
        ("pos",),
        SCALAR_MATRIX,
    ),
    "binary": Row(
        (
            "arctan2",
            "hypot",
            "copysign",
            "sign",
            "heaviside",
            "logaddexp",
            "logaddexp2",
        ),
        lambda a, b: np.arctan2(a, b)
        + np.hypot(a, b) * np.copysign(a, b)
        + np.copysign(2.0, a)
        + np.heaviside(a, 0.5) * a
        + np.heaviside(a * 0.0, b) * b
        + np.logaddexp(a, b) * np.logaddexp2(b, a * 3.0),
        ("away", "away"),
        PAIRS,
    ),
    "exp2_float_power": Row(
        ("pow", "cast"),
        lambda a, b: np.exp2(a) + np.float_power(b, a) + np.power(b, 2.5),
        ("any", "pos"),
        PAIRS,
    ),
    "square_reciprocal_degrees": Row(
        ("mul", "div", "neg", "abs"),
        lambda a: np.square(a)
        + np.reciprocal(a) * np.positive(a)
        - np.negative(a) * np.fabs(a)
        + np.deg2rad(a)
        + np.rad2deg(a) * np.radians(a)
        + np.degrees(a),
        ("away",),
        SCALAR_MATRIX,
    ),
    "remainder": Row(
        ("remainder", "floor_divide", "fmod", "rint"),
        lambda a, b: a % b
        + np.fmod(a, b) * 2.0
        + np.remainder(a, 1.5) * b
        + np.mod(1.3, b)
        + (a // b) * a
        + np.floor_divide(a, 0.7) * b
        + divmod(a, b)[1] * sum(np.divmod(b, 0.3)),
        ("any", "away"),
        PAIRS,
    ),
    "rounding": Row(
        ("floor", "ceil", "rint", "trunc"),
        lambda a: (np.floor(a) + np.ceil(a) + np.rint(a) + np.trunc(a)) * a
        + (np.fix(a) + np.round(a, 1) + np.around(a, -1) + a.round(2)) * a,
        ("any",),
        (((2, 3),),),
    ),
    "clip": Row(
        ("maximum", "minimum"),
        lambda a, b: np.clip(a, -0.5, 0.5) + a.clip(min=0.0) * b + np.clip(a, b, None),
        ("any", "any"),
        (((2, 3), (3,)),),
    ),
    "nan_to_num": Row(
        ("nan_to_num", "isfinite"),
        lambda a: np.nan_to_num(np.where(a > 1.0, a, np.nan), nan=-1.0) * a
        + np.nan_to_num(np.where(a < 0.8, -np.inf, a * 2.0), neginf=-3.0) * a
        + np.nan_to_num(np.where(a > 1.5, np.inf, a), posinf=4.0, nan=0.5),
        ("pos",),
        (((2, 3),),),
    ),
    "logic": Row(
        (
            "logical_and",
            "logical_or",
            "logical_xor",
            "logical_not",
            "isfinite",
            "isnan",
            "isinf",
        ),
        _logic,
        ("any", "any"),
        (((2, 3), (3,)),),
    ),
    "math": Row(
        (
            "exp",
            "log",
            "log1p",
            "log2",
            "log10",
            "expm1",
            "sqrt",
            "tan",
            "arcsin",
            "arccos",
            "arctan",
            "arctan2",
            "sinh",
            "cosh",
            "arcsinh",
            "arccosh",
            "arctanh",
            "hypot",
            "pow",
            "abs",
            "floor",
            "ceil",
            "trunc",
            "copysign",
            "fmod",
        ),
        _math,
        ("any", "pos"),
        (((), ()),),
        symbolic=(),
    ),
    "real_fmax_isclose": Row(
        ("arctan2", "maximum", "minimum", "isnan", "where", "pow"),
        lambda a, b: np.real(a)
        + np.imag(a)
        + np.conj(a) * np.angle(b)
        + np.fmax(a, np.where(b > 1.0, np.nan, b))
        + np.fmin(np.where(a < -1.0, np.nan, a), b)
        + np.ldexp(a, np.array([1, -2, 3]))
        + np.where(np.isclose(a, b, atol=0.3), a, b * b),
        ("any", "any"),
        (((2, 3), (2, 3)), ((3,), (3,))),
    ),
}
