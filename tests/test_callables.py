"""Conversion follows calls: every way of handing a function to symgrad.

Each callable form (a lambda calling a def, `lambda *a`, functools.partial
with keywords, a bound method, a staticmethod and a classmethod, a callable
instance, a function decorated in the user's code or by a library, a
closure) reaches user code with a data-dependent `if` and `while`; the
front end converts that code when it is called, so the gradient (first and
second order, both targets) matches central differences. Forms that only
forward to one def give the module the plain def gives. Code without source
(exec) is traced unconverted, and the error names that function.
"""

from __future__ import annotations

import functools
import importlib
import re

import numpy as np
import pytest

import symgrad
from symgrad.errors import ConcretizationError
from symgrad.frontend.export import function_name
from tests.oracles import assert_close, numeric_grad

TARGETS = ("numpy", "python")


def core(x, scale=2.0):
    """A branch and a loop on traced values."""
    if x[0] > 0.0:
        r = x[0] * scale + x[1] ** 2
    else:
        r = np.sin(x[1]) - x[0] * scale
    steps = 0
    while r < 4.0:
        r = r * 1.5 + 0.25 * x[0] * x[1]
        steps += 1
    return r + np.sum(x * x) * steps


class Model:
    SCALE = 2.0

    def __init__(self, scale):
        self.scale = scale

    def loss(self, x):
        return core(x, self.scale)

    @staticmethod
    def static_loss(x):
        return core(x)

    @classmethod
    def class_loss(cls, x):
        return core(x, cls.SCALE)

    def __call__(self, x):
        return core(x, self.scale)

    def own_loss(self, x):
        # The method's own control flow, reading its object.
        total = x[0] * self.scale
        while total < 3.0:
            total = total + x[1] ** 2 + 0.5
        if total > 5.0:
            return total * 0.5
        return total


class StaticCall:
    """A callable object whose `__call__` is a staticmethod."""

    __call__ = staticmethod(core)


def logged(fun):
    """A decorator in the user's code (converted with what it wraps)."""

    @functools.wraps(fun)
    def wrapper(*args, **kwargs):
        return fun(*args, **kwargs)

    return wrapper


def make_closure(k):
    def inner(x):
        return core(x, k)

    return inner


def make_nested(k):
    def inner(x):
        # A nested def with its own loop and branch on traced values.
        acc = x[0]
        n = 0
        while acc < k:
            acc = acc + x[1] * x[1] + 0.3
            n += 1
        return acc * n if acc > 3.0 else acc - n

    return inner


def forwarding_forms() -> dict:
    """Callables that compute exactly `core(x)` (scale 2.0)."""
    model = Model(2.0)
    return {
        "lambda": lambda x: core(x),
        "lambda *a": lambda *a: core(*a),
        "partial": functools.partial(core, scale=2.0),
        "bound method": model.loss,
        "staticmethod": Model.static_loss,
        "staticmethod object": Model.__dict__["static_loss"],
        "classmethod": Model.class_loss,
        "callable instance": model,
        "static __call__": StaticCall(),
        "decorated": logged(core),
        "library decorator": functools.lru_cache(core),
        "closure": make_closure(2.0),
        "partial of a lambda": functools.partial(lambda x, s: core(x, s), s=2.0),
    }


def own_flow_forms() -> dict:
    """Callables whose own body holds the control flow."""
    return {
        "lambda with a conditional": lambda x: (
            x[0] ** 3 if x[0] > x[1] else x[1] * np.cos(x[0])
        ),
        "bound method": Model(1.5).own_loss,
        "partial of a method": functools.partial(Model.own_loss, Model(1.5)),
        "nested def": make_nested(2.5),
    }


POINTS = (np.array([0.7, 1.3]), np.array([-0.4, 0.6]), np.array([0.9, -1.1]))
FORWARDING = forwarding_forms()
OWN = own_flow_forms()
ALL = [("forwarding", k) for k in FORWARDING] + [("own", k) for k in OWN]


