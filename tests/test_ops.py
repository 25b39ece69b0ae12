"""Every primitive against float64 central finite differences.

One row per op (or per variant of an op), in the `tests/rows_*.py` modules
(see `tests/op_rows.py`): the function written with NumPy or
operators, the domain each input is drawn from, and the shapes to try
(scalars, vectors, matrices, broadcasting). First order checks `grad` against
finite differences of the NumPy function itself; second order checks the
gradient of <grad f, v> against finite differences of the first-order code.
Both run on every code generation target.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad import codegen
from symgrad.codegen import numpy as numpy_target
from symgrad.codegen import python as python_target
from symgrad.codegen import regions, scalar
from symgrad.codegen.python import scalar as python_scalar
from symgrad.codegen.target import Target
from symgrad.errors import ShapeError, TraceError
from symgrad.ops import OPS
from symgrad.ops.random import RANDOM_OPS
from tests.op_rows import ROWS, TARGETS, symbolic_case
from tests.oracles import assert_close, numeric_grad


def _draw(domain, shape, rng):
    x = rng.normal(size=shape)
    if domain == "pos":
        x = rng.uniform(0.5, 2.0, size=shape)
    elif domain == "away":
        x = np.sign(x + 1e-9) * rng.uniform(0.5, 2.0, size=shape)
    elif domain == "unit":
        x = rng.uniform(-0.9, 0.9, size=shape)
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
    if target not in ROWS[name].targets:
        pytest.skip(f"{name} is not implemented on the {target} target")
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
    if target not in ROWS[name].targets:
        pytest.skip(f"{name} is not implemented on the {target} target")
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


def _special_cases():
    for name, row in ROWS.items():
        for k in range(len(row.special)):
            yield pytest.param(name, k, id=f"{name}-{k}")


def _assert_finite_and_close(ours, theirs, **tolerances):
    for a, b in zip(ours, theirs, strict=True):
        assert np.all(np.isfinite(a)), a
        assert_close(a, b, **tolerances)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name,k", list(_special_cases()))
def test_special_points(name, k, target):
    # Where the function is finite and smooth around the point but a rule
    # may multiply 0 by inf (x**0 at 0, the std of one number): no nan, and
    # the first and second derivatives of the differences.
    row = ROWS[name]
    if target not in row.targets:
        pytest.skip(f"{name} is not implemented on the {target} target")
    args = [a if np.ndim(a) else float(a) for a in row.special[k]]
    rng = np.random.default_rng(6)
    loss = _weighted(row.fn, rng.normal(size=np.shape(row.fn(*args))))
    argnums = tuple(range(len(args)))
    first = symgrad.grad(loss, argnums=argnums, target=target)
    _assert_finite_and_close(first(*args), numeric_grad(loss, args, argnums))
    direction = [rng.normal(size=np.shape(a)) for a in args]

    def directional(*xs):
        gs = first(*xs)
        return sum(np.sum(g * v) for g, v in zip(gs, direction, strict=True))

    second = symgrad.grad(directional, argnums=argnums, target=target)(*args)
    expected = numeric_grad(directional, args, argnums)
    _assert_finite_and_close(second, expected, rtol=1e-5, atol=1e-7)


def _first_shapes():
    for name, row in ROWS.items():
        shapes = row.shapes[-1]  # the largest: scalars, vectors or matrices
        yield pytest.param(name, shapes, id=f"{name}-{'x'.join(map(str, shapes))}")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name,shapes", list(_first_shapes()))
def test_forward_mode(name, shapes, target):
    # symgrad.jvp (forward mode, derived from the VJP rules) against the
    # central difference along a random tangent, for every primitive.
    if target not in ROWS[name].targets:
        pytest.skip(f"{name} is not implemented on the {target} target")
    row, args, loss = _setup(name, shapes, seed=3)
    rng = np.random.default_rng(4)
    tangents = [rng.normal(size=np.shape(a)) for a in args]
    tangents = [float(t) if np.ndim(t) == 0 else t for t in tangents]
    value, ours = symgrad.jvp(loss, tuple(args), tuple(tangents), target=target)
    h = 1e-6 * max(1.0, max(float(np.max(np.abs(a))) for a in args))

    def moved(sign):
        return [
            a + sign * h * t if np.ndim(a) else float(a + sign * h * t)
            for a, t in zip(args, tangents, strict=True)
        ]

    theirs = (loss(*moved(1)) - loss(*moved(-1))) / (2 * h)
    assert value == pytest.approx(loss(*args), rel=1e-12, abs=1e-12)
    assert_close(ours, theirs, rtol=1e-5, atol=1e-7)


def _resized(shape, spec, n):
    """`shape` with the axes `spec` names n given the size `n`."""
    axes = [a.strip() for a in spec.split(",")] if spec else []
    return tuple(n if a == "n" else d for a, d in zip(axes, shape, strict=True))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(ROWS))
def test_symbolic_leading_axis(name, target):
    # Each row once more with its leading axis a symbolic size: compiled at
    # the row's shapes, run at one row more, against NumPy and finite
    # differences there. Rows that need the size concretely must say so.
    row = ROWS[name]
    if target not in row.targets:
        pytest.skip(f"{name} is not implemented on the {target} target")
    if row.symbolic == ():
        assert all(s == () for c in row.shapes for s in c)
        pytest.skip(f"{name} takes scalars only: it has no axis to make symbolic")
    shapes, specs = symbolic_case(row)
    rng = np.random.default_rng(5)
    args = [_draw(d, s, rng) for d, s in zip(row.domains, shapes, strict=True)]

    fn = row.fn  # a closure cell, so that the front end converts it

    def loss(*xs):
        # Nonlinear in every entry, with no constant of the symbolic size.
        return np.sum(np.sin(fn(*xs) * 0.7 + 0.2))

    argnums = tuple(range(len(args)))
    symbolic = {k: spec for k, spec in enumerate(specs) if "n" in spec}
    fun = symgrad.value_and_grad(loss, argnums=argnums, target=target, shapes=symbolic)
    if isinstance(row.symbolic, str):
        with pytest.raises((ShapeError, TraceError), match=row.symbolic):
            fun(*args)
        return
    n = next(s[0] for s, spec in zip(shapes, specs, strict=True) if "n" in spec)
    bigger = [
        _draw(d, _resized(s, spec, n + 1), rng)
        for d, s, spec in zip(row.domains, shapes, specs, strict=True)
    ]
    fun(*args)  # compiles, at the row's own sizes
    value, grads = fun(*bigger)
    assert len(fun._cache) == 1  # one module for both sizes
    assert value == pytest.approx(loss(*bigger), rel=1e-12, abs=1e-12)
    for a, b in zip(grads, numeric_grad(loss, bigger, argnums), strict=True):
        assert_close(a, b)


def test_every_op_has_everything():
    covered = {op for row in ROWS.values() for op in row.ops} | {"input", "const"}
    # Control flow and its stacks are written as statements and tested by
    # tests/test_control_flow.py.
    covered |= regions.HANDLED
    # Random draws have no NumPy value to compare with: tests/test_random.py.
    covered |= RANDOM_OPS
    for name, op in OPS.items():
        if name in regions.HANDLED:
            continue
        assert name in covered, f"op {name} has no row in tests/test_ops.py"
        if name in ("input", "const"):
            continue
        assert op.eval is not None, name
        assert op.vjp is not None, name


def test_every_op_has_a_lowering_on_every_target():
    """Each target's registries cover the op table: a lowering (or a refusal
    that names the op) for every op but the leaves and those written as
    statements (`codegen.regions`), and no lowering of an unknown op."""
    for target in codegen.TARGETS.values():
        assert isinstance(target, Target), target.NAME
    written = regions.HANDLED | {"input", "const"}
    ops = set(OPS) - written
    assert set(numpy_target.LOWERINGS) == ops
    # The pure-Python target: an array lowering in its own table, or the
    # scalar formula of an elementwise op (never both, so there is one place
    # to look). Scalar formulas are the shared ones (`codegen.scalar`: an
    # operator or a named function, which the target maps to a callee) or
    # the target's own `SPECIAL` ones, never both.
    lowered = set(python_target.LOWERINGS)
    formulas = set(python_scalar.FORMULAS)
    assert lowered | formulas == ops
    assert not lowered & formulas
    assert all("elementwise" in OPS[name].flags for name in formulas)
    shared = set(scalar.INFIX) | set(scalar.FUNCTIONS)
    assert not shared & set(python_scalar.SPECIAL)
    assert not set(scalar.INFIX) & set(scalar.FUNCTIONS)
    assert set(scalar.FUNCTIONS.values()) <= set(python_scalar.CALLEES)
    # Refusals name the op: the rows do not run those ops on that target.
    refused = {n for n, low in python_target.LOWERINGS.items() if low.refuses}
    for name in refused:
        rows = [row for row in ROWS.values() if name in row.ops]
        assert rows and all("python" not in row.targets for row in rows), name
