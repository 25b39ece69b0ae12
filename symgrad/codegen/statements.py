"""Statements that every target writing Python shares.

Contract: `check(out, value, failed, exception, message)` is a user's raise
or assert on a traced condition (`ops.checks`): raise `exception(message)`
where `failed`, else `out` is `value`. The message goes through the one safe
literal printer.
"""

from __future__ import annotations

from symgrad.codegen.naming import literal
from symgrad.ops.checks import exception_class


def check(out: str, value: str, failed: str, exception: str, message: str):
    """The check as generated code: raise, else the value."""
    exception_class(exception)  # a name that is not a built-in never prints
    return [
        f"if {failed}:",
        f"    raise {exception}({literal(message)})",
        f"{out} = {value}",
    ]
