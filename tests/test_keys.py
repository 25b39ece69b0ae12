"""Dict keys of any hashable type, and static values, through the key table.

Keys with a plain literal form (str, int, finite or infinite float, bool,
None, bytes, tuples of them, and numpy scalars or subclasses that compare and
hash like one) are written as literals; any other key (NaN, enum members,
frozensets, objects) makes its dict be read by position. Either way the
module parses, runs and gives the right numbers, on both targets, in-process
and as written text; trainers refuse keys they could not write.
"""

from __future__ import annotations

import ast
import collections
import enum
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad import api
from symgrad.codegen import keys

TARGETS = ["numpy", "python"]
FLAG = os.path.join(tempfile.gettempdir(), f"symgrad-keys-flag-{os.getpid()}")
_RUN = f'__import__("os").system("touch {FLAG}")'


class EvilStr(str):
    """A str whose repr and str are code: only its characters may be used."""

    def __repr__(self):
        return _RUN

    def __str__(self):
        return _RUN


class LyingStr(str):
    """Equal to nothing: no plain str can stand for it."""

    def __eq__(self, other):
        return False

    __hash__ = str.__hash__


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


Point = collections.namedtuple("Point", "x y")

text = st.one_of(
    st.text(max_size=8),
    st.sampled_from(['"""', "'", "\\N", "\n", _RUN, "\x00", "\ud800"]),
)
any_key = st.one_of(
    text,
    text.map(EvilStr),
    text.map(LyingStr),
    text.map(np.str_),
    st.integers(-(10**30), 10**30),
    st.integers(-5, 5).map(np.int64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True).map(np.float64),
    st.floats(width=32).map(np.float32),
    st.binary(max_size=6),
    st.sampled_from(list(Color) + list(Size)),
    st.tuples(text, st.integers(-3, 3)),
    st.builds(Point, st.integers(-3, 3), text),
    st.none(),
    st.booleans(),
    st.frozensets(st.integers(-3, 3), max_size=2),
)


@pytest.fixture(autouse=True)
def _no_flag():
    if os.path.exists(FLAG):
        os.unlink(FLAG)
    yield
    assert not os.path.exists(FLAG), "a key ran as code"


def _sum_squares(p):
    total = 0.0
    for v in p.values():
        total = total + (v * v).sum() * 0.5
    return total


def _nested(p, x):
    return _sum_squares(p[0]) * x + p[1]["k"] * x


def _run_text(source, *args):
    ast.parse(source)
    namespace = {}
    exec(compile(source, "<written>", "exec"), namespace)
    return namespace["value_and_grad"](*args)


def _arg(value, target):
    return value if target == "numpy" else np.asarray(value).tolist()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_key, min_size=1, max_size=4), st.sampled_from(TARGETS))
def test_any_hashable_keys(key_list, target):
    params = {}
    for i, key in enumerate(key_list):
        params[key] = np.arange(1.0, 3.0) * (i + 1)
    c = symgrad.compile(_sum_squares, params, target=target)
    call = {k: _arg(v, target) for k, v in params.items()}
    want = sum((v * v).sum() * 0.5 for v in params.values())
    for value, grads in (c.value_and_grad(call), _run_text(c.source, call)):
        assert value == pytest.approx(want, rel=1e-15)
        assert len(grads) == len(params)
        # In order, and each gradient findable with the caller's own key.
        for (k, v), (gk, g) in zip(params.items(), grads.items(), strict=True):
            assert gk is k or (gk == k and hash(gk) == hash(k))
            np.testing.assert_array_equal(g, v)
    assert not os.path.exists(FLAG)


@pytest.mark.parametrize("target", TARGETS)
def test_keys_in_nested_structures_and_grad(target):
    nan = float("nan")
    params = (
        {Color.RED: np.ones(2), nan: np.full(2, 2.0), "w": np.ones(2)},
        {"k": 3.0},
    )
    g = symgrad.grad(_nested, target=target)
    grads = g(params, 2.0)
    assert list(grads[0]) == [Color.RED, nan, "w"]  # the caller's key objects
    np.testing.assert_array_equal(grads[0][nan], [4.0, 4.0])
    assert grads[1] == {"k": 2.0}


