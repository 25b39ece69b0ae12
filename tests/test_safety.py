"""User text is data, never code: function names, qualnames, code names,
docstrings and file names, on both targets and in trainers.

Every payload here would create FLAG if any of it ran as code; the tests check
that each module parses, runs, gives the right numbers, and that FLAG never
appears. The printers themselves are checked as properties: `literal` gives
back the value and is what black writes, `docstring` and `comment_safe`
cannot end their string or comment.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import os
import tempfile
import types

import black
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad import api
from symgrad.codegen.naming import comment_safe, docstring, literal

TARGETS = ["numpy", "python"]
FLAG = os.path.join(tempfile.gettempdir(), f"symgrad-safety-flag-{os.getpid()}")
_RUN = f'__import__("os").system("touch {FLAG}")'
PAYLOADS = [
    f'"""+str({_RUN})+"""',
    f"'''+str({_RUN})+'''",
    f"');{_RUN};('",
    f'");{_RUN};("',
    f"\n{_RUN}\n",
    f"\r\n{_RUN}#",
    f"\u2028{_RUN}",
    f"\x0c{_RUN}",
    f"{{{_RUN}}}",
    f"%(prog)s{_RUN}%d",
    "\\N",
    "\\x",
    "\\u12",
    "\\",
    '"',
    "'",
    "\x00",
    "\ud800",
    "\x85",
    "\t",
    "#",
    "ü",
    "../../",
    "a" * 120,
]
# Text built from payload fragments and arbitrary characters.
hostile = st.lists(
    st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=6)), max_size=4
).map("".join)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _no_flag():
    if os.path.exists(FLAG):
        os.unlink(FLAG)
    yield
    assert not os.path.exists(FLAG), "a payload ran as code"


def _check_flag():
    assert not os.path.exists(FLAG), "a payload ran as code"


def _renamed(fun, name, qualname, doc, co_name, filename):
    """`fun` with hostile text everywhere a function carries text."""
    code = fun.__code__.replace(co_name=co_name, co_filename=filename)
    out = types.FunctionType(code, fun.__globals__, name)
    out.__qualname__ = qualname
    out.__doc__ = doc
    return out


def _run_source(source: str, path: str = "<generated>") -> dict:
    """Execute a module's text as a fresh module would (the docstring too)."""
    ast.parse(source)
    namespace = {"__name__": "generated_under_test"}
    exec(compile(source, path, "exec"), namespace)
    _check_flag()
    return namespace


def _loss(x):
    return (x * x).sum() + 1.0


# ------------------------------------------------------------------ printers

plain_values = st.recursive(
    st.one_of(
        st.text(),
        st.binary(max_size=10),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
    ),
    lambda inner: st.one_of(
        st.tuples(inner, inner), st.lists(inner, max_size=3), st.tuples(inner)
    ),
    max_leaves=6,
)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, (tuple, list)):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(plain_values)
def test_literal_gives_the_value_back_as_black_writes_it(value):
    text = literal(value)
    assert "\n" not in text and "\r" not in text
    back = eval(text, {"__builtins__": {"float": float}})  # noqa: S307
    assert _same(back, value)
    line = f"x = {text}\n"
    if len(line) < 80:
        assert black.format_str(line, mode=black.Mode()) == line


def test_literal_refuses_objects_it_would_have_to_repr():
    class Evil(str):
        def __repr__(self):
            return _RUN

    for bad in [Evil("x"), np.str_("x"), np.int64(3), object(), {1: 2}, (Evil("y"),)]:
        with pytest.raises(TypeError):
            literal(bad)


@settings(max_examples=200, deadline=None)
@given(st.one_of(hostile, st.text()))
def test_docstring_writer_cannot_be_escaped(text):
    module = "\n".join(docstring(text)) + "\nx = 1\n"
    function = "def f():\n" + "\n".join(docstring(text, "    ")) + "\n    return 1\n"
    for source, body in ((module, None), (function, 0)):
        tree = ast.parse(source)
        stmts = tree.body if body is None else tree.body[0].body
        assert len(stmts) == 2
        doc = stmts[0].value.value
        assert all(c.isprintable() or c == "\n" for c in doc)


@settings(max_examples=200, deadline=None)
@given(st.one_of(hostile, st.text()))
def test_comment_safe_stays_one_comment(text):
    tree = ast.parse(f"# {comment_safe(text)}\nx = 1\n")
    assert len(tree.body) == 1
    assert len(f"# {comment_safe(text)}\nx = 1\n".splitlines()) == 2


