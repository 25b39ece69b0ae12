"""The C target's lowering registry, and how a refusal names what it refuses.

Contract: `LOWERINGS` maps an op name to its `Lowering`: `fn(node, out,
args) -> lines` of C99 computing `node` into `out` (a `double` for a scalar,
a flat row-major `double *` buffer of known size for an array), or a
refusal (`refuses`) that raises a `SymgradError` naming the function and
the C target; `limits` says what a lowering computes when it refuses part
of its function. `@lowering(op, ...)` registers one; the `lower_<area>` modules
of this package fill it, and `lower_refused` refuses every op none of them
lowers, so the table always covers the op table.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from symgrad.codegen.spelling import spelled
from symgrad.errors import SymgradError


@dataclass(frozen=True)
class Lowering:
    fn: Callable
    refuses: bool = False
    helpers: tuple = ()  # the helpers (by name) its lines call
    # What it computes of its function when that is not all of it (the
    # rest is refused by name when generating), for the supported-functions
    # list: "scalar indices only".
    limits: str = ""


LOWERINGS: dict[str, Lowering] = {}


def lowering(*ops: str, refuses=False, helpers=(), limits=""):
    def mark(fn):
        for op in ops:
            if op in LOWERINGS:
                raise ValueError(f"op {op!r} has two C lowerings")
            LOWERINGS[op] = Lowering(fn, refuses, helpers, limits)
        return fn

    return mark


def refuse(node, why: str = "") -> None:
    """Raise: `node`'s function is not supported by the C target."""
    loc = node.loc
    where = f" (used at {os.path.basename(loc.file)}:{loc.line})" if loc else ""
    raise SymgradError(
        f"{spelled(node.op)}{where} is not supported by the C target"
        + (f" ({why})" if why else "")
        + '. Compile with target="numpy".'
    )
