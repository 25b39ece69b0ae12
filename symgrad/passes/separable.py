"""Is a loss a sum or mean over rows? An analysis of the traced graph.

Contract: `analyze(value, batched, rows)` reads the graph of the scalar node
`value` (an analysis: it builds no node and changes nothing) and answers
whether splitting the rows of the `batched` input nodes (axis 0, the
symbolic size `rows`) into blocks and combining the blocks' results is exact:
the value must be `c * reduce_rows(f(row, params)) + g(params)`, summed over
several such terms, where every `reduce_rows` is a sum over the rows or
every one is a mean over them. The answer is a `Verdict`: `kind` ("mean" or
"sum") when separable, else the reason, naming the user's file:line of the
node where the rows first mix.

Each node gets one class, in one iterative walk in topological order:
- "param": depends on neither the batched inputs nor the number of rows;
- "row": has the rows on axis 0, and row i depends only on row i of the
  batched inputs (elementwise ops, a row-wise matrix times a param-only one,
  reductions over other axes, views that keep axis 0, ...);
- "count" / "inv": the number of rows n / a param-only scalar over n (what
  `len(X)` and a hand-written mean make);
- "iota": `np.arange(n)`, the row numbers: only for picking one entry per
  row (`a[np.arange(n), y]`), anything else with it mixes;
- "reduced": affine in reductions over the rows: a sum or mean over axis 0
  of a row-wise value (the dot product of two row vectors is a sum too),
  then sums, differences, views and products with param-only values of
  such, plus param-only terms (`has_param` says whether one was added);
- "mixed": anything else. Mixing propagates: the first mixing node is the
  one named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from symgrad import ir
from symgrad.ir import dims
from symgrad.ops import OPS

# Views that keep a row-wise value row-wise when axis 0 stays in place
# (checked per op below), and that keep a reduced value reduced.
_VIEWS = ("reshape", "getitem", "transpose", "broadcast_to")
# Ops taking `axis`: row-wise along any other axis.
_ALONG_AXIS = ("sort", "argsort", "cumsum", "cumprod", "concatenate", "stack")
# Linear in their one non-param operand (the other operands param-only).
_LINEAR = ("add", "sub", "neg", "mul", "div", "matmul", "sum", "mean") + _VIEWS


@dataclass(frozen=True)
class Verdict:
    """Whether the value splits over row blocks, and how they combine."""

    separable: bool
    kind: str | None = None  # "mean" or "sum" (rows reduced by this)
    has_param: bool = False  # a param-only term is added to the reductions
    reason: str = ""  # why not: "file.py:12: what mixes the rows"
    # Argument leaves (paths, as `Program.leaves` hold them) whose axis 0 is
    # the rows: the ones a caller may split.
    batched: tuple = ()

    def __bool__(self) -> bool:
        return self.separable


@dataclass(frozen=True)
class _Class:
    name: str  # param, row, count, inv, reduced, mixed
    kind: str | None = None  # reduced: "sum" or "mean"
    has_param: bool = False  # reduced: a param-only term was added
    reason: str = ""  # mixed: the located reason


_PARAM = _Class("param")
_IOTA = _Class("iota")  # np.arange(n): the row numbers, good only to index rows
_ROW = _Class("row")
_COUNT = _Class("count")
_INV = _Class("inv")


def of_program(program) -> Verdict:
    """The verdict for a compiled loss: its batched arguments are the ones
    not differentiated whose axis 0 is one symbolic size (`batch=`)."""
    fn = program.function("value_and_grad") or program.function("forward")
    if fn is None or fn.delegate is not None or not fn.outputs:
        return Verdict(False, reason="the module computes no value")
    value = fn.outputs[0]
    if value.shape != () or value.dtype.kind != "f":
        return Verdict(False, reason="the value is not a float scalar")
    argnums = set(program.argnums)
    batched = [
        leaf
        for leaf in program.leaves
        if leaf.node is not None
        and leaf.path[0] not in argnums
        and leaf.node.shape
        and dims.is_symbol(leaf.node.shape[0])
    ]
    if not batched:
        return Verdict(
            False,
            reason="no argument has a symbolic number of rows; compile with "
            "batch={'X': 0, 'y': 0} (the data arguments' first axis)",
        )
    names = sorted({dims.name_of(leaf.node.shape[0]) for leaf in batched})
    if len(names) > 1:
        return Verdict(
            False,
            reason="the data arguments have different row sizes "
            + ", ".join(names)
            + "; give them one (batch= makes every axis listed the size n)",
        )
    rows = batched[0].node.shape[0]
    for leaf in program.leaves:
        if leaf.node is not None and leaf not in batched:
            if names[0] in dims.symbols_of(leaf.node.shape):
                return Verdict(
                    False,
                    reason=f"the argument {leaf.node.hint or leaf.path} is sized "
                    "by the rows but is not split with them",
                )
    verdict = analyze(value, [leaf.node for leaf in batched], rows)
    return Verdict(
        verdict.separable,
        verdict.kind,
        verdict.has_param,
        verdict.reason,
        tuple(leaf.path for leaf in batched),
    )


def where(node: ir.Node) -> str:
    """`file.py:12` of a node's user line, or "" without one."""
    loc = node.loc
    if loc is None:
        return ""
    return f"{os.path.basename(loc.file)}:{loc.line}"


