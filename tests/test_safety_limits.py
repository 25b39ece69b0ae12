"""Safe under attack, round 3 (issue 21): special files and inputs as outputs,
hostile parameter and CSV files, wrong Python values at the module boundary.

Each test takes a class of inputs (hypothesis where it fits), on both targets
and in trainers where the item applies; everything lives under tmp_path.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import socket
import stat
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.cli import main as cli
from symgrad.cli.demo import run_demo
from symgrad.errors import ConcretizationError, SymgradError
from symgrad.files import write_atomic
from tests.test_trainer import _tiny

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEURON = os.path.join(ROOT, "examples", "neuron.py")
TARGETS = ("numpy", "python")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


# ------------------------------------------------------------ outputs (1, 8)


def _special(kind, tmp_path):
    """A path of `kind` that is not a regular file (or leads to none)."""
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "socket":
        path = tmp_path / "s"  # AF_UNIX paths are short
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "device":
        return "/dev/null"
    elif kind == "link to device":
        path.symlink_to("/dev/null")
    elif kind == "link to fifo":
        os.mkfifo(tmp_path / "target")
        path.symlink_to(tmp_path / "target")
    return str(path)


SPECIAL = ["fifo", "folder", "socket", "device", "link to device", "link to fifo"]


def _kind(path):
    return stat.S_IFMT(os.stat(path).st_mode)


@pytest.mark.parametrize("kind", SPECIAL)
def test_write_atomic_refuses_what_is_not_a_regular_file(kind, tmp_path):
    path = _special(kind, tmp_path)
    before = _kind(path)
    with pytest.raises(SymgradError, match="only regular files are written"):
        write_atomic(path, "text\n")
    assert _kind(path) == before  # still a FIFO, a device, ...
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def _symgrad(*argv, cwd=None, timeout=120):
    """`python -m symgrad ...` with this checkout's symgrad; a hang fails."""
    return subprocess.run(
        [sys.executable, "-m", "symgrad", *argv],
        capture_output=True,
        text=True,
        env={**ENV, "PYTHONPATH": ROOT},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("kind", ["fifo", "device", "link to fifo"])
def test_compile_never_opens_a_special_output(kind, tmp_path):
    # Before: the overwrite check opened the output for reading and hung on a
    # FIFO; with --force a device node was replaced by a regular file.
    path = _special(kind, tmp_path)
    for force in ([], ["--force"]):
        out = _symgrad("compile", f"{NEURON}:neuron", "-o", path, *force)
        assert out.returncode == 2, out.stderr
        assert "only regular files are written" in out.stderr
        assert "Traceback" not in out.stderr
        assert not stat.S_ISREG(os.stat(path).st_mode)


def test_compile_refuses_to_write_over_its_own_source(tmp_path):
    source = tmp_path / "mine.py"
    with open(NEURON, encoding="utf-8") as f:
        text = f.read()
    source.write_text(text)
    link = tmp_path / "link.py"
    link.symlink_to(source)
    for target in (source, link):
        out = _symgrad("compile", f"{source}:neuron", "-o", str(target), "--force")
        assert out.returncode == 2
        assert "an input of this run" in out.stderr
    assert source.read_text() == text


@pytest.mark.parametrize("target", TARGETS)
def test_trainer_save_refuses_special_files_and_its_inputs(target, tmp_path):
    _, source = _tiny(target)
    module = tmp_path / "tiny_trainer.py"
    module.write_text(source)
    data = tmp_path / "data.csv"
    text = "x1,x2,y\n1,2,1\n3,4,-1\n5,6,1\n7,8,-1\n"
    data.write_text(text)
    params = tmp_path / "p.json"
    ok = subprocess.run(
        [sys.executable, str(module), str(data), "--steps", "1", "--save", str(params)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    saved = params.read_text()
    cases = [
        (str(data), "an input of this run"),
        (str(params), "an input of this run"),  # with --params p.json
        (_special("fifo", tmp_path), "only regular files"),
        (_special("link to device", tmp_path), "only regular files"),
        (_special("folder", tmp_path), "only regular files"),
    ]
    for save, message in cases:
        out = subprocess.run(
            [
                sys.executable,
                str(module),
                str(data),
                "--steps",
                "1",
                "--params",
                str(params),
                "--save",
                save,
            ],
            capture_output=True,
            text=True,
            env=ENV,
            check=False,
            timeout=120,
        )
        assert out.returncode == 2, (save, out.stderr)
        assert message in out.stderr and "Traceback" not in out.stderr
        assert out.stdout == ""  # refused before training
    assert data.read_text() == text and params.read_text() == saved


@pytest.mark.parametrize("target", TARGETS)
def test_save_params_refuses_special_files(target, tmp_path):
    module, _ = _tiny(target)
    params = module["initial_params"]()
    for kind in ("fifo", "link to device"):
        path = _special(kind, tmp_path)
        with pytest.raises(OSError, match="only regular files"):
            module["save_params"](params, path)


def test_demo_overwrites_as_compile_does(tmp_path, capsys):
    mine = tmp_path / "moons_trainer.py"
    mine.write_text("# my own trainer\n")
    with pytest.raises(SymgradError, match="not generated by symgrad"):
        run_demo(str(tmp_path), steps=1)
    assert mine.read_text() == "# my own trainer\n"
    assert not (tmp_path / "moons_trainer_python.py").exists()  # checked first
    plot = tmp_path / "moons.png"
    mine.unlink()
    plot.write_text("my notes\n")
    with pytest.raises(SymgradError, match="not a PNG file"):
        run_demo(str(tmp_path), steps=1)
    assert plot.read_text() == "my notes\n"
    plot.unlink()
    os.mkfifo(plot)
    assert cli.main(["demo", "--out", str(tmp_path), "--steps", "1", "--force"]) == 2
    assert "only regular files" in capsys.readouterr().err
    plot.unlink()
    assert run_demo(str(tmp_path), steps=1) == 0
    assert run_demo(str(tmp_path), steps=1) == 0  # its own files: replaced


# ------------------------------------------------------------ parameter files (4)


def _nest(depth, leaf="1.0"):
    return "[" * depth + leaf + "]" * depth


# Where the deep nesting goes in an otherwise good file of the tiny model.
PLACES = {
    "values": lambda deep: (
        '{"format": "symgrad-params/1", "leaves": [{"name": "w", "shape": [2], '
        f'"values": {deep}}}, {{"name": "b", "shape": [], "values": 0.0}}]}}'
    ),
    "shape": lambda deep: (
        '{"format": "symgrad-params/1", "leaves": [{"name": "w", "shape": '
        f'{deep}, "values": [1.0, 2.0]}}]}}'
    ),
    "name": lambda deep: (
        f'{{"format": "symgrad-params/1", "leaves": [{{"name": {deep}}}]}}'
    ),
    "format": lambda deep: f'{{"format": {deep}}}',
    "top": lambda deep: deep,
}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    depth=st.one_of(st.integers(65, 3000), st.sampled_from([100_000])),
    place=st.sampled_from(sorted(PLACES)),
    braces=st.booleans(),
)
def test_deeply_nested_parameter_files_are_a_value_error(
    depth, place, braces, tmp_path
):
    deep = _nest(depth)
    if braces:
        deep = '{"a": ' * depth + "1" + "}" * depth
    path = tmp_path / "deep.json"
    path.write_text(PLACES[place](deep))
    messages = []
    for target in TARGETS:
        module, _ = _tiny(target)
        with pytest.raises(ValueError) as info:
            module["load_params"](str(path))
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith(f"{path}: not a parameter file")
    assert "nests deeper than 64 levels" in messages[0]
    if place in ("values", "shape", "name"):
        assert "record 0" in messages[0]


@pytest.mark.parametrize("target", TARGETS)
def test_trainer_command_line_refuses_a_deep_parameter_file(target, tmp_path):
    _, source = _tiny(target)
    module = tmp_path / "tiny_trainer.py"
    module.write_text(source)
    data = tmp_path / "data.csv"
    data.write_text("1,2,1\n3,4,-1\n5,6,1\n7,8,-1\n")
    deep = tmp_path / "deep.json"
    deep.write_text(PLACES["values"](_nest(100_000)))
    out = subprocess.run(
        [sys.executable, str(module), str(data), "--params", str(deep)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        timeout=120,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "RecursionError" not in out.stderr
    assert "record 0, line 1 nests deeper than 64 levels" in out.stderr


def test_parameter_files_just_under_the_bound_still_load(tmp_path):
    # A model's records need 3 levels plus one per axis: a 5-d parameter.
    module, _ = _tiny("numpy")
    params = module["initial_params"]()
    path = tmp_path / "p.json"
    module["save_params"](params, str(path))
    loaded = module["load_params"](str(path))
    assert np.array_equal(loaded["w"], params["w"]) and loaded["b"] == params["b"]
    text = json.loads(path.read_text())
    text["leaves"][0]["values"] = _nest(70)
    path.write_text(json.dumps(text))  # a string: brackets inside do not count
    with pytest.raises(ValueError, match="is not a number|do not have shape"):
        module["load_params"](str(path))


# ------------------------------------------------------------ CSV files (5)


def _rows(n):
    return "".join(f"{i % 7}.5,{i % 5}.25,{1 if i % 2 else -1}\n" for i in range(n))


CSV_BAD = {
    # (file bytes, the message after "{path}: ")
    "unterminated quote": (
        ("x1,x2,y\n1,2,1\n" + '3,"4,-1\n' + _rows(20_000)).encode(),
        "line 3: not CSV: field larger than field limit (131072) (is a quote "
        "left open?)",
    ),
    "quote at the end": (
        b'1,2,1\n3,4,-1\n5,"6,1\n',
        "line 3: not CSV: unexpected end of data (is a quote left open?)",
    ),
    "cp1252": (
        "x1,x2,y\n1,2,1\n3,4,-1\n5,6,1 caf\u00e9\n".encode("cp1252"),
        "line 4: not UTF-8 text (save it as UTF-8; cp1252 and Latin-1 files are "
        "not read)",
    ),
    "utf-16": (
        "x1,x2,y\n1,2,1\n3,4,-1\n".encode("utf-16"),
        "line 1: not UTF-8 text (it looks like UTF-16: save it as UTF-8)",
    ),
    "utf-16 without BOM": (
        "x1,x2,y\n1,2,1\n3,4,-1\n".encode("utf-16-le"),
        "line 1: holds a NUL character (it looks like UTF-16: save it as UTF-8)",
    ),
}


@pytest.mark.parametrize("case", sorted(CSV_BAD))
def test_corrupt_csv_is_one_line_naming_file_and_line(case, tmp_path):
    data, want = CSV_BAD[case]
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    for target in TARGETS:
        module, source = _tiny(target)
        with pytest.raises(ValueError) as info:
            module["load_csv"](str(path))
        assert str(info.value) == f"{path}: {want}"
        trainer = tmp_path / f"tiny_{target}.py"
        trainer.write_text(source)
        out = subprocess.run(
            [sys.executable, str(trainer), str(path)],
            capture_output=True,
            text=True,
            env=ENV,
            check=False,
            timeout=120,
        )
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert out.stderr.strip() == f"{trainer.name}: error: {path}: {want}"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.sampled_from(["1", "-1", "0", ",", "\n", '"', "\r", "x", "\x00", "é"]),
            max_size=60,
        ).map(lambda parts: "".join(parts).encode("utf-8")),
    )
)
def test_any_bytes_read_alike_or_fail_as_a_value_error(data, tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    results = []
    for target in TARGETS:
        module, _ = _tiny(target)
        try:
            X, y = module["load_csv"](str(path))
        except ValueError as exc:  # any other exception fails the test
            text = str(exc)
            assert text.startswith(f"{path}: ") and "\n" not in text
            results.append(text)
        else:
            results.append((np.asarray(X).tolist(), np.asarray(y).tolist()))
    assert results[0] == results[1]


# ------------------------------------------------------------ module boundary (6)


def _scaled(scale, data):
    return scale * (data * data).sum()


@pytest.fixture(scope="module")
def boundary():
    return [symgrad.compile(_scaled, 1.0, np.ones(3), target=t) for t in TARGETS]


BAD_SCALAR = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.lists(st.floats(allow_nan=False), min_size=1, max_size=3),
    st.floats(allow_nan=False).map(lambda v: np.array([v])),
    st.floats(allow_nan=False).map(lambda v: np.array([[v]])),
)
_ITEM = st.one_of(st.floats(-10, 10), st.none(), st.text(max_size=3))
BAD_ARRAY = st.one_of(
    st.none(),
    st.text(max_size=5),
    # Three items, at least one of them None or text.
    st.tuples(_ITEM, _ITEM, _ITEM)
    .filter(lambda t: any(not isinstance(v, float) for v in t))
    .map(list),
    # Ragged: rows of different lengths, or rows and numbers mixed.
    st.sampled_from(
        [
            [[1.0], [2.0, 3.0]],
            [1.0, [2.0], 3.0],
            [[1.0, 2.0], 3.0, 4.0],
            [np.ones(2), np.ones(1), np.ones(2)],
        ]
    ),
    st.sampled_from([np.array(["1", "2", "3"]), np.array([1.0, None, 3.0])]),
)


@settings(max_examples=80, deadline=None)
@given(scale=BAD_SCALAR)
def test_a_bad_scalar_argument_is_refused_by_name_on_both_targets(boundary, scale):
    messages = []
    for c in boundary:
        for fn in (c.forward, c.value_and_grad):
            with pytest.raises(ValueError) as info:
                fn(scale, [1.0, 2.0, 3.0])
            messages.append(str(info.value))
    assert len(set(messages)) == 1, messages
    assert messages[0].startswith("scale must be a number, got ")


@settings(max_examples=80, deadline=None)
@given(data=BAD_ARRAY)
def test_a_bad_array_argument_is_refused_by_name_on_both_targets(boundary, data):
    messages = []
    for c in boundary:
        with pytest.raises(ValueError) as info:
            c.value_and_grad(2.0, data)
        messages.append(str(info.value))
    assert len(set(messages)) == 1, messages
    assert messages[0].startswith("data must ")


@settings(max_examples=40, deadline=None)
@given(
    scale=st.one_of(
        st.floats(-5, 5),
        st.integers(-5, 5),
        st.floats(-5, 5).map(np.float64),
        st.floats(-5, 5).map(np.array),  # 0-d
    ),
    data=st.lists(st.floats(-5, 5), min_size=3, max_size=3),
    as_array=st.booleans(),
)
def test_good_arguments_give_the_same_numbers_on_both_targets(
    boundary, scale, data, as_array
):
    arg = np.array(data) if as_array else data
    numpy_c, python_c = boundary
    want = numpy_c.value_and_grad(scale, arg)
    got = python_c.value_and_grad(scale, arg)
    assert want[0] == pytest.approx(got[0], rel=1e-12, abs=1e-12)
    assert want[1] == pytest.approx(got[1], rel=1e-12, abs=1e-12)


def test_the_issue_example():
    for target in TARGETS:
        c = symgrad.compile(
            lambda scale, data: scale * (data * data).sum(),
            1.0,
            np.ones(3),
            target=target,
        )
        with pytest.raises(ValueError, match="^scale must be a number, got None$"):
            c.value_and_grad(None, [1.0, 2.0, 3.0])
        with pytest.raises(ValueError, match="^data must hold numbers, got None$"):
            c.value_and_grad(1.0, [1.0, None, 3.0])
        with pytest.raises(ValueError, match=r"scale must be a number, got an array"):
            c.value_and_grad(np.array([1.0]), [1.0, 2.0, 3.0])


# ------------------------------------------------------------ reserved names (2)


def _shadowed(source) -> list:
    """(function, name) for every local of a top-level function that is also
    a name the module binds at top level (which the local would hide)."""
    tree = ast.parse(source)
    top = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            top.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        elif isinstance(node, ast.Assign):
            top.update(t.id for t in node.targets if isinstance(t, ast.Name))
    found = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        local = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                local.add(node.id)
        found += [(fn.name, name) for name in sorted(local & top)]
    return found


def _module_names():
    """Every name some module of either target binds at top level, and the
    functions of modules and trainers."""
    from symgrad.codegen import numpy as numpy_target
    from symgrad.codegen import python as python_target

    names = set(numpy_target.reserved()) | set(python_target.reserved())
    _, source = _tiny("numpy")
    names |= {n for n in symgrad.codegen.naming.bound_names(source.split("\n"))}
    names |= {"forward", "gradient", "value_and_grad", "hessian", "jvp", "vjp"}
    return sorted(n for n in names if not n.startswith("_"))


USER_NAMES = st.sampled_from(_module_names())


@settings(max_examples=40, deadline=None)
@given(names=st.lists(USER_NAMES, min_size=3, max_size=3, unique=True))
def test_user_names_never_shadow_what_the_module_binds(names):
    a, b, c = names
    stored = np.linspace(0.5, 1.5, 20)  # more than 16 numbers: base64 decoding
    namespace = {"np": np, "sp": __import__("scipy.special").special, "K": stored}
    # The user's names as a parameter, a local and a closed-over variable.
    exec(  # noqa: S102 - a test function with chosen names
        f"def user({a}, y):\n"
        f"    {b} = {a} * 2.0 + y\n"
        f"    {c} = sp.gammaln({b}) + sp.erf({a})\n"
        f"    return ({c} * K[:2]).sum()\n",
        namespace,
    )
    x, y = np.array([1.5, 2.5]), 0.5
    results = []
    for target in TARGETS:
        compiled = symgrad.compile(
            namespace["user"],
            x,
            y,
            target=target,
            functions=("forward", "gradient", "value_and_grad", "hessian"),
        )
        assert _shadowed(compiled.source) == []
        results.append(compiled.value_and_grad(x, y))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)


