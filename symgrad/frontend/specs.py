"""Symbolic argument shapes: which axes of the arguments are sizes known only
when the generated code runs.

Contract: `resolve(params, leaves, paths, batch=None, shapes=None)` returns,
per flat argument leaf, its shape for tracing: the example's own shape, or a
shape holding `symgrad.ir.dims` symbols where the user asked for them. Two ways
to ask, in JAX's spirit:

- `batch={"X": 0, "y": 0}`: argument (name or position) -> axis; every axis
  named gets the one symbol `n` (the batch size, shared by all).
- `shapes={"X": "n, 2", "y": "n"}`: argument -> a shape spec as
  `jax.export.symbolic_shape` writes them: names are symbols (shared by
  name, across arguments), numbers fixed sizes.

An argument that is a list, tuple or dict of arrays gets the spec on every
array leaf in it. Everything a spec says is checked against the example
(number of axes, fixed sizes, one size per symbol), and mistakes raise an
`ArgumentError` that names the argument. `normalize` checks the keywords
themselves (once, where they are given) and `key` is the hashable form that
goes into cache keys.
"""

from __future__ import annotations

import numpy as np

from symgrad.codegen import keys
from symgrad.codegen.naming import RESERVED, sanitize
from symgrad.errors import ArgumentError, ShapeError
from symgrad.ir import dims

BATCH_SYMBOL = "n"


def _check_symbol(name: str, where: str):
    if (
        not name.isascii()
        or sanitize(name) != name
        or name in RESERVED
        or name.startswith("_")
    ):
        raise ArgumentError(
            f"{where}: {name!r} cannot name a size in generated code (it is a "
            "Python keyword or builtin, starts with _, or is not plain ASCII); "
            "use a name such as n, batch or rows"
        )


def normalize(batch=None, shapes=None):
    """`(batch, shapes)` checked, as sorted tuples of (argument, value) pairs
    (hashable), or None for each keyword not given."""
    return _normalize_batch(batch), _normalize_shapes(shapes)


def _argument_key(key, what):
    if isinstance(key, bool) or not isinstance(key, (str, int, np.integer)):
        raise ArgumentError(f"{what} keys are argument names or positions, not {key!r}")
    return key if isinstance(key, str) else int(key)


def _sorted(items) -> tuple:
    return tuple(sorted(items, key=lambda kv: (isinstance(kv[0], str), kv[0])))


def _normalize_batch(batch):
    if batch is None:
        return None
    if not isinstance(batch, dict):
        raise ArgumentError(
            f"batch= maps argument names to the axis that is the batch, like "
            f'{{"X": 0, "y": 0}}; got {type(batch).__name__}'
        )
    out = []
    for key, axis in batch.items():
        key = _argument_key(key, "batch=")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ArgumentError(
                f"batch={{{key!r}: {axis!r}}}: the value is an axis (an int)"
            )
        out.append((key, int(axis)))
    return _sorted(out)


def _normalize_shapes(shapes):
    if shapes is None:
        return None
    if not isinstance(shapes, dict):
        raise ArgumentError(
            'shapes= maps argument names to shape specs, like {"X": "n, 2"}; got '
            f"{type(shapes).__name__}"
        )
    out = []
    for key, spec in shapes.items():
        key = _argument_key(key, "shapes=")
        try:
            parsed = _parse(spec)
        except ShapeError as exc:
            raise ArgumentError(f"shapes= for {key!r}: {exc}") from None
        for d in parsed:
            if dims.is_symbolic(d):
                _check_symbol(dims.name_of(d), f"shapes= for {key!r}")
        out.append((key, parsed))
    return _sorted(out)


def _parse(spec) -> tuple:
    if isinstance(spec, str):
        return dims.parse_spec(spec)
    if isinstance(spec, (tuple, list)):
        out = []
        for d in spec:
            if isinstance(d, str):
                out.extend(dims.parse_spec(d))
            elif dims.is_symbol(d):
                out.append(d)
            elif isinstance(d, (int, np.integer)) and not isinstance(d, bool):
                out.append(int(d))
            else:
                raise ShapeError(f"{d!r} is neither a size nor a symbol name")
        return tuple(out)
    raise ShapeError(f"a shape spec is a string like 'n, 2', not {spec!r}")


