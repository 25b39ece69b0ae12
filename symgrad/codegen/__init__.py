"""Code generation: Program -> formatted, standalone Python module source.

Contract: `generate(program, target)` with target "numpy" (imports NumPy) or
"python" (imports only the standard library), or "c" (C99 source, which
assembles itself: a target with `generate_module` and `load_module`); the
generated code never
imports symgrad, sympy or black. Each target is one package of this one
(`codegen.numpy`, `codegen.python`) implementing `codegen.target.Target`;
`TARGETS` lists them by name, and nothing else here names one.
"""

from symgrad.codegen import c, numpy, python
from symgrad.codegen.module import generate as _generate

TARGETS = {"numpy": numpy, "python": python, "c": c}


def generate(
    program, target: str = "numpy", whole: bool | None = None, constants=None
) -> str:
    """The module's source. Large constant arrays are stored compactly; pass a
    `constants.Constants` table to get them back (to bind them in-process)."""
    own = getattr(TARGETS[target], "generate_module", None)
    if own is not None:
        # A target whose artifact is not a Python module (C) assembles its own.
        return own(program)
    return _generate(program, TARGETS[target], whole, constants=constants)


__all__ = ["TARGETS", "generate"]