@pytest.mark.parametrize("target", TARGETS)
def test_trainer_names_never_shadow_the_module(target):
    def loss(params, X, y):
        scipy = X @ params["w"]
        np_ = scipy * y
        return np.maximum(1.0 - np_, 0.0).mean()

    def predict(params, X):
        return X @ params["w"]

    X, y = np.ones((4, 2)), np.ones(4)
    source = symgrad.api.trainer_source(loss, predict, ({"w": np.ones(2)}, X, y))
    assert _shadowed(source) == []


def test_from_sympy_symbols_named_like_imports():
    sympy = pytest.importorskip("sympy")
    scipy, np_ = sympy.Symbol("scipy"), sympy.Symbol("np")
    expr = sympy.erf(scipy) * np_ + sympy.loggamma(scipy + 2)
    for target in TARGETS:
        c = symgrad.from_sympy(expr, [scipy, np_], target=target)
        assert _shadowed(c.source) == []
        value, grads = c.value_and_grad(0.5, 2.0)
        assert np.isfinite(value) and all(np.isfinite(g) for g in grads)


# ------------------------------------------------------------ SymPy bridge (9)


def _recurrence(steps):
    def rec(x):
        y = x
        for _ in range(steps):
            y = np.sin(y) + x
        return y

    return rec


