"""Reference interpreter: run a graph with each op's NumPy evaluation.

Contract: `evaluate(graph, values)` binds `graph.inputs` to `values` in order
and returns the output values; `run_region(region, args)` runs a region body
(the evaluation of cond and while calls it). It is the oracle that generated
code is compared against, so it shares no code with codegen. Stacks are
lists and tuples are tuples.

Symbolic sizes (`symgrad.ir.dims`) are bound from the shapes of the values given
for the inputs, as the generated code binds them from its arguments; `dim`
nodes and attributes holding sizes are evaluated with them.
"""

from __future__ import annotations

import contextvars

import numpy as np

from symgrad import ir
from symgrad.ir import dims
from symgrad.ops.core import OPS

_bindings: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "symgrad_eval_bindings", default=None
)


def evaluate(graph: ir.Graph, values) -> list:
    env = {}
    bindings: dict = {}
    for node, value in zip(graph.inputs, values, strict=True):
        env[node] = np.asarray(value, dtype=node.dtype)
        dims.bind(node.shape, env[node].shape, bindings)
    token = _bindings.set(bindings)
    try:
        with np.errstate(all="ignore"):
            return _run(graph.outputs, graph.nodes, env)
    finally:
        _bindings.reset(token)


def run_region(region: ir.Region, args) -> list:
    env = dict(zip(region.params, args, strict=True))
    return _run(region.results, region.nodes(), env)


def _run(outputs, nodes, env) -> list:
    for node in nodes:
        if node in env:
            continue
        if node.op == "const":
            env[node] = node.value
            continue
        if node.op in ("input", "param"):
            raise ValueError(f"graph input {node.hint!r} was not given a value")
        args = [env[i] for i in node.inputs]
        attrs = dict(node.attrs)
        if dims.has_symbols(node.attrs):
            bound = _bindings.get() or {}
            attrs = {k: dims.substitute(v, bound) for k, v in attrs.items()}
        value = OPS[node.op].eval(*args, **attrs)
        env[node] = value if node.vtype is not None else np.asarray(value)
    return [env[n] for n in outputs]
