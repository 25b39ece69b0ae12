"""NumPy products written in terms of matmul, einsum and multiplication: dot,
vdot, inner, outer, tensordot, einsum, kron, vecdot, convolve, correlate."""

from __future__ import annotations

import string

from symgrad import ops
from symgrad.errors import ShapeError
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.numpy_api.args import (
    as_node,
    one_axis,
    static_int,
    unsupported,
)
from symgrad.numpy_api.shapes import reshape, transpose
from symgrad.ops import products
from symgrad.ops.core import implements


def _flat(x):
    return reshape(x, (x.size,))


# ------------------------------------------------------------------ tensordot


def contract(a, b, axes_a, axes_b):
    """Sum of products over `axes_a` of `a` paired with `axes_b` of `b`, the
    remaining axes of `a` then of `b` in order (np.tensordot): one matmul
    between `a` and `b` transposed and reshaped into matrices (or vectors)."""
    for i, j in zip(axes_a, axes_b, strict=True):
        if a.shape[i] != b.shape[j]:
            fail(
                f"shape-mismatch for sum: axis {i} of a has length {a.shape[i]!r} "
                f"and axis {j} of b has length {b.shape[j]!r}",
                "Contract axes of the same length",
            )
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [j for j in range(b.ndim) if j not in axes_b]
    k = dims.prod([a.shape[i] for i in axes_a])
    a2 = transpose(a, free_a + list(axes_a))
    b2 = transpose(b, list(axes_b) + free_b)
    shape_a = tuple(a.shape[i] for i in free_a)
    shape_b = tuple(b.shape[j] for j in free_b)
    a2 = reshape(a2, (dims.prod(shape_a), k) if free_a else (k,))
    b2 = reshape(b2, (k, dims.prod(shape_b)) if free_b else (k,))
    return reshape(ops.matmul(a2, b2), shape_a + shape_b)


def _axis_list(x, ndim):
    if isinstance(x, (list, tuple)):
        return [one_axis(i, ndim) for i in x]
    return [one_axis(x, ndim)]


@implements("numpy.tensordot", "numpy.linalg.tensordot")
def tensordot(a, b, axes=2):
    a, b = as_node(a), as_node(b)
    if isinstance(axes, (list, tuple)):
        if len(axes) != 2:
            fail("tensordot axes must be an int or a pair of sequences", "Fix axes")
        axes_a, axes_b = _axis_list(axes[0], a.ndim), _axis_list(axes[1], b.ndim)
        if len(axes_a) != len(axes_b):
            fail("tensordot: the two axes sequences differ in length", "Pair them")
    else:
        n = static_int(axes, "tensordot axes")
        if not 0 <= n <= min(a.ndim, b.ndim):
            fail(
                f"tensordot axes={n} for arrays with {a.ndim} and {b.ndim} dimensions",
                "Use at most as many axes as both arrays have",
            )
        axes_a, axes_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        fail("tensordot: an axis is repeated", "Name each axis once")
    return contract(a, b, axes_a, axes_b)


# ------------------------------------------------------------------ dot and friends


@implements("numpy.dot", methods=("dot",))
def dot(a, b, out=None):
    unsupported("numpy.dot", out=out)
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    if b.ndim <= 2 and a.ndim <= 2 or b.ndim == 1:
        return ops.matmul(a, b)
    # N-d with M-d: the last axis of a with the second-to-last of b.
    return contract(a, b, [a.ndim - 1], [b.ndim - 2])


@implements("numpy.vdot")
def vdot(a, b, /):
    a, b = as_node(a), as_node(b)
    if a.size != b.size:
        fail(
            f"np.vdot of arrays with {a.size!r} and {b.size!r} elements",
            "Pass arrays of the same size",
        )
    return ops.matmul(_flat(a), _flat(b))


@implements("numpy.inner")
def inner(a, b, /):
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    return contract(a, b, [a.ndim - 1], [b.ndim - 1])


@implements("numpy.outer")
def outer(a, b, out=None):
    unsupported("numpy.outer", out=out)
    a, b = _flat(as_node(a)), _flat(as_node(b))
    return ops.mul(reshape(a, (a.size, 1)), b)


