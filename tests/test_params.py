"""Parameter files of generated trainers: portable JSON, atomic writes, and
loads that reject every file that does not fit the model, with the same
message on both targets."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from symgrad import api

TARGETS = ["numpy", "python"]


def _loss(params, X, y):
    scores = X @ params["w"] + X @ params["v"] * params["b"]
    return np.maximum(1.0 - y * scores, 0.0).mean()


def _predict(params, X):
    return X @ params["w"] + X @ params["v"] * params["b"]


def _example(size=2):
    X = np.linspace(-1.0, 1.0, 4 * size).reshape(4, size)
    y = np.array([1.0, -1.0, 1.0, -1.0])
    return {"w": np.full(size, 0.5), "v": np.full(size, -0.25), "b": 2.0}, X, y


def _files(folder):
    """What a save left in `folder`: Python's own bytecode cache is not ours."""
    return sorted(name for name in os.listdir(folder) if name != "__pycache__")


def _trainer(target, tmp_path, size=2):
    source = api.trainer_source(_loss, _predict, _example(size), target=target)
    path = tmp_path / f"trainer_{target}_{size}.py"
    path.write_text(source)
    namespace = {"__name__": f"trainer_{target}"}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace, path


def _params(target, w, v, b):
    if target == "numpy":
        return {
            "w": np.asarray(w, dtype=float),
            "v": np.asarray(v, dtype=float),
            "b": b,
        }
    return {"w": list(w), "v": list(v), "b": b}


@pytest.mark.parametrize("target", TARGETS)
def test_round_trip_with_non_finite_values_is_plain_json(target, tmp_path):
    m, _ = _trainer(target, tmp_path)
    params = _params(target, [np.nan, np.inf], [-np.inf, 1e-300], 0.1)
    path = tmp_path / "p.json"
    m["save_params"](params, path)

    def no_constants(token):
        raise AssertionError(f"non-JSON token {token}")

    data = json.loads(path.read_text(), parse_constant=no_constants)
    assert data["format"] == "symgrad-params/1"
    assert [r["name"] for r in data["leaves"]] == [
        "params['w']",
        "params['v']",
        "params['b']",
    ]
    assert data["leaves"][0]["values"] == ["nan", "inf"]
    assert data["leaves"][1]["values"] == ["-inf", 1e-300]
    back = m["load_params"](path)
    assert np.isnan(back["w"][0]) and back["w"][1] == np.inf
    assert back["v"][0] == -np.inf and back["v"][1] == 1e-300 and back["b"] == 0.1
    if target == "numpy":
        assert isinstance(back["w"], np.ndarray) and back["w"].dtype == np.float64
    else:
        assert isinstance(back["w"], list)


def _mutations():
    """name -> (how to spoil a valid file's data, what the error must say)."""

    def swap(d):
        d["leaves"][0], d["leaves"][1] = d["leaves"][1], d["leaves"][0]

    def rename(d):
        d["leaves"][1]["name"] = "params['u']"

    def missing(d):
        del d["leaves"][2]

    def extra(d):
        d["leaves"].append({"name": "params['z']", "shape": [], "values": 1.0})

    def shape_field(d):
        d["leaves"][0]["shape"] = [3]

    def ragged(d):
        d["leaves"][1]["values"] = [1.0]

    def nested_deeper(d):
        d["leaves"][1]["values"] = [[1.0], [2.0]]

    def numeric_string(d):
        d["leaves"][0]["values"] = ["1.5", 2.0]

    def boolean(d):
        d["leaves"][2]["values"] = True

    def null(d):
        d["leaves"][2]["values"] = None

    def format_(d):
        d["format"] = "symgrad-params/2"

    def no_leaves(d):
        d["leaves"] = {"w": 1}

    def record_not_dict(d):
        d["leaves"][0] = [1.0, 2.0]

    return {
        "swapped": (swap, r"record 0 is named \"params\['v'\]\".* out of order"),
        "renamed": (rename, r"record 1 is named .*params\['u'\].* another model"),
        "missing": (missing, r"record \"params\['b'\]\" is missing"),
        "extra": (extra, r"1 extra record"),
        "shape field": (shape_field, r"record \"params\['w'\]\" has shape \[3\]"),
        "ragged": (ragged, r"record \"params\['v'\]\": the values do not have shape"),
        "deeper": (nested_deeper, r"params\['v'\]\": .*not a number"),
        "numeric string": (numeric_string, r"params\['w'\]\": '1.5' is not a number"),
        "bool": (boolean, r"params\['b'\]\": True is not a number"),
        "null": (null, r"params\['b'\]\": None is not a number"),
        "format": (format_, r"not a parameter file: format is 'symgrad-params/2'"),
        "leaves": (no_leaves, r"'leaves' must be a list"),
        "record": (record_not_dict, r"record 0 .*needs 'name', 'shape' and 'values'"),
    }


