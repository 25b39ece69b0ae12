"""The standalone C trainer (issue 24): one C file with `main`, built with the
system compiler (warning-free with -Wall -Wextra) and run with no Python on
the PATH, against the NumPy trainer: loss trajectories on the moons data
(full batch and minibatches, sgd, momentum and adam), parameter files both
ways, and the same messages for bad CSV files, bad parameter files and bad
options. Skipped, with the reason, where no C compiler exists.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from symgrad import api
from symgrad.cli.demo import _csv
from symgrad.errors import ArgumentError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import moons  # noqa: E402

sys.path.pop(0)


def _compiler():
    cc = os.environ.get("CC") or next(
        (n for n in ("cc", "gcc", "clang") if shutil.which(n)), None
    )
    if cc is None or shutil.which(cc.split()[0]) is None:
        return None
    return cc.split()


CC = _compiler()
needs_cc = pytest.mark.skipif(
    CC is None, reason="no C compiler (CC, cc, gcc, clang) on this machine"
)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """The moons data as a CSV file, a folder for the runs."""
    folder = tmp_path_factory.mktemp("ctrainer")
    params, X, y = moons.example()
    (folder / "moons.csv").write_text(_csv(X, y))
    return folder


def _build(folder, optimizer) -> str:
    params, X, y = moons.example()
    source = api.trainer_source(
        moons.loss, moons.scores, (params, X, y), optimizer, "c"
    )
    path = folder / f"train_{optimizer}.c"
    path.write_text(source)
    exe = str(folder / f"train_{optimizer}")
    done = subprocess.run(
        [*CC, "-O2", "-Wall", "-Wextra", "-Werror", str(path), "-lm", "-o", exe],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return exe


_BUILT: dict = {}


def _exe(folder, optimizer) -> str:
    if optimizer not in _BUILT:
        _BUILT[optimizer] = _build(folder, optimizer)
    return _BUILT[optimizer]


def _run(exe, *args, cwd=None):
    """Run the trainer with an empty environment: no Python reachable."""
    return subprocess.run(
        [os.path.abspath(exe), *map(str, args)],
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent"},
        cwd=cwd,
    )


_MODULES: dict = {}


def _python_trainer(optimizer):
    """The NumPy trainer module of the same model."""
    if optimizer not in _MODULES:
        params, X, y = moons.example()
        source = api.trainer_source(
            moons.loss, moons.scores, (params, X, y), optimizer, "numpy"
        )
        namespace: dict = {"__name__": f"moons_trainer_{optimizer}"}
        exec(compile(source, f"<trainer {optimizer}>", "exec"), namespace)
        _MODULES[optimizer] = namespace
    return _MODULES[optimizer]


def _python_main(optimizer, *args):
    """(status, stdout, stderr) of the NumPy trainer's command line."""
    main = _python_trainer(optimizer)["main"]
    out, err = io.StringIO(), io.StringIO()
    status = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            status = exc.code or 0
    return status, out.getvalue(), err.getvalue()


_STEP = re.compile(r"^step (\d+) loss (\S+), accuracy ([0-9.]+)%$")


def _trajectory(stdout):
    rows = []
    for line in stdout.splitlines():
        m = _STEP.match(line)
        if m:
            rows.append((int(m.group(1)), float(m.group(2)), float(m.group(3))))
    return rows


@needs_cc
@pytest.mark.parametrize(
    "optimizer,extra",
    [
        ("sgd", ()),
        ("sgd", ("--batch-size", 16, "--seed", 3)),
        ("momentum", ("--batch-size", 7, "--seed", 12345678901234567890)),
        ("adam", ()),
        ("adam", ("--batch-size", 30, "--seed", -4, "--lr", 0.01)),
    ],
)
def test_trajectory_matches_the_numpy_trainer(work, optimizer, extra):
    exe = _exe(work, optimizer)
    csv = work / "moons.csv"
    done = _run(exe, csv, "--steps", 100, *extra)
    assert done.returncode == 0, done.stderr
    ours = _trajectory(done.stdout)
    status, out, err = _python_main(optimizer, csv, "--steps", 100, *extra)
    assert status == 0, err
    theirs = _trajectory(out)
    assert len(ours) == len(theirs) == 100
    for (k, a, acc_a), (j, b, acc_b) in zip(ours, theirs, strict=True):
        assert k == j
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
        assert acc_a == acc_b
    # The loss is printed as Python prints it (the shortest repr).
    for line in done.stdout.splitlines():
        m = _STEP.match(line)
        assert m and repr(float(m.group(2))) == m.group(2)


