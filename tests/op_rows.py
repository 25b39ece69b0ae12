"""The op test table: `Row`, the usual shape sets, and every row collected.

Contract: each `tests/rows_<area>.py` module defines `ROWS = {name: Row}`;
`ROWS` here is all of them together (a name may appear once). A row names
the primitives it exercises (`ops`), the function written as users write it
with NumPy or operators, the input domain per argument ("any", "pos" for
(0.5, 2), "away" for |x| in (0.5, 2), "unit" for (-0.9, 0.9)) and the shapes
to try, and the targets that implement them. `test_ops.py` checks every row
against finite differences, and once more with the leading axis symbolic
(`symbolic`: None picks the specs by `symbolic_case`, a tuple gives one shape
spec per input such as ("n, 3", "3"), and a string is the error the row
must refuse a symbolic size with, because NumPy needs that size concretely).
A row may also name `special` points: argument tuples where the function is
finite and smooth all around, but a derivative rule may meet 0 * inf there
(x**0 at 0, the std of a single number, sinc at 0); `test_ops.py` checks
that the gradients there are finite and equal central differences, at the
first and second order.
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
    # None: automatic specs; a tuple: a spec per input ("n, 3", "3", "");
    # (): the functions take scalars only (math.*); a str: the error a
    # symbolic size must be refused with.
    symbolic: tuple | str | None = None
    # Points (one argument tuple each) where the function is finite and
    # smooth around, but a rule may multiply 0 by inf: the gradient there
    # must be finite and agree with central differences.
    special: tuple = ()


SYMBOLIC_SIZE = 3  # n in explicit specs, when compiling (n + 1 when running)


def symbolic_case(row) -> tuple:
    """(shapes, specs) for the symbolic test of a row: explicit specs with
    n = SYMBOLIC_SIZE, or else the first shape set with the most axes where
    each input whose first axis has the first array input's length (other
    than 1) gets the symbol n there."""
    if isinstance(row.symbolic, tuple) and row.symbolic:
        shapes = tuple(
            tuple(
                SYMBOLIC_SIZE if a.strip() == "n" else int(a)
                for a in spec.split(",")
                if a.strip()
            )
            for spec in row.symbolic
        )
        return shapes, row.symbolic
    shapes = max(row.shapes, key=lambda c: sum(len(s) for s in c))
    lead = next((s[0] for s in shapes if s), None)
    specs = []
    for s in shapes:
        axes = [str(d) for d in s]
        if s and s[0] == lead and lead != 1:
            axes[0] = "n"
        specs.append(", ".join(axes))
    return shapes, tuple(specs)


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
