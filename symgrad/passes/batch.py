"""batch_products: one product for a weight applied to every row of a stack.

Contract: `batch_row_products(outputs)` returns outputs where products
`X[t] @ W` of one stacked array `X` (at least 3-D, indexed by a leading int
`t`) and one 2-D `W`, for many `t`, read `(X @ W)[t]` instead: NumPy makes one
batched call where the program made one per `t` (a loop over the steps of a
sequence). Each slice keeps its bits: NumPy's matmul of a stack and a matrix
calls the same BLAS product for each matrix of the stack as `X[t] @ W` does
(`tests/test_buffers.py` checks this on the NumPy in use), and the other
targets sum each entry in the same order either way. It is one of the
default passes. It applies when at least
half of `X`'s leading indices are used with the same `W`, so a program that
reads one row of a big array does not pay for the product of all of them.
"""

from __future__ import annotations

from symgrad import ir, ops
from symgrad.passes.rewrite import substitute
from symgrad.passes.simplify import stack_row


def _row_product(node):
    """`(X, W, t)` for `node = X[t] @ W` as described above, else None."""
    if node.op != "matmul" or node.vtype is not None:
        return None
    a, w = node.inputs
    row = stack_row(a)
    if row is None or w.ndim != 2 or a.ndim < 2:
        return None
    return row[0], w, row[1]


def batch_row_products(outputs) -> list:
    groups: dict = {}
    for node in ir.toposort(outputs):
        found = _row_product(node)
        if found is not None:
            x, w, t = found
            groups.setdefault((x, w), []).append((node, t))
    mapping = {}
    for (x, w), uses in groups.items():
        rows = {t for _, t in uses}
        if len(rows) < 2 or 2 * len(rows) < x.shape[0]:
            continue
        batched = ops.matmul(x, w)
        for node, t in uses:
            mapping[node] = ops.getitem(batched, (t,))
    if not mapping:
        return list(outputs)
    return substitute(outputs, mapping)
