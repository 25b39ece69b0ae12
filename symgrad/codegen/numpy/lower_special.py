"""NumPy lowerings of the special functions (`ops.special`): SciPy's
`scipy.special.<name>(...)`, declaring `import scipy.special` so a module
imports SciPy only when it uses one; `logsumexp` written in NumPy.
"""

from __future__ import annotations

from symgrad.codegen.numpy.lowering import call, lower

IMPORTS = ("import scipy.special",)


def _logsumexp(out, a, b=None, *, dtype, axes, keepdims):
    """logsumexp in NumPy, as SciPy computes it (to rounding) at a third of
    its cost and without importing SciPy: shift by the largest entry (0 where
    that is not finite), sum the exponentials, take the log, shift back.
    With weights, the terms of weight 0 are dropped, as SciPy drops them."""
    axis = "None" if axes is None else str(axes[0] if len(axes) == 1 else axes)
    if b is not None:
        a_src = f"np.where({b} == 0, -np.inf, {a})"
        lines = [f"{out} = {a_src}"]
        a = out
    else:
        lines = []
    shift = f"{out}_shift"
    lines += [
        f"{shift} = np.max({a}, axis={axis}, keepdims=True, initial=-np.inf)",
        f"{shift} = np.where(np.isfinite({shift}), {shift}, 0.0)",
    ]
    terms = f"np.exp({a} - {shift})"
    if b is not None:
        terms = f"{b} * {terms}"
    total = f"np.add.reduce({terms}, axis={axis}" + (
        ", keepdims=True)" if keepdims else ")"
    )
    if keepdims:
        back = shift
    elif axes is None:
        back = f"{shift}.reshape(())"
    else:
        back = f"np.squeeze({shift}, axis={axis})"
    lines += [f"{out} = np.log({total})", f"{out} = {out} + {back}"]
    return lines


for _name in (
    "erf",
    "erfc",
    "gammaln",
    "gamma",
    "digamma",
    "ndtr",
    "log_ndtr",
    "logit",
    "xlogy",
    "xlog1py",
    "erfinv",
    "erfcinv",
    "i0",
    "i1",
    "i0e",
    "i1e",
    "j0",
    "j1",
    "y0",
    "y1",
):
    lower(_name, call(f"scipy.special.{_name}"), imports=IMPORTS)
lower(
    "polygamma",
    lambda a, n: f"scipy.special.polygamma({n}, {a})",
    imports=IMPORTS,
)
lower("logsumexp", stmts=_logsumexp)
