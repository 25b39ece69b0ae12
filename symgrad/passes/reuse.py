"""reuse_forward_values: the backward pass reads forward values, never recomputes.

Contract: `reuse_forward_values(outputs, forward=1)`, where the first
`forward` outputs are forward values and the rest their gradients, returns
outputs in which no gradient node computes a value the forward part already
computes: such a node becomes the forward node. `recomputed(outputs)` lists
the expensive ones (flagged "expensive" in the op table) it finds.

Most of the reuse happens before this pass runs, and the pass checks it:
- VJP rules write derivatives through the forward output `out` wherever the
  derivative is a function of it: tanh' = 1 - out**2, exp' = out,
  sigmoid' = out * (1 - out), sqrt' = 0.5 / out, d(a/b)/db = -out / b,
  d(a**b)/db = out * log(a), and max/min reductions compare with `out`.
- A rule that needs a forward expression again (cos(x) for sin' when the
  forward computes cos(x) too) builds it through the intern table and gets the
  forward node itself.
What interning cannot see is the same value reached through constants spelled
differently (`exp(2*x)` forward, `exp(x*np.float64(2))` backward); value
numbering (`cse.equivalents`) does, and this pass points such gradient nodes
at their forward twin before CSE merges whatever is left.
"""

from __future__ import annotations

from symgrad import ir
from symgrad.ops import OPS
from symgrad.passes.cse import equivalents
from symgrad.passes.rewrite import substitute


def expensive(op: str) -> bool:
    """Worth not evaluating twice: ops flagged "expensive" in the table."""
    return "expensive" in OPS[op].flags


def _to_forward(outputs, forward: int) -> dict:
    same = equivalents(outputs)
    if not same:
        return {}
    in_forward = dict.fromkeys(ir.toposort(outputs[:forward]))
    return {
        node: twin
        for node, twin in same.items()
        if node not in in_forward and twin in in_forward
    }


def recomputed(outputs, forward: int = 1) -> dict:
    """{gradient node: its forward twin} for the expensive functions."""
    mapping = _to_forward(list(outputs), forward)
    return {n: t for n, t in mapping.items() if expensive(n.op)}


def reuse_forward_values(outputs, forward: int = 1) -> list:
    outputs = list(outputs)
    mapping = _to_forward(outputs, forward)
    return substitute(outputs, mapping) if mapping else outputs
