"""Independent oracles for gradient tests: float64 central finite differences.

Contract: `numeric_grad(f, args, argnums)` differentiates a function that
runs on plain NumPy values (never on symgrad code) by central differences.
"""

from __future__ import annotations

import numpy as np

STEP = 1e-6


def numeric_grad(f, args, argnums, step=STEP):
    """Central differences of scalar `f` w.r.t. each argument in `argnums`
    (relative step `step`)."""
    out = []
    for k in argnums:
        base = np.array(args[k], dtype=np.float64)
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            h = step * max(1.0, abs(base[idx]))
            plus, minus = base.copy(), base.copy()
            plus[idx] += h
            minus[idx] -= h
            hi = f(*_replace(args, k, plus))
            lo = f(*_replace(args, k, minus))
            grad[idx] = (hi - lo) / (2 * h)
        out.append(grad)
    return out


def _replace(args, k, value):
    args = list(args)
    args[k] = value if np.ndim(value) else float(value)
    return args


def assert_close(actual, expected, rtol=1e-6, atol=1e-8):
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), expected, rtol=rtol, atol=atol
    )
