"""The NumPy target's lowering registry, and the printers lowerings share.

Contract: `LOWERINGS` maps an op name to its `Lowering`, registered by
`lower(name, expr, stmts=..., into=..., imports=...)` in the `lower_<area>`
modules of this package:
- `expr(*arg_sources, **attrs)`: the expression computing the op;
- `stmts(out, *arg_sources, dtype, **attrs)`: statements assigning `out`,
  for ops that are more than one expression;
- `into(dest, *arg_sources, **attrs)`: the same computation written into the
  existing array `dest` (`np.add(a, b, out=dest)`), an expression or lines
  that fill `dest`. Memory planning (`codegen.memory`) uses it to reuse the
  buffer of a temporary whose last use this is (the same ufunc loop, so the
  same bits);
- `out(dest, *arg_sources, **attrs)`: the computation written into `dest`, a
  C-contiguous array of the result's shape and dtype that no operand shares
  (a buffer slot the module keeps between calls, see `codegen.memory`):
  `np.matmul(a, b, out=dest)`. The `into` printers of ufuncs serve as both;
- `on_arrays(*arg_sources, **attrs)`: a cheaper expression used when every
  operand is an array (has axes), such as an array method (`x.reshape(s)`)
  that a Python number operand would lack;
- `imports`: what the module imports for it besides numpy
  ("import scipy.special").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Lowering:
    expr: Callable | None = None
    stmts: Callable | None = None
    into: Callable | None = None
    imports: tuple = ()
    out: Callable | None = None
    on_arrays: Callable | None = None


LOWERINGS: dict[str, Lowering] = {}


def lower(
    name: str, expr=None, *, stmts=None, into=None, out=None, on_arrays=None, imports=()
):
    """Register the NumPy lowering of the op `name`."""
    if name in LOWERINGS:
        raise ValueError(f"op {name!r} has two NumPy lowerings")
    if (expr is None) == (stmts is None):
        raise ValueError(f"op {name!r}: give an expression or statements")
    if out is None and getattr(into, "any_destination", False):
        out = into
    LOWERINGS[name] = Lowering(expr, stmts, into, tuple(imports), out, on_arrays)


def infix(symbol: str):
    """A printer `a <symbol> b`."""
    return lambda a, b: f"{a} {symbol} {b}"


def call(fn: str):
    """A printer `fn(a, b, ...)`."""
    return lambda *args: f"{fn}({', '.join(args)})"


def ufunc_into(ufunc: str, *extra: str):
    """An `into` printer: `ufunc(a, b, ..., *extra, out=dest)`, which writes
    any array of the result's shape (so it is also the `out` printer)."""

    def printer(dest, *args):
        return f"{ufunc}({', '.join(args + extra)}, out={dest})"

    printer.any_destination = True
    return printer
