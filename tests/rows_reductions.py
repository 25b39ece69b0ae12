"""Op test rows: prod, the running cumsum/cumprod, argmax/argmin, and the
reduction composites (var, std, average, ptp, any, all, count_nonzero,
nansum, nanmean)."""

import numpy as np

from tests.op_rows import Row


def _nan_stats(w):
    return (
        np.nanmax(w, axis=0)
        + np.nanmin(w, axis=-1, keepdims=True)
        + np.nanprod(w, axis=0) * np.nanvar(w, axis=0)
        + np.nanstd(w, ddof=1)
        + np.nancumsum(w, axis=-1)
        + np.nancumprod(w, axis=0)
    )


ROWS = {
    "prod": Row(
        ("prod",),
        lambda a: np.prod(a, axis=-1, keepdims=True) * a + np.prod(a) + a.prod(0).sum(),
        ("away",),
        (((2, 3),), ((4,),)),
    ),
    "prod_axes": Row(
        ("prod",),
        lambda a: np.prod(a, axis=(0, 2)) + np.prod(a, axis=(2, 0), keepdims=True),
        ("away",),
        (((2, 3, 2),),),
    ),
    "cumsum": Row(
        ("cumsum",),
        lambda a: np.cumsum(a, axis=0) * a + np.sin(np.cumsum(a)).sum() + a.cumsum(-1),
        ("any",),
        (((2, 3),), ((4,),)),
    ),
    "cumprod": Row(
        ("cumprod",),
        lambda a: np.cumprod(a, axis=-1) * a + np.cumprod(a).sum() + a.cumprod(0),
        ("away",),
        (((2, 3),), ((4,),)),
    ),
    "argmax": Row(
        ("argmax", "argmin"),
        lambda a: a * np.argmax(a, axis=0)
        + a.argmin()
        + np.argmin(a, axis=-1, keepdims=True) * a.argmax(),
        ("any",),
        (((2, 3),), ((4,),)),
    ),
    "var_std": Row(
        ("mean", "sum", "sqrt"),
        lambda a: np.var(a, axis=0) * a.std()
        + a.var(ddof=1, axis=-1, keepdims=True)
        + np.std(a, axis=(0, -1), ddof=1),
        ("any",),
        (((2, 3),), ((4, 2),)),
    ),
    # Lanes of one number: the deviation is identically 0, and so is the
    # gradient of std, var, nanstd and nanvar there (sqrt's slope at 0 is
    # inf, the variance's is 0).
    "var_std_single": Row(
        ("mean", "sum", "sqrt", "where", "eq"),
        lambda a: np.std(a, axis=0)
        + np.var(a, axis=0) * np.nanstd(a, axis=0, keepdims=True)[0]
        + np.nanvar(a, axis=0)
        + np.std(a, axis=0, ddof=-1)
        + a.std(axis=0) * a[0],
        ("any",),
        (((1, 3),), ((1,),)),
        symbolic=("n, 3",),
        special=((np.zeros((1, 3)),), (np.ones((1, 2)),)),
    ),
    "var_std_scalar": Row(
        ("mean", "sum", "sqrt"),
        lambda a: np.std(a) + np.nanstd(a) * 2.0 + np.var(a) + np.nanvar(a) * a,
        ("any",),
        (((),),),
        symbolic=(),
        special=((0.0,),),
    ),
    "average_ptp": Row(
        ("sum", "max", "min"),
        lambda a, w: np.average(a, axis=-1, weights=w)
        + np.average(a)
        + np.average(a * a, weights=a * a + w)
        + np.ptp(a, axis=-1) * np.ptp(a),
        ("any", "pos"),
        (((2, 3), (3,)), ((4,), (4,))),
    ),
    "any_all_nan": Row(
        ("max", "min", "sum", "where", "ne", "eq"),
        lambda a: np.where(np.any(a > 0.5, axis=0), a, 2.0 * a)
        + np.where(a.all(), 1.0, a)
        + np.count_nonzero(a > 0, axis=-1, keepdims=True) * a
        + np.nansum(np.where(a > 1.0, np.nan, a * a))
        * np.nanmean(np.where(a < -1.0, np.nan, np.sin(a)), axis=0),
        ("any",),
        (((2, 3),),),
    ),
    "ufunc_reduce": Row(
        ("sum", "prod", "max", "logaddexp", "hypot"),
        lambda a: np.add.reduce(a, axis=0) * np.multiply.reduce(a, -1, keepdims=True)
        + np.maximum.reduce(a, axis=None)
        + np.logaddexp.reduce(a, axis=-1, keepdims=True)
        + np.hypot.reduce(a, axis=1, initial=1.0, keepdims=True),
        ("away",),
        (((2, 3),), ((3, 4),)),
    ),
    "ufunc_accumulate_outer": Row(
        ("cumsum", "cumprod", "logaddexp", "mul", "sub"),
        lambda a, b: np.add.accumulate(a, axis=1)
        + np.multiply.accumulate(a, axis=0)
        + np.logaddexp.accumulate(a, axis=-1)
        + np.multiply.outer(a[0], b).sum()
        + np.subtract.outer(b, a[:, 0]).sum(),
        ("away", "any"),
        (((2, 3), (4,)),),
    ),
    "nan_reductions": Row(
        ("max", "min", "prod", "sum", "where", "eq", "cumsum", "cumprod", "sqrt"),
        lambda a: _nan_stats(np.where(a > 1.2, np.nan, a)),
        ("any",),
        (((2, 3),), ((4, 3),)),
    ),
    "nanmedian": Row(
        ("sort", "gather", "sum", "where"),
        lambda a: np.nanmedian(np.where(a > 1.0, np.nan, a), axis=-1)
        + np.nanmedian(np.where(a < -1.0, np.nan, a * a), axis=1, keepdims=True)[:, 0],
        ("any",),
        (((2, 3),), ((4, 4),)),
    ),
}
