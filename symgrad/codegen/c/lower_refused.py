"""Named refusals: every op the C target does not compute yet.

Contract: imported after the other `lower_<area>` modules, this registers a
refusal (a `SymgradError` naming the function and the C target) for every
op of the table that has neither a C lowering nor a scalar formula, and is
not a leaf or control flow (refused when the module is generated).
"""

from __future__ import annotations

from symgrad.codegen import regions
from symgrad.codegen.c.lowering import LOWERINGS, lowering, refuse
from symgrad.codegen.c.scalar import FORMULAS
from symgrad.ops import OPS


def _refuse(node, out, args):
    refuse(node)


REFUSED = tuple(
    sorted(
        name
        for name in OPS
        if name not in LOWERINGS
        and name not in FORMULAS
        and name not in regions.HANDLED
        and name not in ("input", "const")
    )
)
lowering(*REFUSED, refuses=True)(_refuse)
