"""NumPy target: one statement per node, array code at array level.

Contract: this package is a `codegen.target.Target`. `statements(node, out,
args)` returns the source lines computing `node` into the variable `out` from
operand sources `args`, with the op's lowering in `LOWERINGS` (see
`lowerings.py`); `constant(node)` is a literal for a constant node; `entry(...)`
converts and checks one argument leaf; `prelude(lines)` and `support(lines)`
are what precedes the functions. Generated code imports only numpy (and the
SciPy modules the ops used declare).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import numpy as np

from symgrad.codegen import constants, memory
from symgrad.codegen.constants import shape_text
from symgrad.codegen.naming import bound_names, literal, scalar_literal
from symgrad.codegen.numpy import buffers, helpers
from symgrad.codegen.numpy.lowering import LOWERINGS
from symgrad.codegen.numpy.trainer import dask_pieces, trainer_pieces
from symgrad.codegen.python import helpers as python_helpers
from symgrad.ir import dims
from symgrad.ops import OPS

NAME = "numpy"
# inf and NaN propagate as in NumPy, without a RuntimeWarning for each.
DECORATORS = ['@np.errstate(all="ignore")']
IMPORTS = ["import numpy as np"]


def prelude(wanted) -> list:
    """Lines before the functions: NumPy's import, and the imports the ops
    used declare (`wanted`, from `needs`), such as `import scipy.special`
    (the buffer slots' `threading` and `weakref` when a function keeps
    buffers)."""
    extra = sorted(w for w in wanted if w.startswith(("import ", "from ")))
    return list(IMPORTS) + [line for line in extra if line not in IMPORTS]


# Helpers a module may call, in the order they are written: argument
# conversion (the checks are the pure-Python target's own text).
_HELPERS = ("_check_argument", "_number", "_as_array")


def reserved() -> frozenset:
    """Every name a module of this target may bind at top level: its imports
    (NumPy's, and each one an op declares, such as `scipy`), the helpers it
    copies in and what stored constants bring (`base64`)."""
    imports = set(IMPORTS)
    for lowering in LOWERINGS.values():
        imports.update(lowering.imports)
    target = sys.modules[__name__]
    names = bound_names(sorted(imports)) | set(_HELPERS) | buffers.NAMES
    return names | constants.names(target)


def support(wanted) -> list:
    """The source of the argument helpers the module calls (NumPy has the rest)."""
    sources = {
        "_check_argument": python_helpers._check_argument,
        "_number": helpers._number,
        "_as_array": helpers._as_array,
    }
    blocks = [
        inspect.getsource(sources[name]).rstrip("\n")
        for name in _HELPERS
        if name in wanted
    ]
    if "_buffers" in wanted:
        blocks.append("\n".join(buffers.BLOCK))
        blocks += [inspect.getsource(f).rstrip("\n") for f in buffers.FUNCTIONS]
    return blocks


def needs(node) -> tuple:
    """What the statements of `node` need: the imports its lowering declares."""
    return LOWERINGS[node.op].imports


def entry_needs(node) -> tuple:
    if not node.shape:
        return ("_number", "_check_argument") if node.dtype == np.float64 else ()
    return ("_as_array", "_check_argument")


def output_needs(node, pyfloat: bool) -> tuple:
    return ()


def _scalar(value) -> str:
    return scalar_literal(value, "np")


def constant(node) -> str:
    value = node.value
    if value.ndim == 0:
        text = _scalar(value.item())
        if not node.weak and value.dtype not in (np.float64, np.int64, np.bool_):
            return f"{dtype_name(value.dtype)}({text})"
        return text
    suffix = "" if value.dtype == np.float64 else f", dtype={dtype_name(value.dtype)}"
    if value.size == 0:
        # Nested lists cannot say the shape of an empty array.
        return f"np.zeros({dims.shape_str(value.shape)}{suffix})"
    return f"np.array({_nested(value)}{suffix})"


def dtype_name(dtype) -> str:
    """How generated code names a dtype (`np.float32`, `np.bool_`: valid on
    NumPy 1.24 and 2.x alike)."""
    dtype = np.dtype(dtype)
    return "np.bool_" if dtype.kind == "b" else f"np.{dtype.name}"


def _nested(value) -> str:
    if value.ndim == 0:
        return _scalar(value.item())
    return "[" + ", ".join(_nested(v) for v in value) + "]"


# Generated functions reuse and free the buffers of dead temporaries.
PLANS_MEMORY = True


def writes_into(node) -> bool:
    """Whether `node` can be computed into an existing array (an `out=`
    form; see `codegen.memory`)."""
    lower = LOWERINGS.get(node.op)
    return lower is not None and lower.into is not None


def statements_into(node, out: str, args: list, dest: str, scratch=None) -> list:
    """`node` computed into the array `dest` (see `codegen.memory`); `scratch`
    names a dying operand it may overwrite. An `out=` printer gives an
    expression, or statements that fill `dest`."""
    attrs = dict(node.attrs)
    if scratch is not None:
        attrs["scratch"] = scratch
    code = LOWERINGS[node.op].into(dest, *args, **attrs)
    if isinstance(code, list):
        return [*code, f"{out} = {dest}"]
    return [f"{out} = {code}"]


def writes_slot(node) -> bool:
    """Whether `node` can be computed into a buffer slot (see `codegen.memory`)."""
    lower = LOWERINGS.get(node.op)
    return lower is not None and lower.out is not None


def statements_slot(node, out: str, args: list, dest: str) -> list:
    """`node` computed into `dest`, a buffer slot of its shape and dtype."""
    return [f"{out} = {LOWERINGS[node.op].out(dest, *args, **dict(node.attrs))}"]


def slots_entry(names: list, key: str, slots: list) -> tuple:
    """`a, b = _buffers("key", (((n, 16), np.float64), ...))`: this thread's
    arrays for the slots (see `buffers`)."""
    specs = ", ".join(
        f"({dims.shape_str(shape)}, {dtype_name(dtype)})" for shape, dtype in slots
    )
    specs = f"({specs},)" if len(slots) == 1 else f"({specs})"
    call = f"_buffers({literal(key)}, {specs})"
    needs = ("_buffers", *buffers.IMPORTS)
    if len(names) == 1:
        return [f"{names[0]} = {call}[0]"], needs
    return [f"{', '.join(names)} = {call}"], needs


def statements(node, out: str, args: list) -> list:
    lower = LOWERINGS[node.op]
    attrs = dict(node.attrs)
    if lower.on_arrays is not None and all(i.shape for i in node.inputs):
        return [f"{out} = {lower.on_arrays(*args, **attrs)}"]
    if lower.stmts is not None:
        return lower.stmts(out, *args, dtype=node.dtype, **attrs)
    if node.op == "cast" and python_int(node.inputs[0]):
        # A size (`n - 1`) is a Python int here, which has no .astype.
        return [f"{out} = {dtype_name(node.dtype)}({args[0]})"]
    return [f"{out} = {lower.expr(*args, **attrs)}"]


def python_int(node, depth: int = 8) -> bool:
    """Whether generated code holds `node` as a Python int: a size (`n`), or
    arithmetic on sizes and Python ints only (`n - 1`)."""
    if node.op == "dim":
        return True
    if node.op == "const":
        return node.weak and node.dtype.kind in "iu"
    if depth == 0 or node.shape or node.op not in ("add", "sub", "mul", "neg"):
        return False
    return all(python_int(i, depth - 1) for i in node.inputs)


def entry(name: str, access: str, node, label: str, shape_var=None) -> list:
    """Bind one argument leaf to `name`, converting and checking its shape.

    Symbolic axes are not checked here (the module binds and checks them
    with `runtime_size`); the number of axes and the fixed sizes are."""
    if not node.shape:
        if node.dtype == np.float64:
            # A NumPy scalar, not a Python float: 1/0, 0.0**-1 and overflow
            # give inf and NaN as NumPy does instead of raising.
            return [f"{name} = _number({access}, {literal(label)})"]
        if node.dtype.kind == "f":
            return [f"{name} = np.{node.dtype.name}({access})"]
        return [f"{name} = {access}"]
    dtype = "None" if node.dtype.kind != "f" else f"np.{node.dtype.name}"
    message = literal(f"{label} must have shape {dims.shape_str(node.shape)}, got ")
    if dims.is_static(node.shape):
        wrong = f"{name}.shape != {node.shape}"
    else:
        wrong = " or ".join(
            [f"{name}.ndim != {node.ndim}"]
            + [
                f"{name}.shape[{axis}] != {d}"
                for axis, d in enumerate(node.shape)
                if not dims.is_symbolic(d)
            ]
        )
    return [
        f"{name} = _as_array({access}, {literal(label)}, {dtype})",
        f"if {wrong}:",
        f"    raise ValueError({message} + str({name}.shape))",
    ]


def runtime_size(name: str, shape_var, axis: int) -> str:
    """The size of axis `axis` of a leaf bound by `entry`."""
    return f"{name}.shape[{axis}]"


def output(node, src: str, pyfloat: bool, shared: bool = False) -> str:
    """How a gradient leaf is returned: floats as float, arrays as arrays the
    caller owns alone (`shared`: another result is the same array: copy)."""
    if pyfloat or not node.shape:
        return f"float({src})"
    if shared or node.op in ("input", "const"):
        return f"np.array({src})"
    if "view" in OPS[node.op].flags:
        if node.op == "transpose" and memory.fresh(node.inputs[0]):
            # The transpose of an array this call made (a weight gradient
            # `(h.T @ g).T`): the caller may have it as it is.
            return src
        # Never hand out a view of an argument or a read-only broadcast.
        return f"np.array({src})"
    return src


# ------------------------------------------------------------------ stacks


def stack_zeros(vtype, src: str) -> str:
    return f"np.zeros_like({src})"


def stack_add(vtype, a: str, b: str) -> str:
    return f"{a} + {b}"


# ------------------------------------------------------------------ random

RANDOM_DOC = (
    "",
    "Random draws come from the keyword argument rng (a numpy.random.Generator",
    "or RandomState; None: a fresh np.random.default_rng()), on every call.",
)


def random_entry(rng: str) -> tuple:
    """(lines that give `rng` its default, helpers they need)."""
    return [f"if {rng} is None:", f"    {rng} = np.random.default_rng()"], ()


# ------------------------------------------------------------------ constants

CONSTANT_DECODER = (
    ["import base64"],
    [
        "def _constant(dtype, shape, data):",
        '    """An array stored as base64 of its little-endian bytes (read-only)."""',
        "    return np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(shape)",
    ],
)


def constant_stored(array, little) -> tuple:
    """(the decoder's arguments but the data, the comment above) for `array`."""
    meta = [f'"{little.str}"', shape_text(array.shape)]
    return meta, f"# {array.dtype.name} array of shape {shape_text(array.shape)}"


def constant_value(array):
    """What `_constant` decodes `array` to: the array itself."""
    return array


__all__ = ["LOWERINGS", "dask_pieces", "trainer_pieces"]

# The lowerings of each area register themselves when imported.
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _info.name.startswith("lower_"):
        importlib.import_module(f"{__name__}.{_info.name}")