@pytest.mark.parametrize("steps", [250, 600, 1500])
def test_deep_expressions_are_a_symgrad_error_in_the_sympy_bridge(steps):
    pytest.importorskip("sympy")
    c = symgrad.compile(_recurrence(steps), 0.5)
    raised = 0
    for what in (c.to_sympy, c.latex):
        try:
            what()  # (a shallow enough one simply converts)
        except SymgradError as exc:
            assert "SymPy cannot" in str(exc) and "operations deep" in str(exc)
            raised += 1
    assert raised == 2 or steps < 600  # 600 steps: past Python's limit


def test_a_short_recurrence_still_converts():
    pytest.importorskip("sympy")
    value, grad = symgrad.compile(_recurrence(5), 0.5).to_sympy()
    assert "sin" in str(value)


def test_show_latex_of_a_deep_recurrence_is_one_line_exit_2(tmp_path):
    pytest.importorskip("sympy")
    path = tmp_path / "rec.py"
    path.write_text(
        "import numpy as np\n"
        "import symgrad\n\n\n"
        "@symgrad.export(example=(0.5,))\n"
        "def rec(x):\n"
        "    y = x\n"
        "    for _ in range(600):\n"
        "        y = np.sin(y) + x\n"
        "    return y\n"
    )
    out = _symgrad("show", f"{path}:rec", "--stage", "latex", timeout=300)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1
    assert out.stderr.startswith("symgrad: SymPy cannot")


