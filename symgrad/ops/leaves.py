"""Leaf primitives: graph inputs, constants, and sizes known at run time.

Contract: `input` and `const` are table entries like every other op so that
the table-completeness test can see them; they have no operands, no VJP (their
adjoints are what autodiff returns) and are printed by codegen as names and
literals rather than by a printer.

`dim` is a size that is only known when the generated code runs: a scalar
int computed from the symbols of the argument shapes (`n`, `2 * n`), which
the module's argument checks bind. Codegen writes it as that expression
where it is used (`1.0 / n`), like a literal. It is a weak int (a Python int
in generated code), so `x / n` keeps `x`'s float type as NumPy does.
`arange` is `np.arange(n)` for such a size: an int vector with no operands.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.ops.core import Op, dim_node, register  # noqa: F401 - dim_node


def input_node(index: int, name: str, shape, dtype, tag: int = 0) -> ir.Node:
    """The graph input for flat argument `index`. `tag` keeps nested traces apart."""
    attrs = (("index", index), ("name", name), ("tag", tag))
    node = ir.make("input", (), attrs, tuple(shape), dtype)
    node.hint = name
    return node


def arange(n, dtype=np.int64) -> ir.Node:
    """`np.arange(n)` for a size `n` (int or symbolic)."""
    dtype = np.dtype(dtype)
    attrs = (("dtype", dtype.name), ("n", n))
    return ir.make("arange", (), attrs, (n,), dtype)


def _no_eval(*_args, **_attrs):
    raise RuntimeError("leaves are bound by the evaluator, not evaluated")


register(
    Op(
        name="input",
        nin=0,
        shape=lambda shapes, **_: (),
        dtype=None,
        eval=_no_eval,
        flags=frozenset(("leaf",)),
    )
)
register(
    Op(
        name="const",
        nin=0,
        shape=lambda shapes, **_: (),
        dtype=None,
        eval=_no_eval,
        flags=frozenset(("leaf",)),
    )
)
register(
    Op(
        name="dim",
        nin=0,
        shape=lambda shapes, **_: (),
        dtype=None,
        eval=lambda dim: np.int64(dim),  # the evaluator substitutes the symbols
        vjp=lambda g, out: (),
        flags=frozenset(("leaf",)),
        doc="a size known when the generated code runs (`n`, `2 * n`)",
    )
)
register(
    Op(
        name="arange",
        nin=0,
        shape=lambda shapes, n, dtype: (n,),
        dtype=None,
        eval=lambda n, dtype: np.arange(n, dtype=dtype),
        vjp=lambda g, out: (),
        doc="np.arange(n) for a size that may be symbolic",
    )
)
