"""Pure-Python target: modules that need nothing but the standard library.

Contract: this package is a `codegen.target.Target` (`constant`,
`statements`, `needs`, `entry`, `output`, `prelude`, `support`, stacks,
constants, the random entry, trainer pieces); generated code imports only
`math` (and `operator.mul` where it multiplies matrices).

Areas add lowerings in modules `lower_<area>.py` of this package
(registered with `@lowering`, see `lowering.py`) and helpers in
`helpers_<area>.py` (with their `NEEDS`); both are found by name, so adding an
area touches no list here.

Values: a scalar is a Python float (or int or bool); an array is a flat list
in row-major order. Shapes are known when generating, so every lowering
specializes on them and passes them to helpers as literals; a symbolic size
(`n`, bound by the argument checks) is passed as its expression, and the
lowerings that would enumerate positions when generating read them when the
code runs instead. Elementwise ops become one list comprehension around the
op's scalar formula (`scalar.FORMULAS` of this package: the shared
description of `codegen.scalar` with this target's callees, declaring the
helpers it calls); the ops whose lowering is more than a formula (reductions,
matmul, shape ops, indexing) register a `Lowering` in `LOWERINGS` with
`@lowering(op, ..., helpers=(...))`. Helpers are top-level functions of the
modules in `HELPER_MODULES`, each of which declares in its `NEEDS` what
every helper calls (other helpers, or imports such as `_mul`).
`needs(node)` says what a statement uses; the module copies in exactly those
helpers and what they need, and nothing is found by scanning emitted text.
No statement mutates a list it did not just create, so reshapes and identity
views may share lists safely.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import sys

from symgrad.codegen import constants
from symgrad.codegen.constants import shape_text
from symgrad.codegen.naming import bound_names, literal
from symgrad.codegen.python.lowering import LOWERINGS, _scalar
from symgrad.codegen.python.scalar import FORMULAS
from symgrad.codegen.python.trainer import trainer_pieces
from symgrad.ir import dims
from symgrad.ops import OPS

NAME = "python"
# Lists are rebuilt by every statement: nothing to plan.
PLANS_MEMORY = False
DECORATORS = []
IMPORTS = ["import math"]
NOTE = "# Arrays are flat lists in row-major order; shapes are fixed when generated."
SIZED_NOTE = (
    "# Arrays are flat lists in row-major order; shapes are fixed when generated,\n"
    "# but for the sizes the argument checks read (such as n)."
)
HELPERS_NOTE = (
    "# Helpers: NumPy's semantics in plain Python (inf and nan where math raises)."
)
# Comprehension variables start with "_": sanitized user names never do.
_LOOP_VARS = ("_x", "_y", "_z")


# ------------------------------------------------------------------ values


def constant(node) -> str:
    value = node.value
    if value.ndim == 0:
        return _scalar(value.item())
    return "[" + ", ".join(_scalar(v) for v in value.ravel().tolist()) + "]"


def entry(name: str, access: str, node, label: str, shape_var=None) -> list:
    """Bind one argument leaf to `name`: a number, or a checked flat list.

    A leaf with symbolic sizes also binds its shape to `shape_var`: those
    axes are read, not checked (the module checks them against the sizes,
    see `runtime_size`)."""
    kind = {"f": "float", "b": "bool"}.get(node.dtype.kind, "int")
    if not node.shape:
        if kind == "float":
            return [f"{name} = _number({access}, {literal(label)})"]
        return [f"{name} = {access}"]
    if not dims.is_static(node.shape):
        spec = literal(tuple(repr(d) if dims.is_symbolic(d) else d for d in node.shape))
        return [
            f"{name}, {shape_var} = _array_sized({access}, {spec}, "
            f"{literal(label)}, {kind})"
        ]
    return [f"{name} = _array({access}, {node.shape}, {literal(label)}, {kind})"]


def runtime_size(name: str, shape_var, axis: int) -> str:
    """The size of axis `axis` of a leaf bound by `entry`."""
    return f"{shape_var}[{axis}]"


def output(node, src: str, pyfloat: bool, shared: bool = False) -> str:
    """Gradients leave as floats and nested lists of floats (always new lists)."""
    if pyfloat or not node.shape:
        return f"float({src})"
    return f"_nested({src}, {node.shape})"


# ------------------------------------------------------------------ statements


def statements(node, out: str, args: list) -> list:
    lower = LOWERINGS.get(node.op)
    if lower is not None:
        return lower.fn(node, out, args)
    return _elementwise(node, out, args)


def needs(node) -> tuple:
    """The helpers the statements of `node` may call."""
    lower = LOWERINGS.get(node.op)
    helpers = lower.helpers if lower is not None else FORMULAS[node.op].helpers
    if callable(helpers):
        helpers = tuple(helpers(node))
    if (
        lower is None
        and node.shape
        and any(i.shape != node.shape and i.shape for i in node.inputs)
    ):
        helpers = helpers + ("_broadcast",)
    return helpers


def writes_into(node) -> bool:
    """Never: every statement makes new lists (`PLANS_MEMORY` is False)."""
    return False


def statements_into(node, out: str, args: list, dest: str, scratch=None) -> list:
    raise NotImplementedError("the pure-Python target plans no memory")


def writes_slot(node) -> bool:
    return False


def statements_slot(node, out: str, args: list, dest: str) -> list:
    raise NotImplementedError("the pure-Python target plans no memory")


def slots_entry(names: list, key: str, slots: list) -> tuple:
    raise NotImplementedError("the pure-Python target plans no memory")


def entry_needs(node) -> tuple:
    if not node.shape:
        return ("_number",) if node.dtype.kind == "f" else ()
    return ("_array",) if dims.is_static(node.shape) else ("_array_sized",)


def output_needs(node, pyfloat: bool) -> tuple:
    return () if pyfloat or not node.shape else ("_nested",)


def _elementwise(node, out, args) -> list:
    op = OPS[node.op]
    if not node.shape:
        return [f"{out} = {_scalar_expr(node, op, args)}"]
    # Each array operand becomes a loop variable; scalars are used as they are.
    loops: dict = {}
    operands = []
    for inp, src in zip(node.inputs, args, strict=True):
        if not inp.shape:
            operands.append(src)
            continue
        if inp.shape != node.shape:
            src = f"_broadcast({src}, {inp.shape}, {node.shape})"
        var = loops.setdefault(src, _LOOP_VARS[len(loops)])
        operands.append(var)
    expr = _scalar_expr(node, op, operands)
    names = ", ".join(loops.values())
    sources = ", ".join(loops)
    over = sources if len(loops) == 1 else f"zip({sources})"
    return [f"{out} = [{expr} for {names} in {over}]"]


def _scalar_expr(node, op, args) -> str:
    expr = FORMULAS[op.name].fn(*args, **dict(node.attrs))
    if node.dtype.kind == "b" and "comparison" not in op.flags and op.name != "where":
        # NumPy keeps bool + bool a bool (logical or); Python would count.
        expr = f"bool({expr})"
    return expr


# ------------------------------------------------------------------ helpers


def _area_modules(prefix: str) -> list:
    """The modules `symgrad.codegen.python.<prefix>*`, imported, sorted by name."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if info.name.startswith(prefix)
    )
    return [importlib.import_module(f"{__name__}.{n}") for n in names]


