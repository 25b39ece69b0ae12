"""C lowerings of reductions, matmul (one call of `blas`'s helper) and the
shape ops (transpose, reshape, broadcast_to): flat row-major buffers in and
out, one loop nest each.

Contract: each `@lowering` returns C lines computing `node` into `out`.
Arrays are `double *` buffers; a size is an int or a symbolic dimension,
printed by `sizes.c_size` (a loop over a symbolic count counts in `long`).
Loop variables start with an underscore, which sanitized user names never
do.
"""

from __future__ import annotations

from symgrad.codegen.c.blas import gemm_lines
from symgrad.codegen.c.lowering import lowering
from symgrad.codegen.c.sizes import c_double, c_size
from symgrad.ir import dims


def strides(shape) -> list:
    """Row-major strides (in elements) of `shape`."""
    out = [1] * len(shape)
    for axis in range(len(shape) - 2, -1, -1):
        out[axis] = out[axis + 1] * shape[axis + 1]
    return out


def source_index(i: str, out_shape, in_shape, axes=None) -> str:
    """The flat index into an operand of shape `in_shape` read for the
    element `i` of a result of shape `out_shape`: broadcasting (`in_shape`
    aligned to the right, axes of length 1 read at 0), or a transpose
    (`axes[k]`: the operand axis that is result axis k)."""
    if axes is None:
        lead = len(out_shape) - len(in_shape)
        axes = [k - lead for k in range(len(out_shape))]
    in_strides = strides(in_shape)
    out_strides = strides(out_shape)
    terms = []
    for k, size in enumerate(out_shape):
        src = axes[k]
        if src < 0 or in_shape[src] == 1 or size == 1:
            continue
        coord = i
        if out_strides[k] != 1:
            coord = f"{coord} / {c_size(out_strides[k])}"
        if k > 0:
            size = c_size(size)
            coord = f"({coord}) % {size}" if " " in coord else f"{coord} % {size}"
        terms.append(
            coord if in_strides[src] == 1 else f"({coord}) * {c_size(in_strides[src])}"
        )
    return " + ".join(terms) or "0"


def loop(count, body: list, var: str = "_i") -> list:
    """`for` over `count` elements around `body` (lines)."""
    kind = "long" if dims.is_symbolic(count) else "int"
    return [
        f"for ({kind} {var} = 0; {var} < {c_size(count)}; {var}++) {{",
        *("    " + line for line in body),
        "}",
    ]


def reduced_axes(node) -> tuple:
    """(the axes a reduction `node` reduces, the axes it keeps) of its
    operand, in order (`axes` None: all of them)."""
    ndim = node.inputs[0].ndim
    axes = node.attr("axes")
    axes = tuple(range(ndim)) if axes is None else tuple(axes)
    return axes, [k for k in range(ndim) if k not in axes]


@lowering("sum", "mean", "max", "min")
def _reduction(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if not a.shape:
        return [f"{out} = {src};"]
    axes, kept = reduced_axes(node)
    kept_shape = [a.shape[k] for k in kept]
    # The result element of operand element _i: its kept axes, in order.
    index = (
        source_index(
            "_i",
            a.shape,
            kept_shape,
            [kept.index(k) if k in kept else -1 for k in range(a.ndim)],
        )
        if kept
        else "0"
    )
    start = {"sum": "0.0", "mean": "0.0", "max": "-INFINITY", "min": "INFINITY"}
    count = dims.prod(kept_shape)
    acc = f"{out}[{index}]" if node.shape else out
    lines = []
    if node.shape:
        lines += loop(count, [f"{out}[_i] = {start[node.op]};"])
    else:
        lines.append(f"{out} = {start[node.op]};")
    # Kept axes all trailing (a column sum) or all leading (a row sum): a
    # loop nest without divisions, adding in the same order as the flat loop.
    inner = outer = None
    reduced = dims.prod([a.shape[k] for k in axes])
    if a.size == 0:
        item = f"{src}[_i]"
    elif kept and kept == list(range(a.ndim - len(kept), a.ndim)):
        outer, inner = reduced, count
        acc, item = f"{out}[_c]", f"{src}[_o * {c_size(count)} + _c]"
    elif kept and kept == list(range(len(kept))):
        outer, inner = count, reduced
        acc, item = f"{out}[_o]", f"{src}[_o * {c_size(inner)} + _c]"
    else:
        item = f"{src}[_i]"
    if node.op in ("sum", "mean"):
        update = f"{acc} += {item};"
    else:
        # nan wins, as in NumPy (once nan, always nan); ties keep the first.
        keeps = ">=" if node.op == "max" else "<="
        update = f"if (!({acc} {keeps} {item}) && {acc} == {acc}) {acc} = {item};"
    if inner is not None:
        lines += loop(outer, loop(inner, [update], "_c"), "_o")
    else:
        lines += loop(a.size, [update])
    if node.op == "mean":
        if node.shape:
            lines += loop(count, [f"{out}[_i] /= {c_double(reduced)};"])
        else:
            lines.append(f"{out} /= {c_double(reduced)};")
    return lines


def empty_reduction(node) -> list:
    """C conditions (of the size variables) under which `max`/`min` node
    would reduce no elements, which NumPy refuses (it has no identity):
    empty for other nodes and for sizes fixed when generating."""
    if node.op not in ("max", "min") or not node.inputs[0].shape:
        return []
    a = node.inputs[0]
    axes = node.attr("axes")
    axes = tuple(range(a.ndim)) if axes is None else tuple(axes)
    count = dims.prod([a.shape[k] for k in axes])
    return [f"{c_size(count)} == 0"] if dims.is_symbolic(count) else []


@lowering("matmul", helpers=("sg_gemm",))
def _matmul(node, out, args) -> list:
    # One call of the product helper (`blas`: SciPy's BLAS or own loops).
    return gemm_lines(node, out, args, loop=loop)


@lowering("transpose")
def _transpose(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axes = list(node.attr("axes"))
    moved = [axis for axis in axes if a.shape[axis] != 1]
    if moved == sorted(moved):
        return [
            f"const double *{out} = {src}; /* the same buffer, as shape {node.shape} */"
        ]
    index = source_index("_i", node.shape, a.shape, axes)
    return loop(node.size, [f"{out}[_i] = {src}[{index}];"])


@lowering("reshape")
def _reshape(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if not a.shape and not node.shape:
        return [f"{out} = {src};"]
    if not a.shape:
        return [f"{out}[0] = {src};"]
    if not node.shape:
        return [f"{out} = {src}[0];"]
    return [
        f"const double *{out} = {src}; /* the same buffer, as shape {node.shape} */"
    ]


@lowering("broadcast_to")
def _broadcast_to(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if not node.shape:
        return [f"{out} = {src};"]
    if not a.shape:
        return loop(node.size, [f"{out}[_i] = {src};"])
    if dims.known_equal(a.size, node.size):
        return [
            f"const double *{out} = {src}; /* the same buffer, as shape {node.shape} */"
        ]
    index = source_index("_i", node.shape, a.shape)
    return loop(node.size, [f"{out}[_i] = {src}[{index}];"])


# Lowerings that name a buffer they do not fill (a view of an operand).
ALIASES = ("transpose", "reshape", "broadcast_to")


@lowering("dim")
def _dim(node, out, args) -> list:
    # A size used as a number (`len(x)`): its `long` variable as a double.
    # (`module` reads sizes in place through `CModule.ref`; this is the
    # statement for a target user that asks for one.)
    return [f"{out} = {c_double(node.attr('dim'))};"]