def _form(kind, name):
    return (FORWARDING if kind == "forwarding" else OWN)[name]


def _plain(kind, name):
    fun = _form(kind, name)
    if name == "library decorator":
        return fun.__wrapped__  # lru_cache cannot hash arrays
    return fun


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind,name", ALL)
def test_first_order_matches_central_differences(kind, name, target):
    fun = _form(kind, name)
    plain = _plain(kind, name)
    vg = symgrad.value_and_grad(fun, target=target)
    for x in POINTS:
        value, grad = vg(x)
        assert value == pytest.approx(plain(x), rel=1e-12)
        assert_close(np.asarray(grad), numeric_grad(plain, [x], [0])[0])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind,name", ALL)
def test_second_order_matches_central_differences(kind, name, target):
    fun = _form(kind, name)
    grad = symgrad.grad(_plain(kind, name), target=target)
    hessian = symgrad.hessian(fun, target=target)
    for x in POINTS:
        h = 1e-5
        columns = [
            (np.asarray(grad(x + h * e)) - np.asarray(grad(x - h * e))) / (2 * h)
            for e in np.eye(2)
        ]
        assert_close(np.asarray(hessian(x)), np.stack(columns, axis=1), rtol=1e-5)


def _normalized(source: str, name: str, params: str = "x") -> str:
    """The module with the callable's name (in its docstrings) and the
    parameter names left out: what may differ between forms."""
    source = re.sub(r"(from \S+?:|value of )" + re.escape(name), r"\1NAME", source)
    if params != "x":
        # (`a_0_bar`, the adjoint, too.)
        source = re.sub(rf"\b{re.escape(params)}(?![0-9A-Za-z])", "x", source)
    return source


@pytest.mark.parametrize("target", TARGETS)
def test_every_forwarding_form_makes_the_plain_defs_module(target):
    x = POINTS[0]
    plain = symgrad.compile(core, x, target=target).source
    assert "while " in plain and "if " in plain  # real control flow
    for name, fun in FORWARDING.items():
        if name == "static __call__":
            # inspect.signature drops a static __call__'s first parameter
            # (it takes it for self): the module names its argument `scale`.
            continue
        compiled = symgrad.compile(fun, x, target=target).source
        shown = function_name(fun)
        params = "a_0" if name == "lambda *a" else "x"
        assert _normalized(compiled, shown, params) == _normalized(plain, "core"), name


def test_the_module_names_the_function_and_its_file():
    x = POINTS[0]
    for fun in (FORWARDING["partial"], FORWARDING["callable instance"]):
        source = symgrad.compile(fun, x).source
        assert "test_callables.py:" in source.splitlines()[0]


def test_lambdas_sharing_a_line_are_told_apart():
    a, b = (lambda x: x * 2.0 if x > 0 else -x), (lambda x: x**3 if x > 1 else x)
    double = lambda x: (lambda y: y * 3.0 if y > 0 else y)(x) + (  # noqa: E731
        lambda y: y if y > 2 else -y
    )(x)
    assert symgrad.grad(a)(1.0) == 2.0 and symgrad.grad(a)(-1.0) == -1.0
    assert symgrad.grad(b)(2.0) == 12.0 and symgrad.grad(b)(0.5) == 1.0
    assert symgrad.grad(double)(1.0) == 2.0  # 3 - 1
    assert symgrad.grad(double)(3.0) == 4.0  # 3 + 1


def test_each_code_object_is_converted_once():
    convert = importlib.import_module("symgrad.frontend.syntax")

    def g(x):
        if x > 0:
            return x * x
        return -x

    symgrad.grad(lambda x: g(x) + g(x * 2.0))(1.0)
    first = convert.converted_code(g)
    symgrad.grad(functools.partial(g))(2.0)
    assert convert.converted_code(g) is first


# ------------------------------------------------------------------ no source


def _exec(text: str, name: str):
    namespace = {"np": np}
    exec(text, namespace)  # noqa: S102 - code without source, on purpose
    return namespace[name]


