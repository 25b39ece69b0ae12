"""Composites: NumPy and SciPy functions written once in terms of primitives.

Contract: importing this package registers, through `ops.core.implements`,
every NumPy-signature function the tracer dispatches to besides the op
records' own `answers`: every module of this package is imported (sorted by
name), so an area only has to exist to be registered (`supported`, which
writes the README's list from the table, registers nothing and is left to
be run as `python -m symgrad.numpy_api.supported`). A function here has no
VJP of its own: it builds primitive nodes, and reverse mode differentiates
those. Keep a primitive (an op record) where numerics or readable output need
it. Functions take and return graph nodes; `args` has the shared argument
handling.
"""

import importlib
import pkgutil


def _register_areas():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name != "supported":
            importlib.import_module(f"{__name__}.{info.name}")


_register_areas()
