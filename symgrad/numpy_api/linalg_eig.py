"""np.linalg.eig and np.linalg.eigvals of real matrices with real spectra
(the primitives are `ops.linalg_eig`'s).

Functions with several results return a tuple of nodes (NumPy 2 returns a
named tuple; unpacking and indexing work the same)."""

from __future__ import annotations

from symgrad.numpy_api.linalg import _matrix
from symgrad.ops import linalg_eig
from symgrad.ops.core import implements


@implements("numpy.linalg.eig")
def eig(a):
    return linalg_eig.eig(_matrix(a, "eig"))


@implements("numpy.linalg.eigvals")
def eigvals(a):
    return linalg_eig.eigvals(_matrix(a, "eigvals"))
