"""Reductions, shape primitives, matmul and basic indexing.

Contract: like `elementwise`, one `Op` record per primitive plus a builder of
the same name. Attributes are normalized before they reach the table: axes are
sorted non-negative ints, shapes are concrete tuples, indices are tuples of
ints, `("slice", start, stop, step)` and None.

Ties in `max`/`min` reductions split the cotangent evenly among all maximal
(minimal) entries, matching the rule for `maximum`/`minimum`.
"""

from __future__ import annotations

import numpy as np

from symgrad import dims, ir
from symgrad.errors import ShapeError
from symgrad.ops.core import (
    Op,
    apply,
    dtype_first,
    dtype_float,
    dtype_promote,
    lift,
    register,
)
from symgrad.ops.elementwise import div, eq, where


def _scalar_identity(a, **_attrs):
    # The SymPy form of a shape op or reduction applied to a scalar, the only
    # case the SymPy bridge converts (it rejects every non-scalar node).
    return a


# ------------------------------------------------------------------ builders


def reduce(name, a, axes=None, keepdims=False):
    """Reduce over `axes` (None: all). Full reductions are stored as None."""
    if axes is not None:
        axes = tuple(sorted(axes))
        if axes == tuple(range(a.ndim)):
            axes = None
    return apply(name, a, axes=axes, keepdims=bool(keepdims))


def _all(a_ndim, axes):
    return tuple(range(a_ndim)) if axes is None else axes


def reshape(a, shape):
    return apply("reshape", a, shape=tuple(shape))


def transpose(a, axes):
    return apply("transpose", a, axes=tuple(axes))


def broadcast_to(a, shape):
    return apply("broadcast_to", a, shape=tuple(shape))


def matmul(a, b):
    return apply("matmul", a, b)


def getitem(a, index):
    return apply("getitem", a, index=index)


def scatter(g, shape, index):
    return apply("scatter", g, shape=tuple(shape), index=index)


def sum_to(g: ir.Node, shape: tuple) -> ir.Node:
    """Undo broadcasting: sum `g` down to `shape` (NumPy's rules in reverse)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    summed = reduce("sum", g, axes) if axes else g
    return summed if summed.shape == shape else reshape(summed, shape)


def _kept(shape, axes):
    axes = _all(len(shape), axes)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g, a, axes, keepdims):
    """A reduction's cotangent reshaped with kept axes, ready to broadcast."""
    return g if keepdims else reshape(g, _kept(a.shape, axes))


# ------------------------------------------------------------------ reductions


def _reduce_shape(shapes, axes, keepdims):
    (shape,) = shapes
    if keepdims:
        return _kept(shape, axes)
    axes = _all(len(shape), axes)
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _reduce_dtype(nodes, **_):
    dt = nodes[0].dtype
    # NumPy sums bools and small ints in the default int type.
    return np.dtype(np.int64) if dt.kind in "bi" else dt


def _reduction_src(name):
    def printer(a, axes, keepdims):
        args = a
        if axes is not None:
            args += f", axis={axes[0] if len(axes) == 1 else axes}"
        if keepdims:
            args += ", keepdims=True"
        return f"np.{name}({args})"

    return printer


def _sum_vjp(g, out, a, axes, keepdims):
    return (broadcast_to(_expand(g, a, axes, keepdims), a.shape),)


def size_node(count) -> ir.Node:
    """A float constant for an element count (static counts only, for now)."""
    if not isinstance(count, int):
        raise ShapeError(f"a count of {count!r} elements is symbolic")
    return lift(float(count))


def _mean_vjp(g, out, a, axes, keepdims):
    count = dims.prod([a.shape[i] for i in _all(a.ndim, axes)])
    share = div(g, size_node(count))
    return (broadcast_to(_expand(share, a, axes, keepdims), a.shape),)


def _extreme_vjp(g, out, a, axes, keepdims):
    # Every entry equal to the extreme gets an equal share of the cotangent.
    hits = eq(a, _expand(out, a, axes, keepdims))
    count = reduce("sum", hits, axes, keepdims=True)
    share = div(_expand(g, a, axes, keepdims), count)
    return (where(hits, share, 0.0),)


