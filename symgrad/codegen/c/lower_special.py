"""C lowering of `scipy.special.logsumexp` (with optional weights `b`) over
any axes, as the NumPy target computes it (`numpy/lower_special.py`).

Contract: for each result element `_o` (the kept axes, row-major: the
result's own layout, with or without keepdims) one loop over its group
`_r` (the reduced axes, row-major) finds the shift, the group's largest
entry (NaN wins, as `np.max`; 0 where it is not finite, so an empty group,
all -inf, or an inf never makes inf - inf), and a second loop sums
`b * exp(a - shift)`; the result is `log(sum) + shift`. Entries of weight
0 count as -inf (SciPy drops them, whatever `a` holds there). `a` and `b`
broadcast against each other; a scalar operand is a `double`, not a
buffer. No workspace: each group's shift and sum are locals.
"""

from __future__ import annotations

from symgrad.codegen.c.lower_arrays import loop, source_index
from symgrad.codegen.c.lowering import lowering
from symgrad.ir import dims


def _reader(src, shape, full, kept, reduced):
    """The C expression of the operand (buffer `src` of `shape`, broadcast
    to `full`) at group `_o`, entry `_r`."""
    if not shape:
        return src
    lead = len(full) - len(shape)
    parts = [
        source_index(var, [full[k] for k in axes], shape, [k - lead for k in axes])
        for var, axes in (("_o", kept), ("_r", reduced))
        if axes
    ]
    return f"{src}[{' + '.join(p for p in parts if p != '0') or '0'}]"


@lowering("logsumexp")
def _logsumexp(node, out, args) -> list:
    a, *weights = node.inputs
    full = a.shape if not weights else dims.broadcast_shapes(a.shape, weights[0].shape)
    axes = node.attr("axes")
    reduced = list(range(len(full))) if axes is None else list(axes)
    kept = [k for k in range(len(full)) if k not in reduced]
    value = _reader(args[0], a.shape, full, kept, reduced)
    if weights:
        weight = _reader(args[1], weights[0].shape, full, kept, reduced)
        value = f"{weight} == 0.0 ? -INFINITY : {value}"
        term = f"{weight} * exp(_v - _shift)"
    else:
        term = "exp(_v - _shift)"
    count = dims.prod([full[k] for k in reduced])
    result = f"{out}[_o]" if node.shape else out
    group = [
        "double _m = -INFINITY;",
        *loop(
            count,
            [f"double _v = {value};", "if (!(_m >= _v) && _m == _m) _m = _v;"],
            "_r",
        ),
        "double _shift = isfinite(_m) ? _m : 0.0;",
        "double _s = 0.0;",
        *loop(count, [f"double _v = {value};", f"_s += {term};"], "_r"),
        f"{result} = log(_s) + _shift;",
    ]
    if not node.shape:
        return ["{", *("    " + line for line in group), "}"]
    return loop(dims.prod([full[k] for k in kept]), group, "_o")
