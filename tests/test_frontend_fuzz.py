"""Random programs with branches and loops, written as Python source.

A hypothesis strategy writes a function of two floats: assignments of small
expressions (NumPy functions, ternaries, min/max), `if`/`elif`/`else` on
comparisons (with `and`, `or`, `not`, chains), `for` loops over ranges with
`break` and `continue` under traced conditions, `while` loops on a traced
condition (bounded by a counter), and early returns. The file is imported,
so the front end converts it from its source; run as plain Python it is the
oracle. Loops do not nest (see `_Writer.block`). symgrad must give its
value on both targets (which agree to
1e-12) and a gradient equal to float64 central differences, at points
away from the kinks (every comparison and min/max is also run in an
instrumented copy that records how close its operands are).
"""

from __future__ import annotations

import atexit
import importlib.util
import itertools
import os
import shutil
import sys
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgrad
from tests.oracles import numeric_grad

_DIR = tempfile.mkdtemp(prefix="symgrad_fuzz_")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
_serial = itertools.count()

# Closeness of the operands of every comparison and min/max of a run.
MARGINS: list = []


def _cmp(a, op, b):
    MARGINS.append(abs(a - b))
    return {"<": a < b, ">": a > b}[op]


def _min(a, b):
    MARGINS.append(abs(a - b))
    return min(a, b)


def _max(a, b):
    MARGINS.append(abs(a - b))
    return max(a, b)


def _num(draw, lo=-1.5, hi=1.5):
    return f"{draw(st.floats(lo, hi, allow_nan=False)):.3f}"


class _Writer:
    """Writes the program and its instrumented twin side by side."""

    def __init__(self, draw):
        self.draw = draw
        self.lines: list = []  # (indent, real text, instrumented text)
        self.loops = 0
        self.budget = 12  # statements left before blocks stop nesting

    def emit(self, depth, real, inst=None):
        self.lines.append((depth, real, real if inst is None else inst))

    def var(self, names):
        return self.draw(st.sampled_from(names))

    def compare(self, names):
        a = self.var(names)
        if self.draw(st.booleans()):
            b = _num(self.draw)
        else:
            b = self.var(names)
        op = self.draw(st.sampled_from(["<", ">"]))
        return f"{a} {op} {b}", f"_cmp({a}, {op!r}, {b})"

    def cond(self, names):
        kind = self.draw(st.sampled_from(["one", "and", "or", "not", "chain"]))
        if kind == "chain":
            a = self.var(names)
            lo = self.draw(st.floats(-1.5, 0.5))
            hi = lo + self.draw(st.floats(0.1, 1.5))
            return (
                f"{lo:.3f} < {a} < {hi:.3f}",
                f"(_cmp({lo:.3f}, '<', {a}) and _cmp({a}, '<', {hi:.3f}))",
            )
        r1, i1 = self.compare(names)
        if kind == "one":
            return r1, i1
        if kind == "not":
            return f"not {r1}", f"not {i1}"
        r2, i2 = self.compare(names)
        word = kind
        return f"{r1} {word} {r2}", f"({i1} {word} {i2})"

    def expr(self, names):
        a, b = self.var(names), self.var(names)
        c = _num(self.draw)
        kind = self.draw(
            st.sampled_from(["lin", "tanh", "sin", "sq", "ternary", "min", "max"])
        )
        if kind == "lin":
            return f"{a} * {c} + {b}", None
        if kind == "tanh":
            return f"np.tanh({a} * {c} + {b})", None
        if kind == "sin":
            return f"np.sin({a}) * {b}", None
        if kind == "sq":
            return f"{a} * {a} * 0.3 - {b}", None
        if kind == "ternary":
            real, inst = self.cond(names)
            return (
                f"({a} if ({real}) else {b} * {c})",
                f"({a} if ({inst}) else {b} * {c})",
            )
        fn = "min" if kind == "min" else "max"
        return f"{fn}({a}, {b} + {c})", f"_{fn}({a}, {b} + {c})"

    def assign(self, depth, names, target):
        real, inst = self.expr(names)
        self.emit(depth, f"{target} = {real}", f"{target} = {inst or real}")

    def block(self, depth, names, loop):
        """Statements at `depth`; `loop`: inside a loop (break allowed)."""
        for _ in range(self.draw(st.integers(1, 3))):
            self.budget -= 1
            kinds = ["assign", "assign"]
            if self.budget > 0 and depth < 4:
                kinds.append("if")
            if self.budget > 0 and depth < 3 and not loop:
                # (Not nested: reverse mode through a loop inside a staged
                # loop needs a stack of stacks, which symgrad does not have.)
                kinds += ["for", "while"]
            if loop:
                kinds += ["break", "continue"]
            kinds.append("return")
            kind = self.draw(st.sampled_from(kinds))
            if kind == "assign":
                self.assign(depth, names, self.var(names))
            elif kind == "if":
                real, inst = self.cond(names)
                self.emit(depth, f"if {real}:", f"if {inst}:")
                self.block(depth + 1, names, loop)
                if self.draw(st.booleans()):
                    real, inst = self.cond(names)
                    self.emit(depth, f"elif {real}:", f"elif {inst}:")
                    self.block(depth + 1, names, loop)
                if self.draw(st.booleans()):
                    self.emit(depth, "else:")
                    self.block(depth + 1, names, loop)
            elif kind == "for":
                i = f"i{self.loops}"
                self.loops += 1
                n = self.draw(st.integers(1, 4))
                self.emit(depth, f"for {i} in range({n}):")
                self.assign(depth + 1, names + [i], self.var(names))
                self.block(depth + 1, names, True)
            elif kind == "while":
                k = f"k{self.loops}"
                self.loops += 1
                n = self.draw(st.integers(1, 4))
                real, inst = self.cond(names)
                self.emit(depth, f"{k} = 0")
                self.emit(
                    depth,
                    f"while {k} < {n} and ({real}):",
                    f"while {k} < {n} and ({inst}):",
                )
                self.emit(depth + 1, f"{k} += 1")
                self.block(depth + 1, names, True)
            elif kind in ("break", "continue"):
                real, inst = self.cond(names)
                self.emit(depth, f"if {real}:", f"if {inst}:")
                self.emit(depth + 1, kind)
            else:
                real, inst = self.cond(names)
                self.emit(depth, f"if {real}:", f"if {inst}:")
                value, vinst = self.expr(names)
                self.emit(depth + 1, f"return {value}", f"return {vinst or value}")


