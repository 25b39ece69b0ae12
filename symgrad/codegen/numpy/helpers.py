"""Functions copied into the modules of the NumPy target: argument conversion.

Contract: `_number` and `_as_array` convert one argument leaf at the module
boundary; anything other than a float or a float/int/bool array first goes
through `_check_argument`, the same text the pure-Python target carries
(see `codegen.python.helpers`), so both targets refuse None, text, ragged
sequences and a 1-element array for a number with the same ValueError naming
the argument.
The functions use only the module's `np`; `codegen.numpy.support` copies
their source.
"""

import numpy as np

from symgrad.codegen.python.helpers import _check_argument


def _number(value, name):
    """A float argument as np.float64 (so 1/0 gives inf as in NumPy), checked."""
    if type(value) is not float:
        _check_argument(value, name, True)
    return np.float64(value)


def _as_array(value, name, dtype):
    """An array argument as an array of `dtype` (None: its own), checked."""
    if type(value) is not np.ndarray or value.dtype.kind not in "biuf":
        _check_argument(value, name, False)
    return np.asarray(value, dtype=dtype)
