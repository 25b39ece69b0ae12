"""`Program`: everything code generation needs to know about one compilation.

Contract: a plain record produced by `api` (trace + autodiff + passes) and
consumed by `codegen`; it holds graph nodes and argument structure only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symgrad import ir


@dataclass
class Leaf:
    """One flattened argument leaf."""

    path: tuple  # (argument position, key, key, ...)
    node: ir.Node | None  # the graph input, or None for a static leaf
    value: object = None  # the static value (static leaves only)
    pyfloat: bool = False  # a Python float: its gradient is returned as float


@dataclass
class Program:
    fun_name: str
    filename: str
    params: list  # a name per positional argument
    treedef: object  # pytree structure of the argument tuple
    leaves: list  # Leaf per flat leaf
    argnums: tuple
    single: bool  # argnums was an int: the gradient is not wrapped in a tuple
    value: ir.Node
    grads: list  # gradient node per differentiated leaf, in leaf order
    diff: list  # indices of the differentiated leaves
    stats: dict = field(default_factory=dict)
    # The value as `forward` computes it, when it differs from `value` (which
    # then also keeps what the reverse sweep reads: loop stacks, branch values).
    forward: ir.Node | None = None
    # Int arguments were static values (a function needed one as a Python
    # int); otherwise int scalars are inputs of the generated code.
    static_ints: bool = False

    @property
    def forward_value(self) -> ir.Node:
        return self.value if self.forward is None else self.forward

    @property
    def inputs(self) -> list:
        return [leaf.node for leaf in self.leaves if leaf.node is not None]

    def forward_graph(self) -> ir.Graph:
        return ir.Graph(self.inputs, [self.forward_value])

    def grad_graph(self) -> ir.Graph:
        return ir.Graph(self.inputs, [self.value] + list(self.grads))
