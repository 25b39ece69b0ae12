"""C module assembly: one C99 function per generated function.

Contract: `generate(program, target)` returns `(compute, shapes, blocks)`:
the source of the computation (`compute`: plain C99 with <math.h>, one
function per program function taking its size symbols, its argument leaves
and writing its output leaves, readable, with the user's names, `_bar`
adjoints and a comment with the user's file:line over each block), per
function its kinds `(symbols, input sizes, output sizes, workspace
length, guard size)`, and each function's lines. Symbolic sizes (`batch=`, `shapes=`)
are `long` parameters in front of the arrays (`sizes`); loop bounds,
offsets and the workspace length are expressions of them. A function with
a workspace is `NAME_in(_work, ...)`, which the plain `NAME(...)` calls
with a workspace it allocates (overflow-guarded: -2 when too large to
address, -1 when out of memory); `NAME_in` itself returns -3 (an index
outside a symbolic axis) or -4/-5 (a max/min of no elements) before
computing anything. The CPython extension module that calls it is
`binding`'s. Names come from `codegen.module.Emitter` with the C target's
reserved names, so a user name is never a C keyword, a <math.h> name or
one of the module's own; user text reaches C only as identifiers, comments
made safe and `c_string` literals. What the C target does not compute
(dtypes other than float64 and bool; ints only as scalar loop counters and
sizes) is refused here by name, when the module is generated. Each
function is compiled into blocks (`block`: the function's own, and one per
branch or loop body, written by `control`) on one statement timeline
(`blocks.Frame`), so the workspace is laid out once, by liveness, over
every block. A function that keeps stacks or checks an index while it runs
ends at one `_end` label that frees its stacks and returns `_status` (-1:
out of memory, -3: an index outside an axis, -6: a tape popped empty).
"""

from __future__ import annotations

import os

import numpy as np

from symgrad import ir
from symgrad._version import __version__
from symgrad.ad.autodiff import SUM_FILE
from symgrad.codegen import regions
from symgrad.codegen.c import blas, control, fuse, lower_linalg, stacks, workspace
from symgrad.codegen.c.blocks import Buffer, Decl, Frame, rendered
from symgrad.codegen.c.lower_arrays import empty_reduction, loop
from symgrad.codegen.c.lower_indexing import out_of_bounds
from symgrad.codegen.c.lowering import refuse
from symgrad.codegen.c.scalar import HELPERS
from symgrad.codegen.c.sizes import (
    c_double,
    c_size,
    magnitude,
    size_var,
    symbols_in_order,
    workspace_guard,
)
from symgrad.codegen.module import Emitter
from symgrad.codegen.naming import comment_safe
from symgrad.errors import SymgradError
from symgrad.ir import dims
from symgrad.ir.source import source_line


def c_string(text) -> str:
    """A C string literal holding `text` (UTF-8): printable ASCII as it is
    but for quotes, backslashes and `?` (no trigraphs), every other byte as
    an octal escape."""
    out = []
    for byte in str(text).encode("utf-8", "surrogatepass"):
        ch = chr(byte)
        if 32 <= byte < 127 and ch not in '"\\?':
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_comment(text) -> str:
    """`text` as one `/* ... */` comment that cannot end early."""
    return "/* " + comment_safe(text, 200).replace("*/", "* /") + " */"


def _comment(loc) -> str:
    if loc.file == SUM_FILE:
        return c_comment(f"total gradient of {loc.func}: the sum over its uses")
    text = comment_safe(source_line(loc.file, loc.line)) or comment_safe(loc.func)
    where = f"{os.path.basename(loc.file)}:{loc.line}"
    return c_comment(f"{'grad of: ' if loc.grad else ''}{text}  ({where})")


