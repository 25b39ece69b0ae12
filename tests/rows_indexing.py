"""Op test rows: advanced indexing, functional setitem, sorting and order
statistics (np.take, np.take_along_axis, np.sort, np.argsort, np.median,
np.percentile, np.quantile)."""

import numpy as np

from tests.op_rows import Row

MASK = np.array([[True, False, True], [False, False, True]])


def _gather(a):
    # Integer lists and arrays, repeats, negative indices, broadcasting index
    # arrays, ints mixed in, and a constant mask.
    return (
        a[[3, 0, 3]] * a[[-1, 0, 2], [0, 0, 2]][:, None]
        + np.sin(a[1:, [2, 2, 0]])
        + a[np.array([[1], [2], [1]]), np.array([[0, 2, 2]])]
        + a[:2][MASK].sum()
    )


def _advanced_rules(a):
    # Advanced indices separated by a slice, None or an Ellipsis put their
    # axes first; next to each other they stay in place.
    return (
        a[[0, 1], :, [1, 0]].sum(axis=1)
        + a[:, [1, 1], None, 0].sum(axis=(1, 2))
        + a[:, [2, 0], [1, 1]].sum(axis=0)
        + a[[1, 0], ..., 0].sum(axis=1)
        + a[1, :, [0, 1]].sum(axis=1)
    )


def _take(a):
    order = np.argsort(a, axis=1)
    return (
        np.take(a, [2, 0, 2], axis=1)
        + np.take(a, [[5, 0, 11]])
        + np.take_along_axis(a, order, axis=1)[:, :3] * a[:, :1]
        + np.take_along_axis(a, np.array([[0, 0, 1]]), axis=1) ** 2
        + a.take([-1, 1, 1], axis=-1)
    )


def _setitem(x, v):
    x = x * 1.0
    x[1] = v
    x[2:, ::2] += v[::2] * x[0, :1]
    x[[0, 0, 3], [2, 2, 1]] = v * v
    x[[True, False, True, False]] *= np.tanh(v)
    row = x[3]
    row[1] = x[0, 0] * v[0]
    return x * x[0]


def _set_rows(a, v):
    x = a * 1.0
    x[0] = v
    x[:, 1] += 2.0 * a[:, 0]
    x[-1, :2] = v[:2] * x[1, 2]
    x[:, [0, 2]] = x[:, [2, 0]] * v[1]
    return x * np.tanh(x[:, :1])


def _sort(a):
    return (
        np.sort(a, axis=0) * a
        + np.sort(a)[..., ::-1] ** 2
        + np.sort(a, axis=None)[:1] * np.tanh(a[np.argsort(a[:, 0])])
    )


def _median(a):
    return (
        np.median(a)
        + np.median(a, axis=0) * np.median(a, axis=1, keepdims=True)
        + np.median(a * a, axis=(0, 1))
    )


def _percentile(a):
    return (
        np.percentile(a, 30)
        + np.percentile(a, [10.0, 50.0, 100.0], axis=0)[:, None, :]
        + np.quantile(a, 0.75, axis=-1, keepdims=True) ** 2
        + np.quantile(a, [0.2, 0.6], axis=1, method="midpoint").sum()
        + np.quantile(a, [0.2, 0.6], axis=0, method="nearest")[0]
    )


ROWS = {
    "gather": Row(
        ("gather", "scatter_add"),
        _gather,
        ("any",),
        (((4, 3),),),
        symbolic="could not be broadcast together",
    ),
    "gather_rules": Row(
        ("gather", "scatter_add"), _advanced_rules, ("any",), (((2, 3, 2),),)
    ),
    "take": Row(("gather", "scatter_add", "argsort"), _take, ("any",), (((4, 3),),)),
    "setitem": Row(
        ("setitem", "getitem", "gather"),
        _setitem,
        ("any", "any"),
        (((4, 3), (3,)),),
        symbolic="boolean index did not match",
    ),
    "sort": Row(("sort", "argsort", "scatter_add"), _sort, ("any",), (((3, 4),),)),
    "median": Row(
        ("sort", "getitem"),
        _median,
        ("any",),
        (((3, 4),),),
        symbolic="np.median over a symbolic axis",
    ),
    "percentile": Row(
        ("sort", "gather"),
        _percentile,
        ("any",),
        (((4, 3),),),
        symbolic="np.percentile over a symbolic axis",
    ),
    # Writes that fit a symbolic first axis: rows, columns, ends.
    "setitem_rows": Row(
        ("setitem", "getitem", "gather"),
        lambda a, v: _set_rows(a, v),
        ("any", "any"),
        (((4, 3), (3,)),),
    ),
}
