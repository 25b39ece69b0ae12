"""The pure-Python target's lowering registry and the small pieces lowerings share.

Contract: `LOWERINGS` maps an op name to its `Lowering` (`fn(node, out, args)
-> lines`, and the helpers those lines call); `@lowering(op, ..., helpers=...)`
registers one. The `lower_<area>` modules of this package fill it; an op
without an entry is elementwise and printed from its scalar formula.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from symgrad.codegen.naming import scalar_literal
from symgrad.ir import dims


def _scalar(value) -> str:
    return scalar_literal(value, "math")


def _size(shape):
    """The number of elements of `shape` (an int, or a symbolic `Dim`)."""
    return dims.prod(shape)


def size_src(d) -> str:
    """A size as an operand of generated code: `6`, `n`, `(3 * n)`."""
    return dims.source(d)


@dataclass(frozen=True)
class Lowering:
    """An array lowering: `fn(node, out, args) -> lines`, and the helpers
    (names in the helper modules) its lines call: a tuple, or a function of
    the node returning one when that depends on the node. A refusal
    (`refuses`) raises, naming the function and the target that has it."""

    fn: Callable
    helpers: tuple | Callable = ()
    refuses: bool = False


LOWERINGS: dict[str, Lowering] = {}


def lowering(*ops: str, helpers=(), refuses=False):
    """Register `fn` as the lowering of `ops`, declaring the helpers it calls
    (`refuses`: `fn` raises, this target does not compute these ops)."""

    def mark(fn):
        for op in ops:
            if op in LOWERINGS:
                raise ValueError(f"op {op!r} has two pure-Python lowerings")
            LOWERINGS[op] = Lowering(fn, helpers, refuses)
        return fn

    return mark


def _same_list(out, src, shape) -> list:
    return [f"{out} = {src}  # the same flat list, as shape {shape}"]
