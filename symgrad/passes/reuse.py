"""reuse_forward_values: the backward pass reads forward values, never recomputes.

Contract: `reuse_forward_values(outputs, forward=1)`, where the first
`forward` outputs are forward values and the rest their gradients, returns
outputs in which no gradient node evaluates a function (exp, log, tanh,
sigmoid, sqrt, sin, cos, pow) on operands whose value the forward part
already computed that function of: such a node becomes the forward node.

Most of the reuse happens before this pass runs, and the pass checks it:
- VJP rules write derivatives through the forward output `out` wherever the
  derivative is a function of it: tanh' = 1 - out**2, exp' = out,
  sigmoid' = out * (1 - out), sqrt' = 0.5 / out, d(a/b)/db = -out / b,
  d(a**b)/db = out * log(a), and max/min reductions compare with `out`.
- A rule that needs a forward expression again (cos(x) for sin' when the
  forward computes cos(x) too) builds it through the intern table and gets the
  forward node itself.
- Common-subexpression elimination keeps the first node of equal values in
  program order, which is the forward one.
What is left for this pass is the value-level check (`value_key`): the same
function of operands equal up to how a constant is spelled. `recomputed`
lists what it would rewrite, so tests can assert there is nothing.
"""

from __future__ import annotations

from symgrad import ir
from symgrad.passes.cse import graph_may_have_twins, value_key
from symgrad.passes.rewrite import substitute

# The functions worth not evaluating twice (everything else is one flop).
EXPENSIVE = frozenset(("exp", "log", "tanh", "sigmoid", "sqrt", "sin", "cos", "pow"))


class _Ids:
    def __getitem__(self, node):
        return node.id


def recomputed(outputs, forward: int = 1) -> dict:
    """{gradient node: forward node with the same value} for expensive ops."""
    outputs = list(outputs)
    found = {}
    if not graph_may_have_twins(outputs):
        # Interning already made every same-spelled recomputation the
        # forward node itself; only differently spelled constants can hide one.
        return found
    fwd = ir.toposort(outputs[:forward])
    in_forward = dict.fromkeys(fwd)
    ids = _Ids()
    index = {}
    for node in fwd:
        if node.op in EXPENSIVE:
            index.setdefault(value_key(node, ids), node)
    if not index:
        return found
    for node in ir.toposort(outputs[forward:]):
        if node.op in EXPENSIVE and node not in in_forward:
            twin = index.get(value_key(node, ids))
            if twin is not None:
                found[node] = twin
    return found


def reuse_forward_values(outputs, forward: int = 1) -> list:
    mapping = recomputed(outputs, forward)
    return substitute(outputs, mapping) if mapping else list(outputs)