# Helper modules: helpers.py and every helpers_<area>.py.
HELPER_MODULES = tuple(_area_modules("helpers"))
# Imports a helper may rely on, by the name it uses.
IMPORT_LINES = {"_mul": "from operator import mul as _mul"}


@functools.lru_cache(maxsize=1)
def helper_table() -> dict:
    """Helper name -> (source, what it needs), in definition order."""
    out = {}
    for module in HELPER_MODULES:
        declared = module.NEEDS
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and name.startswith("_"):
                if fn.__module__ != module.__name__:
                    continue
                source = inspect.getsource(fn).rstrip("\n")
                out[name] = (source, tuple(declared.get(name, ())))
    return out


def reserved() -> frozenset:
    """Every name a module of this target may bind at top level: `math`, the
    helpers' imports (`_mul`) and the helpers themselves, and what stored
    constants bring (`base64`, `struct`)."""
    imports = bound_names(IMPORTS + sorted(IMPORT_LINES.values()))
    return imports | set(helper_table()) | constants.names(sys.modules[__name__])


def _closure(wanted) -> list:
    """`wanted` with everything the helpers in it need, in definition order."""
    table = helper_table()
    needed = set()
    stack = list(wanted)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        if name in table:
            stack.extend(table[name][1])
        elif name not in IMPORT_LINES:
            raise KeyError(f"unknown pure-Python helper {name!r}")
    return [n for n in list(table) + list(IMPORT_LINES) if n in needed]


def prelude(wanted) -> list:
    """Imports and a note on how arrays are represented."""
    names = _closure(wanted)
    imports = list(IMPORTS) + [IMPORT_LINES[n] for n in names if n in IMPORT_LINES]
    helpers = [n for n in names if n not in IMPORT_LINES]
    note = SIZED_NOTE if "_array_sized" in names else NOTE
    notes = [note, HELPERS_NOTE] if helpers else [note]
    return imports + [""] + notes


def support(wanted) -> list:
    """The source of each helper used, black-formatted already."""
    table = helper_table()
    return [table[n][0] for n in _closure(wanted) if n in table]


# ------------------------------------------------------------------ stacks


def stack_zeros(vtype, src: str) -> str:
    return "0.0" if not vtype.shape else f"[0.0] * len({src})"


def stack_add(vtype, a: str, b: str) -> str:
    if not vtype.shape:
        return f"{a} + {b}"
    return f"[p + q for p, q in zip({a}, {b})]"


# ------------------------------------------------------------------ random

RANDOM_DOC = (
    "",
    "Random draws come from the keyword argument rng (a random.Random, or a",
    "NumPy Generator or RandomState for NumPy's numbers; None: a fresh",
    "random.Random()), on every call.",
)


def random_entry(rng: str) -> tuple:
    """(lines that give `rng` its default, helpers they need)."""
    return [f"{rng} = _generator({rng})"], ("_generator",)


# ------------------------------------------------------------------ constants

# dtype (little-endian) -> struct format character.
_STRUCT = {
    "<f8": "d",
    "<f4": "f",
    "<f2": "e",
    "<i8": "q",
    "<i4": "i",
    "<i2": "h",
    "|i1": "b",
    "<u8": "Q",
    "<u4": "I",
    "<u2": "H",
    "|u1": "B",
    "|b1": "?",
}

CONSTANT_DECODER = (
    ["import base64", "import struct"],
    [
        "def _constant(code, size, data):",
        '    """A flat list of `size` numbers stored as base64 of little-endian',
        '    bytes, `code` being their struct format character."""',
        '    return list(struct.unpack("<%d%s" % (size, code), '
        "base64.b64decode(data)))",
    ],
)


def constant_stored(array, little) -> tuple:
    """(the decoder's arguments but the data, the comment above) for `array`."""
    meta = [f'"{_STRUCT[little.str]}"', str(array.size)]
    note = (
        f"# {array.dtype.name} array of shape {shape_text(array.shape)}, "
        "a flat row-major list"
    )
    return meta, note


def constant_value(array):
    """What `_constant` decodes `array` to: its flat row-major list."""
    return array.ravel().tolist()


__all__ = ["trainer_pieces"]

# Lowerings of other areas register themselves when imported.
_area_modules("lower_")
