"""`Program`: everything code generation needs to know about one compilation.

Contract: a plain record produced by `api` (trace + autodiff + passes) and
consumed by `codegen`; it holds graph nodes and argument structure only.

- A `Signature` is the arguments of a generated function: parameter names,
  the `TreeDef` of the argument tuple and one `Leaf` per flattened leaf (a
  graph input, or a static value).
- A `Function` is one generated function: a signature and an output pytree
  of nodes (`tree` over `outputs`), or a `delegate` (a wrapper returning one
  item of another function's result, as `gradient` does).
- A `Program` is named functions plus what describes the compilation (the
  traced function's name and file, stats). `value`/`grads`/`diff`/`argnums`
  keep the classic reading of a gradient compilation (value and gradient of
  one function), from which `default_functions` builds `forward`, `gradient`
  and `value_and_grad`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symgrad import ir
from symgrad.codegen.naming import doc_safe
from symgrad.ir.pytree import LEAF, TreeDef, tree


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
    fun_name: str
    filename: str
    params: list  # a name per positional argument
    treedef: TreeDef  # pytree structure of the argument tuple
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
    # The generated functions; empty means `default_functions(self)`.
    functions: list = field(default_factory=list)
    _signature: Signature | None = None

    def __post_init__(self):
        if not self.functions:
            self.functions = default_functions(self)

    @property
    def signature(self) -> Signature:
        if self._signature is None:
            self._signature = Signature(self.params, self.treedef, self.leaves)
        return self._signature

    @property
    def forward_value(self) -> ir.Node:
        return self.value if self.forward is None else self.forward

    @property
    def inputs(self) -> list:
        return [leaf.node for leaf in self.leaves if leaf.node is not None]

    def function(self, name: str) -> Function | None:
        for fn in self.functions:
            if fn.name == name:
                return fn
        return None

    def forward_graph(self) -> ir.Graph:
        return ir.Graph(self.inputs, [self.forward_value])

    def grad_graph(self) -> ir.Graph:
        return ir.Graph(self.inputs, [self.value] + list(self.grads))


def grad_tree(program) -> TreeDef:
    """The gradient's structure: that of the differentiated argument (a tuple
    of them when `argnums` was a tuple)."""
    parts = [program.treedef.children[a] for a in program.argnums]
    return parts[0] if program.single else tree("tuple", parts)


def default_functions(program) -> list:
    """`forward`, `gradient` and `value_and_grad` of a gradient compilation
    (just `forward` when nothing is differentiated)."""
    sig = program.signature
    fun = doc_safe(program.fun_name)
    forward = Function(
        "forward",
        sig,
        [program.forward_value],
        LEAF,
        [True],
        doc=f"The value of {fun}.",
        summary=f"value of {fun}",
    )
    if not program.argnums:
        return [forward]
    # Outputs in the order the gradient's structure lists them: argument by
    # argument as `argnums` names them, each argument's leaves in order.
    by_leaf = dict(zip(program.diff, program.grads, strict=True))
    order = [
        i
        for a in program.argnums
        for i, leaf in enumerate(program.leaves)
        if leaf.path[0] == a and i in by_leaf
    ]
    grads = [by_leaf[i] for i in order]
    floats = [program.leaves[i].pyfloat for i in order]
    wrt = doc_safe(", ".join(program.params[a] for a in program.argnums))
    both = Function(
        "value_and_grad",
        sig,
        [program.value] + grads,
        tree("tuple", [LEAF, grad_tree(program)]),
        [True] + floats,
        doc="The value and the gradient.",
        summary="(value, gradient)",
    )
    gradient = Function(
        "gradient",
        sig,
        grads,
        grad_tree(program),
        floats,
        doc="The gradient (same structure as the differentiated arguments).",
        summary=f"its gradient with respect to {wrt}",
        delegate=("value_and_grad", 1),
    )
    return [forward, gradient, both]
