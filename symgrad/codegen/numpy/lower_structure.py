"""NumPy lowerings of the structure primitives (`ops.structure`):
`np.concatenate` / `np.stack`, `np.diagonal`, `np.diag` or zeros with the
diagonal assigned, `np.triu` / `np.tril`.
"""

from __future__ import annotations

import numpy as np

from symgrad.codegen.numpy.lowering import lower
from symgrad.ir import dims
from symgrad.ops.structure import diagonal_length, diagonal_positions


def _joined(name):
    def printer(*parts, axis):
        items = ", ".join(parts)
        return f"np.{name}([{items}]{f', axis={axis}' if axis else ''})"

    return printer


def _diagonal(a, offset, axis1, axis2):
    args = [a]
    if offset:
        args.append(f"offset={offset}")
    if (axis1, axis2) != (0, 1):
        args += [f"axis1={axis1}", f"axis2={axis2}"]
    return f"np.diagonal({', '.join(args)})"


def _arange(start, stop) -> str:
    return f"np.arange({stop})" if start == 0 else f"np.arange({start}, {stop})"


def _embed(out, d, shape, offset, dtype):
    m, n = shape[-2:]
    length = diagonal_length(m, n, offset)
    if len(shape) == 2 and m == n:
        return [
            f"{out} = np.diag({d}, {offset})" if offset else f"{out} = np.diag({d})"
        ]
    rows, cols = diagonal_positions(length, offset)
    suffix = "" if dtype == np.float64 else f", dtype=np.{dtype.name}"
    return [
        f"{out} = np.zeros({dims.shape_str(shape)}{suffix})",
        f"{out}[..., {_arange(*rows)}, {_arange(*cols)}] = {d}",
    ]


def _triangle(name):
    def printer(a, k):
        return f"np.{name}({a}, {k})" if k else f"np.{name}({a})"

    return printer


lower("concatenate", _joined("concatenate"))
lower("stack", _joined("stack"))
lower("diagonal", _diagonal)
lower("embed_diagonal", stmts=_embed)
lower("triu", _triangle("triu"))
lower("tril", _triangle("tril"))