def _scipy_openblas():
    """SciPy's bundled OpenBLAS (32-bit ints, Fortran names with a scipy_
    prefix), or None."""
    scipy = pytest.importorskip("scipy")
    folder = os.path.join(
        os.path.dirname(os.path.dirname(scipy.__file__)), "scipy.libs"
    )
    found = sorted(glob.glob(os.path.join(folder, "libscipy_openblas*.so")))
    return found[0] if found else None


@needs_cc
def test_blas_behind_a_flag(work):
    # -DSG_BLAS: products through a BLAS library (here SciPy's, by its
    # names); the same trajectory as the NumPy trainer, no warnings.
    lib = _scipy_openblas()
    if lib is None:
        pytest.skip("no BLAS library to link (SciPy's bundled OpenBLAS not found)")
    params, X, y = moons.example()
    source = api.trainer_source(moons.loss, moons.scores, (params, X, y), "adam", "c")
    assert "#ifdef SG_BLAS" in source
    path = work / "train_blas.c"
    path.write_text(source)
    exe = str(work / "train_blas")
    flags = ["-DSG_BLAS", "-DSG_DGEMM=scipy_dgemm_", "-DSG_DGEMV=scipy_dgemv_"]
    done = subprocess.run(
        [*CC, "-O2", "-Wall", "-Wextra", "-Werror", *flags, str(path), lib]
        + [f"-Wl,-rpath,{os.path.dirname(lib)}", "-lm", "-o", exe],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    csv = work / "moons.csv"
    run = _run(exe, csv, "--steps", 100, "--batch-size", 30, "--seed", 2)
    assert run.returncode == 0, run.stderr
    status, out, err = _python_main(
        "adam", csv, "--steps", 100, "--batch-size", 30, "--seed", 2
    )
    assert status == 0, err
    ours, theirs = _trajectory(run.stdout), _trajectory(out)
    assert len(ours) == len(theirs) == 100
    for (_, a, acc_a), (_, b, acc_b) in zip(ours, theirs, strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
        assert acc_a == acc_b


@needs_cc
def test_first_step_is_micrograds(work):
    done = _run(_exe(work, "sgd"), work / "moons.csv", "--steps", 1)
    assert (
        done.stdout.splitlines()[0] == "step 0 loss 0.8958441028683222, accuracy 50.0%"
    )


@needs_cc
def test_parameter_files_both_ways(work, tmp_path):
    exe = _exe(work, "adam")
    module = _python_trainer("adam")
    csv = work / "moons.csv"
    saved = tmp_path / "c.json"
    done = _run(exe, csv, "--steps", 20, "--save", saved)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"saved the trained parameters to {saved}\n")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".symgrad-")]
    ours = module["load_params"](str(saved))
    params, X, y = moons.example()
    theirs, _ = module["train"](params, X, y, 20, 0.05)
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, d, rtol=1e-9, atol=1e-12)
    # The text is what save_params writes for the same numbers.
    again = tmp_path / "again.json"
    module["save_params"](ours, str(again))
    assert saved.read_text() == again.read_text()
    # And the other way: a file the Python trainer wrote starts the C one,
    # with special values, and comes back unchanged.
    special = [(np.array(w), np.array(b)) for w, b in module["load_params"](str(saved))]
    special[0][0][0, :] = [1e16, -0.0]
    special[0][0][1, :] = [5e-324, 1.7976931348623157e308]
    special[0][0][2, :] = [0.1, 1e-05]
    special[0][1][:3] = [np.nan, np.inf, -np.inf]
    written = tmp_path / "py.json"
    module["save_params"](special, str(written))
    back = tmp_path / "back.json"
    done = _run(exe, csv, "--steps", 0, "--params", written, "--save", back)
    assert done.returncode == 0, done.stderr
    assert back.read_text() == written.read_text()


@needs_cc
def test_save_keeps_the_mode_and_replaces_atomically(work, tmp_path):
    exe = _exe(work, "sgd")
    target = tmp_path / "p.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    done = _run(exe, work / "moons.csv", "--steps", 1, "--save", target)
    assert done.returncode == 0, done.stderr
    assert oct(os.stat(target).st_mode & 0o777) == oct(0o640)
    assert json.loads(target.read_text())["format"] == "symgrad-params/1"