@pytest.mark.parametrize("target", TARGETS)
def test_positional_dict_is_checked(target):
    params = {Color.RED: np.ones(2), "w": np.ones(2)}
    c = symgrad.compile(_sum_squares, params, target=target)
    assert "list(p.values())[0]" in c.source
    ok = {Color.BLUE: _arg(np.ones(2), target), "w": _arg(np.ones(2), target)}
    assert c.forward(ok) == 2.0  # same key types, in order: read by position
    for bad in (
        {"w": np.ones(2), Color.RED: np.ones(2)},  # another order
        {Color.RED: np.ones(2), "v": np.ones(2)},  # a literal key differs
        {Color.RED: np.ones(2)},  # too short
        [np.ones(2), np.ones(2)],  # not a dict
    ):
        with pytest.raises(ValueError, match="structure"):
            c.forward(bad)


@pytest.mark.parametrize("target", TARGETS)
def test_literal_keys_are_plain_and_found(target):
    params = {
        np.str_("a"): np.ones(2),
        EvilStr("b"): np.ones(2),
        np.int64(7): np.ones(2),
        Point(1, "z"): np.ones(2),
        b"\x00'\"": np.ones(2),
        -0.0: np.ones(2),
        float("inf"): np.ones(2),
    }
    c = symgrad.compile(_sum_squares, params, target=target)
    assert "list(p.values())" not in c.source  # every key has a literal
    assert 'p["a"]' in c.source and 'p["b"]' in c.source and "p[7]" in c.source
    assert 'p[(1, "z")]' in c.source and 'p[float("inf")]' in c.source
    grads = c.gradient({k: _arg(v, target) for k, v in params.items()})
    assert [type(k) for k in grads][:3] == [str, str, int]


def test_key_table_decisions():
    assert keys.plain(np.str_("w")) == (True, "w")
    assert keys.plain(Size.SMALL) == (True, 1)  # hashes and compares as 1
    assert keys.plain(np.float32(0.1)) == (True, float(np.float32(0.1)))
    for unwritable in (
        float("nan"),
        Color.RED,
        LyingStr("x"),
        frozenset([1]),
        10**5000,
    ):
        assert keys.plain(unwritable) == (False, None)
    assert keys.key_text(EvilStr("x")) == "'x'"
    assert keys.key_text(Color.RED) == "<Color.RED: 1>"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "static", [3, np.int64(3), np.int32(3), True, np.bool_(True), "s"]
)
def test_static_values_are_checked_at_entry(static, target):
    def f(x, n):
        return (x * x).sum() * (2.0 if n else 1.0)

    c = symgrad.compile(f, np.ones(2), static, target=target, static_argnums=1)
    x = _arg(np.ones(2), target)
    assert c.forward(x, static) == 4.0
    other = {int: 5, str: "t", bool: False}
    for kind, value in other.items():
        if isinstance(static, kind) or (kind is int and isinstance(static, np.integer)):
            bad = value
            break
    else:
        bad = False
    with pytest.raises(ValueError, match="when this module was generated"):
        c.forward(x, bad)


def test_numpy_int_static_argument_error_matches_python_int():
    def f(x, n):
        return (x * x).sum() * n

    messages = []
    for static in (3, np.int64(3)):
        c = symgrad.compile(f, np.ones(2), static, static_argnums=1)
        with pytest.raises(ValueError) as info:
            c.forward(np.ones(2), 5)
        messages.append(str(info.value))
    want = "n was 3 when this module was generated; generate it again for another value"
    assert messages == [want, want]


def test_int_arguments_are_inputs_unless_needed_concretely():
    def f(x, n):
        return (x * x).sum() * n

    c = symgrad.compile(f, np.ones(2), 3)
    assert c.forward(np.ones(2), 5) == pytest.approx(10.0)  # no recompile needed

    def g(x, n):
        return (x[:n] ** 2).sum()  # n is a slice bound: it must be static

    c = symgrad.compile(g, np.ones(4), 3)
    assert c.program.static_ints
    with pytest.raises(ValueError, match="n was 3"):
        c.forward(np.ones(4), 2)


