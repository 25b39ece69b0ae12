"""simplify: algebraic rewrites that are exact in IEEE arithmetic.

Contract: `simplify_rule(node)` returns an equivalent, cheaper node or None.
Every rule keeps each computed value equal (`==`) for all inputs, NaN and inf
included; a rewrite only applies when the replacement already has the node's
shape and dtype. Rules that are wrong for inf/NaN (0*x -> 0, x/x -> 1, x-x -> 0)
are deliberately absent.
"""

from __future__ import annotations

import numpy as np

from symgrad import ops


def _same(node, repl):
    return repl if repl.shape == node.shape and repl.dtype == node.dtype else None


def _is(node, value):
    return ops.is_const(node, value)


def _add(node, a, b):
    if _is(b, 0):  # x + 0 -> x
        return _same(node, a)
    if _is(a, 0):  # 0 + x -> x
        return _same(node, b)
    if b.op == "neg":  # x + (-y) -> x - y
        return ops.sub(a, b.inputs[0])
    if a.op == "neg":  # (-x) + y -> y - x
        return ops.sub(b, a.inputs[0])
    return None


def _sub(node, a, b):
    if _is(b, 0):  # x - 0 -> x
        return _same(node, a)
    if b.op == "neg":  # x - (-y) -> x + y
        return ops.add(a, b.inputs[0])
    return None


def _mul(node, a, b):
    if _is(b, 1):  # x * 1 -> x
        return _same(node, a)
    if _is(a, 1):  # 1 * x -> x
        return _same(node, b)
    if _is(b, -1):  # x * -1 -> -x
        return _same(node, ops.neg(a))
    if _is(a, -1):  # -1 * x -> -x
        return _same(node, ops.neg(b))
    return None


def _div(node, a, b):
    if _is(b, 1):  # x / 1 -> x
        return _same(node, a)
    return None


def _neg(node, a):
    if a.op == "neg":  # -(-x) -> x
        return a.inputs[0]
    return None


def _pow(node, a, b):
    if _is(b, 1):  # x ** 1 -> x
        return _same(node, a)
    return None


def _reshape(node, a):
    if a.shape == node.shape:  # reshape to the same shape -> x
        return a
    if a.op == "reshape":  # reshape(reshape(x)) -> reshape(x)
        return ops.reshape(a.inputs[0], node.shape)
    return None


def _transpose(node, a):
    axes = node.attr("axes")
    if axes == tuple(range(len(axes))):  # identity permutation -> x
        return a
    if a.op == "transpose":  # transpose(transpose(x, p), q) -> transpose(x, p[q])
        inner = a.attr("axes")
        return ops.transpose(a.inputs[0], tuple(inner[i] for i in axes))
    return None


def _broadcast_to(node, a):
    if a.shape == node.shape:  # broadcast to its own shape -> x
        return a
    if a.op == "const" and a.ndim > 0:  # broadcast of [c, c, ...] -> of c
        scalar = _uniform_scalar(a)
        return ops.broadcast_to(scalar, node.shape) if scalar is not None else None
    return None


def _reduce(node, a):
    axes = node.attr("axes")
    if axes == () or a.size == node.size:
        # A sum over no axes, or over axes of size 1, only drops those axes.
        return ops.reshape(a, node.shape) if node.dtype == a.dtype else None
    return None


def _where(node, c, a, b):
    if a is b:  # where(c, x, x) -> x
        return _same(node, a)
    return None


_RULES = {
    "add": _add,
    "sub": _sub,
    "mul": _mul,
    "div": _div,
    "neg": _neg,
    "pow": _pow,
    "reshape": _reshape,
    "transpose": _transpose,
    "broadcast_to": _broadcast_to,
    "sum": _reduce,
    "mean": _reduce,
    "max": _reduce,
    "min": _reduce,
    "where": _where,
}


def _uniform_scalar(x):
    """A 0-d constant equal to every element of constant `x` (bitwise), or None."""
    v = np.ascontiguousarray(x.value).reshape(-1)
    if v.size == 0:
        return None
    raw = v.view(f"V{v.itemsize}")
    if not np.all(raw == raw[0]):
        return None
    return ops.const(v[0], dtype=x.dtype, weak=x.weak)


def _operands(node):
    # Elementwise ops broadcast their operands anyway, so an explicit
    # broadcast_to, or a constant array of one repeated value, can give way to
    # its smaller source as long as the result keeps its shape.
    new = []
    for x in node.inputs:
        if x.op == "broadcast_to":
            x = x.inputs[0]
        elif x.op == "const" and x.ndim > 0:
            x = _uniform_scalar(x) or x
        new.append(x)
    if all(a is b for a, b in zip(new, node.inputs, strict=True)):
        return None
    if np.broadcast_shapes(*(x.shape for x in new)) != node.shape:
        return None
    return _same(node, ops.apply(node.op, *new, **dict(node.attrs)))


def simplify_rule(node):
    if "elementwise" in ops.OPS[node.op].flags:
        out = _operands(node)
        if out is not None:
            return out
    rule = _RULES.get(node.op)
    return rule(node, *node.inputs) if rule is not None else None
