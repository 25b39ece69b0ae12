"""Composites: NumPy and SciPy functions written once in terms of primitives.

Contract: importing this package registers, through `ops.core.implements`,
every NumPy-signature function the tracer dispatches to besides the op
records' own `answers`. A function here has no VJP of its own: it builds
primitive nodes, and reverse mode differentiates those. Keep a primitive (an
op record) where numerics or readable output need it.
"""

from symgrad.numpy_api import basics  # noqa: F401 - registers its functions