@st.composite
def sources(draw):
    w = _Writer(draw)
    names = ["x", "y"]
    w.emit(1, "a = x * 0.5 + y")
    w.emit(1, "b = np.tanh(x - y)")
    names += ["a", "b"]
    w.block(1, names, False)
    final, inst = w.expr(names)
    w.emit(1, f"return {final} + a * b", f"return {inst or final} + a * b")
    real = ["def f(x, y):"] + ["    " * d + r for d, r, _ in w.lines]
    copy = ["def f_inst(x, y):"] + ["    " * d + i for d, _, i in w.lines]
    x = draw(st.floats(-1.5, 1.5, allow_nan=False))
    y = draw(st.floats(-1.5, 1.5, allow_nan=False))
    return "\n".join(real) + "\n", "\n".join(copy) + "\n", x, y


def _load(real: str, inst: str):
    name = f"fuzz_program_{next(_serial)}"
    path = os.path.join(_DIR, name + ".py")
    header = (
        "import numpy as np\n"
        "from tests.test_frontend_fuzz import _cmp, _min, _max\n\n\n"
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(header + real + "\n\n" + inst)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _check(source):
    real, inst, x, y = source
    module = _load(real, inst)
    with np.errstate(all="ignore"):
        reference = module.f(x, y)
        MARGINS.clear()
        assert module.f_inst(x, y) == reference
    assume(np.isfinite(reference) and abs(reference) < 1e6)
    # Finite differences are meaningless next to a branch point or a kink.
    assume(not MARGINS or min(MARGINS) > 1e-4)
    argnums = (0, 1)
    value, grads = symgrad.value_and_grad(module.f, argnums=argnums)(x, y)
    assert value == pytest.approx(reference, rel=1e-12, abs=1e-12), real
    py_value, py_grads = symgrad.value_and_grad(
        module.f, argnums=argnums, target="python"
    )(x, y)
    assert py_value == pytest.approx(value, rel=1e-12, abs=1e-12), real
    np.testing.assert_allclose(py_grads, grads, rtol=1e-12, atol=1e-12, err_msg=real)
    fd = numeric_grad(module.f, [x, y], argnums)
    scale = max(1.0, max(abs(float(g)) for g in fd))
    np.testing.assert_allclose(
        grads, [float(g) for g in fd], rtol=1e-5, atol=1e-6 * scale, err_msg=real
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(sources())
def test_random_control_flow_programs(source):
    _check(source)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(sources())
def test_random_control_flow_programs_long_run(source):
    _check(source)