# ------------------------------------------------------------ built constants (7)

# (constructor, arguments from a size n): what a function may build.
CONSTRUCTIONS = {
    "eye": lambda n: np.eye(n),
    "eye offset": lambda n: np.eye(n, n + 2, 1, dtype=np.float64),
    "identity": lambda n: np.identity(n),
    "zeros": lambda n: np.zeros((n, 3)),
    "ones": lambda n: np.ones((3, n), dtype=int),
    "full": lambda n: np.full((n, 2), 0.25),
    "empty as zeros": lambda n: np.zeros(n, float, "C"),
    "arange": lambda n: np.arange(n) * 0.5,
    "arange from": lambda n: np.arange(2, n + 2) * 0.5,
    "tri": lambda n: np.tri(n, k=-1),
}


def _built(kind, n):
    def f(x):
        made = CONSTRUCTIONS[kind](n)
        return (x * made.sum() + (made * made).sum()) * x

    return f


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(sorted(CONSTRUCTIONS)), n=st.integers(1, 400))
def test_size_derived_constants_stay_constructions(kind, n):
    f = _built(kind, n)
    want = f(1.5)
    big = np.size(CONSTRUCTIONS[kind](n)) > 16
    for target in TARGETS:
        c = symgrad.compile(f, 1.5, target=target)
        assert c.forward(1.5) == want  # the user's function, bit for bit
        h = 1e-6
        slope = (f(1.5 + h) - f(1.5 - h)) / (2 * h)
        assert c.gradient(1.5) == pytest.approx(slope, rel=1e-5, abs=1e-5)
        if big:
            # Nothing of the n-sized array is stored: the module stays small.
            assert "_constant(" not in c.source and len(c.source) < 20_000


