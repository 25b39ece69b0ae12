"""Code generation: Program -> formatted, standalone Python module source.

Contract: `generate(program, target)` with target "numpy" (imports NumPy) or
"python" (imports only the standard library); the generated code never
imports symgrad, sympy or black. Each target is one package of this one
(`codegen.numpy`, `codegen.python`) implementing `codegen.target.Target`;
`TARGETS` lists them by name, and nothing else here names one.
"""

from symgrad.codegen import numpy, python
from symgrad.codegen.module import generate as _generate

TARGETS = {"numpy": numpy, "python": python}


def generate(
    program, target: str = "numpy", whole: bool | None = None, constants=None
) -> str:
    """The module's source. Large constant arrays are stored compactly; pass a
    `constants.Constants` table to get them back (to bind them in-process)."""
    return _generate(program, TARGETS[target], whole, constants=constants)


__all__ = ["TARGETS", "generate"]
