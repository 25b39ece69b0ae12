"""C lowerings of the running scans `np.cumsum` / `np.cumprod` along one
axis and of the product reduction `np.prod` over any axes.

Contract: each `@lowering` returns C lines computing `node` into `out` (a
flat row-major `double` buffer, or a `double` for a scalar result), in the
order NumPy computes it, so results agree to the bit where NumPy's loops
are sequential: a scan is `out[0] = a[0]`, `out[j] = out[j - 1] op a[j]`
along the axis (`np.add.accumulate`); a product starts from 1 (the identity,
so an empty axis gives 1.0, as `np.prod`) and multiplies the entries of its
group in row-major order. A scan's loops run outer axes, then the scanned
axis, then the inner axes innermost, so the inner loop reads and writes
contiguous memory. Sizes may be symbolic (`sizes.c_size`).
"""

from __future__ import annotations

from symgrad.codegen.c.lower_arrays import loop, reduced_axes, source_index
from symgrad.codegen.c.lowering import lowering
from symgrad.codegen.c.sizes import c_size
from symgrad.ir import dims

_SYMBOL = {"cumsum": "+", "cumprod": "*"}


def _over(count, body: list, var: str) -> list:
    """`loop` over `count`, or `body` alone when the count is 1."""
    return body if dims.known_equal(count, 1) else loop(count, body, var)


def _at(*terms) -> str:
    return " + ".join(t for t in terms if t) or "0"


@lowering("cumsum", "cumprod")
def _scan(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    axis = node.attr("axis")
    outer = dims.prod(a.shape[:axis])
    length = a.shape[axis]
    inner = dims.prod(a.shape[axis + 1 :])
    if dims.known_equal(length, 0) or dims.known_equal(outer * inner, 0):
        return [f"/* {node.op} of an empty array: nothing to compute */"]
    run = None if dims.known_equal(outer, 1) else f"_o * {c_size(length * inner)}"
    across = None if dims.known_equal(inner, 1) else "_c"
    step = c_size(inner)
    along = "_j" if step == "1" else f"_j * {step}"
    # The first entry of each run is copied (so -0.0 stays -0.0, as NumPy);
    # each next one adds (multiplies) the entry before it.
    first = _at(run, across)
    at = _at(run, along, across)
    update = f"{out}[{at}] = {out}[{at} - {step}] {_SYMBOL[node.op]} {src}[{at}];"
    kind = "long" if dims.is_symbolic(length) else "int"
    body = [
        *_over(inner, [f"{out}[{first}] = {src}[{first}];"], "_c"),
        f"for ({kind} _j = 1; _j < {c_size(length)}; _j++) {{",
        *("    " + line for line in _over(inner, [update], "_c")),
        "}",
    ]
    if dims.is_symbolic(length):
        # A symbolic axis may be empty: then there is no first entry.
        body = [f"if ({c_size(length)} > 0) {{", *("    " + x for x in body), "}"]
    return _over(outer, body, "_o")


@lowering("prod")
def _prod(node, out, args) -> list:
    (a,), (src,) = node.inputs, args
    if not a.shape:
        return [f"{out} = {src};"]
    axes, kept = reduced_axes(node)
    if not kept:
        acc = f"{out}[0]" if node.shape else out  # keepdims: shape (1, ...)
        return [f"{acc} = 1.0;", *loop(a.size, [f"{acc} *= {src}[_i];"])]
    kept_shape = [a.shape[k] for k in kept]
    # The result element of operand element _i: its kept axes, in order.
    index = source_index(
        "_i",
        a.shape,
        kept_shape,
        [kept.index(k) if k in kept else -1 for k in range(a.ndim)],
    )
    return loop(dims.prod(kept_shape), [f"{out}[_i] = 1.0;"]) + loop(
        a.size, [f"{out}[{index}] *= {src}[_i];"]
    )


@lowering("argmax", "argmin")
def _arg_extreme(node, out, args) -> list:
    """The index of the first largest (smallest) entry along the axis, or of
    the flattened array (axis None), as NumPy's: a NaN wins (the first
    one), ties go to the first. Indices are doubles (exact below 2**53).
    The group is never empty: the module checks that first."""
    (a,), (src,) = node.inputs, args
    axis = node.attr("axis")
    wins = ">" if node.op == "argmax" else "<"
    if axis is None:
        outer, length, inner = 1, dims.prod(a.shape), 1
    else:
        outer = dims.prod(a.shape[:axis])
        length = a.shape[axis]
        inner = dims.prod(a.shape[axis + 1 :])
    stride = "" if dims.known_equal(inner, 1) else f" * {c_size(inner)}"
    base = _at(
        "" if dims.known_equal(outer, 1) else f"_o * {c_size(length)}{stride}",
        "" if dims.known_equal(inner, 1) else "_c",
    )
    at = _at(base, f"_j{stride}")
    scan = [
        "long _best = 0;",
        f"double _v = {src}[{base}];",
        f"for (long _j = 1; _j < {c_size(length)} && _v == _v; _j++) {{",
        f"    if ({src}[{at}] {wins} _v || {src}[{at}] != {src}[{at}]) {{",
        "        _best = _j;",
        f"        _v = {src}[{at}];",
        "    }",
        "}",
    ]
    place = _at(
        "" if dims.known_equal(outer, 1) else f"_o{stride}",
        "" if dims.known_equal(inner, 1) else "_c",
    )
    if not node.shape:
        body = [*scan, f"{out} = (double)_best;"]
        return ["{", *("    " + line for line in body), "}"]
    body = [
        "{",
        *("    " + line for line in scan),
        f"    {out}[{place}] = (double)_best;",
        "}",
    ]
    return _over(outer, _over(inner, body, "_c"), "_o")