def test_the_issue_example_writes_a_small_module():
    def gp(X):
        K = X @ X.T + 1e-3 * np.eye(1000)
        return np.linalg.slogdet(K)[1]

    X = np.random.default_rng(0).normal(size=(1000, 2))
    c = symgrad.compile(gp, X)
    assert len(c.source) < 20_000  # was 10.7 MB
    assert c.forward(X) == gp(X)


# ------------------------------------------------------------ Python's limits (3)

_CHAINS = iter(range(10**6))


def _chain_module(tmp_path, n, test):
    """A file with `f(x)`: an if/elif chain of `n` tests on a traced value."""
    lines = ["import numpy as np", "", "", "def f(x):", "    s = x.sum()"]
    for k in range(n):
        word = "if" if k == 0 else "elif"
        lines += [
            f"    {word} {test.format(k=float(k))}:",
            f"        y = s * {float(k + 2)}",
        ]
    lines += ["    else:", "        y = np.sin(s)", "    return y", ""]
    name = f"chain_{next(_CHAINS)}"
    path = tmp_path / f"{name}.py"
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def _depth(source) -> int:
    return max(len(line) - len(line.lstrip(" ")) for line in source.splitlines())


# Tests written as one expression in the module (a test that needs
# statements, such as a lazy `and` guarding a log, nests; see README Safety).
TESTS = [
    "s < {k}",
    "np.sin(s) * 2.0 < {k} - 1.0",
    "np.maximum(s, 0.5) <= {k} / 3",
    "s * s < {k} and s > -1.0",
    "(s - {k}) ** 2 < 0.25 or s > {k} + 3",
]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(n=st.integers(1, 120), test=st.sampled_from(TESTS))
def test_elif_chains_stay_flat_on_both_targets(n, test, tmp_path):
    f = _chain_module(tmp_path, n, test)
    short = _chain_module(tmp_path, 2, test)
    points = [-1.5, 0.25, n / 2.0, n + 3.0]
    for target in TARGETS:
        c = symgrad.compile(f, np.array([0.5, 0.25]), target=target)
        c_short = symgrad.compile(short, np.array([0.5, 0.25]), target=target)
        # The code of a 120-branch chain nests no deeper than a 2-branch one.
        assert _depth(c.source) <= _depth(c_short.source)
        for p in points:
            x = np.array([p, 0.0])
            assert c.forward(x if target == "numpy" else x.tolist()) == f(x)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("test", TESTS)
