"""Names in generated code: safe, unique, and taken from the user's names.

Contract: `sanitize(text)` turns any string into an ASCII identifier that is
not a keyword, builtin or a name the module itself uses; `Namer` hands out
unique names in the order asked (deterministic), never one of its `reserved`
names: a module's generator passes what the module binds at top level (its
imports and their aliases, helpers, functions: see each target's `reserved`
and `bound_names`), so no local variable can shadow one a function reads.
User text reaches generated code only through these functions:
- `literal(value)`, THE literal printer: exact `str`, `bytes`, `int`, `float`,
  `bool`, `None` and tuples/lists of them, written as black writes them; any
  other type is refused with a TypeError (convert first, see `keys.plain`), so
  no user `__repr__` ever runs to produce code;
- `comment_safe(text)`: one line of printable characters, for comments;
- `doc_safe(text)` / `docstring(lines, indent)`: text that cannot end or
  escape a triple-quoted docstring.
"""

from __future__ import annotations

import ast
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


def bound_names(lines) -> frozenset:
    """The names Python source `lines` bind at top level: `import a.b` binds
    `a`, `import a as b` and `from m import a as b` bind `b`, `def f` binds
    `f`, `x = ...` binds `x`. Read from the parsed code, never guessed."""
    names = set()
    for node in ast.parse("\n".join(lines)).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return frozenset(names)


class Namer:
    """Hands out unique identifiers: `x`, then `x_1`, `x_2`, ..."""

    def __init__(self, taken=(), reserved=()):
        self.taken = set(RESERVED) | set(reserved) | set(taken)
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


def comment_safe(text, limit: int = 100) -> str:
    """`text` on one line with no control characters, cut to `limit`.

    Every character that is not printable (newlines, NUL, U+2028, lone
    surrogates, ...) becomes a space, so the text cannot end a comment or
    move later lines of a module.
    """
    clean = "".join(c if c.isprintable() else " " for c in _plain_str(text)).strip()
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def doc_safe(text, limit: int = 100) -> str:
    """`text` safe inside a triple-quoted docstring: one printable line without
    double quotes or backslashes (they become `'` and `/`), so it can neither
    close the string nor start an escape sequence."""
    return comment_safe(text, limit).replace("\\", "/").replace('"', "'")


def docstring(text, indent: str = "") -> list:
    """The lines of a docstring holding `text` (a str, lines separated by
    newlines); each line is cleaned by `doc_safe`, its leading spaces kept."""
    lines = _plain_str(text).split("\n")
    out = []
    for line in lines:
        body = line.lstrip(" ")
        lead = " " * (len(line) - len(body)) if body else ""
        out.append(lead + doc_safe(body, 1000) if body else "")
    out[0] = indent + '"""' + out[0]
    if len(out) == 1:
        out[0] += '"""'
    else:
        out = [out[0]] + [indent + line if line else "" for line in out[1:]]
        out.append(indent + '"""')
    return out


def _plain_str(text) -> str:
    """The characters of a str (also of a str subclass, without calling any of
    its methods); other objects through str()."""
    if isinstance(text, str):
        return str.__str__(text)
    text = str(text)
    return str.__str__(text) if isinstance(text, str) else ""


def literal(value) -> str:
    """Python source for a plain constant, as black would write it.

    Accepts exact `str`, `bytes`, `int`, `float`, `bool`, `None`, and exact
    tuples and lists of them. Anything else (str subclasses included) raises
    TypeError: this printer never calls a user-defined `__repr__`.
    """
    kind = type(value)
    if value is None or kind is bool:
        return repr(value)
    if kind is str:
        return _quoted(value, _str_escape)
    if kind is bytes:
        return "b" + _quoted(value.decode("latin-1"), _bytes_escape)
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value:
            return 'float("nan")'
        if value in (math.inf, -math.inf):
            return 'float("inf")' if value > 0 else '-float("inf")'
        return _float_text(value)
    if kind is tuple:
        items = [literal(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if kind is list:
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise TypeError(f"no safe literal for a {kind.__name__}; convert it first")


def _quoted(text: str, escape) -> str:
    # Black's choice: double quotes, unless single quotes need fewer escapes.
    quote = "'" if text.count('"') > text.count("'") else '"'
    body = "".join("\\" + c if c == quote or c == "\\" else escape(c) for c in text)
    return quote + body + quote


def _str_escape(c: str) -> str:
    # A non-printable character as Python's repr escapes it (\n, \x00, \u2028).
    return c if c.isprintable() else repr(c)[1:-1]


def _bytes_escape(c: str) -> str:
    # Bytes arrive as latin-1 characters: ASCII printables stay, the rest \xNN.
    if " " <= c <= "~":
        return c
    return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(c, f"\\x{ord(c):02x}")


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
    return _float_text(value)


def _float_text(value: float) -> str:
    # repr, with black's spelling of exponents (1e16, not 1e+16).
    return float.__repr__(value).replace("e+", "e")
