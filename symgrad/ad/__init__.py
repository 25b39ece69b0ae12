"""Differentiation as graph building: reverse mode over the op table
(`autodiff`), regions (`regions`: branches and loops, with stacks) and the
transforms built from vector-Jacobian products (`transforms`: forward mode by
transposition, Jacobians, Hessians). Rules build nodes, never numbers.
"""

# Importing any part of `ad` installs the region rules (see ops.control).
from symgrad.ad import autodiff, regions  # noqa: E402, F401
