"""C target: the forward and gradient as readable C99, run as an extension.

Contract: this package is a `codegen.target.Target` whose artifact is C,
not Python: `generate_module(program)` returns the C99 source of the
computation (`module.generate`), and `load_module(source, program)` builds
it with its CPython binding (`build`: the system compiler, a private cache
by content hash) and returns a module-like object whose functions take the
user's argument structure and return NumPy arrays and floats with the same
structure as the NumPy target's. The Python-module members of the protocol
(`entry`, `output`, `prelude`, stacks, trainers...) exist so the protocol
holds, and refuse where the C target has no such thing.

Values: a scalar is a `double`; an array a flat row-major `double` buffer
of a size fixed when generating; a bool is 0.0 or 1.0. Elementwise ops print
the shared scalar formulas (`scalar.FORMULAS`) in one loop; the others have
a `@lowering` in a `lower_<area>` module; every op neither covers is a named
refusal (`lower_refused`).
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import numpy as np

from symgrad.codegen.c import blas, build
from symgrad.codegen.c import module as c_module
from symgrad.codegen.c.lower_arrays import loop, source_index
from symgrad.codegen.c.lowering import LOWERINGS, refuse
from symgrad.codegen.c.scalar import CALLEES, FORMULAS, HELPERS, literal
from symgrad.errors import SymgradError
from symgrad.ops import OPS

NAME = "c"
PLANS_MEMORY = False
DECORATORS: list = []
RANDOM_DOC = ("", "The C target draws no random numbers.")
CONSTANT_DECODER = None

# C99's keywords, the names <math.h>, <stdlib.h> and <string.h> bring that
# generated code may meet (macros among them), and the helpers: a user name
# is never one of these.
_C_NAMES = frozenset(
    (
        "auto break case char const continue default do double else enum extern "
        "float for goto if inline int long register restrict return short signed "
        "sizeof static struct switch typedef union unsigned void volatile while "
        "_Bool _Complex _Imaginary bool true false NULL INFINITY NAN HUGE_VAL "
        "errno EDOM ERANGE EOF M_PI M_E malloc free memcpy memset strcmp size_t "
        "exp2 pow fpclassify signbit main abort exit"
    ).split()
)


def reserved() -> frozenset:
    return _C_NAMES | set(CALLEES.values()) | set(HELPERS) | set(blas.NAMES)


def statements(node, out: str, args: list) -> list:
    lower = LOWERINGS.get(node.op)
    if lower is not None:
        return lower.fn(node, out, args)
    formula = FORMULAS.get(node.op)
    if formula is None:
        refuse(node)
    operands = []
    for inp, src in zip(node.inputs, args, strict=True):
        if not inp.shape:
            operands.append(src)
        elif inp.shape == node.shape:
            operands.append(f"{src}[_i]")
        else:
            operands.append(f"{src}[{source_index('_i', node.shape, inp.shape)}]")
    expr = formula.fn(*operands, **dict(node.attrs))
    flags = OPS[node.op].flags
    if node.dtype.kind == "b" and "comparison" not in flags and node.op != "where":
        # NumPy keeps bool + bool a bool (logical or); C would count.
        expr = f"({expr}) != 0.0"
    if not node.shape:
        return [f"{out} = {expr};"]
    return loop(node.size, [f"{out}[_i] = {expr};"])


def needs(node) -> tuple:
    """The helpers (`scalar.HELPERS`) the statements of `node` call."""
    lower = LOWERINGS.get(node.op)
    if lower is not None:
        return lower.helpers
    formula = FORMULAS.get(node.op)
    return formula.helpers if formula is not None else ()


def writes_into(node) -> bool:
    return False


def statements_into(node, out: str, args: list, dest: str, scratch=None) -> list:
    raise NotImplementedError("the C target plans no memory")


def constant(node) -> str:
    value = node.value
    if value.ndim == 0:
        return literal(value.item())
    items = ", ".join(literal(v) for v in value.ravel().tolist())
    return f"((const double[]){{{items}}})"


def _python_only(what: str):
    raise SymgradError(f"{what} is written by the Python targets, not the C target")


def entry(name: str, access: str, node, label: str, shape_var=None):
    _python_only("argument conversion")


def entry_needs(node) -> tuple:
    return ()


def runtime_size(name: str, shape_var, axis: int) -> str:
    _python_only("a symbolic size")


def output(node, src: str, pyfloat: bool, shared: bool = False) -> str:
    _python_only("result conversion")


def output_needs(node, pyfloat: bool) -> tuple:
    return ()


def prelude(wanted) -> list:
    return []


def support(wanted) -> list:
    return []


def stack_zeros(vtype, src: str) -> str:
    _python_only("a stack (control flow)")


def stack_add(vtype, a: str, b: str) -> str:
    _python_only("a stack (control flow)")


def random_entry(rng: str) -> tuple:
    _python_only("a random draw")


def constant_stored(array, little) -> tuple:
    _python_only("a stored constant")


def constant_value(array):
    return array


def trainer_pieces(optimizer: str) -> tuple:
    raise SymgradError(
        'trainers are not generated for the C target yet; use target="numpy"'
    )


# ------------------------------------------------------------------ artifact


def generate_module(program) -> str:
    """The C99 source of the program's functions (what `Compiled.source` is)."""
    return c_module.generate(program, _this())[0]


