"""Checks: a user's `raise` or `assert` on a traced condition, kept in the code.

Contract: `check(value, failed, exception, message)` is `value`, computed
after testing the scalar boolean `failed`: where it is true the generated
code raises `exception(message)` (`exception` the name of a built-in
exception class, `message` a plain str printed by the safe literal printer).
The front end records the checks of a traced function (`tracing.add_check`)
and attaches them to its result when the trace ends, so `forward`,
`gradient` and `value_and_grad` run them before they return. The node is
a view of `value` (no copy), and its VJP passes the cotangent through to
`value` alone.
"""

from __future__ import annotations

import builtins

import numpy as np

from symgrad.ops.core import Op, apply, register


def check(value, failed, exception: str, message: str):
    return apply("check", value, failed, exception=exception, message=message)


def exception_class(name: str):
    """The built-in exception class `name` (checks only name built-ins)."""
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        raise ValueError(f"{name!r} is not a built-in exception")
    return cls


def _eval(value, failed, exception, message):
    if bool(np.asarray(failed)):
        raise exception_class(exception)(message)
    return value


register(
    Op(
        name="check",
        nin=2,
        shape=lambda shapes, **_: shapes[0],
        dtype=lambda nodes, **_: nodes[0].dtype,
        eval=_eval,
        vjp=lambda g, out, value, failed: (g, None),
        sympy=lambda value, failed, **_: value,
        flags=frozenset(("view",)),
    )
)
