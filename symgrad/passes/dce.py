"""eliminate_dead_code: keep only what the outputs need.

Contract: `eliminate_dead_code(outputs)` returns outputs whose graph holds
exactly the nodes they reach, and `live_nodes(outputs)` lists those nodes
(inputs first). In symgrad a graph *is* what its outputs reach (`ir.Graph`,
`ir.toposort`, and codegen all start from the outputs), so dead code is never
emitted and this pass has nothing to delete; it exists to make that explicit
and checkable.

Earlier stages make dead nodes all the time: the old version of every
rewritten node, the cotangent a VJP rule builds for an operand that needs
none (a constant), the branch a constant `where` condition never takes, the
gradient-only nodes when the forward function is emitted. They stay in the
scope's intern table (dropping them would break "equal structure is the same
object" for anyone still holding one) and nothing reaches them.
"""

from __future__ import annotations

from symgrad import ir


def live_nodes(outputs) -> list:
    """Every node some output depends on, inputs first."""
    return ir.toposort(outputs)


def eliminate_dead_code(outputs) -> list:
    return list(outputs)
