"""The op test table: `Row`, the usual shape sets, and every row collected.

Contract: each `tests/rows_<area>.py` module defines `ROWS = {name: Row}`;
`ROWS` here is all of them together (a name may appear once). A row names
the primitives it exercises (`ops`), the function written as users write it
with NumPy or operators, the input domain per argument ("any", "pos" for
(0.5, 2), "away" for |x| in (0.5, 2), "unit" for (-0.9, 0.9)) and the shapes
to try, and the targets that implement them. `test_ops.py` checks every row
against finite differences.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import tests


@dataclass
class Row:
    ops: tuple  # the primitives this row exercises
    fn: object
    domains: tuple  # per input: "any", "pos", "away" (|x| >= 0.5)
    shapes: tuple  # tuple of per-input shape tuples
    second: bool = True
    # The targets that implement the row's ops (the pure-Python target refuses
    # a few decompositions when it generates the module: see test_targets).
    targets: tuple = ("numpy", "python")


UNARY = (((),), ((3,),), ((2, 3),))
BINARY = (
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((), (2, 3)),
)
MATRIX = (((2, 3),), ((4,),), ((2, 3, 2),))
TARGETS = ("numpy", "python")


def _collect() -> dict:
    rows: dict = {}
    for info in sorted(pkgutil.iter_modules(tests.__path__), key=lambda m: m.name):
        if not info.name.startswith("rows_"):
            continue
        module = importlib.import_module(f"tests.{info.name}")
        for name, row in module.ROWS.items():
            if name in rows:
                raise ValueError(f"op test row {name!r} is defined twice")
            rows[name] = row
    return rows


ROWS = _collect()
