"""The front end: the user's function as symgrad traces it.

Contract: `convert(fun)` returns a function that behaves like `fun` but in
which the names `fun` (and the user functions it reaches through its globals
and closure) use for known callables and modules resolve to symgrad's
versions: `np.array([a, b])`, `scipy.special.logsumexp(x)`, `from scipy.special
import softmax`, `np.linalg.solve` called on traced values are recorded; with
plain values they call the real function. Library code is left alone. See
`symgrad.frontend.resolve`.
"""

from symgrad.frontend.resolve import convert

__all__ = ["convert"]