def _tiny_loss(params, X, y):
    scores = X @ params["w"] + params["b"]
    return np.maximum(1.0 - y * scores, 0.0).mean()


@pytest.mark.parametrize("key", [Color.RED, float("nan"), frozenset([1])])
def test_trainers_refuse_keys_they_cannot_write(key):
    X, y = np.ones((4, 2)), np.ones(4)
    params = {"w": np.ones(2), "b": 0.1, key: 1.0}
    with pytest.raises(symgrad.ArgumentError, match="keys it cannot write"):
        api.trainer_source(_tiny_loss, lambda p, X: X @ p["w"], (params, X, y))


@pytest.mark.parametrize("target", TARGETS)
def test_trainers_write_converted_keys(target):
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.5], [2.0, 1.0]])
    y = np.array([1.0, -1.0, -1.0, 1.0])
    params = {EvilStr("w"): np.array([0.1, -0.2]), np.str_("b"): 0.05}

    def loss(p, X, y):
        return _tiny_loss({"w": p["w"], "b": p["b"]}, X, y)

    source = api.trainer_source(
        loss, lambda p, X: X @ p["w"] + p["b"], (params, X, y), target=target
    )
    namespace = {}
    exec(compile(source, "<trainer>", "exec"), namespace)
    start = namespace["initial_params"]()
    assert list(start) == ["w", "b"] and type(list(start)[0]) is str
    if target == "python":
        X, y = X.tolist(), y.tolist()
    trained, history = namespace["train"](start, X, y, 2)
    assert list(trained) == ["w", "b"] and len(history) == 2


writable_key = st.one_of(
    text,
    text.map(EvilStr),
    text.map(np.str_),
    st.integers(-(10**30), 10**30),
    st.integers(-5, 5).map(np.int64),
    st.floats(allow_nan=False),
    st.binary(max_size=6),
    st.tuples(text, st.integers(-3, 3)),
    st.none(),
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(writable_key, min_size=1, max_size=3),
    st.sampled_from(TARGETS),
    st.text(
        alphabet=st.characters(blacklist_characters="/\x00", codec="utf-8"),
        min_size=1,
        max_size=12,
    ),
)
def test_trainers_with_hostile_keys_and_file_names(key_list, target, stem):
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.5], [2.0, 1.0]])
    y = np.array([1.0, -1.0, -1.0, 1.0])
    extra = {}
    for i, key in enumerate(key_list):
        extra[key] = np.full(2, 0.1 * (i + 1))
    params = {"w": np.array([0.1, -0.2]), "b": 0.05, "extra": extra}

    def loss(p, X, y):
        penalty = 0.0
        for v in p["extra"].values():
            penalty = penalty + (v * v).sum()
        return _tiny_loss(p, X, y) + 1e-3 * penalty

    def predict(p, X):
        return X @ p["w"] + p["b"]

    source = api.trainer_source(loss, predict, (params, X, y), target=target)
    ast.parse(source)
    namespace = {}
    exec(compile(source, "<trainer>", "exec"), namespace)
    start = namespace["initial_params"]()
    assert list(start["extra"]) == list(extra)  # equal keys, in order
    if target == "python":
        X, y = X.tolist(), y.tolist()
    trained, history = namespace["train"](start, X, y, 2)
    want = symgrad.value_and_grad(loss)(params, np.asarray(X), np.asarray(y))[0]
    assert history[0][1] == pytest.approx(want, rel=1e-12)
    if stem in (".", ".."):
        stem += "x"
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, stem + ".json")
        namespace["save_params"](trained, path)
        back = namespace["load_params"](path)
        assert list(back["extra"]) == list(extra)
        np.testing.assert_array_equal(back["w"], trained["w"])
    assert not os.path.exists(FLAG)
