"""Functions copied into the modules of the pure-Python target.

Contract: every top-level function here is plain Python that needs nothing but
`math` and `operator.mul` (imported as `_mul`), and runs on any CPython 3.
`codegen.python` copies the source of the functions a module calls (and of the
ones those call) into the module, so generated code never imports symgrad.

Arrays are flat lists in row-major order; their shapes are static, so the
module passes them as literals. Scalar functions return what NumPy returns
(inf, -inf, nan) where the math module would raise: a module must give
NumPy's values for every input NumPy handles.
"""

import math
from operator import mul as _mul


def _check_argument(value, name, scalar):
    """Refuse an argument NumPy would turn into NaN or text into numbers
    silently: None, a str or bytes, an array of objects or text, a ragged
    nested sequence; and for a number (`scalar`), anything with axes (a
    1-element array too: NumPy deprecates reading it as a number). Both
    targets carry this same text, so they refuse alike, naming `name`."""
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if scalar:
        shape = getattr(value, "shape", None) if kind is not None else None
        if shape:
            raise ValueError(
                f"{name} must be a number, got an array of shape {tuple(shape)} "
                "(pass x[0] or float(x[0]) for its one number)"
            )
        if isinstance(value, (list, tuple)):
            raise ValueError(
                f"{name} must be a number, got a {type(value).__name__} of "
                f"length {len(value)}"
            )
        items = [value]
    elif kind is not None:
        items = [value]  # an array: never ragged, its dtype says the rest
    else:
        items = [value]
        # (NumPy arrays have at most 64 axes: deeper nesting is refused below.)
        for axis in range(65):
            # Sequences, and arrays with axes inside them ([a, b] of arrays).
            nested = [
                isinstance(x, (list, tuple)) or bool(getattr(x, "ndim", 0))
                for x in items
            ]
            if not any(nested):
                break
            lengths = sorted({len(items[i]) for i in range(len(items)) if nested[i]})
            if not all(nested) or len(lengths) > 1:
                raise ValueError(
                    f"{name} must be an array of numbers, got a ragged sequence "
                    f"(at axis {axis}: "
                    + (
                        "lengths " + str(lengths)
                        if all(nested)
                        else "lists and numbers"
                    )
                    + ")"
                )
            items = [y for x in items for y in x]
        else:
            raise ValueError(
                f"{name} must be an array of numbers, nested 64 deep at most"
            )
    for x in items:
        what = None
        if x is None:
            what = "None"
        elif isinstance(x, (str, bytes)):
            what = f"a {type(x).__name__} ({x[:20]!r})"
        else:
            kind = getattr(getattr(x, "dtype", None), "kind", None)
            if kind is not None and kind not in "biuf":
                what = f"an array of {x.dtype}"
        if what is not None:
            must = "be a number" if scalar else "hold numbers"
            raise ValueError(f"{name} must {must}, got {what}")


def _number(value, name):
    """A float argument as a Python float, checked."""
    if type(value) is not float:
        _check_argument(value, name, True)
    return float(value)


def _array(value, shape, name, kind):
    """`value` (nested sequences of numbers) as a flat list, checked to be `shape`."""
    _check_argument(value, name, False)
    items = [value]
    for axis, n in enumerate(shape):
        try:
            sizes = sorted({len(item) for item in items})
        except TypeError:
            raise ValueError(
                f"{name} must have shape {shape}, got a number at axis {axis}"
            ) from None
        if sizes and sizes != [n]:  # no sizes: an earlier axis has length 0
            raise ValueError(
                f"{name} must have shape {shape}, got lengths {sizes} at axis {axis}"
            )
        items = [x for item in items for x in item]
    try:
        return [kind(x) for x in items]
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must have shape {shape} and hold numbers (is it nested deeper?)"
        ) from None


def _array_sized(value, shape, name, kind):
    """`value` as a flat list and its shape; the axes of `shape` that are
    names (sizes known only now, such as "n") take any length."""
    shown = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    _check_argument(value, name, False)
    sizes = []
    items = [value]
    for axis, n in enumerate(shape):
        try:
            lengths = sorted({len(item) for item in items})
        except TypeError:
            raise ValueError(
                f"{name} must have shape {shown}, got a number at axis {axis}"
            ) from None
        if len(lengths) > 1 or (lengths and not isinstance(n, str) and lengths != [n]):
            raise ValueError(
                f"{name} must have shape {shown}, got lengths {lengths} at axis {axis}"
            )
        # No lengths: an earlier axis is empty, and so is this one.
        sizes.append(lengths[0] if lengths else (0 if isinstance(n, str) else n))
        items = [x for item in items for x in item]
    try:
        return [kind(x) for x in items], tuple(sizes)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must have shape {shown} and hold numbers (is it nested deeper?)"
        ) from None


def _nested(flat, shape):
    """A flat row-major list as nested lists of floats of `shape`."""
    out = [float(x) for x in flat]
    for axis in range(len(shape) - 1, 0, -1):
        n = shape[axis]
        out = [out[i * n : (i + 1) * n] for i in range(math.prod(shape[:axis]))]
    return out


