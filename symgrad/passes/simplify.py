"""simplify: algebraic rewrites that are exact in IEEE arithmetic.

Contract: `simplify_rule(node)` returns an equivalent, cheaper node or None.
Every rule gives bit-for-bit the same values for all inputs (NaN, inf and the
sign of zero included), and a rewrite only applies when the replacement has
the node's shape and dtype. That rules out some familiar algebra, which lives
in `fast_rule` and runs only when asked for (`optimize="fast"`):

- `0*x -> 0` and `x/x -> 1`, `x-x -> 0`: wrong for inf and NaN.
- `x + 0.0 -> x`: -0.0 + 0.0 is +0.0, and the sign shows later (1/x is -inf
  or +inf). `x + -0.0 -> x` and `x - 0.0 -> x` are exact and always apply,
  and `x + 0.0 -> x` applies when `x` can never be -0.0 (`x*x`, `exp(x)`,
  integers, sums of those, ...). Python's `sum()` starts from `0 + x`, so
  this decides whether that `0 +` shows up in generated code.
- a sum over size-1 axes is `x + 0.0` under NumPy 2 (the sum starts from
  +0.0), so it becomes a reshape only when `x` can never be -0.0; max and min
  over size-1 axes always do. Unbroadcasts that do nothing always go.
- `log(exp(x)) -> x`, `exp(log(x)) -> x`: wrong where exp overflows or x < 0.
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.ir import dims
from symgrad.ops import OPS
from symgrad.ops.indexing import in_order
from symgrad.ops.structure import concatenate


def _same(node, repl):
    return repl if repl.shape == node.shape and repl.dtype == node.dtype else None


def _is(node, value):
    return ops.is_const(node, value)


def _zero(node, negative: bool) -> bool:
    """A constant that is all +0 (`negative=False`) or all -0 (True).

    Integer zeros count as +0: NumPy converts them to +0.0.
    """
    if not _is(node, 0):
        return False
    if node.dtype.kind != "f":
        return not negative
    return bool(np.all(np.signbit(node.value) == negative))


def _never_negative_zero(x, depth: int = 6) -> bool:
    """True if `x` is provably never -0.0 (looking at most `depth` ops up)."""
    if x.dtype.kind != "f":
        return True  # integers and booleans have no -0
    if x.op == "const":
        return not bool(np.any(np.signbit(x.value) & (x.value == 0)))
    flags = OPS[x.op].flags
    if "no_negative_zero" in flags or (x.op == "mul" and x.inputs[0] is x.inputs[1]):
        return True  # and x*x: (-0)*(-0) is +0
    if x.op == "pow" and _even_power(x.inputs[1]):
        return True  # x**2, x**4: an even power of -0 is +0 (C99 pow)
    if depth == 0:
        return False
    if x.op == "add":  # a + b is -0 only if both are
        return any(_never_negative_zero(i, depth - 1) for i in x.inputs)
    if x.op == "sub":  # a - b is -0 only if a is -0 (and b is +0)
        return _never_negative_zero(x.inputs[0], depth - 1)
    if "zero_sign_from_operands" in flags:
        return all(_never_negative_zero(i, depth - 1) for i in x.inputs)
    return False


def _even_power(b) -> bool:
    if b.op != "const" or b.shape != ():
        return False
    v = b.value.item()
    return v > 0 and float(v) % 2 == 0


# ------------------------------------------------------------------ arithmetic


def _add(node, a, b):
    if _zero(b, True) or (_zero(b, False) and _never_negative_zero(a)):
        return _same(node, a)  # x + -0 -> x (exact); x + 0 -> x if x is never -0
    if _zero(a, True) or (_zero(a, False) and _never_negative_zero(b)):
        return _same(node, b)  # -0 + x -> x; 0 + x -> x if x is never -0
    if b.op == "neg":  # x + (-y) -> x - y (IEEE defines x - y as x + (-y))
        return ops.sub(a, b.inputs[0])
    if a.op == "neg":  # (-x) + y -> y - x
        return ops.sub(b, a.inputs[0])
    return None


def _sub(node, a, b):
    if _zero(b, False):  # x - 0 -> x (exact: -0 - 0 is -0)
        return _same(node, a)
    if b.op == "neg":  # x - (-y) -> x + y
        return ops.add(a, b.inputs[0])
    return None


def _mul(node, a, b):
    if _is(b, 1):  # x * 1 -> x
        return _same(node, a)
    if _is(a, 1):  # 1 * x -> x
        return _same(node, b)
    if _is(b, -1):  # x * -1 -> -x (multiplying by -1 only flips the sign)
        return _same(node, ops.neg(a))
    if _is(a, -1):  # -1 * x -> -x
        return _same(node, ops.neg(b))
    if a.op == "neg" and b.op == "neg":  # (-x) * (-y) -> x * y
        return _same(node, ops.mul(a.inputs[0], b.inputs[0]))
    return None


def _div(node, a, b):
    if _is(b, 1):  # x / 1 -> x
        return _same(node, a)
    if _is(b, -1):  # x / -1 -> -x
        return _same(node, ops.neg(a))
    if a.op == "neg" and b.op == "neg" and a.dtype.kind == "f":  # (-x)/(-y) -> x/y
        return _same(node, ops.div(a.inputs[0], b.inputs[0]))
    return None


def _neg(node, a):
    if a.op == "neg":  # -(-x) -> x
        return a.inputs[0]
    if a.op == "where" and all(_scalar_const(x) for x in a.inputs[1:]):
        # -where(c, 0.5, 0.0) -> where(c, -0.5, -0.0): each entry is one of
        # the two constants, negated (a ReLU's or a hinge's gradient).
        c, x, y = a.inputs
        neg = [ops.const(-v.value, dtype=v.dtype, weak=v.weak) for v in (x, y)]
        return _same(node, ops.where(c, *neg))
    if a.op == "mul" or (a.op == "div" and a.inputs[0].dtype.kind == "f"):
        # Rounding is symmetric in sign, so -((-x) * y) -> x * y and
        # -((-x) / y) -> x / y (either operand). Integer division is left
        # alone: -x wraps around for the most negative integer.
        x, y = a.inputs
        if x.op == "neg":
            return _same(node, ops.apply(a.op, x.inputs[0], y))
        if y.op == "neg":
            return _same(node, ops.apply(a.op, x, y.inputs[0]))
    return None


def _pow(node, a, b):
    if _is(b, 1):  # x ** 1 -> x
        return _same(node, a)
    return None


# ------------------------------------------------------------------ shapes


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
    if a.shape == node.shape:  # broadcast to its own shape (an unbroadcast) -> x
        return a
    if a.op == "broadcast_to":  # broadcast(broadcast(x)) -> broadcast(x)
        return ops.broadcast_to(a.inputs[0], node.shape)
    if a.op == "const" and a.ndim > 0:  # broadcast of [c, c, ...] -> of c
        scalar = _uniform_scalar(a)
        return ops.broadcast_to(scalar, node.shape) if scalar is not None else None
    return None


def _reduce(node, a):
    axes = node.attr("axes")
    if node.dtype != a.dtype:
        return None
    if axes == () or a.size == node.size:
        # A reduction over axes of size 1 only drops those axes: exact for
        # max and min; a sum (or mean) is x + 0.0 and needs x never -0.0.
        if node.op in ("max", "min") or _never_negative_zero(a):
            return ops.reshape(a, node.shape)
    return None


def _where(node, c, a, b):
    if a is b:  # where(c, x, x) -> x
        return _same(node, a)
    return None


def _getitem(node, a):
    if a.op == "scatter" and a.attr("index") == node.attr("index"):
        # scatter(g, index)[index] -> g: the entries written are read back.
        return _same(node, a.inputs[0])
    return None


def _scatter(node, g):
    shape, index = node.attr("shape"), node.attr("index")
    if g.size == node.size and in_order(shape, index):
        # zeros(shape)[index] = g writes every entry, in order: a reshape.
        return _same(node, ops.reshape(g, shape))
    return None


def stack_row(x):
    """`(X, t)` for `x = X[t]`, one int index into the leading axis of a
    stack of fixed length (`t` as written, maybe negative), else None."""
    if x.op != "getitem" or x.vtype is not None:
        return None
    index = x.attr("index")
    if len(index) != 1 or type(index[0]) is not int:
        return None
    base = x.inputs[0]
    if base.ndim != x.ndim + 1 or not isinstance(base.shape[0], int):
        return None
    return base, index[0]


def _stack_row(x):
    """`stack_row(x)` with `t` counted from the start."""
    found = stack_row(x)
    if found is None:
        return None
    base, t = found
    return base, t + base.shape[0] if t < 0 else t


def _concatenate(node, *parts):
    # concatenate([X[k], X[k+1], ..., X[m]], axis=0) -> X[k:m+1] with its
    # first two axes merged: the same numbers in the same order, and a view
    # instead of a copy (per-step rows joined for one product, `passes.gradients`).
    if node.attr("axis") != 0 or len(parts) < 2:
        return None
    rows = [_stack_row(p) for p in parts]
    if any(r is None for r in rows) or len({id(r[0]) for r in rows}) != 1:
        return None
    base = rows[0][0]
    first = rows[0][1]
    if [t for _, t in rows] != list(range(first, first + len(rows))):
        return None
    block = ops.getitem(base, (("slice", first, first + len(rows), None),))
    return _same(node, ops.reshape(block, node.shape))


_RULES = {
    "concatenate": _concatenate,
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
    "getitem": _getitem,
    "scatter": _scatter,
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
    # broadcast_to, a reshape that only adds leading axes of length 1, or a
    # constant array of one repeated value can give way to its smaller source
    # as long as the result keeps its shape.
    new = None
    for i, x in enumerate(node.inputs):
        if x.op == "broadcast_to":
            x = x.inputs[0]
        elif x.op == "reshape" and _adds_leading_ones(x):
            x = x.inputs[0]
        elif x.op == "const" and x.ndim > 0:
            x = _uniform_scalar(x) or x
        else:
            continue
        if new is None:
            new = list(node.inputs)
        new[i] = x
    if new is None or all(a is b for a, b in zip(new, node.inputs, strict=True)):
        return None
    if dims.broadcast_shapes(*(x.shape for x in new)) != node.shape:
        return None
    return _same(node, ops.apply(node.op, *new, **dict(node.attrs)))


def _adds_leading_ones(x) -> bool:
    """reshape(a, (1, ..., 1) + a.shape): broadcasting adds those axes anyway."""
    a = x.inputs[0]
    lead = x.ndim - a.ndim
    if lead <= 0 or x.shape[lead:] != a.shape:
        return False
    return all(d == 1 for d in x.shape[:lead])


# Operand ops that some rule looks for; a node with none of them as operands
# only needs its own op's rule when that rule looks at shapes alone.
_INTERESTING = frozenset(("const", "neg", "broadcast_to", "scatter", "reshape"))
_SHAPE_RULES = frozenset(("reshape", "transpose", "broadcast_to", "sum", "mean"))
# Rules that look deeper or at identity: where(c, x, x), -((-x) * y), max/min,
# the rows of a stack joined again.
_OTHER = frozenset(("where", "neg", "max", "min", "scatter", "concatenate"))


def simplify_rule(node):
    op = node.op
    interesting = False
    for i in node.inputs:
        if i.op in _INTERESTING:
            interesting = True
            break
    if not interesting and op not in _SHAPE_RULES and op not in _OTHER:
        return None
    if OPS[op].elementwise:
        out = _operands(node)
        if out is not None:
            return out
    rule = _RULES.get(op)
    return rule(node, *node.inputs) if rule is not None else None


# ------------------------------------------------------------------ fast


def _zeros_like(node):
    zero = ops.const(0, dtype=node.dtype)
    return zero if not node.shape else ops.broadcast_to(zero, node.shape)


def _ones_like(node):
    one = ops.const(1, dtype=node.dtype)
    return one if not node.shape else ops.broadcast_to(one, node.shape)


def _scalar_const(node):
    return node.op == "const" and node.shape == () and node.dtype.kind == "f"


def _factor(c, product) -> bool:
    """Whether `c` is a scalar constant factor of the float `product`: a
    float, or an int (the 2 of `x**2`'s derivative), which NumPy turns into
    the float of the same value."""
    if product.dtype.kind != "f" or c.op != "const" or c.shape != ():
        return False
    return c.dtype.kind == "f" or (c.dtype.kind in "iu" and abs(int(c.value)) < 2**53)


def _scaled(x):
    """`(c, y)` for `x = c * y` with `c` a scalar constant, else `(None, x)`."""
    if x.op == "mul":
        a, b = x.inputs
        if _factor(a, x):
            return a, b
        if _factor(b, x):
            return b, a
    return None, x


def _fast_add(node, a, b, keep_special=False):
    # c1*x + c2*x -> (c1 + c2)*x and x + c*x -> (1 + c)*x: one rounding fewer.
    ca, xa = _scaled(a)
    cb, xb = _scaled(b)
    if xa is not xb or (ca is None and cb is None):
        return None
    values = [float(c.value) if c is not None else 1.0 for c in (ca, cb)]
    total = values[0] + values[1]
    if keep_special and (total == 0 or 0 in values):
        # x + 0*x is NaN at x = inf but 1*x is not, and x - x is +0.0 where
        # 0*x may be -0.0: keep those as they are.
        return None
    return _same(node, ops.mul(ops.const(total, dtype=node.dtype), xa))


def _fast_mul(node, a, b):
    # c1*(c2*x) -> (c1*c2)*x: constants fold across a product.
    if _factor(a, node):
        c, x = a, b
    elif _factor(b, node):
        c, x = b, a
    else:
        return None
    inner, y = _scaled(x)
    if inner is None:
        return None
    value = float(c.value) * float(inner.value)
    return _same(node, ops.mul(ops.const(value, dtype=node.dtype), y))


def _fast_transpose(node, a):
    # (h.T @ g).T -> g.T @ h: the same sums, but BLAS may order them apart.
    if node.ndim == 2 and a.op == "matmul" and a.inputs[0].op == "transpose":
        h, g = a.inputs[0].inputs[0], a.inputs[1]
        if h.ndim == 2 and g.ndim == 2:
            return _same(node, ops.matmul(ops.transpose(g, (1, 0)), h))
    return None


def _fast_sum(node, a):
    # sum(x * y) over everything, same shapes -> a dot product of the
    # flattened arrays (BLAS sums in another order; no temporary product).
    if node.attr("axes") is not None or node.attr("keepdims") or a.op != "mul":
        return None
    x, y = a.inputs
    if x.shape != y.shape or x.dtype != node.dtype or y.dtype != node.dtype:
        return None
    if not all(isinstance(d, int) for d in x.shape) or x.ndim == 0:
        return None
    flat = (x.size,)
    x, y = (v if v.shape == flat else ops.reshape(v, flat) for v in (x, y))
    return _same(node, ops.matmul(x, y))


def _rows(x):
    """The parts of `x` stacked along axis 0 (itself when it is not a join)."""
    if x.op == "concatenate" and x.attr("axis") == 0:
        return list(x.inputs)
    return [x]


def _row_contraction(x):
    """`("mm", A, B)` for `A.T @ B`, `("sum", None, B)` for `B.sum(axis=0)`
    (2-D operands: sums over their rows), else None."""
    if x.op == "matmul" and x.ndim == 2:
        t, b = x.inputs
        if t.op == "transpose" and t.attr("axes") == (1, 0) and b.ndim == 2:
            return "mm", t.inputs[0], b
    if x.op == "sum" and x.attr("axes") == (0,) and not x.attr("keepdims"):
        if x.inputs[0].ndim == 2:
            return "sum", None, x.inputs[0]
    return None


def _fast_add_contractions(node, least=2):
    # sum_i A_i.T @ B_i -> concat(A).T @ concat(B), and sum_i B_i.sum(axis=0)
    # -> concat(B).sum(axis=0): one product over all rows instead of one per
    # use (a weight used at every step of a loop), summed in another order.
    leaves, stack = [], [node]
    while stack:
        x = stack.pop()
        if x.op == "add" and x.shape == node.shape and x.dtype == node.dtype:
            stack.extend(reversed(x.inputs))
        else:
            leaves.append(x)
    groups: dict = {}
    rest = []
    for x in leaves:
        found = _row_contraction(x)
        if found is None or x.dtype != node.dtype or x.shape != node.shape:
            rest.append(x)
            continue
        kind, a, b = found
        # Each term's blocks of rows (a term may be an earlier join).
        bs = _rows(b)
        as_ = _rows(a) if a is not None else [None] * len(bs)
        if len(as_) != len(bs):
            as_, bs = [a], [b]
        groups.setdefault(kind, []).append((x, list(zip(as_, bs, strict=True))))
    if all(sum(len(p) for _, p in g) < least for g in groups.values()):
        return None
    terms = []
    for kind, found in groups.items():
        pairs = [pair for _, blocks in found for pair in blocks]
        if len(pairs) < least or len(found) < 2:
            terms.extend(x for x, _ in found)
            continue
        # Blocks in step order where they are rows of one stack (xs[t].T @
        # g_t): the joined rows are then a block of that stack (`_concatenate`).
        pairs.sort(key=_step_order)
        bs = concatenate([b for _, b in pairs], 0)
        if kind == "sum":
            terms.append(ops.reduce("sum", bs, (0,)))
        else:
            as_ = concatenate([a for a, _ in pairs], 0)
            terms.append(ops.matmul(ops.transpose(as_, (1, 0)), bs))
    out = terms[0]
    for x in terms[1:] + rest:
        out = ops.add(out, x)
    return _same(node, out)


def _step_order(pair):
    """Sort key of a block of rows `(A, B)` of a contraction: its stack row
    when A (or B) is one; else the step of B, reverse mode having built the
    last step's gradient first (descending creation order is step order).
    So the joins of one loop's gradients come out in one order, and the same
    join is computed once (a weight's and a bias's gradients share it)."""
    a, b = pair
    row = (a is not None and _stack_row(a)) or _stack_row(b)
    return (0, row[0].id, row[1]) if row else (1, -b.id, 0)


def _fast_sum_of_terms(node, a, b):
    return _fast_add(node, a, b) or _fast_add_contractions(node)


def _sum_of_terms(node, a, b):
    # Contractions only for a weight used at 3 or more places (a loop's
    # steps): for two big uses, copying both into one product costs more
    # than the second call it saves.
    return _fast_add(node, a, b, keep_special=True) or _fast_add_contractions(node, 3)


_FAST_RULES = {
    "add": _fast_sum_of_terms,
    "mul": _fast_mul,
    "transpose": _fast_transpose,
    "sum": _fast_sum,
}

# The reassociations alone, with `x + c*x` kept where it would change an
# inf/NaN result or the sign of a zero: sums in another order, which only
# rounding tells apart.
_REASSOCIATE_RULES = {**_FAST_RULES, "add": _sum_of_terms}


def reassociate_rule(node):
    """Rewrites equal in exact arithmetic that keep inf and NaN where they
    were: `c1*x + c2*x -> (c1+c2)*x` (not when a constant or the total is 0),
    constants folded across products, `(h.T @ g).T -> g.T @ h`, a full sum of
    a product as a dot product, per-use weight and bias gradients summed as
    one product or sum over all rows. Results differ from the program's
    order of operations in the last bits. The default mode applies them to
    gradient computations only (`passes.gradients`), where the program gives
    no reference order; `optimize="fast"` everywhere (`fast_rule`)."""
    rule = _REASSOCIATE_RULES.get(node.op)
    return rule(node, *node.inputs) if rule is not None else None


def fast_rule(node):
    """Rewrites that may change results. Off by default (`optimize="fast"`).

    Two kinds: algebra that is wrong for inf, NaN or signed zeros (`0*x -> 0`,
    `x/x -> 1`, `x - x -> 0`, `x + 0 -> x`, `log(exp(x)) -> x`), and
    reassociation that rounds differently
    (`c1*x + c2*x -> (c1+c2)*x`, constants folded across products, a sum of
    products as a dot product, `(h.T @ g).T -> g.T @ h`, sums of per-use
    weight gradients `A_i.T @ B_i` or bias gradients `B_i.sum(axis=0)` as one
    product or sum over the rows of all uses).
    """
    a = node.inputs[0] if node.inputs else None
    b = node.inputs[1] if len(node.inputs) > 1 else None
    if node.op == "add" and _is(b, 0):  # x + 0 -> x (wrong for x = -0.0)
        return _same(node, a)
    if node.op == "add" and _is(a, 0):  # 0 + x -> x
        return _same(node, b)
    if node.op == "mul" and (_is(a, 0) or _is(b, 0)):  # 0 * x -> 0 (inf*0 is NaN)
        return _zeros_like(node)
    if node.op == "sub" and a is b:  # x - x -> 0 (inf-inf is NaN)
        return _zeros_like(node)
    if node.op == "div" and a is b:  # x / x -> 1 (0/0 and inf/inf are NaN)
        return _ones_like(node)
    if node.op in ("sum", "mean") and node.size == a.size and a.dtype == node.dtype:
        return ops.reshape(a, node.shape)  # sum over size-1 axes -> x (sign of 0)
    if node.op == "log" and a.op == "exp":  # log(exp(x)) -> x (exp overflows)
        return _same(node, a.inputs[0])
    if node.op == "exp" and a.op == "log":  # exp(log(x)) -> x (NaN for x < 0)
        return _same(node, a.inputs[0])
    rule = _FAST_RULES.get(node.op)
    return rule(node, *node.inputs) if rule is not None else None