def _register_reduction(name, fn, vjp, dtype):
    register(
        Op(
            name=name,
            nin=1,
            shape=_reduce_shape,
            dtype=dtype,
            eval=lambda a, axes, keepdims: fn(a, axis=axes, keepdims=keepdims),
            vjp=lambda g, out, a: vjp(g, out, a, **dict(out.attrs)),
            numpy=_reduction_src(name),
            sympy=_scalar_identity,
            # NumPy sums start from +0.0 or the first element, and max/min
            # select: the result is -0.0 only if an element is.
            flags=frozenset(("reduction", "zero_sign_from_operands")),
        )
    )


_register_reduction("sum", np.sum, _sum_vjp, _reduce_dtype)
_register_reduction("mean", np.mean, _mean_vjp, dtype_float)
_register_reduction("max", np.max, _extreme_vjp, dtype_first)
_register_reduction("min", np.min, _extreme_vjp, dtype_first)


# ------------------------------------------------------------------ shape ops


def _reshape_shape(shapes, shape):
    if dims.prod(shapes[0]) != dims.prod(shape):
        raise ShapeError(
            f"cannot reshape an array of shape {dims.shape_str(shapes[0])} into "
            f"{dims.shape_str(shape)}"
        )
    return shape


def _transpose_shape(shapes, axes):
    if sorted(axes) != list(range(len(shapes[0]))):
        raise ShapeError(f"axes {axes} do not match an array of shape {shapes[0]}")
    return tuple(shapes[0][i] for i in axes)


def _broadcast_shape(shapes, shape):
    if not dims.can_broadcast_to(shapes[0], shape):
        raise ShapeError(
            f"cannot broadcast shape {dims.shape_str(shapes[0])} to "
            f"{dims.shape_str(shape)}"
        )
    return shape


def _transpose_src(a, axes):
    if axes == tuple(reversed(range(len(axes)))):
        return f"{a}.T"
    return f"np.transpose({a}, {axes})"


