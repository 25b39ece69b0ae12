"""C module assembly: one C99 function per generated function.

Contract: `generate(program, target)` returns `(compute, binding)`: the
source of the computation (`compute`: plain C99 with <math.h>, one function
per program function taking its argument leaves and writing its output
leaves, readable, with the user's names, `_bar` adjoints and a comment with
the user's file:line over each block) and of the CPython extension module
that calls it (`binding`: buffers in, buffers out, through the buffer
protocol). Names come from `codegen.module.Emitter` with the C target's
reserved names, so a user name is never a C keyword, a <math.h> name or one
of the module's own; user text reaches C only as identifiers, comments made
safe and `c_string` literals. Symbolic sizes (`batch=`, `shapes=`) are
`long` parameters in front of the arrays (`sizes`); loop bounds, offsets
and the workspace, allocated per call, are expressions of them. What the C
target does not compute (control flow, dtypes other than float64 and bool)
is refused here by name, when the module is generated.
"""

from __future__ import annotations

import os

import numpy as np

from symgrad import ir
from symgrad._version import __version__
from symgrad.ad.autodiff import SUM_FILE
from symgrad.codegen import regions
from symgrad.codegen.c.lower_arrays import empty_reduction
from symgrad.codegen.c.lower_indexing import out_of_bounds
from symgrad.codegen.c.lowering import refuse
from symgrad.codegen.c.scalar import HELPERS
from symgrad.codegen.c.sizes import (
    c_double,
    c_size,
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


def _value_type_ok(node) -> bool:
    return node.dtype == np.float64 or node.dtype.kind == "b" or _size_arithmetic(node)


class CModule:
    """The lines of one C module, built function by function."""

    def __init__(self, program, target):
        self.program = program
        self.target = target
        self.em = Emitter(program, target)
        self.helpers: set = set()
        for fn in program.functions:
            for node in ir.program_order(list(fn.outputs)):
                if node.op not in ("const", "dim"):
                    self.em.name(node)

    def ref(self, node) -> str:
        if node.op == "dim":
            return c_double(node.attr("dim"))
        return self.em.ref(node)

    def body(self, fn):
        """(lines, workspace size, checks) computing `fn`'s outputs; checks:
        (C condition of the sizes, status) under which it must not run and
        returns that status (-3: an index outside a symbolic axis, -4/-5: a
        max/min of no elements)."""
        lines, offset, last, checks = [], 0, None, []
        for node in ir.program_order(list(fn.outputs)):
            if node.op in ("input", "const", "dim"):
                continue
            if regions.handles(node):
                refuse(node, "control flow is not done yet")
            if not _value_type_ok(node):
                refuse(node, f"it computes {node.dtype.name} values")
            loc = node.loc
            if loc is not None:
                key = (loc.file, loc.line, loc.grad, loc.func)
                if key != last:
                    lines += ["", _comment(loc)]
                    last = key
            if node.op in ("getitem", "scatter"):
                found = [(c, -3) for c in out_of_bounds(node)]
            else:
                status = -4 if node.op == "max" else -5
                found = [(c, status) for c in empty_reduction(node)]
            checks += [c for c in found if c not in checks]
            out = self.em.name(node)
            args = [self.ref(i) for i in node.inputs]
            code = self.target.statements(node, out, args)
            self.helpers.update(self.target.needs(node))
            if not node.shape:
                lines.append(f"double {out};")
            elif not code[0].startswith(f"const double *{out} = "):
                lines.append(f"double *{out} = _work + {c_size(offset)};")
                offset += node.size
            lines += code
        return lines, offset, checks

    def function(self, fn):
        """The C function of `fn`, and its parameter kinds for the binding:
        its size symbols (each a `long` parameter first), per input leaf its
        size (None: a scalar; an int or a `Dim`), per output its size."""
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
        lines, work, checks = self.body(fn)
        copy = [""]
        for dest, node in zip(outs, fn.outputs, strict=True):
            src = self.ref(node)
            if not node.shape:
                copy.append(f"{dest}[0] = {src};")
            else:
                copy.append(
                    f"memcpy({dest}, {src}, {c_size(node.size)} * sizeof(double));"
                )
        head = [f"int {fn.name}({', '.join(params)})", "{"]
        guard = []
        why = {
            -3: "an index outside an axis",
            -4: "max of nothing",
            -5: "min of nothing",
        }
        for cond, status in checks:
            guard += [
                f"if ({cond}) {{",
                f"    return {status}; /* {why[status]} */",
                "}",
            ]
        if dims.is_symbolic(work):
            # Sized per call; + 1: malloc(0) may return NULL (0 rows).
            alloc = [
                f"if ({workspace_guard(work)}) {{",
                "    return -2; /* too large to address */",
                "}",
                f"double *_work = malloc(((size_t){c_size(work)} + 1)"
                " * sizeof(double));",
                "if (_work == NULL) {",
                "    return -1;",
                "}",
            ]
            tail = ["free(_work);", "return 0;"]
        elif work:
            alloc = [
                f"double *_work = malloc({work} * sizeof(double));",
                "if (_work == NULL) {",
                "    return -1;",
                "}",
            ]
            tail = ["free(_work);", "return 0;"]
        else:
            alloc, tail = [], ["return 0;"]
        text = (
            head
            + ["    " + x if x else "" for x in guard + alloc + lines + copy + tail]
            + ["}"]
        )
        sizes = [node.size if node.shape else 1 for node in fn.outputs]
        return text, (symbols, inputs, sizes)


def generate(program, target) -> tuple:
    """(compute source, {function: (size symbols, input sizes, output
    sizes)}, the C functions' lines)."""
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
    helpers = [HELPERS[name] for name in sorted(mod.helpers)]
    compute = "\n\n".join(
        ["\n".join(header), *helpers, *("\n".join(b) for b in blocks)]
    )
    return compute + "\n", shapes, blocks


def binding(module_name: str, program, shapes) -> str:
    """The extension module: one METH_FASTCALL function per C function,
    arguments (input leaves, then output buffers) read through the buffer
    protocol, with the GIL released while it computes."""
    lines = [
        "#define PY_SSIZE_T_CLEAN",
        "#include <Python.h>",
        "",
        "static int sg_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t n, int out)",
        "{",
        "    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;",
        "    if (out) {",
        "        flags |= PyBUF_WRITABLE;",
        "    }",
        "    if (PyObject_GetBuffer(obj, view, flags) < 0) {",
        "        return -1;",
        "    }",
        "    if (view->itemsize != 8 || view->len != n * 8",
        '        || (view->format != NULL && strcmp(view->format, "d") != 0)) {',
        "        PyBuffer_Release(view);",
        "        PyErr_SetString(PyExc_ValueError,",
        '                        "expected a C-contiguous float64 buffer");',
        "        return -1;",
        "    }",
        "    return 0;",
        "}",
    ]
    methods = []
    for name, (symbols, inputs, outputs) in shapes.items():
        n_buf = sum(1 for s in inputs if s is not None) + len(outputs)
        n_sizes = len(symbols)
        n_args = n_sizes + len(inputs) + len(outputs)
        decl, call = ["long"] * n_sizes, []
        for s in inputs:
            decl.append("const double *" if s is not None else "double")
        decl += ["double *"] * len(outputs)
        lines += ["", f"int {name}({', '.join(decl)});", ""]
        body = [
            f"static PyObject *py_{name}(PyObject *self, PyObject *const *args,",
            "                            Py_ssize_t nargs)",
            "{",
            f"    Py_buffer views[{max(n_buf, 1)}];",
            f"    double numbers[{max(len(inputs), 1)}];",
            *([f"    long sizes[{n_sizes}];"] if n_sizes else []),
            "    int got = 0;",
            "    int status;",
            "    PyObject *result = NULL;",
            f"    if (nargs != {n_args}) {{",
            f'        PyErr_SetString(PyExc_TypeError, "expected {n_args} arguments");',
            "        return NULL;",
            "    }",
        ]
        # The sizes first (the Python wrapper checked them against the
        # arrays), as the variables the buffer lengths are expressions of.
        for k in range(n_sizes):
            body += [
                f"    sizes[{k}] = PyLong_AsLong(args[{k}]);",
                f"    if (sizes[{k}] < 0) {{",
                "        if (!PyErr_Occurred()) {",
                '            PyErr_SetString(PyExc_ValueError, "a negative size");',
                "        }",
                "        return NULL;",
                "    }",
            ]
            call.append(f"sizes[{k}]")
        if n_sizes:
            body += [
                f"    long {size_var(symbol)} = sizes[{k}];"
                for k, symbol in enumerate(symbols)
            ]
        for k, s in enumerate(inputs):
            if s is not None:
                body += [
                    f"    if (sg_buffer(args[{n_sizes + k}], &views[got], "
                    f"{c_size(s)}, 0) < 0) {{",
                    "        goto done;",
                    "    }",
                    "    got++;",
                ]
                call.append(
                    "(const double *)views["
                    f"{sum(1 for x in inputs[:k] if x is not None)}].buf"
                )
            else:
                body += [
                    f"    numbers[{k}] = PyFloat_AsDouble(args[{n_sizes + k}]);",
                    f"    if (numbers[{k}] == -1.0 && PyErr_Occurred()) {{",
                    "        goto done;",
                    "    }",
                ]
                call.append(f"numbers[{k}]")
        views = sum(1 for s in inputs if s is not None)
        for k, s in enumerate(outputs):
            body += [
                f"    if (sg_buffer(args[{n_sizes + len(inputs) + k}], &views[got], "
                f"{c_size(s)}, 1) < 0) {{",
                "        goto done;",
                "    }",
                "    got++;",
            ]
            call.append(f"(double *)views[{views + k}].buf")
        body += [
            "    Py_BEGIN_ALLOW_THREADS",
            f"    status = {name}({', '.join(call)});",
            "    Py_END_ALLOW_THREADS",
            "    if (status == -3) {",
            "        PyErr_SetString(PyExc_IndexError,",
            '                        "an index is outside an axis of these sizes");',
            "        goto done;",
            "    }",
            "    if (status == -4 || status == -5) {",
            '        PyErr_Format(PyExc_ValueError, "zero-size array to reduction "',
            '                     "operation %s which has no identity",',
            '                     status == -4 ? "maximum" : "minimum");',
            "        goto done;",
            "    }",
            "    if (status != 0) {",
            "        PyErr_NoMemory();",
            "        goto done;",
            "    }",
            "    Py_INCREF(Py_None);",
            "    result = Py_None;",
            "done:",
            "    while (got > 0) {",
            "        PyBuffer_Release(&views[--got]);",
            "    }",
            "    (void)self;",
            "    return result;",
            "}",
        ]
        lines += body
        methods.append(
            f'    {{"{name}", (PyCFunction)(void (*)(void))py_{name}, '
            "METH_FASTCALL, NULL},"
        )
    where = f"{os.path.basename(program.filename)}:{program.fun_name}"
    lines += [
        "",
        "static PyMethodDef sg_methods[] = {",
        *methods,
        "    {NULL, NULL, 0, NULL},",
        "};",
        "",
        "static struct PyModuleDef sg_module = {",
        f'    PyModuleDef_HEAD_INIT, "{module_name}",',
        f"    {c_string('symgrad C module of ' + where)},",
        "    -1, sg_methods,",
        "    NULL, NULL, NULL, NULL,",
        "};",
        "",
        f"PyMODINIT_FUNC PyInit_{module_name}(void)",
        "{",
        "    return PyModule_Create(&sg_module);",
        "}",
    ]
    return "\n".join(lines) + "\n"