def _mixed(node: ir.Node, what: str) -> _Class:
    place = where(node)
    return _Class("mixed", reason=f"{place}: {what}" if place else what)


def analyze(value: ir.Node, batched, rows) -> Verdict:
    """The verdict for scalar `value` whose `batched` input nodes have the
    symbolic size `rows` on axis 0 (see the module docstring)."""
    batched = set(batched)
    cls: dict = {}
    for node in ir.toposort([value]):
        cls[node] = _classify(node, [cls[i] for i in node.inputs], batched, rows)
    out = cls[value]
    if out.name == "mixed":
        return Verdict(False, reason=out.reason)
    if out.name == "reduced" and value.shape == ():
        return Verdict(True, out.kind, out.has_param)
    return Verdict(False, reason="the value is not a sum or mean over the rows")


def _along_other_axis(node: ir.Node, ndim: int) -> bool:
    """Does the op's `axis` attribute name an axis other than the rows'?"""
    axis = node.attr("axis")
    if not isinstance(axis, int) or isinstance(axis, bool):
        return False  # None (flattened) or absent
    return axis % ndim != 0 if ndim else False


def _classify(node, ins, batched, rows) -> _Class:
    for c in ins:
        if c.name == "mixed":
            return c
    op = node.op
    shape = node.shape if node.vtype is None else ()
    name = dims.name_of(rows)
    if name in dims.symbols_of(shape[1:]):
        return _mixed(node, f"{op} puts the rows on an axis other than the first")
    if shape and name in dims.symbols_of(shape[:1]) and shape[0] != rows:
        return _mixed(node, f"{op} makes an axis of a size other than the rows")
    if op.startswith("random_"):
        return _mixed(node, f"{op} draws random numbers (blocks would differ)")
    if not node.inputs:
        return _leaf(node, batched, rows)
    names = {c.name for c in ins}
    if names == {"param"}:
        if shape and shape[0] == rows:
            if op == "broadcast_to":
                return _ROW
            return _mixed(node, f"{op} builds one entry per row from no rows")
        return _PARAM
    if "iota" in names:
        return _row_pick(node, ins, rows)
    if names & {"reduced", "count", "inv"}:
        return _linear(node, ins, rows)
    return _rowwise(node, ins, rows)


def _row_pick(node, ins, rows) -> _Class:
    """`a[np.arange(n), j]` with row-wise `a` and `j` (one entry per row, as
    a cross entropy picks each row's label): row i reads only row i."""
    if node.op == "gather" and len(ins) == 3 and node.shape == (rows,):
        a, first, second = node.inputs
        if (
            [c.name for c in ins] == ["row", "iota", "row"]
            and node.attr("index") == (("index", 0), ("index", 1))
            and a.ndim == 2
            and second.shape == (rows,)
        ):
            return _ROW
    return _mixed(node, f"{node.op} uses the row numbers np.arange(n)")


def _leaf(node, batched, rows) -> _Class:
    if node.op == "input":
        return _ROW if node in batched else _PARAM
    if node.op == "dim":
        d = node.attr("dim")
        if d == rows:
            return _COUNT
        if dims.name_of(rows) in dims.symbols_of((d,)):
            return _mixed(node, "uses a size computed from the number of rows")
        return _PARAM
    if node.op == "arange" and node.attr("n") == rows:
        return _IOTA
    if node.op == "const" or not dims.has_symbols(node.shape):
        return _PARAM
    return _mixed(node, f"{node.op} depends on the number of rows")


