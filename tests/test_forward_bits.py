"""The forward value is the user's function, bit for bit, in the default mode.

Only gradients may be summed in another order (`passes.gradients`); what the
value reads is never rewritten. Checked on every op row (`forward` against
the row's function run by NumPy) and on random programs (`test_fuzz`).
A few rows call a library function that symgrad computes through its own
formula (a decomposition with its own rounding); they are listed here, so a
new difference fails.
"""

import numpy as np
import pytest

import symgrad
from tests.test_ops import ROWS, _setup

# Rows where symgrad computes one of these library functions by its own
# formula: equal to rounding (test_ops checks them to 1e-12), not bit for bit.
OWN_FORMULA = {
    "dot_nd",  # np.dot of N-D arrays
    "gamma_beta",  # scipy.stats gamma and beta densities
    "gamma_functions",  # scipy.special betaln, polygamma
    "logsumexp_b",  # scipy.special.logsumexp with weights b
    "lstsq",  # np.linalg.lstsq
    "math_special",  # math.erf, erfc, lgamma, gamma
    "softmax",  # scipy.special.softmax, log_softmax
    "xlogy_logit",  # scipy.special.logit, expit, log_expit
}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_value_is_the_users_function_bit_for_bit(name):
    row, args, loss = _setup(name, ROWS[name].shapes[-1])
    c = symgrad.compile(loss, *args, argnums=tuple(range(len(args))))
    with np.errstate(all="ignore"):
        value = c.forward(*args)
        both = c.value_and_grad(*args)[0]
        want = float(loss(*args))
    assert value == both
    if name in OWN_FORMULA:
        assert value == pytest.approx(want, rel=1e-12)
    else:
        assert value == want, (value, want)
