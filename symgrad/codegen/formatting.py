"""Black formatting that stays fast on very large modules.

Contract: `format_source(src)` returns what `black.format_str(src)` would
return. Emitters write black's style already (one short statement per line),
so a module is formatted statement by statement and only statements black
would change (long ones) go through black; a test checks that this equals
formatting the whole module, on every op. Whole-module black (about 0.6 ms a
line) runs only when asked for (`whole=True`): even a 60-line module took
longer to format that way than to trace, differentiate and optimize.

Thread-safe: black is imported lazily (it is slow to import and most modules
never need it) under a lock, because threads importing it at once see a
half-initialised module (`module 'black' has no attribute 'Mode'`).
"""

from __future__ import annotations

import threading
import time

# Modules up to this many lines go through whole-module black by default.
WHOLE_MODULE_LINES = 0
MAX_LINE = 88


_lock = threading.Lock()
_black_module = None
_modes: dict = {}  # line length -> black.Mode


def _black():
    global _black_module
    if _black_module is None:
        with _lock:
            if _black_module is None:
                import black

                _black_module = black
    return _black_module


def _mode(line_length: int):
    black = _black()
    with _lock:
        mode = _modes.get(line_length)
        if mode is None:
            mode = _modes[line_length] = black.Mode(line_length=line_length)
    return mode


def format_source(src: str, whole: bool | None = None, stats=None) -> str:
    """Black-formatted `src`; the seconds taken go to `stats["format_s"]`."""
    t0 = time.perf_counter()
    out = _format(src, whole)
    if stats is not None:
        stats["format_s"] = stats.get("format_s", 0.0) + time.perf_counter() - t0
    return out


def _format(src: str, whole: bool | None) -> str:
    lines = src.split("\n")
    if whole is None:
        whole = len(lines) <= WHOLE_MODULE_LINES
    if whole:
        return _black().format_str(src, mode=_mode(MAX_LINE))
    out = []
    in_string = False
    for line in lines:
        # Lines of a multi-line docstring are text, not statements: black
        # keeps them as they are. Docstrings are the only multi-line strings
        # emitted; they open on a line starting with `"""` and close on one
        # ending with it (user text inside can hold no `"`), so a `"""` in a
        # comment or a string literal does not count.
        stripped = line.strip()
        if in_string:
            in_string = not stripped.endswith('"""')
            out.append(line)
            continue
        if stripped.startswith('"""') and (
            stripped == '"""' or not stripped[3:].endswith('"""')
        ):
            in_string = True
            out.append(line)
            continue
        if len(line) <= MAX_LINE:
            out.append(line)
            continue
        out.extend(_format_statement(_black(), line))
    return "\n".join(out)


def _format_statement(black, line: str) -> list:
    """One long statement as black formats it, at its indentation."""
    indent = line[: len(line) - len(line.lstrip())]
    text = line.strip() + "\n"
    header = text.rstrip().endswith(":")
    if header:
        # A compound statement's header (`def f(...):`) needs a body to parse.
        text += "    pass\n"
    # Format the statement alone at the top level, then indent it back.
    # A line that cannot stand alone (`else:` made long by deep nesting) is
    # one black would leave as it is.
    width = MAX_LINE - len(indent)
    if width < 20:
        return [line]
    try:
        parts = black.format_str(text, mode=_mode(width)).rstrip("\n").split("\n")
    except Exception:  # noqa: BLE001 - black's parse errors have many types
        return [line]
    if header:
        parts = parts[:-1]
    return [indent + part if part else part for part in parts]
