"""Names in generated code: safe, unique, and taken from the user's names.

Contract: `sanitize(text)` turns any string into an ASCII identifier that is
not a keyword, builtin or a name the module itself uses; `Namer` hands out
unique names in the order asked (deterministic); `comment_safe` and
`literal` make user text safe inside comments, docstrings and string literals.
User strings never reach generated code any other way.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re

RESERVED = frozenset(
    keyword.kwlist
    + keyword.softkwlist
    + dir(builtins)
    + ["np", "math", "forward", "gradient", "value_and_grad", "self"]
)

_BAD = re.compile(r"[^A-Za-z0-9_]+")


def sanitize(text: str, fallback: str = "v") -> str:
    """An identifier made from `text` (ASCII letters, digits and underscores)."""
    name = _BAD.sub("_", str(text)).strip("_")[:40] or fallback
    if name[0].isdigit():
        name = f"{fallback}{name}"
    if name in RESERVED or name.startswith("__"):
        name = f"{name}_"
    return name


class Namer:
    """Hands out unique identifiers: `x`, then `x_1`, `x_2`, ..."""

    def __init__(self, taken=()):
        self.taken = set(RESERVED) | set(taken)
        self.counts: dict[str, int] = {}

    def claim(self, base: str) -> str:
        base = sanitize(base)
        name = base
        k = self.counts.get(base, 0)
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.counts[base] = k
        self.taken.add(name)
        return name


def comment_safe(text: str, limit: int = 100) -> str:
    """`text` on one line with no control characters, cut to `limit`."""
    clean = "".join(c if c.isprintable() else " " for c in str(text)).strip()
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def doc_safe(text: str) -> str:
    """`text` safe inside a triple-quoted docstring."""
    return comment_safe(text).replace("\\", "/").replace('"', "'")


def literal(value) -> str:
    """A Python literal for a str (double quotes, as black writes them) or other
    simple constant."""
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


def scalar_literal(value, module: str) -> str:
    """A literal for a Python number (as `ndarray.item()` gives); NaN and the
    infinities as `module.nan`, `module.inf`, `-module.inf`."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return f"{module}.nan"
    if math.isinf(value):
        return f"{module}.inf" if value > 0 else f"-{module}.inf"
    return repr(value)