def _check_supported(program) -> None:
    for fn in program.functions:
        leaves = [leaf.node for leaf in fn.signature.leaves if leaf.node is not None]
        whole = set(symbols_in_order(leaves))
        for node in leaves:
            missing = [s for s in dims.symbols_of(node.shape) if s not in whole]
            if missing:
                raise SymgradError(
                    f"the size {comment_safe(missing[0])} of argument leaf "
                    f"{comment_safe(node.hint)} is not a whole axis of any "
                    "argument, so the C module cannot read it; give it its own "
                    "axis in batch=/shapes= or fix that size"
                )
            if node.dtype != np.float64:
                raise SymgradError(
                    f"the C target takes float64 arguments only, but "
                    f"{comment_safe(node.hint)} is {node.dtype.name}; pass floats "
                    'or compile with target="numpy"'
                )


_SIZE_OPS = ("add", "sub", "mul", "neg", "maximum", "minimum")


def _size_arithmetic(node, depth: int = 8) -> bool:
    """Whether `node` is an int computed from sizes and int constants only
    (`n - 1` of `var(ddof=1)`): a `double` here, exact below 2**53."""
    if node.op == "dim":
        return True
    if node.op == "const":
        return node.dtype.kind in "iu" and not node.shape
    if depth == 0 or node.shape or node.op not in _SIZE_OPS:
        return False
    return all(_size_arithmetic(i, depth - 1) for i in node.inputs)


# Ops whose int results (a loop's counter, `i + 1` of a staged `range`,
# index arithmetic) are exact as doubles, below 2**53.
_COUNTER_OPS = ("add", "sub", "mul", "neg", "abs", "maximum", "minimum")
# Ops that only move values (their int inputs are checked on their own).
_MOVES = ("getitem", "reshape", "broadcast_to", "transpose", "concatenate")


def _int_values(node) -> bool:
    """Whether `node`'s int values are exact as doubles (below 2**53, where
    NumPy's int64 would not wrap either): a loop's counter, the indices
    `argmax`/`argmin` give, and sums, differences and products of those."""
    if node.dtype.kind not in "iu":
        return False
    if node.op in ("argmax", "argmin"):
        return True
    if node.op == "cast":
        return node.inputs[0].dtype.kind in "biu"
    return node.op in _COUNTER_OPS or node.op in _MOVES


def _value_type_ok(node) -> bool:
    return (
        node.dtype == np.float64
        or node.dtype.kind == "b"
        or _size_arithmetic(node)
        or _int_values(node)
    )


def _empty_groups(node) -> list:
    """[(C condition, status)] true when argmax/argmin `node` would search
    an empty group (a symbolic size 0; NumPy raises)."""
    (a,) = node.inputs
    axis = node.attr("axis")
    size = dims.prod(a.shape) if axis is None else a.shape[axis]
    if not dims.is_symbolic(size):
        return []  # (an empty fixed size is refused when tracing)
    return [(f"{c_size(size)} == 0", -9 if node.op == "argmax" else -10)]


_NAMED = ("item", "param", "undef")
_WHY = {
    -3: "an index outside an axis",
    -4: "max of nothing",
    -5: "min of nothing",
    -9: "argmax of nothing",
    -10: "argmin of nothing",
}