@implements("numpy.linalg.outer")
def _linalg_outer(x1, x2, /):
    x1, x2 = as_node(x1), as_node(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        fail("np.linalg.outer needs two 1-D arrays", "Use np.outer to flatten them")
    return outer(x1, x2)


@implements("numpy.vecdot", "numpy.linalg.vecdot")
def vecdot(x1, x2, /, *, axis=-1):
    x1, x2 = as_node(x1), as_node(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        fail("np.vecdot of a scalar", "Pass arrays with at least one dimension")
    # The axis counts from the end in both operands (as NumPy's gufunc).
    a1, a2 = one_axis(axis, x1.ndim) - x1.ndim, one_axis(axis, x2.ndim) - x2.ndim
    if a1 != a2 or x1.shape[a1] != x2.shape[a2]:
        fail("np.vecdot: the axes do not match", "Use operands that align")
    prod = ops.mul(x1, x2)
    return ops.reduce("sum", prod, (prod.ndim + a1,))


@implements("numpy.kron")
def kron(a, b):
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    # a[i] * b[j] at (i, j) per axis, then each pair of axes merged.
    spread_a = reshape(a, tuple(d for n in sa for d in (n, 1)))
    spread_b = reshape(b, tuple(d for n in sb for d in (1, n)))
    return reshape(
        ops.mul(spread_a, spread_b), tuple(m * n for m, n in zip(sa, sb, strict=True))
    )


# ------------------------------------------------------------------ einsum

_LETTERS = string.ascii_letters


def _interleaved(args):
    """einsum(x, [0, 1], y, [1, 2], [0, 2]) as a subscripts string."""
    pairs, out = (args[:-1], args[-1]) if len(args) % 2 else (args, None)
    operands, lists = list(pairs[0::2]), list(pairs[1::2])

    def term(sub):
        text = ""
        for s in sub:
            if s is Ellipsis:
                text += "..."
            else:
                k = static_int(s, "an einsum subscript")
                if not 0 <= k < 52:
                    fail(f"einsum subscript {k} is out of range", "Use 0 to 51")
                text += _LETTERS[k + 26] if k < 26 else _LETTERS[k - 26]
        return text

    terms = [term(sub) for sub in lists]
    spec = ",".join(terms) + ("" if out is None else "->" + term(out))
    return spec, operands


def _parse_term(term, x, where):
    if term.count("...") > 1 or term.replace("...", "").count("."):
        fail(f"einsum: bad subscripts {term!r} ({where})", "Use one '...' at most")
    bad = [c for c in term.replace("...", "") if c not in _LETTERS]
    if bad:
        fail(f"einsum: invalid subscript {bad[0]!r}", "Use letters a-z and A-Z")
    named = len(term.replace("...", ""))
    if "..." not in term and named != x.ndim or named > x.ndim:
        fail(
            f"einsum: operand {where} has {x.ndim} dimensions but the subscripts "
            f"{term!r} name {named}",
            "Give one letter per dimension (or '...')",
        )
    return x.ndim - named if "..." in term else 0


@implements("numpy.einsum")
def einsum(*operands, out=None, optimize=False, **kwargs):
    unsupported("numpy.einsum", out=out, dtype=kwargs.pop("dtype", None))
    kwargs.pop("order", None)
    kwargs.pop("casting", None)
    if kwargs:
        fail(f"np.einsum with {sorted(kwargs)[0]}= is not supported", "Leave it out")
    if not operands:
        fail("np.einsum needs subscripts and operands", "Pass them")
    if isinstance(operands[0], str):
        spec, args = operands[0], list(operands[1:])
    else:
        spec, args = _interleaved(operands)
    spec = spec.replace(" ", "")
    nodes = [as_node(x) for x in args]
    if spec.count("->") > 1:
        fail("einsum: more than one '->' in the subscripts", "Use one")
    lhs, arrow, output = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(nodes):
        fail(
            f"einsum: {len(terms)} subscript terms for {len(nodes)} operands",
            "Give one term per operand",
        )
    ell = [
        _parse_term(t, x, i) for i, (t, x) in enumerate(zip(terms, nodes, strict=True))
    ]
    used = set(lhs) | set(output)
    fresh = [c for c in _LETTERS if c not in used]
    n_ell = max(ell, default=0)
    if n_ell > len(fresh):
        fail("einsum: too many dimensions under '...'", "Name some of them")
    ell_letters = "".join(fresh[:n_ell])
    terms = [
        t.replace("...", ell_letters[n_ell - e :]) if "..." in t else t
        for t, e in zip(terms, ell, strict=True)
    ]
    if not arrow:
        once = [
            c for c in dict.fromkeys("".join(terms)) if "".join(terms).count(c) == 1
        ]
        output = ell_letters + "".join(sorted(c for c in once if c not in ell_letters))
    else:
        if output.count("...") > 1 or output.replace("...", "").count("."):
            fail(f"einsum: bad output subscripts {output!r}", "Use one '...' at most")
        if "..." not in output and n_ell and any(ell):
            fail(
                "einsum: the operands have '...' dimensions but the output has no "
                "'...'",
                "Add '...' to the output subscripts",
            )
        output = output.replace("...", ell_letters)
        for c in output:
            if c not in _LETTERS:
                fail(f"einsum: invalid output subscript {c!r}", "Use letters")
            if output.count(c) > 1:
                fail(f"einsum: output subscript {c!r} appears twice", "Name it once")
            if c not in "".join(terms):
                fail(
                    f"einsum: output subscript {c!r} is not in the inputs",
                    "Use labels of the operands",
                )
    # NumPy broadcasts a dimension of length 1 against its label's size.
    size: dict = {}
    for t, x in zip(terms, nodes, strict=True):
        for c, d in zip(t, x.shape, strict=True):
            try:
                size[c] = dims.broadcast_dims(size.get(c, 1), d)
            except ShapeError:
                fail(
                    f"einsum: label {c!r} has sizes {size[c]!r} and {d!r}",
                    "Use operands whose shapes fit the subscripts",
                )
    for i, (t, x) in enumerate(zip(terms, nodes, strict=True)):
        target = tuple(size[c] for c in t)
        if target != x.shape:
            nodes[i] = ops.broadcast_to(x, target)
    return products.einsum(tuple(terms), output, *nodes, optimize=bool(optimize))


# ------------------------------------------------------------------ convolve


def _conv(op, a, v, mode):
    a, v = as_node(a), as_node(v)
    a = reshape(a, (1,)) if a.ndim == 0 else a
    v = reshape(v, (1,)) if v.ndim == 0 else v
    if a.ndim != 1 or v.ndim != 1:
        fail(f"np.{op} of arrays with more than one dimension", "Pass 1-D arrays")
    if mode not in ("full", "same", "valid"):
        fail(f"np.{op} mode {mode!r}", "Use mode='full', 'same' or 'valid'")
    if a.size == 0 or v.size == 0:
        fail(f"np.{op} of an empty array", "Pass non-empty arrays")
    return ops.apply(op, a, v, mode=mode)


@implements("numpy.convolve")
def convolve(a, v, mode="full"):
    return _conv("convolve", a, v, mode)


@implements("numpy.correlate")
def correlate(a, v, mode="valid"):
    return _conv("correlate", a, v, mode)
