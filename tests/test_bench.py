"""The benchmark's peers compute the same thing, and its report renders.

No timing is asserted here: speed is measured by `symgrad bench` only.
"""

from __future__ import annotations

import numpy as np
import pytest

from symgrad import api
from symgrad.bench import peers, report


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
        "moons": {
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
