"""The CPython extension around a C module: arguments checked in C.

Contract: `generate(module_name, program, kinds, with_blas)` returns the C
source of an extension module with one METH_FASTCALL function per generated
C function (delegates excepted; `kinds`: `module.generate`'s per function).
It takes the function's argument leaves that are traced (arrays and floats,
in flatten order; static leaves are the Python caller's business) and
returns a tuple of its output leaves: a Python float for a scalar (a bool
too, as the NumPy target returns it), a new float64 NumPy array for an array
(bool arrays come back as 0.0/1.0 for the caller to convert). Each array
argument is read through the buffer protocol; anything that is not a
C-contiguous buffer of format "d" (a list, a float32 or strided array) is
first converted with the `asarray` function given to `_init`, once
(`np.asarray(x, dtype=np.float64)`, made C-contiguous). Then its shape is
checked as the NumPy target checks it, with its messages: the number of axes
and the fixed sizes (ValueError("X must have shape (n, 2), got (3,)")); a
size symbol is read from the first argument having it as a whole axis (the
`long` variables the computation takes first, `sizes.size_var`) and every
other axis with it must agree ("X has 5 rows but y has 4"; an axis that is
an expression of symbols: "... must have 2 * n = 6 entries along axis 0 (n
from X), got 5"). Before allocating, sizes whose workspace or results could
overflow `long` arithmetic raise MemoryError (`sizes.workspace_guard`).
Result arrays come from the `empty` function given to `_init` (`np.empty`,
their shapes computed from the sizes), so the extension needs no NumPy C
API. The GIL is released while the computation runs; its status -3 raises
IndexError (an index outside an axis of these sizes), -4/-5 NumPy's
ValueError for a max/min of nothing, -7/-8 `np.linalg.LinAlgError` (the
class given third to `_init`) with NumPy's messages for a singular
matrix and one not positive definite, any other failure MemoryError. With
`with_blas`, `_set_blas(dgemm, dgemv)` takes SciPy's capsules (see `blas`).
A function with a workspace calls `NAME_in` with one it keeps from its
previous call (another thread's concurrent call allocates its own), so a
large problem does not map and fault in fresh memory on every call; a call
whose sizes need more replaces it with a larger one, and the kept workspace
lives as long as the process.
"""

from __future__ import annotations

import os

from symgrad.codegen import keys
from symgrad.codegen.c import blas
from symgrad.codegen.c.module import c_string
from symgrad.codegen.c.sizes import c_size, size_var, workspace_guard
from symgrad.ir import dims

_COMMON = r"""#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Set once by _init: np.empty, a converter to C-contiguous float64 and
   np.linalg.LinAlgError (raised for statuses -7 and -8). */
static PyObject *sg_empty = NULL;
static PyObject *sg_asarray = NULL;
static PyObject *sg_linalg_error = NULL;

/* The buffer of argument `obj` as C-contiguous float64 of `ndim` axes and
   `dims` (-1: a symbolic size, checked by the caller); converted first
   (kept alive in *keep) when it is not one. `label` names the argument as
   the user writes it, `shape` is the expected shape as Python prints it. */
static int sg_input(PyObject *obj, Py_buffer *view, PyObject **keep, int ndim,
                    const Py_ssize_t *dims, const char *label, const char *shape)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    int ok = PyObject_GetBuffer(obj, view, flags) == 0;
    if (ok && (view->itemsize != 8 || view->format == NULL
               || strcmp(view->format, "d") != 0)) {
        PyBuffer_Release(view);
        ok = 0;
    }
    if (!ok) {
        PyErr_Clear();
        if (sg_asarray == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "the module was not initialized");
            return -1;
        }
        *keep = PyObject_CallOneArg(sg_asarray, obj);
        if (*keep == NULL || PyObject_GetBuffer(*keep, view, flags) < 0) {
            return -1;
        }
    }
    int same = view->ndim == ndim;
    for (int k = 0; same && k < ndim; k++) {
        same = dims[k] < 0 || view->shape[k] == dims[k];
    }
    if (!same) {
        PyObject *got = PyTuple_New(view->ndim);
        for (int k = 0; got != NULL && k < view->ndim; k++) {
            PyTuple_SET_ITEM(got, k, PyLong_FromSsize_t(view->shape[k]));
        }
        PyBuffer_Release(view);
        if (got != NULL) {
            PyErr_Format(PyExc_ValueError, "%s must have shape %s, got %R", label,
                         shape, got);
            Py_DECREF(got);
        }
        return -1;
    }
    return 0;
}

/* A new float64 array of shape `shape` (a tuple) and its writable buffer. */
static PyObject *sg_output(PyObject *shape, Py_buffer *view)
{
    PyObject *array = PyObject_CallOneArg(sg_empty, shape);
    if (array == NULL) {
        return NULL;
    }
    if (PyObject_GetBuffer(array, view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        Py_DECREF(array);
        return NULL;
    }
    return array;
}

static PyObject *py_init(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "expected 3 arguments");
        return NULL;
    }
    Py_XSETREF(sg_empty, Py_NewRef(args[0]));
    Py_XSETREF(sg_asarray, Py_NewRef(args[1]));
    Py_XSETREF(sg_linalg_error, Py_NewRef(args[2]));
    Py_RETURN_NONE;
}
"""


