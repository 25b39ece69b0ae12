"""Large constant arrays in generated modules: stored compactly, bound in-process.

Contract: a `Constants` table belongs to one module being generated.
- `stores(array)` tells whether an array is stored rather than printed: more
  than `SMALL` numbers of a bool, int, uint or float dtype. Smaller ones stay
  literals (the target's `constant`), which reads better.
- `ref(node)` / `add(array)` give the module-level name of a stored array
  (`_const_1`, ...), the same name for equal arrays, numbered in order of
  first use (so the text is deterministic).
- `imports()` and `block()` are what the written module needs: the standard
  library imports and one decoder function plus one assignment per array,
  holding the array's little-endian bytes as one base64 string. The target
  gives the decoder (`CONSTANT_DECODER`), the arguments that say how to read
  each array and the value it decodes to (`constant_stored`,
  `constant_value`): the numpy target decodes with `np.frombuffer` (a
  read-only array of the original dtype and shape), the python target with
  `struct` (a flat row-major list, as its other arrays). Both are exact.
- In-process, nothing is decoded: `exec_source(source)` blanks the stored
  assignments (keeping line numbers) and `bindings()` gives the values to put
  into the module's namespace before it runs.

Why: printing a 300x300 array element by element and running black over it
took 81 s; base64 of the bytes is one line that black leaves alone.
"""

from __future__ import annotations

import base64
import importlib

import numpy as np

from symgrad.codegen.naming import bound_names

SMALL = 16


def names(target) -> frozenset:
    """What storing constants binds in a module of `target` (a
    `codegen.target.Target`): the decoder's imports and its function (the
    arrays are `_const_N`: no user name starts with `_`)."""
    imports, decoder = target.CONSTANT_DECODER or ([], [])
    return bound_names(imports + decoder)


def _little(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("<") if dtype.byteorder not in ("|", "<") else dtype


class Constants:
    """The stored arrays of one generated module."""

    def __init__(self, target):
        # A target (`codegen.target.Target`), or its name.
        if isinstance(target, str):
            target = importlib.import_module(f"symgrad.codegen.{target}")
        self.target = target
        self._decoder = target.CONSTANT_DECODER
        self.entries: list = []  # (name, array), in order of first use
        self._names: dict = {}  # node, or (dtype, shape, bytes) -> name
        self._texts: dict = {}  # name -> its assignment (base64 made once)

    def stores(self, array) -> bool:
        array = np.asarray(array)
        return (
            self._decoder is not None
            and array.size > SMALL
            and _little(array.dtype).str in STORED_DTYPES
        )

    def ref(self, node) -> str:
        """The name of a constant node's stored array."""
        # Nodes are interned (equal constants are one node), so the node
        # itself is the key: no need to hash megabytes of bytes again.
        name = self._names.get(node)
        if name is None:
            name = self._names[node] = self.add(node.value)
        return name

    def add(self, array) -> str:
        array = np.asarray(array)
        key = (array.dtype.str, array.shape, array.tobytes())
        name = self._names.get(key)
        if name is None:
            name = f"_const_{len(self.entries) + 1}"
            self._names[key] = name
            frozen = np.array(array)  # a private copy, read-only
            frozen.flags.writeable = False
            self.entries.append((name, frozen))
        return name

    # ------------------------------------------------------------ written form

    def imports(self) -> list:
        return list(self._decoder[0]) if self.entries else []

    def block(self) -> str:
        """The decoder and the assignments, already in black's style ('' if
        nothing is stored)."""
        if not self.entries:
            return ""
        parts = ["\n".join(self._decoder[1])]
        parts += [self._assignment(name, array) for name, array in self.entries]
        return "\n\n\n".join(parts[:1] + ["\n\n".join(parts[1:])])

    def _assignment(self, name, array) -> str:
        text = self._texts.get(name)
        if text is None:
            text = self._texts[name] = self._write(name, array)
        return text

    def _write(self, name, array) -> str:
        little = _little(array.dtype)
        data = base64.b64encode(
            np.ascontiguousarray(array, dtype=little).tobytes()
        ).decode("ascii")
        meta, note = self.target.constant_stored(array, little)
        # One argument per line with a trailing comma: what black makes of a
        # call too long for one line, so black leaves it as it is.
        args = [f"    {m}," for m in meta] + [f'    "{data}",']
        return "\n".join([note, f"{name} = _constant(", *args, ")"])

    # ------------------------------------------------------------ in-process

    def exec_source(self, source: str) -> str:
        """`source` with each stored assignment replaced by blank lines."""
        pieces, start = [], 0
        for name, array in self.entries:
            text = self._assignment(name, array)
            assignment = text[text.index(f"{name} = _constant(") :]
            # Find it by its short first line, then compare in place: a search
            # for the whole multi-megabyte text is far slower.
            at = source.find("\n" + assignment.split("\n", 1)[0] + "\n", start) + 1
            if at == 0 or not source.startswith(assignment, at):
                continue  # not in this text: leave it to be decoded
            pieces += [source[start:at], "\n" * assignment.count("\n")]
            start = at + len(assignment)
        pieces.append(source[start:])
        return "".join(pieces)

    def bindings(self) -> dict:
        """name -> value the module would decode: the array (numpy target) or
        its flat list (python target)."""
        return {name: self.target.constant_value(array) for name, array in self.entries}


# Dtypes (little-endian) stored compactly: every target that stores
# constants reads these.
STORED_DTYPES = frozenset(
    ("<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1")
)


def shape_text(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


__all__ = ["SMALL", "STORED_DTYPES", "Constants", "shape_text"]