def _this():
    return importlib.import_module(__name__)


def load_module(source: str, program):
    """The program's functions, built from `source` (see `build.load`), as a
    module whose functions take and return what the NumPy target's do."""
    compute, shapes, _ = c_module.generate(program, _this())
    if compute != source:
        raise ValueError("the C source does not belong to this program")
    with_blas = c_module.uses_blas(compute)
    ext = build.load(
        compute, lambda name: c_module.binding(name, program, shapes, with_blas)
    )
    namespace = types.ModuleType("symgrad_c_functions")
    namespace.MATRIX_PRODUCTS = _choose_products(ext) if with_blas else None
    for fn in program.functions:
        if fn.delegate is None:
            setattr(namespace, fn.name, _caller(getattr(ext, fn.name), fn))
    for fn in program.functions:
        if fn.delegate is not None:
            target, index = fn.delegate
            setattr(namespace, fn.name, _delegate(getattr(namespace, target), index))
    return namespace


def _choose_products(ext) -> str:
    """Give the extension SciPy's BLAS if SciPy is importable (else no
    pointers: its own loops); say which one it uses."""
    found = blas.capsules()
    if found is not None and ext._set_blas(*found):
        return "scipy-blas"
    ext._set_blas(None, None)
    return "loops"


def _delegate(fn, index):
    def call(*args):
        return fn(*args)[index]

    return call


def _leaves(args, treedef):
    """The leaves of `args` in flatten order, if it has the structure
    `treedef` (lists and tuples of the same lengths, dicts with the same
    keys in the same order), else None. An explicit stack, no recursion."""
    out = []
    stack = [(tuple(args), treedef)]
    while stack:
        obj, node = stack.pop()
        if node.is_leaf:
            out.append(obj)
            continue
        kind = type(obj)
        if node.kind == "dict":
            if kind is not dict or tuple(obj) != node.keys:
                return None
            items = list(obj.values())
        else:
            if kind.__name__ != node.kind or kind not in (list, tuple):
                return None
            items = obj
        if len(items) != len(node.children):
            return None
        stack.extend(reversed(list(zip(items, node.children, strict=True))))
    return out


def _caller(ext_fn, fn):
    """A Python function: flatten and check the arguments, allocate the
    results, call the C function, rebuild the result structure."""
    sig = fn.signature
    treedef = sig.treedef
    leaves = sig.leaves
    shapes = [leaf.node.shape if leaf.node is not None else None for leaf in leaves]
    outs = [(node.shape, node.dtype) for node in fn.outputs]
    tree = fn.tree
    n = len(sig.params)

    def call(*args):
        if len(args) != n:
            raise TypeError(f"{fn.name} takes {n} arguments, got {len(args)}")
        values = _leaves(args, treedef)
        if values is None:
            raise ValueError(
                "the arguments do not have the structure this module was generated "
                f"for: {treedef.describe()}"
            )
        inputs = []
        for leaf, shape, value in zip(leaves, shapes, values, strict=True):
            if shape is None:
                if value != leaf.value:
                    raise ValueError(
                        f"an argument was {leaf.value!r} when this module was "
                        "generated; generate it again for another value"
                    )
                continue
            if shape:
                array = value
                if type(array) is not np.ndarray or array.dtype != np.float64:
                    array = np.asarray(value, dtype=np.float64)
                if not array.flags.c_contiguous:
                    array = np.ascontiguousarray(array)
                if array.shape != shape:
                    raise ValueError(
                        f"argument leaf must have shape {shape}, got {array.shape}"
                    )
                inputs.append(array)
            else:
                inputs.append(float(value))
        results = [np.empty(shape if shape else (1,)) for shape, _ in outs]
        ext_fn(*inputs, *results)
        items = []
        for (shape, dtype), res in zip(outs, results, strict=True):
            if not shape:
                items.append(bool(res[0]) if dtype.kind == "b" else float(res[0]))
            elif dtype.kind == "b":
                items.append(res.astype(bool))
            else:
                items.append(res)
        return tree.unflatten(items)

    return call


__all__ = ["LOWERINGS", "generate_module", "load_module"]

# The lowerings of each area register themselves when imported; the
# refusals come last (they cover what the others leave).
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _info.name.startswith("lower_") and _info.name != "lower_refused":
        importlib.import_module(f"{__name__}.{_info.name}")
importlib.import_module(f"{__name__}.lower_refused")