def _set_blas() -> list:
    """`_set_blas(dgemm, dgemv)`: SciPy's capsules (checked by the start of
    their signature text) or None and None for the own loops. Returns
    whether BLAS is in use."""
    take = []
    for k, (name, sig) in enumerate(
        (("dgemm", blas.DGEMM_SIGNATURE), ("dgemv", blas.DGEMV_SIGNATURE))
    ):
        take += [
            f"    if (args[{k}] != Py_None) {{",
            f"        const char *text = PyCapsule_GetName(args[{k}]);",
            "        if (text == NULL) {",
            "            return NULL;",
            "        }",
            f"        if (strncmp(text, {c_string(sig)}, {len(sig)}) == 0) {{",
            f"            {name} = PyCapsule_GetPointer(args[{k}], text);",
            f"            if ({name} == NULL) {{",
            "                return NULL;",
            "            }",
            "        }",
            "    }",
        ]
    return [
        "",
        "typedef void sg_dgemm_t(char *, char *, int *, int *, int *, double *,",
        "                        double *, int *, double *, int *, double *,",
        "                        double *, int *);",
        "typedef void sg_dgemv_t(char *, int *, int *, double *, double *, int *,",
        "                        double *, int *, double *, double *, int *);",
        "extern sg_dgemm_t *sg_blas_dgemm;",
        "extern sg_dgemv_t *sg_blas_dgemv;",
        "",
        "static PyObject *py_set_blas(PyObject *self, PyObject *const *args,",
        "                            Py_ssize_t nargs)",
        "{",
        "    void *dgemm = NULL;",
        "    void *dgemv = NULL;",
        "    (void)self;",
        "    if (nargs != 2) {",
        '        PyErr_SetString(PyExc_TypeError, "expected 2 arguments");',
        "        return NULL;",
        "    }",
        *take,
        "    if (dgemm == NULL || dgemv == NULL) {",
        "        dgemm = dgemv = NULL;",
        "    }",
        "    sg_blas_dgemm = (sg_dgemm_t *)dgemm;",
        "    sg_blas_dgemv = (sg_dgemv_t *)dgemv;",
        "    return PyBool_FromLong(dgemm != NULL);",
        "}",
    ]