# ------------------------------------------------------------------ functions


@SETTINGS
@given(
    name=hostile,
    qualname=hostile,
    doc=hostile,
    co_name=hostile,
    filename=hostile,
    target=st.sampled_from(TARGETS),
)
def test_hostile_function_text_stays_data(
    name, qualname, doc, co_name, filename, target
):
    fun = _renamed(_loss, name, qualname, doc, co_name, filename)
    x = np.array([1.5, -2.0])
    c = symgrad.compile(fun, x, target=target)
    arg = x if target == "numpy" else x.tolist()
    for module in (c.module, _run_source(c.source)):
        get = module.get if isinstance(module, dict) else module.__dict__.get
        value, grad = get("value_and_grad")(arg)
        assert value == 7.25
        np.testing.assert_array_equal(grad, [3.0, -4.0])
    g = symgrad.grad(fun, target=target)(x)
    np.testing.assert_array_equal(g, [3.0, -4.0])
    _check_flag()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("payload", PAYLOADS[:10])
def test_each_payload_as_every_name(payload, target, tmp_path):
    fun = _renamed(_loss, payload, payload, payload, payload, payload)
    c = symgrad.compile(fun, np.ones(2), target=target)
    path = c.write(tmp_path / "m.py")
    namespace = _run_source(open(path, encoding="utf-8").read(), str(path))
    assert namespace["forward"](np.ones(2) if target == "numpy" else [1.0, 1.0]) == 3.0


# ------------------------------------------------------------------ trainers


def _tiny_loss(params, X, y):
    scores = X @ params["w"] + params["b"]
    return np.maximum(1.0 - y * scores, 0.0).mean()


def _tiny_predict(params, X):
    return X @ params["w"] + params["b"]


def _tiny_example():
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.5], [2.0, 1.0]])
    y = np.array([1.0, -1.0, -1.0, 1.0])
    return {"w": np.array([0.1, -0.2]), "b": 0.05}, X, y


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    loss_text=st.tuples(hostile, hostile, hostile, hostile, hostile),
    predict_text=st.tuples(hostile, hostile, hostile, hostile, hostile),
    target=st.sampled_from(TARGETS),
)
def test_hostile_text_in_trainers(loss_text, predict_text, target):
    loss = _renamed(_tiny_loss, *loss_text)
    predict = _renamed(_tiny_predict, *predict_text)
    example = _tiny_example()
    source = api.trainer_source(loss, predict, example, "sgd", target)
    module = _run_source(source)
    params, X, y = example
    if target == "python":
        params = {"w": params["w"].tolist(), "b": params["b"]}
        X, y = X.tolist(), y.tolist()
    _, history = module["train"](params, X, y, 3)
    want = symgrad.value_and_grad(_tiny_loss)(*example)[0]
    assert history[0][1] == pytest.approx(want, rel=1e-12)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
        module["main"](["--help"])
    assert info.value.code == 0 and "usage" in out.getvalue()
    _check_flag()


# ------------------------------------------------------------------ file names

file_names = st.lists(
    st.one_of(
        st.sampled_from(["'", '"', "\\", " ", "\n", "ü", "$(id)", "`id`", ";", "%d"]),
        st.text(
            alphabet=st.characters(blacklist_characters="/\x00", codec="utf-8"),
            max_size=5,
        ),
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "".join(parts)[:60])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stem=file_names, target=st.sampled_from(TARGETS))
def test_hostile_file_names(stem, target):
    if stem in (".", ".."):
        stem += "x"
    with tempfile.TemporaryDirectory() as folder:
        source_path = os.path.join(folder, stem + ".py")
        with open(source_path, "w", encoding="utf-8") as f:
            f.write("def loss(x):\n    total = (x * x).sum()\n    return total\n")
        namespace = {}
        exec(compile(open(source_path).read(), source_path, "exec"), namespace)
        c = symgrad.compile(namespace["loss"], np.ones(2), target=target)
        assert "total = " in c.source  # the user's line was found and shown
        out = c.write(os.path.join(folder, stem + "_grad.py"))
        module = _run_source(open(out, encoding="utf-8").read(), out)
        assert module["forward"]([1.0, 2.0]) == 5.0
