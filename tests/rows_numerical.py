"""Op test rows: NumPy's numerical helpers (linspace, polyval, trapezoid,
interp, cov, corrcoef, meshgrid) and np.linalg.lstsq."""

import numpy as np

from tests.op_rows import Row

NUMPY = ("numpy",)

KNOTS = np.array([-1.5, -0.2, 0.4, 1.1, 2.0])


def _lstsq(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b, rcond=None)
    return np.sin(x) * rank + residuals.sum() + s[0]


ROWS = {
    "linspace_polyval": Row(
        ("arange", "add", "mul", "concatenate"),
        lambda a, b: np.linspace(a, b, 4)
        + np.linspace(b, 3.0, 5, endpoint=False, retstep=True)[1]
        + np.polyval(np.array([1.5, -0.5, 2.0]) * np.sum(a), b),
        ("any", "any"),
        (((), ()), ((3,), (3,))),
    ),
    "trapezoid": Row(
        ("sum", "sub", "add"),
        lambda y, x: np.trapezoid(y, axis=0)
        + np.trapezoid(y * y, dx=0.5)[:, None]
        + np.trapezoid(y, x=np.cumsum(x * x), axis=-1)[:, None],
        ("any", "any"),
        (((3, 4), (4,)),),
    ),
    "interp": Row(
        ("le", "sum", "getitem", "where", "div"),
        lambda x, fp: np.interp(x, KNOTS, fp)
        + np.interp(x * 0.7, KNOTS, fp * fp, left=-1.0, right=fp[0]),
        ("any", "any"),
        (((3,), (5,)), ((2, 3), (5,))),
        symbolic=("n", "5"),
    ),
    "cov_corrcoef": Row(
        ("mean", "matmul", "sqrt", "diagonal"),
        lambda a: np.cov(a)
        + np.cov(a.T, rowvar=False, bias=True)
        + np.corrcoef(a[0], a[1])
        + np.cov(a[0], ddof=0),
        ("any",),
        (((2, 4),),),
        symbolic=("2, n",),
    ),
    "meshgrid": Row(
        ("reshape", "broadcast_to"),
        lambda a, b: np.meshgrid(a, b)[0] * np.meshgrid(a, b)[1] ** 2
        + np.meshgrid(b, a, indexing="ij", sparse=True)[1],
        ("any", "any"),
        (((3,), (2,)),),
    ),
    "lstsq": Row(
        ("pinv", "matmul", "svdvals"),
        _lstsq,
        ("any", "any"),
        (((4, 3), (4,)), ((4, 2), (4, 2))),
        targets=NUMPY,
        symbolic="cannot tell which of the sizes",
    ),
}

# np.gradient with NumPy's spacing forms (a scalar, coordinates, one per
# axis) and edge orders; real_if_close of a real array is the array.
COORDS = np.array([0.0, 0.3, 1.0, 1.2, 2.0])

ROWS.update(
    {
        "gradient": Row(
            ("sub", "div", "mul", "concatenate"),
            lambda f: np.gradient(f, axis=-1)
            + np.gradient(f * f, 0.5, axis=-1, edge_order=2)
            + np.gradient(np.sin(f), COORDS, axis=-1)
            + np.gradient(f, COORDS, axis=-1, edge_order=2),
            ("any",),
            (((5,),), ((2, 5),)),
        ),
        "gradient_axes": Row(
            ("sub", "div", "concatenate"),
            lambda f: np.gradient(f)[0] * np.gradient(f, 2.0, np.arange(4.0) ** 2)[1]
            + np.real_if_close(f),
            ("any",),
            (((3, 4),),),
        ),
    }
)