def _same_error(work, optimizer, args, cwd=None):
    """Both command lines fail with status 2 and the same message."""
    done = _run(_exe(work, optimizer), *args, cwd=cwd)
    status, _, err = _python_main(optimizer, *args)
    assert status == 2 and done.returncode == 2, (done.stderr, err)
    ours = done.stderr.strip().splitlines()[-1].split(": error: ", 1)[1]
    theirs = err.strip().splitlines()[-1].split(": error: ", 1)[1]
    assert ours == theirs
    return ours


BAD_CSV = {
    "empty": b"",
    "header_only": b"x1,x2,label\n",
    "blank_only": b"\n  \n\r\n",
    "one_field": b"1\n2\n",
    "fields": b"x,y,l\n1,2,1\n1,2\n",
    "not_number": b"1,2,1\n1,abc,-1\n",
    "long_field": b"1,2,1\n1," + b"y" * 60 + b",1\n",
    "quote_field": b'1,2,1\n1,"it\'s",1\n',
    "label": b"1,2,1\n1,2,2\n",
    "label_zero_one": b"1,2,1\n1,2,0\n3,4,-1\n",
    "nan_label": b"1,2,nan\n",
    "open_quote": b'1,2,1\n"1,2,1\n3,4,1\n',
    "after_quote": b'1,2,1\n"1"x,2,1\n',
    "utf16": "x,y,l\n1,2,1\n".encode("utf-16"),
    "latin1": b"1,2,1\n1,2,1\nx\xe9,2,1\n",
    "bom_latin1": b"\xef\xbb\xbfa\nb\n\xff",
    "nul": b"1,2,1\n1,\x002,1\n",
    "width": b"1,2,3,1\n",
    "cr_lines": b"1,2,1\r1,2\r",
    "quoted_newline": b'a,b,c\n"1\n2",2,1\n',
    "control": b"1,2,1\n1,\x1b,1\n",
    "unicode": "1,2,1\n1,\u00e9\u200b\u4e2d,1\n".encode(),
    "too_large": b'1,2,1\n"' + b"1" * 131073 + b'",2,1\n',
}


@needs_cc
@pytest.mark.parametrize("name", sorted(BAD_CSV))
def test_bad_csv_same_message(work, tmp_path, name):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(BAD_CSV[name])
    message = _same_error(work, "sgd", [path, "--steps", 1])
    assert str(path) in message


GOOD_CSV = {
    "bom_crlf": b"\xef\xbb\xbfx1,x2,label\r\n1,2,1\r\n-1,0.5,-1\r\n",
    "blank_lines": b"\n1,2,1\n\n   ,  \n-1,0.5,-1\n",
    "spaces_underscores": b" 1_0 ,2e-1 ,+1\n-.5,INF ,-1\n1., -Infinity,1\n",
    "zero_one": b'a,b,"label"\n1,2,0\n3,"4",1\n',
    "quoted": b'"1","2","1"\n"-1",  3,-1',
}


@needs_cc
@pytest.mark.parametrize("name", sorted(GOOD_CSV))
def test_good_csv_same_steps(work, tmp_path, name):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(GOOD_CSV[name])
    done = _run(_exe(work, "sgd"), path, "--steps", 3)
    status, out, err = _python_main("sgd", path, "--steps", 3)
    assert done.returncode == 0 and status == 0, (done.stderr, err)
    ours, theirs = _trajectory(done.stdout), _trajectory(out)
    assert len(ours) == len(theirs) == 3
    for (_, a, acc_a), (_, b, acc_b) in zip(ours, theirs, strict=True):
        assert a == pytest.approx(b, rel=1e-12, nan_ok=True) and acc_a == acc_b


@needs_cc
def test_csv_reader_fuzzed_against_python(work, tmp_path):
    # Random small files of CSV's special characters: both readers accept
    # the same files, or refuse them with the same message.
    rng = random.Random(7)
    alphabet = ["1", "0", "-1", ",", ",", '"', "\n", "\r", "\r\n", " ", "x", ".5", "_"]
    exe = _exe(work, "sgd")
    for case in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        path = tmp_path / f"fuzz{case}.csv"
        path.write_bytes(text.encode())
        done = _run(exe, path, "--steps", 0)
        status, _, err = _python_main("sgd", path, "--steps", 0)
        assert done.returncode == status, (text, done.stderr, err)
        if status:
            assert done.stderr.split(": error: ", 1)[1] == err.split(": error: ", 1)[1]


