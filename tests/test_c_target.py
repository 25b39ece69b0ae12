"""The C target (issue 24): op rows, edge points, the moons MLP, the cache,
the compiler errors and the refusals, against the NumPy target.

Every test builds into a private cache of its own (a temporary
XDG_CACHE_HOME) and is skipped, with the reason, where no C compiler or no
Python headers exist. To keep the suite fast, each op row is compiled once,
at its largest shapes, for value_and_grad.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import threading

import numpy as np
import pytest
import scipy.special

import symgrad
from symgrad import api
from symgrad.cli.main import main
from symgrad.codegen import c as c_target
from symgrad.codegen.c import build
from symgrad.codegen.c.module import c_comment, c_string
from symgrad.errors import SymgradError
from tests.op_rows import ROWS
from tests.test_ops import _draw

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import moons  # noqa: E402

sys.path.pop(0)


def _why_not() -> str | None:
    cc = os.environ.get("CC") or next(
        (n for n in ("cc", "gcc", "clang") if shutil.which(n)), None
    )
    if cc is None or shutil.which(cc.split()[0]) is None:
        return "no C compiler (CC, cc, gcc, clang) on this machine"
    include = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(include, "Python.h")):
        return f"no Python headers (Python.h) in {include}"
    return None


needs_cc = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory):
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = old


def _supported(row) -> bool:
    for op in row.ops:
        low = c_target.LOWERINGS.get(op)
        if (low is None and op not in c_target.FORMULAS) or (low and low.refuses):
            return False
    return "numpy" in row.targets


def _close(ours, theirs, rtol=1e-12):
    """Equal to `rtol` relative to the largest entry (nan where NumPy has nan)."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs[np.isfinite(theirs)]), initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale)


def _weighted(fn, weight):
    def loss(*args):
        return np.sum(fn(*args) * weight)

    return loss


def _row_case(name):
    row = ROWS[name]
    shapes = max(row.shapes, key=lambda c: sum(len(s) for s in c))
    rng = np.random.default_rng(0)
    args = [_draw(d, s, rng) for d, s in zip(row.domains, shapes, strict=True)]
    weight = rng.normal(size=np.shape(row.fn(*args)))
    return args, _weighted(row.fn, weight)


ROW_NAMES = [name for name, row in ROWS.items() if _supported(row)]


@needs_cc
@pytest.mark.parametrize("name", ROW_NAMES)
def test_row_first_order(name):
    args, loss = _row_case(name)
    argnums = tuple(range(len(args)))
    try:
        ours = symgrad.value_and_grad(loss, argnums=argnums, target="c")(*args)
    except SymgradError as exc:
        # The row's gradient uses an op the C target refuses: by name.
        assert "is not supported by the C target" in str(exc)
        pytest.skip(str(exc))
    theirs = symgrad.value_and_grad(loss, argnums=argnums)(*args)
    _close(ours[0], theirs[0])
    for a, b in zip(ours[1], theirs[1], strict=True):
        _close(a, b)


SECOND = [name for name in ROW_NAMES if ROWS[name].second][::3]


@needs_cc
@pytest.mark.parametrize("name", SECOND)
def test_row_second_order(name):
    # Every third row with a second order: the gradient of <grad f, v>.
    args, loss = _row_case(name)
    argnums = tuple(range(len(args)))
    direction = [np.random.default_rng(2).normal(size=np.shape(a)) for a in args]

    def directional(target):
        first = symgrad.grad(loss, argnums=argnums, target=target)

        def inner(*xs):
            gs = first(*xs)
            return sum(np.sum(g * v) for g, v in zip(gs, direction, strict=True))

        return inner

    try:
        ours = symgrad.grad(directional("c"), argnums=argnums, target="c")(*args)
    except SymgradError as exc:
        assert "is not supported by the C target" in str(exc)
        pytest.skip(str(exc))
    theirs = symgrad.grad(directional("numpy"), argnums=argnums)(*args)
    for a, b in zip(ours, theirs, strict=True):
        _close(a, b, rtol=1e-10)


EDGES = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-320, -2.5, 1e308, 0.5])
UNARY = (
    "exp log tanh sin cos sqrt abs sign tan arcsin arccos arctan sinh cosh "
    "arcsinh arccosh arctanh log2 log10 log1p expm1 cbrt floor ceil trunc rint"
).split()