def _strides(shape):
    strides = [1] * len(shape)
    for axis in range(len(shape) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * shape[axis + 1]
    return strides


def _div(a, b):
    """a / b; a zero divisor gives inf, -inf or nan as in NumPy."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _pow(a, b):
    """a ** b as NumPy computes it: a real result, inf on overflow, never raises."""
    try:
        return math.pow(a, b)
    except ValueError:
        if a == 0:  # zero to a negative power; -0.0 keeps its sign for odd b
            return math.copysign(math.inf, a) if b % 2 == 1 else math.inf
        return math.nan  # a negative base and a non-integer exponent
    except OverflowError:
        return -math.inf if a < 0 and b % 2 == 1 else math.inf


def _exp(x):
    """math.exp, with inf instead of OverflowError."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x):
    """math.log, with -inf for zero and nan for negative numbers."""
    try:
        return math.log(x)
    except ValueError:
        return -math.inf if x == 0 else math.nan


def _sqrt(x):
    """math.sqrt, with nan for negative numbers."""
    try:
        return math.sqrt(x)
    except ValueError:
        return math.nan


def _sin(x):
    """math.sin, with nan for infinities."""
    try:
        return math.sin(x)
    except ValueError:
        return math.nan


def _cos(x):
    """math.cos, with nan for infinities."""
    try:
        return math.cos(x)
    except ValueError:
        return math.nan


def _sign(x):
    """NumPy's sign: -1.0, 0.0 (for either zero) or 1.0; nan stays nan."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0 if x == 0 else x


def _max(values):
    """max(values), but nan when any value is nan (as NumPy's max)."""
    for x in values:
        if x != x:
            return x
    return max(values)


def _min(values):
    """min(values), but nan when any value is nan (as NumPy's min)."""
    for x in values:
        if x != x:
            return x
    return min(values)


def _mean(values):
    return _div(sum(values), len(values))  # nan for no values, as NumPy


def _broadcast(a, shape, to):
    """`a` of `shape` repeated along the axes where NumPy broadcasts it to `to`."""
    shape = (1,) * (len(to) - len(shape)) + tuple(shape)
    inner = 1  # size of one block of the axes already expanded
    for axis in range(len(to) - 1, -1, -1):
        n = to[axis]
        if shape[axis] != n:
            if inner == 1:
                a = [x for x in a for _ in range(n)]
            elif len(a) == inner:
                a = a * n
            else:
                a = [
                    x
                    for i in range(0, len(a), inner)
                    for _ in range(n)
                    for x in a[i : i + inner]
                ]
        inner *= n
    return a


def _transpose(a, shape, axes):
    """`a` of `shape` with its axes permuted as NumPy's transpose(a, axes)."""
    if list(axes) == [1, 0]:
        # Row j of the result is column j of `a`: one strided slice.
        n = shape[1]
        return [x for j in range(n) for x in a[j::n]]
    strides = _strides(shape)
    offsets = [0]
    for axis in axes:
        step = strides[axis]
        offsets = [o + i * step for o in offsets for i in range(shape[axis])]
    return [a[o] for o in offsets]


def _reduce(reduction, a, shape, axes):
    """`reduction` of each group of entries of `a` that differ only along `axes`."""
    axes = list(axes)
    if axes[-1] - axes[0] + 1 != len(axes):
        # Move scattered axes to the end so that each group is one slice.
        rest = [axis for axis in range(len(shape)) if axis not in axes]
        a = _transpose(a, shape, rest + axes)
        shape = [shape[axis] for axis in rest + axes]
        axes = list(range(len(rest), len(shape)))
    outer = math.prod(shape[: axes[0]])
    inner = math.prod(shape[axes[-1] + 1 :])
    block = inner * math.prod(shape[axes[0] : axes[-1] + 1])
    return [
        reduction(a[o * block + i : (o + 1) * block : inner])
        for o in range(outer)
        for i in range(inner)
    ]


def _matmul(a, b, m, k, n, batches=1):
    """Products of `batches` pairs of (m, k) and (k, n) matrices, stacked."""
    if k == 0:
        return [0.0] * (batches * m * n)
    out = []
    for s in range(batches):
        rows = [a[i : i + k] for i in range(s * m * k, (s + 1) * m * k, k)]
        start = s * k * n
        if k > 3:
            cols = [b[start + j : start + k * n : n] for j in range(n)]
            out += [sum(map(_mul, row, col)) for row in rows for col in cols]
            continue
        # With few terms, scaling whole rows of b takes fewer calls than one
        # dot product per entry (and adds the terms in the same order).
        b_rows = [b[start + p * n : start + (p + 1) * n] for p in range(k)]
        for row in rows:
            acc = [row[0] * x for x in b_rows[0]]
            for p in range(1, k):
                c = row[p]
                acc = [u + c * x for u, x in zip(acc, b_rows[p])]  # noqa: B905
            out += acc
    return out


def _positions(shape, index):
    """Flat positions that a basic index (ints, slices, None) selects, in order."""
    strides = _strides(shape)
    offsets = [0]
    axis = 0
    for item in index:
        if item is None:
            continue  # a new axis of length 1 selects nothing new
        n = shape[axis]
        picks = range(n)[item] if isinstance(item, slice) else [item % n]
        offsets = [o + i * strides[axis] for o in offsets for i in picks]
        axis += 1
    for rest in range(axis, len(shape)):
        offsets = [o + i * strides[rest] for o in offsets for i in range(shape[rest])]
    return offsets


def _take(a, shape, index):
    """a[index] for `a` of `shape`, as a flat list."""
    return [a[i] for i in _positions(shape, index)]


def _scatter(values, shape, index, zero):
    """An array of `shape` holding `zero` except `values` at `index`."""
    out = [zero] * math.prod(shape)
    # No zip(strict=): these helpers must run on Pythons older than 3.10.
    for i, x in zip(_positions(shape, index), values):  # noqa: B905
        out[i] = x
    return out


# What each helper calls (other helpers, or `_mul`): the target copies these
# in with it. A test checks this against the helpers' code.
NEEDS = {
    "_array": ("_check_argument",),
    "_array_sized": ("_check_argument",),
    "_number": ("_check_argument",),
    "_mean": ("_div",),
    "_transpose": ("_strides",),
    "_reduce": ("_transpose",),
    "_matmul": ("_mul",),
    "_positions": ("_strides",),
    "_take": ("_positions",),
    "_scatter": ("_positions",),
}
