"""Dict keys (and static values) in generated code: literals, or positions.

Contract:
- `plain(value)` returns `(True, p)` where `p` is built only of exact `str`,
  `bytes`, `int`, `float`, `bool`, `None` and tuples of them, `p == value`
  and `hash(p) == hash(value)` (so `d[p]` finds the user's key), and `p` can
  be written by `naming.literal`; otherwise `(False, None)`. This converts
  numpy scalars (`np.str_`, `np.int64`, `np.float64`, `np.bool_`), str/int/
  float/tuple subclasses that keep the base type's equality (a namedtuple, a
  str subclass with a hostile `__repr__`), and refuses NaN (never equal to
  itself), enum members (hashed by name), frozensets (no deterministic order)
  and anything whose equality or hash disagrees with the plain value.
- `dict_literals(keys)` is the literal of every key of one dict, or None when
  any key has no plain form. A dict with such a key is read *by position*:
  the generated module takes its values in order (`list(d.values())[i]`),
  checks its length and each key's type name (and the keys it can write), and
  builds the gradient dict from the caller's own keys.
- `key_text(key)` is a short description of a key for messages and labels;
  it never raises.

A key's plain form is derived from the example arguments at compile time; it
is part of the specialization (the cache key holds the keys themselves).
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.codegen.naming import comment_safe, literal

_SCALARS = (str, bytes, int, float, bool, type(None))


def plain(value):
    """`(True, plain_value)` if `value` can be written as a literal, else
    `(False, None)`."""
    try:
        candidate = _convert(value)
        if candidate is None and value is not None:
            return False, None
        # The generated module finds the user's key through the plain value:
        # both must hash alike and compare equal, in both directions.
        if hash(candidate) != hash(value):
            return False, None
        if not (bool(value == candidate) and bool(candidate == value)):
            return False, None
        literal(candidate)  # e.g. ints too long for repr() fail here
    except Exception:  # noqa: BLE001 - any failure of user code means "no"
        return False, None
    return True, candidate


def _convert(value):
    """The plain value of the same kind, without calling overridable methods
    where the base type's slot can be called directly; None if there is none."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bytes):
        return bytes(memoryview(value))
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float.__float__(value) if isinstance(value, float) else float(value)
        return None if math.isnan(number) else number
    if isinstance(value, tuple):
        items = tuple.__new__(tuple, tuple.__iter__(value))
        converted = []
        for item in items:
            ok, p = plain(item)
            if not ok:
                return None
            converted.append(p)
        return tuple(converted)
    return None


def literal_of(value) -> str | None:
    """The literal for `value` if it has a plain form, else None."""
    ok, p = plain(value)
    return literal(p) if ok else None


def dict_literals(keys) -> list | None:
    """Literals for all `keys` of one dict, or None if one has no plain form
    (then the dict is read by position)."""
    out = []
    for key in keys:
        text = literal_of(key)
        if text is None:
            return None
        out.append(text)
    return out


def key_text(key, limit: int = 60) -> str:
    """How to show a key to a person: the repr of its plain form, else its own
    repr (cleaned and cut), else its type. Never raises."""
    ok, p = plain(key)
    if ok:
        # repr of exact builtin types only: Python's own spelling ('w', 3).
        return comment_safe(repr(p), limit)
    try:
        shown = repr(key)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not stop compiling
        shown = None
    if not isinstance(shown, str):
        return f"<{type_name(key)}>"
    return comment_safe(shown, limit)


def type_name(key) -> str:
    """`type(key).__name__` as a plain str (what a positional check compares)."""
    name = type(key).__name__
    return str.__str__(name) if isinstance(name, str) else "?"


def hint_text(key) -> str:
    """Text for naming a variable after a key (then sanitized): the plain value,
    else the type name."""
    ok, p = plain(key)
    if ok:
        return p.decode("latin-1") if isinstance(p, bytes) else str(p)
    return type_name(key)


def label(base: str, keys) -> str:
    """`params[0]['W']`: how a user would write a leaf, for messages."""
    return base + "".join(f"[{key_text(k)}]" for k in keys)


__all__ = [
    "dict_literals",
    "hint_text",
    "key_text",
    "label",
    "literal_of",
    "plain",
    "type_name",
]
