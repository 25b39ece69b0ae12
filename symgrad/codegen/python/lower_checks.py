"""Pure-Python lowering of `check` (a user's raise or assert on a traced
condition): the same statements as the NumPy target (`codegen.statements`)."""

from __future__ import annotations

from symgrad.codegen import statements
from symgrad.codegen.python.lowering import lowering


@lowering("check")
def _check(node, out, args) -> list:
    return statements.check(
        out, args[0], args[1], node.attr("exception"), node.attr("message")
    )