def _params_file(module, tmp_path):
    params, _, _ = moons.example()
    path = tmp_path / "good.json"
    module["save_params"](params, str(path))
    return json.loads(path.read_text())


def _bad_params(good):
    leaves = good["leaves"]
    first = leaves[0]
    deep = "[" * 70 + "]" * 70
    cases = {
        "not_json": "{",
        "empty": "",
        "trailing_comma": '{"format": "symgrad-params/1",}',
        "extra_data": '{"format": 1} x',
        "bad_escape": '{"format": "\\q"}',
        "control": '{"format": "a\nb"}',
        "unterminated": '{"format": "abc',
        "bom": "\ufeff{}",
        "format": {"format": "symgrad-params/2", "leaves": []},
        "format_list": [1, 2, 3],
        "format_missing": {"leaves": []},
        "leaves": {"format": "symgrad-params/1", "leaves": {"a": 1}},
        "missing": {"format": "symgrad-params/1", "leaves": leaves[:2]},
        "extra": {"format": "symgrad-params/1", "leaves": leaves + [{"x": 1}]},
        "keys": {"format": "symgrad-params/1", "leaves": [{"name": "a"}] + leaves[1:]},
        "renamed": {
            "format": "symgrad-params/1",
            "leaves": [dict(first, name="W1")] + leaves[1:],
        },
        "order": {"format": "symgrad-params/1", "leaves": [leaves[1], leaves[0]]},
        "shape": {
            "format": "symgrad-params/1",
            "leaves": [dict(first, shape=[2, 16])] + leaves[1:],
        },
        "values_shape": {
            "format": "symgrad-params/1",
            "leaves": [dict(first, values=first["values"][:-1])] + leaves[1:],
        },
        "values_inner": {
            "format": "symgrad-params/1",
            "leaves": [dict(first, values=[[1.0]] * 16)] + leaves[1:],
        },
        "bool": {
            "format": "symgrad-params/1",
            "leaves": [dict(first, values=[[True, 1.0]] * 16)] + leaves[1:],
        },
        "string": {
            "format": "symgrad-params/1",
            "leaves": [dict(first, values=[["1.5", 1.0]] * 16)] + leaves[1:],
        },
        "deep": '{"format": "symgrad-params/1", "leaves": [' + deep + "]}",
        "deep_record": '{"format": "symgrad-params/1", "leaves": [{"name": '
        + deep
        + "}]}",
        "utf8": b'{"format": "\xff"}',
    }
    big = json.dumps(dict(good, leaves=[dict(first, values=[[1.0, 1.0]] * 16)]))
    cases["huge_int"] = big.replace("[1.0, 1.0]", "[1" + "0" * 400 + ", 1.0]", 1)
    # 16.0 equals 16 for Python: the first record is fine, the second missing.
    cases["float_shape"] = big.replace('"shape": [16, 2]', '"shape": [16.0, 2]')
    return cases


@needs_cc
def test_bad_parameter_files_same_message(work, tmp_path):
    module = _python_trainer("sgd")
    good = _params_file(module, tmp_path)
    for name, content in _bad_params(good).items():
        path = tmp_path / f"{name}.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(json.dumps(content))
        message = _same_error(work, "sgd", [work / "moons.csv", "--params", path])
        assert str(path) in message, name


@needs_cc
def test_bad_options_and_outputs_same_message(work, tmp_path):
    csv = work / "moons.csv"
    for args in (
        [csv, "--steps", -1],
        [csv, "--batch-size", 0],
        [csv, "--steps", "x"],
        [csv, "--lr", "fast"],
        [csv, "--steps"],
        [],
        [csv, "other.csv"],
        [csv, "--save", csv],
        [csv, "--save", tmp_path],
        [tmp_path / "missing.csv"],
        [tmp_path],
        [csv, "--params", tmp_path / "missing.json"],
    ):
        _same_error(work, "sgd", args)


@needs_cc
def test_help_and_fixed_rows(work, tmp_path):
    done = _run(_exe(work, "sgd"), "--help")
    assert done.returncode == 0 and "--batch-size" in done.stdout
    # A trainer compiled for exactly 100 rows refuses other row counts, as
    # the NumPy trainer's module does.
    params, X, y = moons.example()
    source = api.trainer_source(
        moons.loss, moons.scores, (params, X, y), "sgd", "c", batch=None
    )
    path = tmp_path / "fixed.c"
    path.write_text(source)
    exe = str(tmp_path / "fixed")
    subprocess.run([*CC, "-O2", str(path), "-lm", "-o", exe], check=True)
    short = tmp_path / "short.csv"
    short.write_text(_csv(X[:37], y[:37]))
    done = _run(exe, short, "--steps", 1)
    assert done.returncode == 2
    assert done.stderr.endswith("error: X must have shape (100, 2), got (37, 2)\n")
    assert _run(exe, work / "moons.csv", "--steps", 1).returncode == 0


