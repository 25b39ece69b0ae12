"""The methods of NumPy's ufuncs on traced values: reduce, accumulate, outer.

Contract: `apply(ufunc, method, inputs, kwargs)` computes
`ufunc.method(*inputs, **kwargs)` from traced calls, for a ufunc the op
table knows (`Tracer.__array_ufunc__` hands it every method but `__call__`):

- `reduce(a, axis=0, keepdims=False, initial=...)`: `np.add`, `np.multiply`,
  `np.maximum`, `np.minimum`, `np.logical_and`, `np.logical_or` are NumPy's
  own reductions (`np.add.reduce` is `np.sum`, and so on); any other binary
  ufunc (`np.logaddexp`, `np.hypot`, ...) folds along the axis from the
  first entry, as NumPy does.
- `accumulate(a, axis=0)`: `np.cumsum` / `np.cumprod` for add / multiply,
  the running fold for the others.
- `outer(a, b)`: `ufunc(a[..., None, ...], b)`.
A fold needs the length of its axis as a Python int. Every other method or
keyword (`at`, `reduceat`, `out=`, `where=`) is refused with the user's
line and what to write instead.
"""

from __future__ import annotations

import numpy as np

from symgrad.ir import dims
from symgrad.ir.source import fail

_REDUCE = {
    np.add: np.sum,
    np.multiply: np.prod,
    np.maximum: np.max,
    np.minimum: np.min,
    np.logical_and: np.all,
    np.logical_or: np.any,
}
_ACCUMULATE = {np.add: np.cumsum, np.multiply: np.cumprod}


def _shape(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _refuse(name: str, what: str, fix: str):
    fail(f"{name}.{what} is not supported on traced values", fix)


def _keywords(name, method, kwargs, allowed):
    extra = sorted(k for k, v in kwargs.items() if k not in allowed and v is not None)
    if extra:
        _refuse(
            name, f"{method} with {', '.join(k + '=' for k in extra)}", "Leave it out"
        )


def _axis_first(a, axis, name, method):
    """`a` with `axis` moved to the front (flattened for None), and its length."""
    if axis is None:
        a = np.reshape(a, (-1,))
        axis = 0
    if not isinstance(axis, int | np.integer):
        _refuse(name, f"{method} over several axes", "Reduce one axis at a time")
    a = np.moveaxis(a, int(axis), 0)
    n = _shape(a)[0]
    if dims.is_symbolic(n):
        fail(
            f"{name}.{method} folds along an axis of symbolic length {n}",
            "Use a function with its own reduction (np.sum, np.max, "
            "scipy.special.logsumexp), or keep that axis fixed",
        )
    return a, int(n)


def _fold(ufunc, a, axis, name, method, initial=np._NoValue):
    a, n = _axis_first(a, axis, name, method)
    steps = [a[i] for i in range(n)]
    if initial is not np._NoValue:
        steps.insert(0, initial)
    if not steps:
        _refuse(name, f"{method} of an empty axis", "Give it at least one entry")
    out = [steps[0]]
    for x in steps[1:]:
        out.append(ufunc(out[-1], x))
    return out


def apply(ufunc, method: str, inputs, kwargs):
    name = f"np.{ufunc.__name__}"
    if ufunc.nin != 2 or ufunc.nout != 1:
        _refuse(name, method, "Call the function directly")
    if method == "outer":
        _keywords(name, method, kwargs, ())
        a, b = inputs
        lead = _shape(a) + (1,) * len(_shape(b))
        return ufunc(np.reshape(a, lead), b)
    if method == "reduce":
        _keywords(name, method, kwargs, ("axis", "keepdims", "initial", "dtype"))
        (a,) = inputs
        axis = kwargs.get("axis", 0)
        keepdims = bool(kwargs.get("keepdims", False))
        initial = kwargs.get("initial", np._NoValue)
        if kwargs.get("dtype") is not None:
            _refuse(name, "reduce with dtype=", "Convert with .astype() first")
        if ufunc in _REDUCE and initial is np._NoValue:
            return _REDUCE[ufunc](a, axis=axis, keepdims=keepdims)
        out = _fold(ufunc, a, axis, name, method, initial)[-1]
        if keepdims:
            axes = range(len(_shape(a))) if axis is None else (axis,)
            out = np.expand_dims(out, tuple(axes))
        return out
    if method == "accumulate":
        _keywords(name, method, kwargs, ("axis", "dtype"))
        if kwargs.get("dtype") is not None:
            _refuse(name, "accumulate with dtype=", "Convert with .astype() first")
        (a,) = inputs
        axis = kwargs.get("axis", 0)
        if axis is None:
            _refuse(name, "accumulate with axis=None", "Give an axis")
        if ufunc in _ACCUMULATE:
            return _ACCUMULATE[ufunc](a, axis=axis)
        steps = _fold(ufunc, a, axis, name, method)
        return np.stack(steps, axis=int(axis) % len(_shape(a)))
    fix = {
        "at": "It changes its first argument in place; compute the new values "
        "with indexing and arithmetic instead",
    }.get(method, "Use the reductions (np.sum, np.max, ...) instead")
    _refuse(name, method, fix)
