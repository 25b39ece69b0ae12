"""Products: matrix multiplication (with NumPy's batching and 1-D rules),
einsum, and 1-D convolution and correlation.

Contract: one `Op` record per primitive plus a builder of the same name; VJP
rules build products of the cotangent with the other operands (the VJP of an
einsum is an einsum, of a convolution a correlation and back). `einsum` nodes
hold a normalized specification: one string of letters per operand and one
for the output, each label with a single size (the NumPy-signature layer in
`symgrad.numpy_api.products` parses `...`, implicit outputs and broadcasting
into that form).
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import ShapeError
from symgrad.ir import dims
from symgrad.ops.core import (
    Op,
    apply,
    dtype_promote,
    register,
)
from symgrad.ops.elementwise import mul
from symgrad.ops.shapes import broadcast_to, reshape, sum_to, transpose


def matmul(a, b):
    return apply("matmul", a, b)


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
    if a.ndim == 1 and b.ndim == 1:  # a dot product: g is a scalar
        return mul(g, b), mul(a, g)
    if b.ndim == 1 and a.ndim == 2:  # matrix @ vector
        return mul(reshape(g, g.shape + (1,)), b), matmul(g, a)
    if a.ndim == 1 and b.ndim == 2:  # vector @ matrix
        return matmul(b, g), mul(reshape(a, a.shape + (1,)), g)
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
        flags=frozenset(("fresh", "c_contiguous")),
        operators=("__matmul__", "__rmatmul__"),
        answers=("numpy.matmul", "numpy.linalg.matmul"),
    )
)


# ------------------------------------------------------------------ einsum


def einsum(subscripts, output, *operands, optimize=False):
    """`np.einsum` in normalized form: one label string per operand (letters
    only, no `...`, every label with one size), and the output's labels.

    A single operand with distinct labels is a sum and a transpose, and is
    built as those (VJP rules make many of them).
    """
    subscripts = tuple(subscripts)
    if len(operands) == 1 and operands[0].dtype.kind == "f":
        (labels,), (x,) = subscripts, operands
        if len(set(labels)) == len(labels) and set(output) <= set(labels):
            summed = tuple(i for i, label in enumerate(labels) if label not in output)
            if summed:
                full = len(summed) == x.ndim
                x = apply("sum", x, axes=None if full else summed, keepdims=False)
            left = [label for label in labels if label in output]
            perm = tuple(left.index(label) for label in output)
            return x if perm == tuple(range(len(perm))) else transpose(x, perm)
    return apply(
        "einsum",
        *operands,
        subscripts=subscripts,
        output=output,
        optimize=bool(optimize),
    )


def einsum_spec(subscripts, output) -> str:
    return ",".join(subscripts) + "->" + output


def label_sizes(subscripts, shapes) -> dict:
    """Each label's size; a label with two different sizes is a ShapeError."""
    size: dict = {}
    for labels, shape in zip(subscripts, shapes, strict=True):
        if len(labels) != len(shape):
            raise ShapeError(
                f"einsum: operand {labels!r} has {len(shape)} dimensions, not "
                f"{len(labels)}"
            )
        for label, d in zip(labels, shape, strict=True):
            if label in size:
                size[label] = dims.same(size[label], d, f"einsum: sizes of {label!r}")
            else:
                size[label] = d
    return size


def _einsum_shape(shapes, subscripts, output, optimize):
    size = label_sizes(subscripts, shapes)
    return tuple(size[label] for label in output)


def _einsum_eval(*arrays, subscripts, output, optimize):
    return np.einsum(einsum_spec(subscripts, output), *arrays, optimize=optimize)


def _embed_diagonal(part, distinct, labels, size):
    """`part` (labels `distinct`) written on the diagonals of an array with
    the repeated labels `labels` (zeros elsewhere): the adjoint of reading
    a diagonal (`ii->i`)."""
    # Group each label's occurrences, merge each group into one axis of
    # size n**r, where the diagonal is every (1 + n + ... + n**(r-1))-th entry.
    merged, index, grouped = [], [], []
    for label in distinct:
        r, n = labels.count(label), size[label]
        merged.append(dims.prod([n] * r))
        step = sum(n**i for i in range(r)) if r > 1 else None
        index.append(("slice", None, None, step))
        grouped += [label] * r
    x = apply("scatter", part, shape=tuple(merged), index=tuple(index))
    x = reshape(x, tuple(size[label] for label in grouped))
    # The o-th occurrence of a label in `labels` is its o-th one in `grouped`.
    perm = []
    for p, label in enumerate(labels):
        o = labels[:p].count(label)
        perm.append([i for i, g in enumerate(grouped) if g == label][o])
    return x if perm == sorted(perm) else transpose(x, tuple(perm))