class CModule:
    """The lines of one C module, built function by function."""

    def __init__(self, program, target):
        self.program = program
        self.target = target
        self.em = Emitter(program, target)
        self.helpers: set = set()
        # function name -> what workspace_guard checks before allocating
        self.bounds: dict = {}
        for fn in program.functions:
            for node in ir.program_order(list(fn.outputs)):
                if node.op not in ("const", "dim"):
                    self.em.name(node)

    def ref(self, node) -> str:
        if node.op == "dim":
            return c_double(node.attr("dim"))
        return self.em.ref(node)

    def _loc_comment(self, node, last):
        """([comment line] if `node`'s source line differs from `last`, key)."""
        loc = node.loc
        if loc is None:
            return [], last
        key = (loc.file, loc.line, loc.grad, loc.func)
        return ([] if key == last else [_comment(loc)]), key

    def _fused(self, root, members, out, last) -> tuple:
        """(lines, last comment key): one loop computing `members` (each a
        double local of the loop body) and then `root` into `out`, with the
        source line of each statement where it changes."""
        local = {member: self.em.name(member) for member in members}
        group = [*members, root]
        outside = [i.shape for n in group for i in n.inputs if i not in local]
        axis = self.target.split(root.shape, outside) if root.size else 0
        body = []
        for node in group:
            comment, last = self._loc_comment(node, last)
            body += comment
            operands = [
                (
                    local[inp]
                    if inp in local
                    else self.target.operand(node, inp, src, axis)
                )
                for inp, src in zip(
                    node.inputs, [self.ref(i) for i in node.inputs], strict=True
                )
            ]
            expr = self.target.expression(node, operands)
            if node is root:
                body.append(f"{out}[_i] = {expr};")
            else:
                body.append(f"double {local[node]} = {expr};")
            self.helpers.update(self.target.needs(node))
        return self.target.element_loop(root.shape, axis, body), last

    def declare(self, frame, node, name, size, top) -> Decl:
        """The declaration of array `name` (the value of `node`, or of no
        node: None), first written at the current statement: its output
        parameter when it is an output not yet placed (`top`: in the
        function's own block), else a workspace slice (`Frame.buffers`)."""
        decl = Decl()
        hit = frame.dests.pop(node, None) if top and node is not None else None
        if hit is not None:
            k, dest = hit
            decl.text = f"double *{name} = {dest}; /* written in place */"
            frame.direct[k] = True
            frame.storage[node] = None
            return decl
        buffer = Buffer(size, frame.pos - 1, decl, name)
        frame.buffers.append(buffer)
        if node is not None:
            frame.storage[node] = buffer
        return decl

    def _checks(self, order, top, frame) -> dict:
        """Refuse what the C target does not compute; the size checks of
        `order`'s statements: in the function's own block they are
        collected (`frame.checks`, run before anything), in a branch or
        loop returned per node, to run where it runs."""
        inline = {}
        for node in order:
            if node.op in _NAMED or regions.handles(node):
                continue
            if not _value_type_ok(node):
                refuse(node, f"it computes {node.dtype.name} values")
            if node.op in ("getitem", "scatter"):
                found = [(c, -3) for c in out_of_bounds(node)]
            elif node.op in ("argmax", "argmin"):
                found = _empty_groups(node)
            else:
                status = -4 if node.op == "max" else -5
                found = [(c, status) for c in empty_reduction(node)]
            if top:
                frame.checks += [c for c in found if c not in frame.checks]
            elif found:
                inline[node] = found
        return inline

    def block(self, frame, nodes, results, top=False) -> list:
        """The lines (str, or `Decl`s filled in later) computing `nodes`
        (program order) in one C block, whose `results` are read after it.
        Nodes already computed in an enclosing block are not computed
        again; branches and loops are `control`'s."""
        order = [n for n in nodes if n not in frame.scope]
        inline = self._checks(order, top, frame)
        plan = fuse.plan(order, results, self.target)
        lines, last = [], None
        for node in order:
            if node in plan.inside or node in plan.unused or node.op in _NAMED:
                continue
            if regions.handles(node):
                head, last = self._loc_comment(node, last)
                if head:
                    lines += ["", *head]
                lines += control.statements(self, frame, node, order, top)
                continue
            pos = frame.tick()
            out = self.em.name(node)
            members = plan.members.get(node)
            if members:
                head, key = self._loc_comment(members[0], last)
                code, last = self._fused(node, members, out, key)
            else:
                head, last = self._loc_comment(node, last)
                args = [self.ref(i) for i in node.inputs]
                if node in plan.through:
                    seen = plan.through[node]
                    srcs = [
                        self.ref(s) if s is not None else a
                        for s, a in zip(seen, args, strict=True)
                    ]
                    trans = [s is not None for s in seen]
                    code = blas.gemm_lines(node, out, srcs, trans, loop=loop)
                else:
                    code = self.target.statements(node, out, args)
                self.helpers.update(self.target.needs(node))
            if head:
                lines += ["", *head]
            for cond, status in inline.get(node, ()):
                frame.jumps = True
                lines += [
                    f"if ({cond}) {{",
                    f"    _status = {status}; /* {_WHY[status]} */",
                    "    goto _end;",
                    "}",
                ]
            if any("goto _end;" in line for line in code):
                frame.jumps = True  # an index checked at run time
            for inp in fuse.reads(node, plan):
                frame.read(inp, pos)
            if not node.shape:
                lines.append(f"double {out};")
            elif code[0].startswith(f"const double *{out} = "):
                frame.storage[node] = frame.storage.get(node.inputs[0])
            else:
                lines.append(self.declare(frame, node, out, node.size, top))
            frame.scope[node] = True
            lines += code
        return lines

    def body(self, fn, dests) -> tuple:
        """(lines, the `Frame` that compiled them: which outputs were
        written in place, the workspace, the size checks, the stacks)
        computing `fn`'s outputs; `dests` names the output parameters."""
        first = {}
        for k, node in enumerate(fn.outputs):
            if node not in first:
                first[node] = (k, dests[k])
        frame = Frame(first)
        for leaf in fn.signature.leaves:
            if leaf.node is not None:
                frame.arguments[leaf.node] = True
        nodes = []
        for n in ir.program_order(list(fn.outputs)):
            if n.op == "input":
                frame.orphan(n)
            elif n.op not in ("const", "dim"):
                nodes.append(n)
        lines = self.block(frame, nodes, fn.outputs, top=True)
        for node in fn.outputs:
            frame.read(node, frame.pos)
        lines = self._orphans(frame) + lines
        offsets, frame.work = workspace.assign(
            [(b.size, b.first, b.last) for b in frame.buffers]
        )
        for buffer, offset in zip(frame.buffers, offsets, strict=True):
            buffer.decl.text = f"double *{buffer.name} = _work + {c_size(offset)};"
        return lines, frame

    def _orphans(self, frame) -> list:
        """Declarations of the inputs a body reads that are no argument: a
        derivative's seed that an untaken copy of a branch still names (the
        Python targets never run such a line; C must declare it). NaN, so
        that a read, if one ever ran, would show in the results."""
        lines = []
        for node in frame.orphans:
            name = self.em.name(node)
            lines.append(c_comment(f"{name}: read only on a path that never runs; NaN"))
            if not node.shape:
                lines.append(f"double {name} = NAN;")
                continue
            decl = Decl()
            buffer = Buffer(node.size, 0, decl, name)
            buffer.last = frame.pos
            frame.buffers.insert(0, buffer)
            lines += [decl, *loop(node.size, [f"{name}[_i] = NAN;"])]
        return lines

    def function(self, fn):
        """The C function(s) of `fn`, and its kinds for the binding:
        (its size symbols, each a `long` parameter first; per input leaf
        its size: None for a scalar, an int or a `Dim`; per output its
        size; its workspace length, 0 for none; the size whose
        `workspace_guard` keeps the workspace's and outputs' arithmetic
        exact)."""
        leaves = [leaf.node for leaf in fn.signature.leaves if leaf.node is not None]
        symbols = symbols_in_order(leaves)
        params, inputs = [f"long {size_var(s)}" for s in symbols], []
        for node in leaves:
            name = self.em.names[node]
            params.append(f"const double *{name}" if node.shape else f"double {name}")
            inputs.append(node.size if node.shape else None)
        outs = []
        for node in fn.outputs:
            named = node.op not in ("const", "dim")
            outs.append(self.em.fresh(f"{self.em.name(node)}_out" if named else "out"))
            params.append(f"double *{outs[-1]}")
        lines, frame = self.body(fn, outs)
        work, slices = frame.work, [b.size for b in frame.buffers]
        copy = [""]
        for k, (dest, node) in enumerate(zip(outs, fn.outputs, strict=True)):
            src = self.ref(node)
            if k in frame.direct:
                continue
            if not node.shape:
                copy.append(f"{dest}[0] = {src};")
            else:
                copy.append(
                    f"memcpy({dest}, {src}, {c_size(node.size)} * sizeof(double));"
                )
        guard = []
        for cond, status in frame.checks:
            guard += [
                f"if ({cond}) {{",
                f"    return {status}; /* {_WHY[status]} */",
                "}",
            ]
        body = [
            x if x == _END_LABEL else "    " + x if x else ""
            for x in guard + _ending(lines, copy, frame)
        ]
        outputs = [node.size if node.shape else 1 for node in fn.outputs]
        self.bounds[fn.name] = _bound(slices + outputs)
        if work == 0:
            text = [f"int {fn.name}({', '.join(params)})", "{", *body, "}"]
            return text, (symbols, inputs, outputs, work, self.bounds[fn.name])
        # The computation takes its workspace (`_in`: the binding keeps one
        # between calls); the plain function allocates it, per call when
        # its length depends on the sizes (+ 1: malloc(0) may be NULL).
        names = [p.rsplit(" ", 1)[-1].lstrip("*") for p in params]
        alloc = []
        if dims.is_symbolic(work):
            alloc += [
                f"    if ({workspace_guard(self.bounds[fn.name])}) {{",
                "        return -2; /* too large to address */",
                "    }",
            ]
            alloc.append(
                f"    _work = malloc(((size_t){c_size(work)} + 1) * sizeof(double));"
            )
        else:
            alloc.append(f"    _work = malloc({work} * sizeof(double));")
        text = [
            f"/* {fn.name} with a workspace of {c_size(work)} doubles */",
            f"int {fn.name}_in(double *_work, {', '.join(params)})",
            "{",
            *body,
            "}",
            "",
            f"int {fn.name}({', '.join(params)})",
            "{",
            "    double *_work;",
            "    int status;",
            *alloc,
            "    if (_work == NULL) {",
            "        return -1;",
            "    }",
            f"    status = {fn.name}_in(_work, {', '.join(names)});",
            "    free(_work);",
            "    return status;",
            "}",
        ]
        return text, (symbols, inputs, outputs, work, self.bounds[fn.name])


