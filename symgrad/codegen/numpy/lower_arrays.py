"""NumPy lowerings of products, reductions, scans, arg-reductions, shape
ops and sorting (`ops.products`, `ops.reductions`, `ops.shapes`,
`ops.sorting`): the NumPy call a person writes, with only the arguments that
differ from NumPy's defaults.
"""

from __future__ import annotations

from symgrad.codegen.numpy.lowering import lower
from symgrad.ops.products import einsum_spec

# The ufunc reductions np.sum, np.prod, np.max and np.min call: written
# directly, they give the same bits with less Python dispatch per call.
_UFUNC_REDUCE = {
    "sum": "np.add.reduce",
    "prod": "np.multiply.reduce",
    "max": "np.maximum.reduce",
    "min": "np.minimum.reduce",
}


def _reduction(name, into=False):
    call = _UFUNC_REDUCE.get(name, f"np.{name}")

    def printer(a, axes, keepdims):
        args = a
        if axes is not None:
            args += f", axis={axes[0] if len(axes) == 1 else axes}"
        elif name in _UFUNC_REDUCE:
            args += ", axis=None"  # a ufunc reduces the first axis by default
        if keepdims:
            args += ", keepdims=True"
        return f"{call}({args})"

    def out_printer(dest, a, axes, keepdims):
        # The same reduction, its result written into `dest`.
        return printer(a, axes, keepdims)[:-1] + f", out={dest})"

    return out_printer if into else printer


def _arg(name):
    def printer(a, axis, keepdims):
        args = a
        if axis is not None:
            args += f", axis={axis}"
        if keepdims:
            args += ", keepdims=True"
        return f"np.{name}({args})"

    return printer


def _einsum(*args, subscripts, output, optimize):
    spec = einsum_spec(subscripts, output)
    extra = ", optimize=True" if optimize else ""
    return f'np.einsum("{spec}", {", ".join(args)}{extra})'


def _conv(op, default):
    def printer(a, v, mode):
        extra = "" if mode == default else f', mode="{mode}"'
        return f"np.{op}({a}, {v}{extra})"

    return printer


def _transpose(a, axes):
    if axes == tuple(reversed(range(len(axes)))):
        return f"{a}.T"
    return f"np.transpose({a}, {axes})"


def _axis(axis) -> str:
    return "" if axis == -1 else f", axis={axis}"


for _name in ("sum", "prod", "mean", "max", "min"):
    lower(_name, _reduction(_name), out=_reduction(_name, into=True))
for _name in ("cumsum", "cumprod"):
    lower(_name, lambda a, axis, _name=_name: f"np.{_name}({a}, axis={axis})")
for _name in ("argmax", "argmin"):
    lower(_name, _arg(_name))

lower(
    "matmul",
    lambda a, b: f"{a} @ {b}",
    out=lambda dest, a, b: f"np.matmul({a}, {b}, out={dest})",
)
lower("einsum", _einsum)
lower("convolve", _conv("convolve", "full"))
lower("correlate", _conv("correlate", "valid"))

lower(
    "reshape",
    lambda a, shape: f"np.reshape({a}, {shape})",
    # An array's own method: the same view or copy, a fifth of the dispatch.
    on_arrays=lambda a, shape: f"{a}.reshape({shape})",
)
lower("transpose", _transpose)
lower("broadcast_to", lambda a, shape: f"np.broadcast_to({a}, {shape})")

lower("sort", lambda a, axis: f'np.sort({a}{_axis(axis)}, kind="stable")')
lower("argsort", lambda a, axis: f'np.argsort({a}{_axis(axis)}, kind="stable")')
