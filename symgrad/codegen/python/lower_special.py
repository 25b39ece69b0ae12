"""Pure-Python lowerings of the special-function primitives that are not
elementwise: `scipy.special.logsumexp` (with or without weights `b`), and
the refusal, naming the function, of those only SciPy computes (erfinv,
erfcinv and the Bessel functions i0, i1, i0e, i1e, j0, j1, y0, y1).

Contract: as every `lower_<area>` module: `@lowering` functions that
return the lines computing a node, declaring the helpers they call (which
live in `helpers_special.py`).
"""

from __future__ import annotations

import os

from symgrad.codegen.python.lowering import lowering, size_src
from symgrad.errors import SymgradError
from symgrad.ir import dims
from symgrad.ops.special import NUMPY_ONLY


def _lse_helpers(node) -> tuple:
    call = "_logsumexp_b" if len(node.inputs) > 1 else "_logsumexp"
    full = _full_shape(node)
    spread = any(i.shape != full for i in node.inputs if i.shape)
    axes = node.attr("axes")
    return (
        (call,)
        + (("_reduce",) if axes is not None else ())
        + (("_broadcast",) if spread else ())
    )


def _full_shape(node) -> tuple:
    return dims.broadcast_shapes(*(i.shape for i in node.inputs))


@lowering("logsumexp", helpers=_lse_helpers)
def _logsumexp(node, out, args) -> list:
    full = _full_shape(node)
    operands = []
    for inp, src in zip(node.inputs, args, strict=True):
        if not inp.shape:
            src = f"[{src}] * {size_src(dims.prod(full))}" if full else f"[{src}]"
        elif inp.shape != full:
            src = f"_broadcast({src}, {inp.shape}, {full})"
        operands.append(src)
    if len(operands) == 1:
        call, values = "_logsumexp", operands[0]
    else:
        call, values = "_logsumexp_b", f"list(zip({operands[0]}, {operands[1]}))"
    axes = node.attr("axes")
    if axes is None:
        expr = f"{call}({values})"
        return [f"{out} = [{expr}]" if node.shape else f"{out} = {expr}"]
    return [f"{out} = _reduce({call}, {values}, {full}, {tuple(axes)})"]


def _numpy_only(node, out, args) -> list:
    loc = node.loc
    where = f" (used at {os.path.basename(loc.file)}:{loc.line})" if loc else ""
    raise SymgradError(
        f"scipy.special.{node.op}{where} is not supported by the pure-Python "
        'target (it needs SciPy\'s implementation). Compile with target="numpy".'
    )


lowering(*NUMPY_ONLY, refuses=True)(_numpy_only)
