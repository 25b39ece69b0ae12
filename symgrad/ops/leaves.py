"""Leaf primitives: graph inputs and constants.

Contract: `input` and `const` are table entries like every other op so that
the table-completeness test can see them; they have no operands, no VJP (their
adjoints are what autodiff returns) and are printed by codegen as names and
literals rather than by a printer.
"""

from __future__ import annotations

from symgrad import ir
from symgrad.ops.core import Op, register


def input_node(index: int, name: str, shape, dtype, tag: int = 0) -> ir.Node:
    """The graph input for flat argument `index`. `tag` keeps nested traces apart."""
    attrs = (("index", index), ("name", name), ("tag", tag))
    node = ir.make("input", (), attrs, tuple(shape), dtype)
    node.hint = name
    return node


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