def edges(x, y):
    # Every elementwise function the C target calls, at inf, nan, +-0, a
    # subnormal, a huge and a negative number, each entry on its own.
    out = [getattr(np, name)(x) for name in UNARY]
    out += [
        np.maximum(x, y),
        np.minimum(x, y),
        x / y,
        np.remainder(x, y),
        np.floor_divide(x, y),
        np.arctan2(x, y),
        np.hypot(x, y),
        np.copysign(x, y),
        np.logaddexp(x, y),
        np.logaddexp2(x, y),
        np.heaviside(x, 0.5),
        np.where(x > y, x, y),
        np.nan_to_num(x),
        symgrad.relu(x),
        x**2.0,
        np.sum(x),
        np.max(x),
        np.min(y),
        np.fmod(x, y),
        np.isfinite(x) * 1.0,
        np.isnan(x) * 1.0,
        np.isinf(x) * 1.0,
        scipy.special.erf(x),
        scipy.special.erfc(x),
        scipy.special.gammaln(x),
        scipy.special.gamma(x),
        scipy.special.ndtr(x),
        scipy.special.logit(x),
        scipy.special.xlogy(x, y),
        scipy.special.xlog1py(x, y),
        symgrad.sigmoid(x),
    ]
    return tuple(out)


@needs_cc
def test_edge_points_agree_with_numpy():
    x = EDGES
    y = np.roll(EDGES, 3)
    ours = symgrad.compile(edges, x, y, functions=("forward",), target="c").forward(
        x, y
    )
    theirs = symgrad.compile(edges, x, y, functions=("forward",)).forward(x, y)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        # The same nan, inf and zeros; finite values to an ulp or two (C's
        # libm and NumPy's own loops may round the last bit differently).
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=0, err_msg=f"output {k}")
        # +0 and -0 too (a nan's sign bit means nothing)
        real = ~np.isnan(b)
        assert np.array_equal(np.signbit(a)[real], np.signbit(b)[real]), k


@needs_cc
def test_moons_value_and_grad_equals_numpy():
    params, X, y = moons.example()
    ours = symgrad.value_and_grad(moons.loss, target="c")(params, X, y)
    theirs = symgrad.value_and_grad(moons.loss)(params, X, y)
    assert isinstance(ours[0], float)
    _close(ours[0], theirs[0])
    assert type(ours[1]) is type(theirs[1]) and len(ours[1]) == len(theirs[1])
    for (W, b), (W0, b0) in zip(ours[1], theirs[1], strict=True):
        assert isinstance(W, np.ndarray) and W.shape == W0.shape
        _close(W, W0)
        _close(b, b0)


def _small(x, w):
    return np.sum(np.tanh(x * w))


@needs_cc
def test_second_compile_loads_from_the_cache(monkeypatch):
    x, w = np.linspace(-1, 1, 5), 0.5
    first = symgrad.compile(_small, x, w, target="c")
    value = first.value_and_grad(x, w)
    # A fresh process would find the library by content hash: forget the
    # in-process copy, and make compiling impossible.
    monkeypatch.setattr(build, "_LOADED", {})
    monkeypatch.setenv("CC", "/nonexistent/cc")

    def no_compiler(*args, **kwargs):
        raise AssertionError("the compiler ran for a cached module")

    monkeypatch.setattr(build.subprocess, "run", no_compiler)
    again = api.Compiled(first.program, "c")
    assert again is not first and again.source == first.source
    got = again.value_and_grad(x, w)
    assert got[0] == value[0] and np.array_equal(got[1], value[1])
    cache = build.cache_dir()
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert all(name.startswith("symgrad_c_") for name in os.listdir(cache))


def test_no_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(build, "_LOADED", {})
    monkeypatch.setenv("CC", "/nonexistent/bin/cc")
    compiled = symgrad.compile(
        lambda x: np.sum(np.exp(x)) * 3.25, np.ones(3), target="c"
    )
    with pytest.raises(SymgradError, match="install a C compiler"):
        compiled.value_and_grad(np.ones(3))