def _sizes(k: int, leaves, labels) -> tuple:
    """(static lines, per array leaf the lines binding and checking its
    symbolic axes, lines checking the rest once all are bound): each size
    symbol is bound by the first array with it as a whole axis (`long`
    variables named as in the computation), every other axis is checked
    against it with the NumPy target's messages."""
    arrays = [
        (node, label) for node, label in zip(leaves, labels, strict=True) if node.shape
    ]
    statics, per_array, later, bound = [], [], [], {}

    def fail(fmt: str, *args) -> list:
        return [
            f"        PyErr_Format(PyExc_ValueError, {c_string(fmt)},",
            f"                     {', '.join(args)});",
            "        goto done;",
            "    }",
        ]

    def composite(j, axis, d, label) -> list:
        got = f"(long)views[{j}].shape[{axis}]"
        sources = ", ".join(f"{s} from {bound[s][0]}" for s in d.symbols)
        return [
            f"    if ({got} != {c_size(d)}) {{",
            *fail(
                "%s must have %s = %ld entries along axis %d (%s), got %ld",
                c_string(label),
                c_string(repr(d)),
                f"(long){c_size(d)}",
                str(axis),
                c_string(sources),
                got,
            ),
        ]

    for j, (node, label) in enumerate(arrays):
        fixed = ", ".join(
            "-1" if dims.is_symbolic(d) else str(int(d)) for d in node.shape
        )
        statics.append(f"static const Py_ssize_t sg_dims_{k}_{j}[] = {{{fixed}}};")
        lines = []
        for axis, d in enumerate(node.shape):
            got = f"(long)views[{j}].shape[{axis}]"
            if not dims.is_symbolic(d):
                continue
            if dims.is_symbol(d) and dims.name_of(d) not in bound:
                bound[dims.name_of(d)] = (label, axis)
                lines.append(f"    {size_var(dims.name_of(d))} = {got};")
            elif dims.is_symbol(d):
                first, first_axis = bound[dims.name_of(d)]
                var = size_var(dims.name_of(d))
                lines.append(f"    if ({got} != {var}) {{")
                if axis == 0 and first_axis == 0:
                    lines += fail(
                        "%s has %ld rows but %s has %ld",
                        c_string(first),
                        var,
                        c_string(label),
                        got,
                    )
                else:
                    lines += fail(
                        f"%s has %ld entries along axis {first_axis} but %s has "
                        f"%ld along axis {axis}",
                        c_string(first),
                        var,
                        c_string(label),
                        got,
                    )
            elif all(s in bound for s in d.symbols):
                lines += composite(j, axis, d, label)
            else:
                later.append((j, axis, d, label))
        per_array.append(lines)
    rest = []
    for j, axis, d, label in later:
        rest += composite(j, axis, d, label)
    return statics, per_array, rest


