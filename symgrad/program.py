"""`Program`: everything code generation needs to know about one compilation.

Contract: a plain record produced by `symgrad.compiler` (bind, trace, build)
and consumed by `codegen`; it holds graph nodes and argument structure only,
and imports nothing above `ir`.

- A `Signature` is the arguments of a generated function: parameter names,
  the `TreeDef` of the argument tuple and one `Leaf` per flattened leaf (a
  graph input, or a static value).
- A `Function` is one generated function: a signature and an output pytree
  of nodes (`tree` over `outputs`), or a `delegate` (a wrapper returning one
  item of another function's result, as `gradient` does).
- A `Program` is named functions plus what describes the compilation (the
  traced function's name and file, its signature, the differentiated
  arguments, whether ints were static, stats).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symgrad import ir
from symgrad.ir.pytree import TreeDef


@dataclass
class Leaf:
    """One flattened argument leaf."""

    path: tuple  # (argument position, key, key, ...)
    node: ir.Node | None  # the graph input, or None for a static leaf
    value: object = None  # the static value (static leaves only)
    pyfloat: bool = False  # a Python float: its gradient is returned as float


@dataclass(eq=False)
class Signature:
    """The arguments of a generated function."""

    params: list  # a name per positional argument
    treedef: TreeDef  # pytree structure of the argument tuple
    leaves: list  # Leaf per flat leaf
    # The signature this one extends with more arguments (a cotangent, a
    # tangent), whose leaves are the first ones here.
    base: Signature | None = None

    @property
    def inputs(self) -> list:
        return [leaf.node for leaf in self.leaves if leaf.node is not None]


@dataclass(eq=False)
class Function:
    """One generated function: arguments -> an output pytree of nodes."""

    name: str
    signature: Signature
    outputs: list  # output leaves (nodes), in `tree`'s flatten order
    tree: TreeDef  # the structure returned
    floats: list  # per output leaf: returned as a Python float
    doc: str = ""  # the function's docstring
    summary: str = ""  # `name(args) -> summary` in the module docstring
    delegate: tuple | None = None  # (function name, index): returns f(...)[index]


@dataclass
class Program:
    """Named functions of one compilation, and what describes it."""

    fun_name: str  # the traced function's name
    filename: str  # its file
    signature: Signature  # the arguments of the function traced
    functions: list  # Function per generated function, in module order
    argnums: tuple = ()  # the differentiated arguments
    single: bool = True  # argnums was an int: the gradient is not a tuple
    stats: dict = field(default_factory=dict)
    # Int arguments were static values (a function needed one as a Python
    # int); otherwise int scalars are inputs of the generated code.
    static_ints: bool = False

    @property
    def params(self) -> list:
        return self.signature.params

    @property
    def treedef(self) -> TreeDef:
        return self.signature.treedef

    @property
    def leaves(self) -> list:
        return self.signature.leaves

    @property
    def inputs(self) -> list:
        return self.signature.inputs

    def function(self, name: str) -> Function | None:
        for fn in self.functions:
            if fn.name == name:
                return fn
        return None

    def forward_graph(self) -> ir.Graph:
        """The graph of `forward`."""
        return ir.Graph(self.inputs, list(self.function("forward").outputs))

    def grad_graph(self) -> ir.Graph:
        """The graph of `value_and_grad` (the value, then the gradient's leaves)."""
        return ir.Graph(self.inputs, list(self.function("value_and_grad").outputs))