def test_a_cache_others_can_write_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    os.makedirs(tmp_path / "symgrad")
    os.chmod(tmp_path / "symgrad", 0o777)
    with pytest.raises(SymgradError, match="writable by others"):
        build.cache_dir()


def test_a_compile_error_shows_the_message_and_the_line(monkeypatch):
    text = build._compile_error(
        "compute.c:3:5: error: expected ';'", "int a;\nint b;\nint oops\n", ""
    )
    assert "expected ';'" in text and "generated line 3: int oops" in text


def test_refusals_are_named():
    x = np.eye(3) + 1.0
    with pytest.raises(
        SymgradError, match="np.linalg.pinv .*not supported by the C target"
    ):
        symgrad.compile(lambda a: np.sum(np.linalg.pinv(a)), x, target="c")
    # Every op of the table: a lowering, a scalar formula or a named refusal.
    refused = [op for op, low in c_target.LOWERINGS.items() if low.refuses]
    assert "eigh_vectors" in refused and "sum" not in refused


def test_user_text_reaches_c_safely():
    assert c_string('a"b\\c??/\né') == '"a\\042b\\134c\\077\\077/\\012\\303\\251"'
    assert "*/" not in c_comment("x */ y")[3:-3]
    # User names never take a C keyword, a <math.h> name or a loader name.
    assert {"double", "exp", "malloc", "errno", "sg_sign"} <= c_target.reserved()


@needs_cc
def test_hostile_names_compile():
    def f(double, exp, _work):
        errno = double * exp + _work
        return np.sum(errno * errno)

    args = (np.ones(2), np.full(2, 2.0), 0.5)
    compiled = symgrad.compile(f, *args, argnums=(0, 1, 2), target="c")
    theirs = symgrad.value_and_grad(f, argnums=(0, 1, 2))(*args)
    ours = compiled.value_and_grad(*args)
    _close(ours[0], theirs[0])


def test_cli_writes_the_c_source(tmp_path, capsys):
    out = tmp_path / "moons_grad.c"
    spec = os.path.join(os.path.dirname(moons.__file__), "moons.py") + ":loss"
    assert main(["compile", spec, "--target", "c", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("/* Generated by symgrad") and "int value_and_grad(" in text
    # A second run may replace what symgrad wrote.
    assert main(["compile", spec, "--target", "c", "-o", str(out)]) == 0


@needs_cc
def test_hvp_and_jvp_equal_numpy():
    def f(x, w):
        return np.sum(np.tanh(x @ w) ** 2) + np.sum(x[:, 0] * 3.0)

    x = np.random.default_rng(0).normal(size=(4, 3))
    w = np.random.default_rng(1).normal(size=(3,))
    v = np.linspace(-1.0, 1.0, 3)
    fns = ("value_and_grad", "hvp")
    ours = symgrad.compile(f, x, w, argnums=1, target="c", functions=fns)
    theirs = symgrad.compile(f, x, w, argnums=1, functions=fns)
    _close(ours.hvp(x, w, v), theirs.hvp(x, w, v))
    for a, b in zip(
        symgrad.jvp(f, (x, w), (x, w), target="c"),
        symgrad.jvp(f, (x, w), (x, w)),
        strict=True,
    ):
        _close(a, b)


@needs_cc
def test_threads_share_one_build(monkeypatch):
    monkeypatch.setattr(build, "_LOADED", {})
    x = np.linspace(0.5, 1.5, 7)
    compiled = [symgrad.compile(lambda a: np.sum(np.log(a) * a), x, target="c")]
    results = []

    def work():
        results.append(api.Compiled(compiled[0].program, "c").value_and_grad(x))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(build._LOADED) == 1
    for value, grad in results:
        assert value == results[0][0] and np.array_equal(grad, results[0][1])


@needs_cc
def test_the_c_source_is_clean_standalone_c99(tmp_path):
    # The computation needs no Python: it compiles alone, with every warning
    # an error.
    params, X, y = moons.example()
    source = symgrad.compile(moons.loss, params, X, y, target="c").source
    path = tmp_path / "moons_grad.c"
    path.write_text(source)
    flags = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c"]
    done = subprocess.run(
        [*build.compiler(), *flags, str(path), "-o", str(tmp_path / "moons.o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