def _rowwise(node, ins, rows) -> _Class:
    """A node whose operands are row-wise or param-only (some row-wise)."""
    op = node.op
    flags = _flags(op)
    args = node.inputs
    if not node.shape or node.shape[0] != rows:
        # The only ways out of the rows: a sum or mean over them.
        if "reduction" in flags and len(args) == 1:
            axes = node.attr("axes")
            if op in ("sum", "mean") and (axes is None or 0 in axes):
                return _Class("reduced", op, False)
            return _mixed(node, f"{op} over the rows (only sums and means split)")
        if op == "matmul" and all(c.name == "row" for c in ins):
            if all(a.ndim == 1 for a in args):
                return _Class("reduced", "sum", False)
        return _mixed(node, f"{op} combines different rows")
    if "elementwise" in flags:
        pairs = zip(args, ins, strict=True)
        if all(a.ndim == node.ndim for a, c in pairs if c.name == "row"):
            return _ROW
        return _mixed(node, f"{op} broadcasts rows against each other")
    if "reduction" in flags and len(args) == 1:
        axes = node.attr("axes")
        if axes is not None and 0 not in axes:
            return _ROW
    if op == "matmul" and ins[0].name == "row" and ins[1].name == "param":
        if args[0].ndim >= 2 and args[1].ndim <= 2:
            return _ROW
    if op in _VIEWS and args[0].shape and args[0].shape[0] == rows:
        if op == "reshape":
            return _ROW
        if op == "getitem" and node.attr("index")[:1] == (("slice",) + (None,) * 3,):
            return _ROW
        if op == "transpose" and node.attr("axes")[0] == 0:
            return _ROW
        if op == "broadcast_to" and args[0].ndim == node.ndim:
            return _ROW
    if op in _ALONG_AXIS and all(c.name == "row" for c in ins):
        ndim = node.ndim if op in ("concatenate", "stack") else args[0].ndim
        if all(a.shape[0] == rows for a in args) and _along_other_axis(node, ndim):
            return _ROW
    return _mixed(node, f"{op} combines different rows")


def _linear(node, ins, rows) -> _Class:
    """A node with a reduced, count or inv operand: stays reduced only when
    it is linear in the reduction (or makes a mean of a sum by 1/n)."""
    op = node.op
    names = [c.name for c in ins]
    red = [c for c in ins if c.name == "reduced"]
    if names.count("count") + names.count("inv") and not red:
        if op == "cast" and names == ["count"]:
            return _COUNT
        if op == "div" and names == ["param", "count"] and node.shape == ():
            return _INV
        if op == "mul" and sorted(names) == ["inv", "param"] and node.shape == ():
            return _INV
        return _mixed(node, f"{op} uses the number of rows other than for a mean")
    if len({c.kind for c in red}) > 1:
        return _mixed(node, f"{op} adds a mean over the rows to a sum over them")
    if "row" in names:
        return _mixed(node, f"{op} combines each row with a reduction over rows")
    if node.shape and node.vtype is None and node.shape[0] == rows:
        return _mixed(node, f"{op} spreads a reduction over rows back over them")
    kind = red[0].kind
    has_param = any(c.has_param for c in red)
    if op in ("mul", "div") and len(red) == 1 and len(ins) == 2:
        other = names[1 - names.index("reduced")]
        if other in ("count", "inv"):
            # sum / n and sum * (1 / n) are means; nothing else with n is.
            by_n = (op, other) == ("mul", "inv") or (
                (op, other, names[0]) == ("div", "count", "reduced")
            )
            if by_n and kind == "sum" and not has_param:
                return _Class("reduced", "mean", False)
            return _mixed(node, f"{op} scales a reduction over rows by the row count")
    if names.count("count") + names.count("inv"):
        return _mixed(node, f"{op} uses the number of rows other than for a mean")
    if op not in _LINEAR and not (op == "cast" and node.dtype.kind == "f"):
        return _mixed(node, f"{op} of a reduction over rows is not linear in it")
    if op in ("mul", "matmul") and len(red) > 1:
        return _mixed(node, f"{op} multiplies two reductions over rows")
    if op == "div" and names[1] != "param":
        return _mixed(node, f"{op} divides by a reduction over rows")
    if op in ("add", "sub") and "param" in names:
        has_param = True
    return _Class("reduced", kind, has_param)


def _flags(op: str) -> frozenset:
    record = OPS.get(op)
    return record.flags if record is not None else frozenset()