@pytest.mark.parametrize("case", sorted(_mutations()))
def test_load_rejects_bad_files_identically_on_both_targets(case, tmp_path):
    spoil, message = _mutations()[case]
    messages = []
    for target in TARGETS:
        m, _ = _trainer(target, tmp_path)
        good = tmp_path / "good.json"
        m["save_params"](_params(target, [1.0, 2.0], [3.0, 4.0], 5.0), good)
        data = json.loads(good.read_text())
        spoil(data)
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(data))
        with pytest.raises(ValueError) as info:
            m["load_params"](bad)
        messages.append(str(info.value).replace('"', "'"))
    assert messages[0] == messages[1]
    import re

    assert re.search(message.replace('\\"', "'"), messages[0]), messages[0]
    assert messages[0].startswith(str(tmp_path / "bad.json") + ": ")


@pytest.mark.parametrize("target", TARGETS)
def test_not_json_and_bad_shapes_on_save(target, tmp_path):
    m, _ = _trainer(target, tmp_path)
    bad = tmp_path / "torn.json"
    bad.write_text('{"format": "symgrad-params/1", "leaves": [{"na')
    with pytest.raises(ValueError, match="torn.json: not a parameter file"):
        m["load_params"](bad)
    with pytest.raises(ValueError, match=r"parameter params\['w'\]: the values do not"):
        m["save_params"](_params(target, [1.0, 2.0, 3.0], [3.0, 4.0], 5.0), bad)


# ------------------------------------------------------------------ crashes


class _Failing:
    """A file object that writes half of what it is given, then fails."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()
        return False


@pytest.mark.parametrize("target", TARGETS)
def test_a_write_failing_part_way_leaves_the_old_file(target, tmp_path, monkeypatch):
    m, _ = _trainer(target, tmp_path)
    path = tmp_path / "p.json"
    m["save_params"](_params(target, [1.0, 2.0], [3.0, 4.0], 5.0), path)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _Failing(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space"):
        m["save_params"](_params(target, [9.0, 9.0], [9.0, 9.0], 9.0), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert m["load_params"](path)["b"] == 5.0
    assert _files(tmp_path) == ["p.json", f"trainer_{target}_2.py"]


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("target", TARGETS)
def test_file_size_limit_part_way_leaves_the_old_file(target, tmp_path):
    _, module = _trainer(target, tmp_path, size=200)
    path = tmp_path / "p.json"
    script = textwrap.dedent(f"""
        import importlib.util, resource, signal, sys
        spec = importlib.util.spec_from_file_location("t", {str(module)!r})
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        params = m.initial_params()
        m.save_params(params, {str(path)!r})   # the old, complete file
        size = len(open({str(path)!r}).read())
        params = m._tree([m._map(lambda p: p * 0.123456789123, p)
                          for p in m._leaves(params)])
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, size + 100))
        try:
            m.save_params(params, {str(path)!r})
        except OSError as exc:
            print("failed:", exc.errno)
        """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("failed:"), out.stdout
    m, _ = _trainer(target, tmp_path, size=200)
    back = m["load_params"](path)
    assert back["b"] == 2.0 and float(back["w"][0]) == 0.5
    assert _files(tmp_path) == ["p.json", module.name]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_while_saving_never_leaves_a_torn_file(tmp_path):
    _, module = _trainer("numpy", tmp_path, size=20000)
    path = tmp_path / "p.json"
    script = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("t", {str(module)!r})
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        params = m.initial_params()
        m.save_params(params, {str(path)!r})
        print("ready", flush=True)
        k = 0
        while True:
            k += 1
            params["b"] = float(k)
            m.save_params(params, {str(path)!r})
        """)
    m, _ = _trainer("numpy", tmp_path, size=20000)
    for delay in (0.05, 0.13, 0.31):
        child = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline() == "ready\n"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        back = m["load_params"](path)  # whole: the old file or the new one
        assert back["w"].shape == (20000,)
        for name in os.listdir(tmp_path):  # a killed writer may leave its temp
            if name.endswith(".tmp"):
                os.unlink(tmp_path / name)


# ------------------------------------------------------------------ modes


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize("target", TARGETS)
def test_saved_files_get_umask_mode_or_keep_the_old_one(target, tmp_path):
    m, _ = _trainer(target, tmp_path)
    params = _params(target, [1.0, 2.0], [3.0, 4.0], 5.0)
    old = os.umask(0o022)
    try:
        m["save_params"](params, tmp_path / "new.json")
        os.umask(0o077)
        m["save_params"](params, tmp_path / "private.json")
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        os.chmod(kept, 0o640)
        m["save_params"](params, kept)
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(tmp_path / "new.json") == 0o644
    assert mode(tmp_path / "private.json") == 0o600
    assert mode(kept) == 0o640
