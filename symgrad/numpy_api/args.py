"""Argument handling shared by the NumPy-signature functions of the tracer.

Contract: node-level helpers that turn NumPy-style arguments (axis, shape,
index, keyword flags) into the normalized attributes the op table uses, and
raise `TraceError` (through `source.fail`, so the message names the user's
file:line) for arguments symgrad cannot honour. `as_node` makes an array of
lists and tuples of traced values as NumPy's asarray would (stacked), so
every function argument and operator operand takes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symgrad import ir, ops
from symgrad.errors import ConcretizationError
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.ops.structure import stack


def display(name: str) -> str:
    """A qualified callable name as users write it: `np.linalg.solve`."""
    if name.startswith("numpy."):
        return "np." + name[len("numpy.") :]
    if name.startswith("ndarray."):
        return "." + name[len("ndarray.") :] + "()"
    return _OPERATOR_NAMES.get(name, name)


_OPERATOR_NAMES = {"__getitem__": "x[...]", "__setitem__": "x[...] = v"}


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


# Why a traced int cannot be a size: said wherever one is refused.
TRACED_SIZE = (
    "A value computed from traced inputs (int(x), np.int64(x) and "
    "x.astype(int) of one included) is traced too: it may change from call "
    "to call, while sizes and slice bounds are fixed when the module is "
    "compiled. Use a Python int (a constant or an int argument), or keep the "
    "shape and select with a mask (np.where)"
)


def static_int(x, what: str) -> int:
    """`x` as a Python int; a traced value here needs a constant."""
    if is_node(x):
        if x.op == "const" and x.shape == () and x.dtype.kind in "iub":
            return int(x.value)
        fail(
            f"{what} must be a Python int, not a traced value",
            TRACED_SIZE,
            ConcretizationError,
        )
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    try:
        return int(np.asarray(x).item()) if isinstance(x, np.generic) else int(x)
    except (TypeError, ValueError):
        fail(
            f"{what} must be an int, got {type(x).__name__}",
            "Use a Python int",
            ConcretizationError,
        )


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


_MASK_FIX = (
    "Keep the shape instead: np.where(mask, x, 0.0) (or x * mask) for a read, "
    "x[mask] = v with a scalar v for a write"
)


@dataclass(frozen=True)
class Index:
    """A normalized NumPy index: the op template, the index operands it
    refers to as ("index", j), and whether it is advanced (a copy in NumPy)
    or basic (a view)."""

    template: tuple
    operands: tuple
    advanced: bool

    @property
    def scalar_read(self) -> bool:
        """Ints on every axis and nothing else: NumPy returns a scalar copy."""
        return not self.advanced and all(type(i) is int for i in self.template)


def parse_index(key, shape) -> Index:
    """Normalize any NumPy index into the op form (`symgrad.ops.indexing`).

    Constant boolean masks become integer arrays (`np.nonzero`); traced
    integer arrays become index operands; a traced boolean mask is refused
    (the result's shape would depend on the data).
    """
    items = key if type(key) is tuple else (key,)
    parts = [_classify(item) for item in items]
    if sum(1 for kind, _ in parts if kind == "ellipsis") > 1:
        fail("an index can only have a single ellipsis ('...')", "Use one '...'")
    used = sum(_axes_used(kind, value) for kind, value in parts)
    ndim = len(shape)
    if used > ndim:
        fail(
            f"too many indices for an array with {ndim} dimensions ({used} were "
            "indexed)",
            "Index at most one entry per axis",
        )
    advanced = any(kind in ("array", "mask", "node") for kind, _ in parts)
    template, operands = [], []
    axis = 0
    for kind, value in parts:
        if kind == "ellipsis":
            n = ndim - used
            template += [("slice", None, None, None)] * n
            if n == 0 and advanced:
                template.append("...")  # it still separates advanced indices
            axis += n
        elif kind == "none":
            template.append(None)
        elif kind in ("int", "slice"):
            template.append(value)
            axis += 1
        elif kind == "array":
            values = tuple(int(v) for v in value.ravel().tolist())
            template.append(("array", value.shape, values))
            axis += 1
        elif kind == "node":
            template.append(("index", len(operands)))
            operands.append(value)
            axis += 1
        else:  # a constant mask: the integer arrays np.nonzero gives
            _check_mask(value, shape[axis : axis + value.ndim], axis)
            for picks in np.nonzero(value):
                values = tuple(int(v) for v in picks.tolist())
                template.append(("array", (len(values),), values))
            axis += value.ndim
    return Index(tuple(template), tuple(operands), advanced)


def _axes_used(kind, value) -> int:
    if kind in ("int", "slice", "array", "node"):
        return 1
    return value.ndim if kind == "mask" else 0


def _check_mask(mask, dims_, axis):
    for k, (m, n) in enumerate(zip(mask.shape, dims_, strict=True)):
        if not dims.known_equal(m, n):
            fail(
                f"boolean index did not match indexed array along axis {axis + k}; "
                f"size of axis is {n!r} but size of corresponding boolean axis is {m}",
                "Use a mask with the shape of the axes it indexes",
            )


def _classify(item):
    """(kind, value) for one item of an index."""
    if item is Ellipsis:
        return "ellipsis", None
    if item is None:
        return "none", None
    if isinstance(item, slice):
        parts = [item.start, item.stop, item.step]
        for p in parts:
            if isinstance(p, dims.Dim):
                fail(
                    f"a slice bound computed from the symbolic size {p!r} (for "
                    "example len(x) - 1): bounds must be known when the code is "
                    "generated",
                    "Count from the end instead (x[:-1] is x[:len(x) - 1], x[1:] "
                    "keeps the rest), or compile with this size fixed: leave the "
                    "argument out of batch=/shapes=",
                    ConcretizationError,
                )
            if p is not None and not isinstance(p, (int, np.integer)):
                fail(
                    "slice bounds must be Python ints, not traced values",
                    TRACED_SIZE + ", or index with an integer array",
                    ConcretizationError,
                )
        if item.step == 0:
            fail("slice step cannot be zero", "Use a nonzero step")
        return "slice", ("slice",) + tuple(None if p is None else int(p) for p in parts)
    if isinstance(item, (bool, np.bool_)):
        fail(
            "indexing with a single True or False is not supported",
            "Use None to add an axis",
        )
    if isinstance(item, (int, np.integer)):
        return "int", int(item)
    if is_node(item):
        return _classify_node(item)
    if isinstance(item, (list, tuple)):
        if any(is_node(i) for i in walk(item)):
            fail(
                "a list of traced values cannot be used as an index",
                "Make an integer array of them with np.stack first",
            )
        arr = np.asarray(item)
        if arr.size == 0:
            arr = arr.astype(np.intp)  # NumPy reads an empty list as integers
        return _classify_array(arr)
    if isinstance(item, (np.ndarray, np.generic)):
        return _classify_array(np.asarray(item))
    fail(
        f"indexing with a {type(item).__name__} is not supported",
        "Index with ints, slices, None, ..., integer arrays or constant boolean "
        "masks",
    )


def _classify_array(arr):
    if arr.dtype.kind == "b":
        if arr.ndim == 0:
            fail(
                "indexing with a single True or False is not supported",
                "Use None to add an axis",
            )
        return "mask", arr
    if arr.dtype.kind not in "iu":
        fail(
            f"arrays used as indices must be of integer (or boolean) type, not "
            f"{arr.dtype}",
            "Convert the index with .astype(int)",
        )
    return "array", arr


def _classify_node(node):
    if node.op == "const":
        return _classify_array(node.value)
    if node.dtype.kind == "b":
        value = _constant_value(node)
        if value is None and node.op == "input":
            # The mask is one of the function's own arguments: the compiled code
            # takes it as data, so "computed from traced values" would mislead.
            fail(
                f"indexing with the boolean argument {node.attr('name')}: the "
                "compiled code takes it as data, and which entries are True "
                "would decide the result's shape",
                "Keep the shape instead: np.where(mask, x, 0.0) (or x * mask) "
                "for a read, e.g. np.sum(np.where(mask, w, 0.0) ** 2)",
            )
        if value is None:
            fail(
                "indexing with a boolean mask computed from traced values: the "
                "result's shape would depend on the data",
                _MASK_FIX,
            )
        return _classify_array(value)
    if node.dtype.kind not in "iu":
        fail(
            f"arrays used as indices must be of integer (or boolean) type, not "
            f"{node.dtype}",
            "Convert the index with .astype(int)",
        )
    return "node", node


def _constant_value(node):
    """The value of a node computed from constants only, or None (also for
    one that depends on a symbolic size)."""
    nodes = ir.toposort([node])
    if any(n.op in ("input", "dim") or dims.has_symbols(n.attrs) for n in nodes):
        return None
    return ops.evaluate(ir.Graph([], [node], nodes), [])[0]


def basic_index(key, shape) -> tuple:
    """Normalize a basic index (ints, slices, None, ...) into the op form."""
    index = parse_index(key, shape)
    if index.advanced:
        fail("an advanced index is not supported here", "Index with ints or slices")
    return index.template


def as_node(x) -> ir.Node:
    """An operand as a node: nodes pass, numbers and arrays become constants."""
    if is_node(x):
        return x
    if isinstance(x, (list, tuple)):
        return _sequence(x)
    if isinstance(x, (bool, int, float, np.ndarray, np.generic, dims.Dim)):
        return ops.lift(x)
    fail(
        f"cannot use a {type(x).__name__} in traced arithmetic",
        "Use floats, ints or NumPy arrays",
    )


def _sequence(obj) -> ir.Node:
    """A list or tuple as NumPy's asarray makes it (wherever NumPy would:
    `np.sum([1.0, a * a])`, `x * [a, 2.0]`): plain items become constants,
    nested sequences with traced items are stacked along new leading axes."""
    if not any(is_node(x) for x in walk(obj)) or not obj:
        return ops.const(np.asarray(obj))
    parts = [as_node(x) for x in obj]
    first = parts[0].shape
    if any(p.shape != first for p in parts):
        shapes = ", ".join(str(p.shape) for p in parts)
        fail(
            "setting an array element with a sequence: the requested array "
            f"has an inhomogeneous shape (parts of shapes {shapes})",
            "Give every element the same shape",
        )
    return stack(parts, 0)


def walk(items):
    """The leaves of nested lists and tuples."""
    stack = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            yield item
