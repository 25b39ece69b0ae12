"""Where the user is: source frames, locations, error messages, names.

Contract: `user_frame()` is the innermost frame outside symgrad and NumPy;
`fail` raises a symgrad error prefixed with that frame's `file:line`;
`Recorder` turns frames into `ir.Loc`s numbered by statement execution;
`name_statements` names the value of each traced assignment after its target;
`source_line(file, line)` is a line of the user's source, or "" when there is
none (also for file names that cannot name a file: NUL, lone surrogates).
"""

from __future__ import annotations

import importlib.util
import linecache
import os
import re
import sys

import numpy as np

from symgrad import ir
from symgrad.errors import TraceError


def _package_dir(name: str) -> str | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return os.path.dirname(os.path.abspath(spec.origin)) + os.sep


# Frames in these folders are library code: errors name the user's line that
# called into them (also when the failure happens deep inside NumPy or SciPy).
_SKIP_DIRS = tuple(
    d
    for d in (
        # the whole symgrad package (this file is symgrad/ir/source.py)
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
        os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
        _package_dir("scipy"),
    )
    if d
)


def user_frame():
    """The innermost frame that belongs to neither symgrad nor NumPy."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIP_DIRS):
        frame = frame.f_back
    return frame


def where_str() -> str:
    """`file.py:12` for the user's current line (for error messages)."""
    frame = user_frame()
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def source_line(file: str, line: int) -> str:
    """`linecache.getline`, but "" instead of an error for a code object whose
    file name the OS cannot even look up (`co_filename` is user data)."""
    try:
        return linecache.getline(file, line)
    except (OSError, ValueError):  # UnicodeEncodeError is a ValueError
        return ""


def fail(message: str, fix: str, cls=TraceError):
    """Raise `cls` with the user's file:line, what went wrong and what to do.

    The exception is marked `located` so that callers further up re-raise it
    as it is instead of wrapping it again.
    """
    exc = cls(f"{where_str()}: {message}. {fix}")
    exc.located = True
    raise exc


class Recorder:
    """Turns the user's current frame into a `Loc` with statement numbering.

    Operations from one execution of a statement share a statement number,
    even when calls to other frames (helpers, generator expressions) record
    operations in between; the statement changes when its frame moves to
    another line or runs the same line again (the bytecode offset goes back,
    as in a loop).
    """

    def __init__(self):
        self.stmt = 0
        # id(frame) -> (frame, line, offset, stmt); holding the frame keeps its
        # id from being reused while the trace runs.
        self.frames: dict = {}
        self.last: ir.Loc | None = None

    def loc(self) -> ir.Loc | None:
        frame = user_frame()
        if frame is None:
            return None
        line, offset = frame.f_lineno, frame.f_lasti
        state = self.frames.get(id(frame))
        if state is not None and state[1] == line and offset >= state[2]:
            stmt = state[3]
        else:
            self.stmt += 1
            stmt = self.stmt
        self.frames[id(frame)] = (frame, line, offset, stmt)
        code = frame.f_code
        last = self.last
        if last is not None and last.stmt == stmt and last.line == line:
            if last.file == code.co_filename and last.func == code.co_name:
                return last  # the statement's earlier operations share one Loc
        self.last = ir.Loc(code.co_filename, line, code.co_name, stmt)
        return self.last


_ASSIGN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[-+*/@%]|\*\*|//)?=(?!=)")


# Code objects whose lines are expressions inside another statement.
_ANONYMOUS = ("<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>", "<lambda>")


def name_statements(nodes) -> None:
    """Give the value of each traced assignment the assigned variable's name."""
    last = {}
    for node in nodes:
        loc = node.loc
        if loc is None or loc.grad or loc.func in _ANONYMOUS:
            continue
        if node.op not in ("input", "const"):
            last[(loc.file, loc.stmt)] = node
    for (file, _), node in last.items():
        if node.hint is None:
            match = _ASSIGN.match(source_line(file, node.loc.line))
            if match:
                node.hint = match.group(1)