def key(batch, shapes):
    """The hashable form of normalized keywords (part of cache keys)."""
    return (batch, shapes)


def _position(key, params, what) -> int:
    if isinstance(key, int):
        if not 0 <= key < len(params):
            raise ArgumentError(
                f"{what} names argument {key}, but there are {len(params)}"
            )
        return key
    if key not in params:
        raise ArgumentError(
            f"{what} names {key!r}, which is not an argument of the function "
            f"(its arguments: {', '.join(params)})"
        )
    return params.index(key)


def resolve(params, leaves, paths, dynamic, batch=None, shapes=None) -> dict:
    """{leaf index: the symbolic shape to trace it with} for the leaves that
    get symbolic sizes (every other leaf keeps its own shape).

    `dynamic[i]` says whether leaf i is a graph input; `batch` and `shapes`
    are normalized (see `normalize`).
    """
    out: dict = {}
    if not batch and not shapes:
        return out
    wanted: dict = {}  # argument position -> (what, spec per leaf)
    for key_, axis in batch or ():
        pos = _position(key_, params, "batch=")
        wanted[pos] = ("batch", axis)
    for key_, spec in shapes or ():
        pos = _position(key_, params, "shapes=")
        if pos in wanted:
            raise ArgumentError(
                f"{params[pos]} is named by both batch= and shapes=; use one"
            )
        wanted[pos] = ("shapes", spec)
    seen: dict = {}  # symbol -> (leaf index, axis, size)
    for pos, (kind, spec) in sorted(wanted.items()):
        arrays = [
            i
            for i, p in enumerate(paths)
            if p[0] == pos and dynamic[i] and _shape(leaves[i])
        ]
        if not arrays:
            raise ArgumentError(
                f"{kind}= names {params[pos]}, which holds no array (symbolic "
                "sizes are axes of array arguments)"
            )
        for i in arrays:
            example = _shape(leaves[i])
            shape = _apply(kind, spec, example, lambda i=i: _label(params, paths[i]))
            for axis, (d, size) in enumerate(zip(shape, example, strict=True)):
                if dims.is_symbolic(d):
                    first = seen.setdefault(dims.name_of(d), (i, axis, size))
                    if first[2] != size:
                        _disagree(
                            dims.name_of(d), first, (i, axis, size), params, paths
                        )
            out[i] = shape
    return out


def _shape(x) -> tuple:
    return x.shape if type(x) is np.ndarray else np.shape(x)


def _label(params, path) -> str:
    return keys.label(params[path[0]], path[1:])


def _apply(kind, spec, example, label) -> tuple:
    """The symbolic shape `spec` gives a leaf of shape `example` (`label()`
    names it in errors)."""
    if kind == "batch":
        axis = spec
        if not -len(example) <= axis < len(example):
            raise ArgumentError(
                f"batch= axis {axis} of {label()}, which has {len(example)} "
                f"ax{'is' if len(example) == 1 else 'es'} (shape {example})"
            )
        shape = list(example)
        shape[axis % len(example)] = dims.symbol(BATCH_SYMBOL)
        return tuple(shape)
    if len(spec) != len(example) or any(
        not dims.is_symbolic(d) and d != size
        for d, size in zip(spec, example, strict=True)
    ):
        raise ArgumentError(
            f"shapes= gives {label()} the shape {dims.shape_str(spec)}, but the "
            f"argument has shape {tuple(int(n) for n in example)}"
        )
    return tuple(spec)


def _disagree(name, first, second, params, paths):
    """Two arguments with different sizes for one symbol: the message the
    generated modules give (`X has 150 rows but y has 149`)."""
    (i, axis, size), (j, axis2, size2) = first, second
    a, b = _label(params, paths[i]), _label(params, paths[j])
    if axis == axis2 == 0:
        text = f"{a} has {size} rows but {b} has {size2}"
    else:
        text = (
            f"{a} has {size} entries along axis {axis} but {b} has {size2} along "
            f"axis {axis2}"
        )
    raise ArgumentError(f"{text} (both are the size {name})")