register(
    Op(
        name="reshape",
        nin=1,
        shape=_reshape_shape,
        dtype=dtype_first,
        eval=lambda a, shape: np.reshape(a, shape),
        vjp=lambda g, out, a: (reshape(g, a.shape),),
        numpy=lambda a, shape: f"np.reshape({a}, {shape})",
        sympy=_scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)
register(
    Op(
        name="transpose",
        nin=1,
        shape=_transpose_shape,
        dtype=dtype_first,
        eval=lambda a, axes: np.transpose(a, axes),
        vjp=lambda g, out, a: (
            transpose(g, tuple(np.argsort(out.attr("axes")).tolist())),
        ),
        numpy=_transpose_src,
        sympy=_scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)
register(
    Op(
        name="broadcast_to",
        nin=1,
        shape=_broadcast_shape,
        dtype=dtype_first,
        eval=lambda a, shape: np.broadcast_to(a, shape),
        vjp=lambda g, out, a: (sum_to(g, a.shape),),
        numpy=lambda a, shape: f"np.broadcast_to({a}, {shape})",
        sympy=_scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)

# ------------------------------------------------------------------ matmul


def _matmul_shape(shapes):
    a, b = shapes
    if not a or not b:
        raise ShapeError("matmul needs arrays with at least one dimension, not scalars")
    a2 = a if len(a) > 1 else (1,) + a
    b2 = b if len(b) > 1 else b + (1,)
    if a2[-1] != b2[-2]:
        raise ShapeError(
            f"matmul: shapes {dims.shape_str(a)} and {dims.shape_str(b)} do not "
            f"align ({a2[-1]!r} != {b2[-2]!r})"
        )
    batch = dims.broadcast_shapes(a2[:-2], b2[:-2])
    out = batch + a2[-2:-1] * (len(a) > 1) + b2[-1:] * (len(b) > 1)
    return out


def _swap_last(x):
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(x, axes)


def _matmul_vjp(g, out, a, b):
    # Promote 1-D operands to matrices the way matmul does, then use
    # dA = G @ B^T and dB = A^T @ G; autodiff sums broadcast batch axes away.
    a2 = a if a.ndim > 1 else reshape(a, (1,) + a.shape)
    b2 = b if b.ndim > 1 else reshape(b, b.shape + (1,))
    batch = dims.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    g2 = reshape(g, batch + (a2.shape[-2], b2.shape[-1]))
    ga = sum_to(matmul(g2, _swap_last(b2)), a2.shape)
    gb = sum_to(matmul(_swap_last(a2), g2), b2.shape)
    return reshape(ga, a.shape), reshape(gb, b.shape)


register(
    Op(
        name="matmul",
        nin=2,
        shape=_matmul_shape,
        dtype=dtype_promote,
        eval=np.matmul,
        vjp=_matmul_vjp,
        numpy=lambda a, b: f"{a} @ {b}",
        operators=("__matmul__", "__rmatmul__"),
        answers=("numpy.matmul",),
    )
)

# ------------------------------------------------------------------ indexing


def index_value(index):
    """The Python index object for a normalized index tuple."""
    return tuple(slice(*i[1:]) if isinstance(i, tuple) else i for i in index)


def slice_length(start, stop, step, n):
    """How many elements `[start:stop:step]` picks from an axis of length `n`."""
    if isinstance(n, int):
        return len(range(*slice(start, stop, step).indices(n)))
    # A symbolic length: the forms whose length is a dimension expression.
    step = 1 if step is None else step
    if step != 1:
        raise ShapeError(
            f"a slice with step {step} of the symbolic axis {n!r} has a length "
            "symgrad cannot express; use step 1"
        )

    def bound(b, default):
        if b is None:
            return default
        return b if b >= 0 else n + b

    start, stop = bound(start, 0), bound(stop, n)
    if stop is n and isinstance(start, int):
        return n - start
    if isinstance(stop, int) and isinstance(start, int):
        return max(stop - start, 0)
    return stop - start


def _getitem_shape(shapes, index):
    (shape,) = shapes
    out = []
    axis = 0
    for item in index:
        if item is None:
            out.append(1)
            continue
        if axis >= len(shape):
            raise ShapeError(
                f"too many indices for an array of shape {dims.shape_str(shape)}"
            )
        n = shape[axis]
        if isinstance(item, tuple):
            out.append(slice_length(*item[1:], n))
        elif isinstance(n, int) and not -n <= item < n:
            raise ShapeError(
                f"index {item} is out of bounds for axis {axis} with size {n}"
            )
        axis += 1
    return tuple(out) + tuple(shape[axis:])


register(
    Op(
        name="getitem",
        nin=1,
        shape=_getitem_shape,
        dtype=dtype_first,
        eval=lambda a, index: a[index_value(index)],
        vjp=lambda g, out, a: (scatter(g, a.shape, out.attr("index")),),
        numpy=lambda a, index: f"{a}[{ir.format_index(index)}]",
        sympy=_scalar_identity,
        # Moves or selects elements: the result is -0.0 only where one was.
        flags=frozenset(("view", "zero_sign_from_operands")),
    )
)


def _scatter_eval(g, shape, index):
    out = np.zeros(shape, dtype=np.result_type(g))
    out[index_value(index)] = g
    return out


def _zeros_src(shape, dtype):
    suffix = "" if dtype == np.float64 else f", dtype=np.{dtype.name}"
    return f"np.zeros({dims.shape_str(shape)}{suffix})"


register(
    Op(
        name="scatter",
        nin=1,
        shape=lambda shapes, shape, index: shape,
        dtype=dtype_first,
        eval=_scatter_eval,
        vjp=lambda g, out, a: (getitem(g, out.attr("index")),),
        sympy=_scalar_identity,
        flags=frozenset(("zero_sign_from_operands",)),
        # Basic indices select each element at most once, so assignment into
        # zeros is exact (no accumulation is needed).
        numpy_stmts=lambda out, g, shape, index, dtype: [
            f"{out} = {_zeros_src(shape, dtype)}",
            f"{out}[{ir.format_index(index)}] = {g}",
        ],
    )
)