def test_newton_is_refused_by_name():
    params, X, y = moons.example()
    with pytest.raises(ArgumentError, match="C trainer does not do newton"):
        api.trainer_source(moons.loss, moons.scores, (params, X, y), "newton", "c")


def test_cli_writes_one_c_file(tmp_path):
    from symgrad.cli.main import main

    out = tmp_path / "train.c"
    example = os.path.join(os.path.dirname(__file__), "..", "examples", "moons.py")
    assert main(["compile", f"{example}:loss", "--trainer", "adam", "--target", "c",
                 "-o", str(out)]) == 0  # fmt: skip
    text = out.read_text()
    assert text.startswith("/* Generated by symgrad")
    assert "int main(int argc, char **argv)" in text and "Python.h" not in text


def _hostile_model(stdout, linux):
    return np.tanh(linux @ stdout["w"] + stdout["b"])


@needs_cc
def test_user_names_that_are_c_macros(tmp_path):
    # Names that headers define as macros (stdout, errno; linux in GNU C)
    # are renamed, and a key with quotes and a "%" reaches C only as a
    # string literal: the program builds as strict C99, warning-free.
    params = {"w": np.array([0.5, -0.25]), "b": 0.1, 'q"%s\\n': np.ones(1)}

    def model(stdout, linux):
        return _hostile_model(stdout, linux) + 0.0 * stdout['q"%s\\n'][0]

    def loss(stdout, linux, errno):
        return np.mean((model(stdout, linux) - errno) ** 2)

    X = np.random.default_rng(0).normal(size=(8, 2))
    y = np.sign(X[:, 0])
    source = api.trainer_source(loss, model, (params, X, y), "momentum", "c")
    path = tmp_path / "hostile.c"
    path.write_text(source)
    exe = str(tmp_path / "hostile")
    done = subprocess.run(
        [*CC, "-std=c99", "-pedantic", "-O2", "-Wall", "-Wextra", "-Werror",
         str(path), "-lm", "-o", exe],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    gnu = subprocess.run(
        [*CC, "-O2", "-Wall", "-Wextra", "-Werror", str(path), "-lm", "-o", exe],
        capture_output=True,
        text=True,
    )
    assert gnu.returncode == 0, gnu.stderr
    data = tmp_path / "d.csv"
    data.write_text(_csv(X, y))
    save = tmp_path / "p.json"
    done = _run(exe, data, "--steps", 5, "--save", save)
    assert done.returncode == 0, done.stderr
    names = [r["name"] for r in json.loads(save.read_text())["leaves"]]
    assert names == ["stdout['w']", "stdout['b']", "stdout['q\"%s\\\\n']"]


@needs_cc
def test_saved_numbers_are_pythons_repr(work, tmp_path):
    # Random bit patterns, powers of two (where the numbers that read back
    # lie unevenly around the value) and short decimals: the C program
    # writes each one as Python's repr does.
    module = _python_trainer("sgd")
    params, _, _ = moons.example()
    rng = np.random.default_rng(1)
    for run in range(6):
        values = []
        for W, b in params:
            if run % 3 == 0:
                bits = rng.integers(0, 2**63, size=W.size, dtype=np.int64)
                w = bits.view(np.float64).reshape(W.shape)
            elif run % 3 == 1:
                scale = rng.choice([1, -1, 3, 0.75, 5, 7], size=W.shape)
                w = np.ldexp(scale, rng.integers(-1074, 1020, size=W.shape))
            else:
                w = np.round(rng.normal(size=W.shape), int(rng.integers(0, 6)))
                w *= 10.0 ** rng.integers(-20, 25, size=W.shape)
            w[~np.isfinite(w)] = 1.0
            values.append((w, rng.normal(size=b.shape) * 1e-30))
        written, back = tmp_path / "in.json", tmp_path / "out.json"
        module["save_params"](values, str(written))
        csv = work / "moons.csv"
        done = _run(_exe(work, "sgd"), csv, "--steps", 0, "--params", written,
                    "--save", back)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert back.read_text() == written.read_text()