def test_a_1000_branch_chain_compiles_on_both_targets(target, test, tmp_path):
    # One staged switch (see tests/test_elif_chains.py for gradients).
    f = _chain_module(tmp_path, 1000, test)
    c = symgrad.compile(f, np.array([0.5, 0.25]), target=target)
    assert _depth(c.source) <= _depth(
        symgrad.compile(
            _chain_module(tmp_path, 2, test), np.array([0.5, 0.25]), target=target
        ).source
    )
    for p in [-1.5, 0.25, 500.0, 1003.0]:
        x = np.array([p, 0.0])
        assert c.forward(x if target == "numpy" else x.tolist()) == f(x)


@pytest.mark.parametrize("target", TARGETS)
def test_a_chain_the_converter_cannot_flatten_is_a_clear_error(target, tmp_path):
    # A test binding a name (`:=`) cannot be evaluated on its own: such a
    # chain keeps its nested form, too deep past Python's recursion limit.
    f = _chain_module(tmp_path, 1000, "(t := s) < {k}")
    with pytest.raises(ConcretizationError) as info:
        symgrad.compile(f, np.array([0.5, 0.25]), target=target)
    text = str(info.value)
    assert "symgrad could not convert f" in text
    assert f"recursion limit ({sys.getrecursionlimit()})" in text
    assert "levels deep (at line " in text
    assert "write it as a def" not in text  # it is a def


