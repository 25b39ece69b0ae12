"""The op table (`OPS`) and the builder functions that make nodes from it.

Contract: importing this package registers every primitive: the modules
imported below and every other module of this package (an area such as
`linalg` only has to exist to be registered). `OPS` is the one table;
builders such as `add`, `tanh`, `reduce`, `getitem` are the only way the rest
of symgrad creates non-leaf nodes. `evaluate` runs a graph numerically with
each op's NumPy evaluation (the reference interpreter used by tests).
"""

from symgrad.ops.core import (
    API,
    METHODS,
    OPERATORS,
    OPS,
    Entry,
    Op,
    apply,
    const,
    dim_node,
    implements,
    is_const,
    is_float,
    lift,
    register,
)
from symgrad.ops.elementwise import (
    abs,
    add,
    cast,
    cos,
    div,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from symgrad.ops.evaluate import evaluate
from symgrad.ops.indexing import getitem, index_value, scatter
from symgrad.ops.leaves import arange, input_node
from symgrad.ops.products import matmul
from symgrad.ops.reductions import reduce
from symgrad.ops.shapes import broadcast_to, reshape, sum_to, transpose

__all__ = [
    "API",
    "Entry",
    "METHODS",
    "OPERATORS",
    "OPS",
    "implements",
    "register",
    "Op",
    "abs",
    "add",
    "apply",
    "broadcast_to",
    "cast",
    "const",
    "cos",
    "div",
    "eq",
    "evaluate",
    "exp",
    "ge",
    "getitem",
    "gt",
    "index_value",
    "input_node",
    "arange",
    "dim_node",
    "is_const",
    "is_float",
    "le",
    "lift",
    "log",
    "lt",
    "matmul",
    "maximum",
    "minimum",
    "mul",
    "ne",
    "neg",
    "pow",
    "reduce",
    "relu",
    "reshape",
    "scatter",
    "sigmoid",
    "sign",
    "sin",
    "sqrt",
    "sub",
    "sum_to",
    "tanh",
    "transpose",
    "where",
]


def _register_areas():
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}")


_register_areas()
