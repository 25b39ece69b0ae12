"""The benchmark's peers compute the same thing, and its report renders.

No timing is asserted here: speed is measured by `symgrad bench` only.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from symgrad import api
from symgrad.bench import examples, interleave, peers, problems, profile, report, suite
from symgrad.cli import commands
from symgrad.cli import main as cli


def _flat(grads):
    return [np.asarray(g) for pair in grads for g in pair]


@pytest.fixture(scope="module")
def case():
    params, X, y = peers.problem((2, 8, 8, 1), 20)
    value, grads = api.value_and_grad(peers.loss)(params, X, y)
    return params, X, y, value, _flat(grads)


def test_hand_numpy_matches_symgrad(case):
    params, X, y, value, grads = case
    hv, hg = peers.hand_value_and_grad(params, X, y)
    assert hv == pytest.approx(value, rel=1e-12)
    for a, b in zip(_flat(hg), grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.slow  # imports PyTorch and JAX: seconds
def test_optional_peers_match_symgrad(case):
    params, X, y, value, _ = case
    ran = 0
    for make in (peers.make_torch, peers.make_jax, peers.make_micrograd):
        try:
            step = make(params, X, y)
        except peers.Unavailable:
            continue
        out = step()
        got = out[0] if isinstance(out, tuple) else out
        assert float(got) == pytest.approx(value, rel=1e-12)
        ran += 1
    if not ran:
        pytest.skip("no optional peer installed (pip install -e '.[bench]')")


def test_report_renders_results():
    entry = {"seconds": 1e-4}
    results = {
        "machine": {
            "system": "Linux",
            "machine": "x86_64",
            "python": "3",
            "numpy": "2",
        },
        "quick": True,
        "micrograd": {
            "symgrad numpy": entry,
            "PyTorch eager": {"note": "pip install torch"},
        },
        "scaling": {
            "widths": [16],
            "batches": [100],
            "width": {"hand NumPy": [entry], "symgrad numpy": [{"seconds": 2e-4}]},
            "batch": {"hand NumPy": [entry], "symgrad numpy": [entry]},
        },
        "compile": {
            "chain": [{"nodes": 10, "seconds": 1.0, "lines": 30}],
            "scalar_mlp": {"weights": 337, "seconds": 1.0, "lines": 10},
        },
        "cheap_gradient": {"numpy": {"ratio": 2.0}},
    }
    text = report.table(results)
    assert "2.00x" in text and "pip install torch" in text and "skipped" in text


# --- issue #16's problems, the examples, the runner and the profiler ---------


@pytest.mark.parametrize("name", problems.NAMES)
def test_expert_hand_versions_match_symgrad(name):
    problem = problems.get(name, quick=True)
    args = problem.data()
    value, grads = api.compile(problem.loss, *args).value_and_grad(*args)
    hv, hg = problem.hand(*args)
    assert hv == pytest.approx(value, rel=1e-12)
    for a, b in zip(problems.flatten(hg), problems.flatten(grads), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14 * np.abs(b).max())


def test_problems_at_full_size_are_the_issues():
    shapes = {n: problems.get(n).info for n in problems.NAMES}
    assert shapes["moons"] == {"sizes": [2, 16, 16, 1], "batch": 100, "loss": "hinge"}
    assert shapes["mlp128"]["sizes"] == [2, 128, 128, 1]
    assert shapes["mlp128"]["batch"] == 1000
    assert shapes["mlp512"]["sizes"] == [64, 512, 512, 10]
    assert shapes["mlp512"]["batch"] == 10000
    assert shapes["rnn"] == {"steps": 50, "hidden": 32, "batch": 16, "inputs": 8}


def test_bench_losses_are_user_code_for_the_tracer():
    # Their lines show up in the generated comments (and in the profile).
    problem = problems.get("rnn", quick=True)
    source = api.compile(problem.loss, *problem.data()).source
    assert "# grad of: h = np.tanh(x @ p[" in source
    assert "(problems.py:" in source


def test_disagreement_is_relative_to_each_arrays_scale():
    ref = (1.0, [np.array([1e6, 1.0])])
    assert interleave.disagreement((1.0, [np.array([1e6, 1.0 + 1e-3])]), ref) < 1e-8
    assert interleave.disagreement((1.0 + 1e-6, ref[1]), ref) > 1e-8
    assert interleave.disagreement((1.0, [np.zeros(3)]), ref) == float("inf")


def test_the_problem_names_and_groups():
    assert suite.select("peers") == list(problems.NAMES)
    assert suite.select("rnn,examples,rnn") == ["rnn", *examples.NAMES]
    assert set(suite.select(None)) == set(suite.NAMES)
    with pytest.raises(ValueError, match="unknown problem 'nope'"):
        suite.select("moons,nope")


def test_quick_run_of_the_pinned_interleaved_table(tmp_path, monkeypatch):
    """The command end to end (no optional peer needed): one child process
    per problem, the examples too, JSON written, the process unpinned after."""
    for key, value in commands.SINGLE_THREAD.items():
        monkeypatch.setenv(key, value)  # as after the command's restart
    before = os.sched_getaffinity(0)
    out = tmp_path / "bench.json"
    problems_ = "moons,ex-gp"
    argv = ["bench", "--quick", "--problems", problems_, "--peers", "hand"]
    assert cli.main([*argv, "--json", str(out)]) == 0
    assert os.sched_getaffinity(0) == before
    results = json.loads(out.read_text())
    assert results["machine"]["pinned_cpu"] in before
    for name in ("moons",):
        entries = results["problems"][name]["peers"]
        assert set(entries) == {"symgrad", "hand"}
        assert entries["hand"]["disagreement"] < interleave.RTOL
        assert entries["symgrad"]["seconds"] > 0
        assert len(entries["symgrad"]["samples"]) == entries["symgrad"]["rounds"]
        assert results["problems"][name]["cpus"] == [results["machine"]["pinned_cpu"]]
    gp = results["examples"]["ex-gp"]["peers"]["symgrad"]
    assert gp["compile_s"] > 0 and gp["seconds"] > 0
    assert set(results) == {"machine", "quick", "problems", "examples"}
    text = report.table(results)
    assert "ratio to hand NumPy" in text and "moons MLP" in text
    assert "Gaussian process" in text


def test_a_failing_child_is_reported_not_raised():
    result = interleave.run("problem", "no-such-problem", quick=True, peers=())
    assert "unknown problem" in result["error"]


def test_profile_times_every_statement_and_keeps_results():
    problem = problems.get("moons", quick=True)
    args = problem.data()
    compiled = api.compile(problem.loss, *args)
    namespace = dict(compiled.module.__dict__)
    records, acc, cnt = profile.instrument(compiled.source, namespace, "<test>")
    value, grads = namespace["value_and_grad"](*args)
    expected = compiled.value_and_grad(*args)
    assert value == expected[0]
    for a, b in zip(
        problems.flatten(grads), problems.flatten(expected[1]), strict=True
    ):
        assert np.array_equal(a, b)
    timed = [i for i, c in enumerate(cnt) if c]
    assert timed and all(acc[i] >= 0 for i in timed)

    result = profile.profile(compiled, args, seconds=0.05)
    lines = compiled.source.splitlines()
    assert result["rows"] and result["seconds"] > 0
    for row in result["rows"]:
        first = lines[row["line"] - 1].strip()
        assert row["text"].startswith(first[:20]) or row["kind"] == "argument check"
    assert any(
        r["comment"].startswith("grad of: h = h @ W.T + b") for r in result["rows"]
    )
    kinds = {r["kind"] for r in result["rows"]}
    assert {"a @ b", "np.where()", "argument check"} <= kinds
    # Helpers the generated functions call are profiled too, under their names.
    assert "value_and_grad" in {r["function"] for r in result["rows"]}
    text = profile.table(result, top=5, title="moons")
    assert "By source line" in text and "By kind of operation" in text


def test_profile_charges_helper_calls_to_the_helper():
    source = (
        "def helper(x):\n"
        "    y = sum(range(x))\n"
        "    return y\n"
        "def main(x):\n"
        "    a = helper(x)\n"
        "    b = a + 1\n"
        "    return b\n"
    )
    namespace = {}
    records, acc, cnt = profile.instrument(source, namespace, "<test>")
    assert namespace["main"](200000) == sum(range(200000)) + 1
    by_line = {node.lineno: ns for (fn, node), ns in zip(records, acc, strict=True)}
    assert by_line[2] > 10 * by_line[5]  # the call line keeps only its own time


def test_profile_command_rejects_sections(capsys, monkeypatch):
    for key, value in commands.SINGLE_THREAD.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["bench", "--profile", "--problems", "scaling"]) == 2
    assert "has none" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["bench", "--problems", "nope"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind, name",
    [("problem", n) for n in problems.NAMES] + [("example", n) for n in examples.NAMES],
)
def test_jax_and_torch_versions_agree_with_symgrad(kind, name):
    """The peers' own versions of each problem compute symgrad's value and
    gradient (`symgrad bench` checks this again before timing them)."""
    problem = (
        problems.get(name, quick=True) if kind == "problem" else examples.get(name)
    )
    args = problem.data()
    step, extract = interleave.make_symgrad(problem, args)
    reference = extract(step())
    ran = 0
    for peer in ("hand", "jax", "torch"):
        try:
            step, extract = interleave.MAKERS[peer](problem, args)
        except peers.Unavailable:
            continue
        assert interleave.disagreement(extract(step()), reference) < interleave.RTOL
        ran += 1
    if not ran:
        pytest.skip("no peer for this problem here (pip install -e '.[bench]')")
