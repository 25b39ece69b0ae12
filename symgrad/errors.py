"""The exceptions symgrad raises for user mistakes.

Contract: every error a user can cause is a `SymgradError`; messages name the
user's file and line where one exists and say what to do instead.
"""

from __future__ import annotations


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""


class TraceError(SymgradError, TypeError):
    """The traced function did something symgrad cannot record."""


class ShapeError(SymgradError, ValueError):
    """Shapes that do not fit together (found while tracing)."""


class ArgumentError(SymgradError, ValueError):
    """Bad arguments to a symgrad entry point (argnums, structure, dtypes)."""


class TracedAttributeError(TraceError, AttributeError):
    """A traced value lacks an attribute (also an AttributeError, so that
    `hasattr` and `getattr(x, name, default)` keep working)."""


class ConcretizationError(TraceError):
    """A traced value was used where Python needs a concrete one (a size, an
    index, a `range` bound, `int()`). When the value came from an int
    argument, symgrad retraces with ints as static values (as before)."""