def _einsum_vjp(g, out, *operands):
    subscripts, output = out.attr("subscripts"), out.attr("output")
    optimize = out.attr("optimize")
    size = label_sizes(subscripts, [x.shape for x in operands])
    grads = []
    for k, labels in enumerate(subscripts):
        # The cotangent of operand k contracts the cotangent with every other
        # operand onto operand k's labels.
        others = [j for j in range(len(operands)) if j != k]
        subs = (output,) + tuple(subscripts[j] for j in others)
        args = [g] + [operands[j] for j in others]
        scale = not output and others
        if scale:
            # A scalar cotangent scales the contraction of the others.
            subs, args = subs[1:], args[1:]
        seen = set("".join(subs))
        distinct = "".join(dict.fromkeys(labels))
        kept = "".join(label for label in distinct if label in seen)
        part = einsum(subs, kept, *args, optimize=optimize)
        if scale:
            part = mul(part, g)
        if kept != distinct:
            # Labels only operand k has were summed over: the cotangent is
            # the same along them.
            ones = tuple(size[label] if label in seen else 1 for label in distinct)
            if part.shape != ones:
                part = reshape(part, ones)
            part = broadcast_to(part, tuple(size[label] for label in distinct))
        if distinct != labels:
            part = _embed_diagonal(part, distinct, labels, size)
        grads.append(part)
    return tuple(grads)


def _einsum_sympy(*args, **_attrs):
    # Only scalar einsums reach SymPy: the product of the operands.
    out = args[0]
    for a in args[1:]:
        out = out * a
    return out


register(
    Op(
        name="einsum",
        nin=None,
        shape=_einsum_shape,
        dtype=dtype_promote,
        eval=_einsum_eval,
        vjp=_einsum_vjp,
        sympy=_einsum_sympy,
    )
)


# ------------------------------------------------------------------ convolve


def convolve(a, v, mode="full"):
    return apply("convolve", a, v, mode=mode)


def correlate(a, v, mode="valid"):
    return apply("correlate", a, v, mode=mode)


def conv_window(op: str, n, m, mode: str) -> tuple:
    """(start, length) of `mode`'s output within the full result, for inputs
    of lengths n and m (NumPy's rules; correlate centers 'same' differently
    when the second input is the longer one)."""
    full = n + m - 1
    if mode == "full":
        return 0, full
    if dims.known_ge(m, n):
        short, long = n, m
    elif dims.known_ge(n, m):
        short, long = m, n
    else:
        raise ShapeError(
            f"np.{op} in mode {mode!r} of lengths {n!r} and {m!r}: the result "
            "depends on which is longer, which symgrad cannot tell for symbolic "
            "sizes; use mode='full', or static lengths"
        )
    if mode == "valid":
        return short - 1, long - short + 1
    if op == "correlate" and m != n and dims.known_ge(m, n):
        return n // 2, long
    return (short - 1) // 2, long


def _conv_shape(op):
    def shape(shapes, mode):
        a, v = shapes
        if len(a) != 1 or len(v) != 1:
            raise ShapeError(f"np.{op} needs two 1-D arrays")
        if a[0] == 0 or v[0] == 0:
            raise ShapeError(f"np.{op} of an empty array")
        return (conv_window(op, a[0], v[0], mode)[1],)

    return shape


def _reversed(x):
    return apply("getitem", x, index=(("slice", None, None, -1),))


def _conv_vjp(op):
    def vjp(g, out, a, v):
        (n,), (m,) = a.shape, v.shape
        start, length = conv_window(op, n, m, out.attr("mode"))
        full = n + m - 1
        if length != full:
            index = (("slice", start, start + length, None),)
            g = apply("scatter", g, shape=(full,), index=index)
        if op == "convolve":
            return correlate(g, v, "valid"), correlate(g, a, "valid")
        return convolve(g, v, "valid"), _reversed(correlate(g, a, "valid"))

    return vjp


for _op, _default in (("convolve", "full"), ("correlate", "valid")):
    register(
        Op(
            name=_op,
            nin=2,
            shape=_conv_shape(_op),
            dtype=dtype_promote,
            eval=getattr(np, _op),
            vjp=_conv_vjp(_op),
        )
    )
