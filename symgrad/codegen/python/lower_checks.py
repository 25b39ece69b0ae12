"""Pure-Python lowering of `check` (a user's raise or assert on a traced
condition): the same statements as the NumPy target, from
`symgrad.ops.checks`."""

from __future__ import annotations

from symgrad.codegen.python.lowering import lowering
from symgrad.ops.checks import statements


@lowering("check")
def _check(node, out, args) -> list:
    return statements(
        out, args[0], args[1], node.attr("exception"), node.attr("message")
    )
