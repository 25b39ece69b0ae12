"""Argument handling shared by the NumPy-signature functions of the tracer.

Contract: node-level helpers that turn NumPy-style arguments (axis, shape,
index, keyword flags) into the normalized attributes the op table uses, and
raise `TraceError` (through `source.fail`, so the message names the user's
file:line) for arguments symgrad cannot honour.
"""

from __future__ import annotations

import numpy as np

from symgrad import dims, ir, ops
from symgrad.source import fail


def display(name: str) -> str:
    """A qualified callable name as users write it: `np.linalg.solve`."""
    if name.startswith("numpy."):
        return "np." + name[len("numpy.") :]
    if name.startswith("ndarray."):
        return "." + name[len("ndarray.") :] + "()"
    return name


def unsupported(fname: str, **given):
    """Refuse keyword arguments that are set to something other than None."""
    bad = sorted(k for k, v in given.items() if v is not None)
    if bad:
        fail(
            f"{display(fname)} with {', '.join(k + '=' for k in bad)} is not supported",
            "Leave those arguments out",
        )


def is_node(x) -> bool:
    return isinstance(x, ir.Node)


def static_int(x, what: str) -> int:
    """`x` as a Python int; a traced value here needs a constant."""
    if is_node(x):
        if x.op == "const" and x.shape == () and x.dtype.kind in "iub":
            return int(x.value)
        fail(f"{what} must be a Python int, not a traced value", "Use a constant")
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    try:
        return int(np.asarray(x).item()) if isinstance(x, np.generic) else int(x)
    except (TypeError, ValueError):
        fail(f"{what} must be an int, got {type(x).__name__}", "Use a Python int")


def axes(axis, ndim: int):
    """Normalized axes: None, or a tuple of non-negative ints (in given order)."""
    if axis is None:
        return None
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        a = static_int(a, "axis")
        if not -ndim <= a < ndim:
            fail(
                f"axis {a} is out of range for an array with {ndim} dimensions",
                "Pick a valid axis",
            )
        a %= ndim
        if a in out:
            fail(f"axis {a} is repeated", "Name each axis once")
        out.append(a)
    return tuple(out)


def one_axis(axis, ndim: int) -> int:
    (a,) = axes(axis, ndim)
    return a


def shape_arg(shape, size=None) -> tuple:
    """A NumPy shape argument (int, tuple, `-1` inferred from `size`)."""
    if isinstance(shape, (tuple, list)) and len(shape) == 1:
        if isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
    if not isinstance(shape, (tuple, list)):
        shape = (shape,)
    out = [d if dims.is_symbolic(d) else static_int(d, "a shape entry") for d in shape]
    if out.count(-1) > 1:
        fail("only one -1 is allowed in a shape", "Give the other sizes")
    if -1 in out:
        if size is None:
            fail("-1 in a shape here", "Give every size")
        known = dims.prod([d for d in out if not (type(d) is int and d == -1)])
        out[out.index(-1)] = size // known if known else 0
    return tuple(out)


def basic_index(key, shape) -> tuple:
    """Normalize a basic index (ints, slices, None, ...) into the op form."""
    items = key if isinstance(key, tuple) else (key,)
    n_real = sum(1 for i in items if i is not None and i is not Ellipsis)
    if sum(1 for i in items if i is Ellipsis) > 1:
        fail("an index can only have a single ellipsis ('...')", "Use one '...'")
    out = []
    for item in items:
        if item is Ellipsis:
            out.extend([("slice", None, None, None)] * (len(shape) - n_real))
        elif item is None:
            out.append(None)
        elif isinstance(item, slice):
            parts = [item.start, item.stop, item.step]
            for p in parts:
                if p is not None and not isinstance(p, (int, np.integer)):
                    fail("slice bounds must be Python ints", "Use constant bounds")
            if item.step == 0:
                fail("slice step cannot be zero", "Use a nonzero step")
            out.append(("slice",) + tuple(None if p is None else int(p) for p in parts))
        elif isinstance(item, (bool, np.bool_)):
            fail(
                "boolean indexing is not supported", "Use np.where(mask, x, 0) instead"
            )
        elif isinstance(item, (int, np.integer)):
            out.append(int(item))
        elif is_node(item):
            fail(
                "indexing with a traced value is not supported",
                "Index with Python ints or slices",
            )
        else:
            fail(
                f"indexing with {type(item).__name__} (advanced indexing) is not "
                "supported",
                "Index with Python ints, slices, None or ...",
            )
    return tuple(out)


def as_node(x) -> ir.Node:
    """An operand as a node: nodes pass, numbers and arrays become constants."""
    if is_node(x):
        return x
    if isinstance(x, (list, tuple)):
        if any(is_node(i) for i in walk(x)):
            fail(
                "a list of traced values cannot be used as an array here",
                "Combine them with np.stack or np.array first",
            )
        return ops.const(np.asarray(x))
    if isinstance(x, (bool, int, float, np.ndarray, np.generic)):
        return ops.lift(x)
    fail(
        f"cannot use a {type(x).__name__} in traced arithmetic",
        "Use floats, ints or NumPy arrays",
    )


def walk(items):
    """The leaves of nested lists and tuples."""
    stack = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            yield item
