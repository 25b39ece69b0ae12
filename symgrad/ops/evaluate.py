"""Reference interpreter: run a graph with each op's NumPy evaluation.

Contract: `evaluate(graph, values)` binds `graph.inputs` to `values` in order
and returns the output values. It is the oracle that generated code is
compared against, so it shares no code with codegen.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.ops.core import OPS


def evaluate(graph: ir.Graph, values) -> list:
    env = {}
    for node, value in zip(graph.inputs, values, strict=True):
        env[node] = np.asarray(value, dtype=node.dtype)
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            if node in env:
                continue
            if node.op == "const":
                env[node] = node.value
                continue
            if node.op == "input":
                raise ValueError(f"graph input {node.hint!r} was not given a value")
            args = [env[i] for i in node.inputs]
            env[node] = np.asarray(OPS[node.op].eval(*args, **dict(node.attrs)))
    return [env[n] for n in graph.outputs]