def test_a_long_expression_before_an_if_is_a_clear_error(tmp_path):
    terms = " + ".join(f"{k}.0 * x**{k}" for k in range(1, 701))
    path = tmp_path / "poly.py"
    path.write_text(
        f"def f(x):\n    y = {terms}\n    if y > 0:\n        return y\n    return -y\n"
    )
    spec = importlib.util.spec_from_file_location("poly_700", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ConcretizationError, match="could not convert f"):
        symgrad.compile(module.f, 0.001)


def _uses_of_built_arrays():
    """Python-level uses of an array built from sizes, which NumPy allows."""

    def accumulate(x):
        a = np.zeros(20)
        for i in range(20):
            a[i] = x * i
        return a.sum()

    def loop(x):
        t = 0.0
        for k in np.arange(20):
            t = t + x * k
        return t

    def as_list(x):
        return x * len(np.zeros(40).tolist()) + np.ones(30).sum().item()

    def mask(x):
        idx = np.arange(30)
        w = np.ones(30)
        w[idx % 3 == 0] = 2.0
        return (w * x).sum()

    return [accumulate, loop, as_list, mask]


@pytest.mark.parametrize("index", range(4))
def test_built_arrays_still_work_as_numpy_arrays(index):
    f = _uses_of_built_arrays()[index]
    for target in TARGETS:
        c = symgrad.compile(f, 1.5, target=target)
        assert c.forward(1.5) == f(1.5)


@settings(max_examples=30, deadline=None)
@given(
    which=st.sampled_from(["X", "y"]),
    bad=st.sampled_from([None, "1.0", b"1"]),
    ragged=st.booleans(),
)
def test_trainers_check_training_data_alike(which, bad, ragged):
    X = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
    y = [1.0, -1.0, 1.0, -1.0]
    if which == "X":
        X[2] = [5.0] if ragged else [5.0, bad]
    else:
        y[1] = [1.0] if ragged else bad
    messages = []
    for target in TARGETS:
        module, _ = _tiny(target)
        with pytest.raises(ValueError) as info:
            module["train"](module["initial_params"](), X, y, 1)
        messages.append(str(info.value))
    assert messages[0] == messages[1] and messages[0].startswith(f"{which} must ")
