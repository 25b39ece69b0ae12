"""Op test rows: scipy.optimize's test functions (rosen, rosen_der,
rosen_hess), which objectives call. SciPy is optional: without it every row
here is skipped when it runs."""

import numpy as np
import pytest

from tests.op_rows import Row

try:
    import scipy.optimize as so
except ImportError:  # pragma: no cover - exercised only without SciPy
    so = None


ROWS = {
    "rosen": Row(
        ("pow", "sub", "mul", "sum"),
        lambda x: (so.rosen(x) + so.rosen(np.stack([x, x * 0.5]))) * 0.01,
        ("any",),
        (((4,),), ((3, 2),)),
    ),
    "rosen_der_hess": Row(
        ("concatenate", "embed_diagonal", "getitem"),
        lambda x: so.rosen_der(x) * 0.01 + np.sum(so.rosen_hess(x) * x, axis=1) * 1e-3,
        ("any",),
        (((4,),), ((2,),)),
        symbolic="symbolic",
    ),
}


def _skipped(*_):
    pytest.skip("SciPy is not installed")


if so is None:  # pragma: no cover
    ROWS = {name: Row(r.ops, _skipped, r.domains, r.shapes) for name, r in ROWS.items()}