def _ending(lines, copy, frame) -> list:
    """The function's lines after its guards: its stacks declared empty,
    `lines`, the copies to outputs, and its end: `return 0`, or (when
    something can jump there) the `_end` label that frees the stacks and
    returns `_status`."""
    lines = rendered(lines)
    if not frame.stacks and not frame.jumps:
        return lines + copy + ["return 0;"]
    head = ["int _status = 0;"]
    head += [f"sg_stack {name} = SG_STACK_EMPTY;" for name in frame.stacks]
    free = [f"sg_stack_free(&{name});" for name in frame.stacks]
    return [*head, *lines, *copy, _END_LABEL, *free, "return _status;"]


# Where a failing statement jumps (written at the function's own indent).
_END_LABEL = "_end:"


def _bound(sizes):
    """A size no smaller than any partial result of evaluating the given
    sizes, their sums (the workspace offsets and length) in `long`: the sum
    of their `sizes.magnitude`s, which `workspace_guard` checks."""
    total = 0
    for size in sizes:
        total = total + magnitude(size)
    return total


def generate(program, target) -> tuple:
    """(compute source, {function: its kinds (`CModule.function`)}, the
    lines of each function)."""
    _check_supported(program)
    mod = CModule(program, target)
    blocks, shapes = [], {}
    for fn in program.functions:
        if fn.delegate is not None:
            continue
        text, kinds = mod.function(fn)
        blocks.append(text)
        shapes[fn.name] = kinds
    where = f"{os.path.basename(program.filename)}:{program.fun_name}"
    header = [
        c_comment(f"Generated by symgrad {__version__} from {where}. Do not edit."),
        "/* Arrays are flat row-major float64 buffers; symbolic sizes are long",
        "   parameters. */",
        "#include <math.h>",
        "#include <stdlib.h>",
        "#include <string.h>",
    ]
    helpers = helper_sources(mod.helpers)
    compute = "\n\n".join(
        ["\n".join(header), *helpers, *("\n".join(b) for b in blocks)]
    )
    return compute + "\n", shapes, blocks


def helper_sources(names) -> list:
    """The C source of each helper in `names` (as `CModule.helpers` collects
    them), in name order."""
    known = {**HELPERS, **blas.HELPERS, **stacks.HELPERS, **lower_linalg.HELPERS}
    return [known[name] for name in sorted(names)]


def uses_blas(compute: str) -> bool:
    """Whether `compute` holds the matrix-product helper (and so the BLAS
    pointers the binding's `_set_blas` sets)."""
    return blas.HELPERS["sg_gemm"] in compute