NO_SOURCE = "def no_source(x):\n    if x > 0:\n        return x\n    return -x\n"


def test_without_source_the_error_names_that_function():
    fun = _exec(NO_SOURCE, "no_source")
    with pytest.raises(ConcretizationError) as info:
        symgrad.grad(fun)(1.0)
    msg = str(info.value)
    assert "no_source (<string>:1) has no source" in msg
    assert "exec" in msg and "np.where" in msg


def test_a_def_with_source_calling_code_without_source_is_not_blamed():
    fun = _exec(NO_SOURCE, "no_source")

    def caller(x):
        if x > -5.0:  # converted: this test is fine
            return fun(x) * 2.0
        return x

    for entry in (caller, lambda x: caller(x), functools.partial(caller)):
        with pytest.raises(ConcretizationError) as info:
            symgrad.grad(entry)(1.0)
        msg = str(info.value)
        assert "no_source (<string>:1) has no source" in msg
        assert "caller" not in msg and "lambda" not in msg


def test_exec_code_without_control_flow_on_traced_values_works():
    fun = _exec("def smooth(x):\n    return np.sin(x) * x\n", "smooth")
    assert symgrad.grad(lambda x: fun(x) * 2.0)(1.0) == pytest.approx(
        2.0 * (np.cos(1.0) + np.sin(1.0))
    )


def test_code_called_from_a_library_is_named_as_such():
    class Steps:
        def step(self, acc, v):
            return acc + v if v > 0 else acc - v

    def f(x):
        # functools.reduce calls the method from library code, where no
        # call goes through symgrad: it runs unconverted.
        return functools.reduce(Steps().step, [x, x * 2.0], 0.0)

    with pytest.raises(ConcretizationError, match="called by library code"):
        symgrad.grad(f)(1.0)


def test_notebook_cells_have_source_through_linecache():
    # IPython registers each cell's text in linecache under a made-up file
    # name (with no modification time), and compiles the cell with it.
    import linecache

    name = "<ipython-input-22-symgrad>"
    text = (
        "def cell_f(x):\n"
        "    while x < 3.0:\n"
        "        x = x * 2.0\n"
        "    return x if x > 4.0 else -x\n"
        "cell_g = lambda x: cell_f(x) * 2.0 if x > 0 else x\n"
    )
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    try:
        namespace = {}
        exec(compile(text, name, "exec"), namespace)  # noqa: S102
        assert symgrad.grad(namespace["cell_f"])(1.0) == -4.0
        assert symgrad.grad(namespace["cell_f"])(2.5) == 2.0
        assert symgrad.grad(namespace["cell_g"])(1.5) == -4.0
    finally:
        linecache.cache.pop(name, None)


def test_library_context_managers_keep_their_meaning():
    import contextlib

    @contextlib.contextmanager
    def scaled(k):
        yield k * 2.0

    def f(x):
        with scaled(x) as y:
            if y > 1.0:
                return y * x
            return -x

    assert symgrad.grad(f)(1.0) == 4.0


def test_any_and_all_of_traced_values_are_staged():
    def f(x):
        if any(x > 1.0):
            return np.sum(x**2)
        if all([x[0] > 0, x[1] < 0.5]):
            return x[0] * 3.0
        return -np.sum(x)

    vg = symgrad.value_and_grad(f)
    for x, grad in (([0.5, 2.0], [1.0, 4.0]), ([0.5, 0.2], [3.0, 0.0])):
        value, g = vg(np.array(x))
        assert value == f(np.array(x))
        assert_close(g, grad)
    assert vg.compiled.source.count("if ") >= 2  # one module: real branches


def test_truth_taken_by_a_builtin_in_converted_code_says_so():
    def f(x):
        if sorted([x[0], x[1]])[0] > 0:  # sorted() compares traced values itself
            return np.sum(x)
        return -np.sum(x)

    with pytest.raises(ConcretizationError) as info:
        symgrad.grad(f)(np.ones(2))
    msg = str(info.value)
    assert "sorted()" in msg and "not converted" not in msg and "no source" not in msg