def _function(k: int, fn, kinds) -> tuple:
    """(lines of the wrapper of `fn`, lines of its part of module init);
    `kinds`: `module.generate`'s (symbols, input sizes, output sizes,
    workspace length, the size its guard checks)."""
    symbols, _, _, work, bound = kinds
    name = fn.name
    sig = fn.signature
    traced = [leaf for leaf in sig.leaves if leaf.node is not None]
    leaves = [leaf.node for leaf in traced]
    labels = [keys.label(sig.params[leaf.path[0]], leaf.path[1:]) for leaf in traced]
    arrays = [node for node in leaves if node.shape]
    n_in, n_out = len(leaves), len(fn.outputs)
    decl = ["long"] * len(symbols)
    decl += ["const double *" if node.shape else "double" for node in leaves]
    decl += ["double *"] * n_out
    if work:
        decl.insert(0, "double *")
        lines = ["", f"int {name}_in({', '.join(decl)});", ""]
        # The workspace of the last call, kept for the next: large problems
        # would otherwise map and fault in fresh pages on every call. A call
        # while another thread uses it allocates its own (the GIL guards
        # the flag); a call that needs more (larger sizes) replaces it.
        lines += [
            f"static double *sg_keep_{k} = NULL;",
            f"static size_t sg_keep_len_{k} = 0;",
            f"static int sg_busy_{k} = 0;",
        ]
    else:
        lines = ["", f"int {name}({', '.join(decl)});", ""]
    statics, per_array, rest = _sizes(k, leaves, labels)
    lines += statics
    lines.append(f"static PyObject *sg_shapes_{k}[{max(n_out, 1)}];")
    init = []
    for j, node in enumerate(fn.outputs):
        if node.shape and dims.is_static(node.shape):
            fmt = "(" + "n" * len(node.shape) + ")"
            args = ", ".join(f"(Py_ssize_t){d}" for d in node.shape)
            init += [
                f"    sg_shapes_{k}[{j}] = Py_BuildValue({c_string(fmt)}, {args});",
                f"    if (sg_shapes_{k}[{j}] == NULL) {{",
                "        return NULL;",
                "    }",
            ]
    n_views = len(arrays) + sum(1 for node in fn.outputs if node.shape)
    body = [
        f"static PyObject *py_{name}(PyObject *self, PyObject *const *args,",
        "                            Py_ssize_t nargs)",
        "{",
        f"    Py_buffer views[{max(n_views, 1)}];",
        f"    PyObject *keep[{max(n_in, 1)}] = {{NULL}};",
        f"    PyObject *outs[{max(n_out, 1)}] = {{NULL}};",
        f"    double numbers[{max(n_in + n_out, 1)}];",
        *(f"    long {size_var(s)} = 0;" for s in symbols),
        "    double *work = NULL;",
        "    size_t need = 0;",
        "    int got = 0;",
        "    int status;",
        "    PyObject *result = NULL;",
        "    (void)self;",
        "    (void)need;",
        f"    if (nargs != {n_in}) {{",
        f'        PyErr_SetString(PyExc_TypeError, "expected {n_in} arguments");',
        "        return NULL;",
        "    }",
    ]
    call = [size_var(s) for s in symbols]
    j = 0
    for i, (node, label) in enumerate(zip(leaves, labels, strict=True)):
        if node.shape:
            body += [
                f"    if (sg_input(args[{i}], &views[got], &keep[{i}], "
                f"{len(node.shape)}, sg_dims_{k}_{j},",
                f"                 {c_string(label)}, "
                f"{c_string(dims.shape_str(node.shape))}) < 0) {{",
                "        goto done;",
                "    }",
                "    got++;",
                *per_array[j],
            ]
            call.append(f"(const double *)views[{j}].buf")
            j += 1
        else:
            body += [
                f"    numbers[{i}] = PyFloat_AsDouble(args[{i}]);",
                f"    if (numbers[{i}] == -1.0 && PyErr_Occurred()) {{",
                "        goto done;",
                "    }",
            ]
            call.append(f"numbers[{i}]")
    body += rest
    if dims.is_symbolic(bound):
        # Sizes whose workspace or results could not be addressed (their
        # arithmetic in long could overflow): refused before allocating.
        body += [
            f"    if ({workspace_guard(bound)}) {{",
            "        PyErr_NoMemory();",
            "        goto done;",
            "    }",
        ]
    for o, node in enumerate(fn.outputs):
        if node.shape and dims.is_static(node.shape):
            body += [
                f"    outs[{o}] = sg_output(sg_shapes_{k}[{o}], &views[got]);",
                f"    if (outs[{o}] == NULL) {{",
                "        goto done;",
                "    }",
                "    got++;",
            ]
        elif node.shape:
            fmt = "(" + "n" * len(node.shape) + ")"
            args = ", ".join(f"(Py_ssize_t){c_size(d)}" for d in node.shape)
            body += [
                "    {",
                f"        PyObject *shape = Py_BuildValue({c_string(fmt)}, {args});",
                "        if (shape == NULL) {",
                "            goto done;",
                "        }",
                f"        outs[{o}] = sg_output(shape, &views[got]);",
                "        Py_DECREF(shape);",
                "    }",
                f"    if (outs[{o}] == NULL) {{",
                "        goto done;",
                "    }",
                "    got++;",
            ]
        else:
            call.append(f"&numbers[{n_in + o}]")
            continue
        call.append(f"(double *)views[{j}].buf")
        j += 1
    if work:
        # + 1 with symbolic sizes: malloc(0) may return NULL (0 rows).
        size = f"(size_t){c_size(work)} + 1" if dims.is_symbolic(work) else str(work)
        body += [
            f"    need = {size};",
            f"    if (!sg_busy_{k} && sg_keep_{k} != NULL",
            f"        && sg_keep_len_{k} >= need) {{",
            f"        work = sg_keep_{k};",
            f"        sg_busy_{k} = 1;",
            "    } else {",
            "        work = malloc(need * sizeof(double));",
            "        if (work == NULL) {",
            "            PyErr_NoMemory();",
            "            goto done;",
            "        }",
            "    }",
            "    Py_BEGIN_ALLOW_THREADS",
            f"    status = {name}_in(work, {', '.join(call)});",
            "    Py_END_ALLOW_THREADS",
            f"    if (work == sg_keep_{k}) {{",
            f"        sg_busy_{k} = 0;",
            f"    }} else if (!sg_busy_{k} && sg_keep_len_{k} < need) {{",
            f"        free(sg_keep_{k});",
            f"        sg_keep_{k} = work;",
            f"        sg_keep_len_{k} = need;",
            "    } else {",
            "        free(work);",
            "    }",
        ]
    else:
        body += [
            "    Py_BEGIN_ALLOW_THREADS",
            f"    status = {name}({', '.join(call)});",
            "    Py_END_ALLOW_THREADS",
        ]
    body += [
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
        "    if (status == -9 || status == -10) {",
        '        PyErr_Format(PyExc_ValueError, "attempt to get %s of an empty "',
        '                     "sequence", status == -9 ? "argmax" : "argmin");',
        "        goto done;",
        "    }",
        "    if (status == -6) {",
        "        PyErr_SetString(PyExc_RuntimeError,",
        '                        "a loop\'s tape was popped empty (a bug in symgrad: "',
        '                        "please report it)");',
        "        goto done;",
        "    }",
        "    if (status == -7 || status == -8) {",
        '        PyErr_SetString(sg_linalg_error, status == -7 ? "Singular matrix"',
        '                        : "Matrix is not positive definite");',
        "        goto done;",
        "    }",
        "    if (status != 0) {",
        "        PyErr_NoMemory();",
        "        goto done;",
        "    }",
    ]
    for o, node in enumerate(fn.outputs):
        if node.shape:
            continue
        body += [
            f"    outs[{o}] = PyFloat_FromDouble(numbers[{n_in + o}]);",
            f"    if (outs[{o}] == NULL) {{",
            "        goto done;",
            "    }",
        ]
    body += [
        f"    result = PyTuple_New({n_out});",
        "    if (result == NULL) {",
        "        goto done;",
        "    }",
        f"    for (int o = 0; o < {n_out}; o++) {{",
        "        PyTuple_SET_ITEM(result, o, outs[o]);",
        "        outs[o] = NULL;",
        "    }",
        "done:",
        "    while (got > 0) {",
        "        PyBuffer_Release(&views[--got]);",
        "    }",
        f"    for (int i = 0; i < {max(n_in, 1)}; i++) {{",
        "        Py_XDECREF(keep[i]);",
        "    }",
        f"    for (int o = 0; o < {max(n_out, 1)}; o++) {{",
        "        Py_XDECREF(outs[o]);",
        "    }",
        "    return result;",
        "}",
    ]
    return lines + body, init


def generate(module_name: str, program, kinds: dict, with_blas: bool = False) -> str:
    """The extension module's C source (see the module docstring)."""
    lines = [_COMMON.rstrip("\n")]
    methods = [
        '    {"_init", (PyCFunction)(void (*)(void))py_init, METH_FASTCALL, NULL},'
    ]
    if with_blas:
        lines += _set_blas()
        methods.append(
            '    {"_set_blas", (PyCFunction)(void (*)(void))py_set_blas, '
            "METH_FASTCALL, NULL},"
        )
    inits = []
    functions = [fn for fn in program.functions if fn.delegate is None]
    for k, fn in enumerate(functions):
        text, init = _function(k, fn, kinds[fn.name])
        lines += text
        inits += init
        methods.append(
            f'    {{"{fn.name}", (PyCFunction)(void (*)(void))py_{fn.name}, '
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
        *inits,
        "    return PyModule_Create(&sg_module);",
        "}",
    ]
    return "\n".join(lines) + "\n"
