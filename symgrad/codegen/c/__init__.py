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
(its size an int, or an expression of the size symbols, `long` parameters
of each C function); a bool is 0.0 or 1.0. Elementwise ops print
the shared scalar formulas (`scalar.FORMULAS`) in one loop; the others have
a `@lowering` in a `lower_<area>` module; every op neither covers is a named
refusal (`lower_refused`).
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import numpy as np

from symgrad.codegen.c import binding as c_binding
from symgrad.codegen.c import blas, build, calls, lower_linalg, stacks, vecmath
from symgrad.codegen.c import module as c_module
from symgrad.codegen.c import trainer as c_trainer
from symgrad.codegen.c.lower_arrays import loop, source_index
from symgrad.codegen.c.lowering import LOWERINGS, refuse
from symgrad.codegen.c.scalar import CALLEES, FORMULAS, HELPERS, literal
from symgrad.codegen.c.sizes import c_size
from symgrad.errors import SymgradError
from symgrad.ir import dims
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
    return (
        _C_NAMES
        | set(CALLEES.values())
        | set(HELPERS)
        | set(lower_linalg.HELPERS)
        | set(stacks.NAMES)
        | set(blas.NAMES)
        | set(vecmath.NAMES)
    )


def elementwise(node) -> bool:
    """Whether `node` is computed element by element by a scalar formula
    (one expression per element: what `fuse` may put in one loop)."""
    return node.op not in LOWERINGS and node.op in FORMULAS


def _reads_at(shape, in_shape, axis: int):
    """ "_c" if an operand of shape `in_shape` broadcast to `shape` varies
    only along the axes from `axis` on (a bias row), "_o" if only along the
    axes before it (a column), else None."""
    aligned = (1,) * (len(shape) - len(in_shape)) + tuple(in_shape)
    head = zip(aligned[:axis], shape[:axis], strict=True)
    tail = zip(aligned[axis:], shape[axis:], strict=True)
    if all(a == 1 for a, _ in head) and all(a == s for a, s in tail):
        return "_c"
    head = zip(aligned[:axis], shape[:axis], strict=True)
    tail = zip(aligned[axis:], shape[axis:], strict=True)
    if all(a == s for a, s in head) and all(a == 1 for a, _ in tail):
        return "_o"
    return None


def split(shape, operand_shapes) -> int:
    """The axis where a loop over `shape` splits into an outer loop `_o`
    and an inner loop `_c` so that broadcast operands read at `_c` or `_o`
    (no division per element; the inner loop vectorizes), or 0: one loop."""
    best, most = 0, 0
    broadcast = [s for s in operand_shapes if s and tuple(s) != tuple(shape)]
    for axis in range(1, len(shape)):
        found = sum(1 for s in broadcast if _reads_at(shape, s, axis))
        if found > most:
            best, most = axis, found
    return best


def operand(node, inp, src: str, axis: int = 0) -> str:
    """The C expression reading input `inp` (buffer or scalar `src`) for
    element `_i` of `node` (broadcasting); in a loop split at `axis`, a
    broadcast operand may read at `_o` or `_c`."""
    if not inp.shape:
        return src
    if inp.shape == node.shape:
        return f"{src}[_i]"
    at = _reads_at(node.shape, inp.shape, axis) if axis else None
    if at is not None:
        return f"{src}[{at}]"
    return f"{src}[{source_index('_i', node.shape, inp.shape)}]"


def element_loop(shape, axis: int, body: list) -> list:
    """The loop over the elements `_i` of `shape` around `body`: flat, or
    split at `axis` (see `split`)."""
    if not axis:
        return loop(dims.prod(shape), body)
    inner = dims.prod(shape[axis:])
    kind = "long" if dims.is_symbolic(dims.prod(shape)) else "int"
    first = f"{kind} _i = _o * {c_size(inner)} + _c;"
    return loop(dims.prod(shape[:axis]), loop(inner, [first, *body], "_c"), "_o")


def expression(node, operands: list) -> str:
    """The C expression of one element of the elementwise `node`."""
    formula = FORMULAS.get(node.op)
    if formula is None:
        refuse(node)
    expr = formula.fn(*operands, **dict(node.attrs))
    flags = OPS[node.op].flags
    if node.dtype.kind == "b" and "comparison" not in flags and node.op != "where":
        # NumPy keeps bool + bool a bool (logical or); C would count.
        expr = f"({expr}) != 0.0"
    return expr


def statements(node, out: str, args: list) -> list:
    lower = LOWERINGS.get(node.op)
    if lower is not None:
        return lower.fn(node, out, args)
    if FORMULAS.get(node.op) is None:
        refuse(node)
    axis = split(node.shape, [inp.shape for inp in node.inputs]) if node.size else 0
    operands = [
        operand(node, inp, src, axis)
        for inp, src in zip(node.inputs, args, strict=True)
    ]
    expr = expression(node, operands)
    if not node.shape:
        return [f"{out} = {expr};"]
    return element_loop(node.shape, axis, [f"{out}[_i] = {expr};"])


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


def writes_slot(node) -> bool:
    return False


def statements_slot(node, out: str, args: list, dest: str) -> list:
    raise NotImplementedError("the C target plans no memory")


def slots_entry(names: list, key: str, slots: list) -> tuple:
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
    raise SymgradError("the C target's trainer is a program: see trainer_program")


def trainer_program(loss, predict, optimizer: str, initial) -> str:
    """One C file with `main` training the model (`codegen.c.trainer`)."""
    return c_trainer.trainer_program(loss, predict, optimizer, initial, _this())


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
        compute, lambda name: c_binding.generate(name, program, shapes, with_blas)
    )
    ext._init(np.empty, _as_float64, np.linalg.LinAlgError)
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


def _as_float64(value):
    # asarray keeps a 0-d shape (ascontiguousarray would make it (1,)).
    array = np.asarray(value, dtype=np.float64)
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


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


def _caller(ext_fn, fn):
    """A Python function: flatten the arguments (`calls.Flattener`), check
    the static ones, call the extension (which checks and converts the
    arrays and allocates the results), rebuild the result structure."""
    sig = fn.signature
    treedef = sig.treedef
    flatten = calls.Flattener(treedef)
    build_result = calls.Builder(fn.tree)
    statics = [
        (k, leaf.value) for k, leaf in enumerate(sig.leaves) if leaf.node is None
    ]
    traced = [k for k, leaf in enumerate(sig.leaves) if leaf.node is not None]
    bools = [
        k for k, node in enumerate(fn.outputs) if node.shape and node.dtype.kind == "b"
    ]
    n = len(sig.params)
    name = fn.name

    def call(*args):
        if len(args) != n:
            raise TypeError(f"{name} takes {n} arguments, got {len(args)}")
        values = flatten(args)
        if values is None:
            raise ValueError(
                "the arguments do not have the structure this module was generated "
                f"for: {treedef.describe()}"
            )
        if statics:
            for k, value in statics:
                if values[k] != value:
                    raise ValueError(
                        f"an argument was {value!r} when this module was "
                        "generated; generate it again for another value"
                    )
            values = [values[k] for k in traced]
        items = ext_fn(*values)
        if bools:
            items = list(items)
            for k in bools:
                items[k] = items[k].astype(bool)
        return build_result(items)

    return call


__all__ = ["LOWERINGS", "generate_module", "load_module"]

# The lowerings of each area register themselves when imported; the
# refusals come last (they cover what the others leave).
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _info.name.startswith("lower_") and _info.name != "lower_refused":
        importlib.import_module(f"{__name__}.{_info.name}")
importlib.import_module(f"{__name__}.lower_refused")
