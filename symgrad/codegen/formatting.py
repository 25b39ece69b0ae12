"""Black formatting that stays fast on very large modules.

Contract: `format_source(src)` returns what `black.format_str(src)` would
return. Emitters write black's style already (one short statement per line),
so a module with many lines is formatted statement by statement and only
statements black would change (long ones) go through black; a test checks
that this equals formatting the whole module on every op.
"""

from __future__ import annotations

import functools
import time

# Whole-module black is about 0.6 ms a line: fine up to a few thousand lines.
WHOLE_MODULE_LINES = 4000
MAX_LINE = 88


@functools.lru_cache(maxsize=1)
def _black():
    import black

    return black


@functools.lru_cache(maxsize=16)
def _mode(line_length: int):
    return _black().Mode(line_length=line_length)


def format_source(src: str, whole: bool | None = None, stats=None) -> str:
    """Black-formatted `src`; the seconds taken go to `stats["format_s"]`."""
    t0 = time.perf_counter()
    out = _format(src, whole)
    if stats is not None:
        stats["format_s"] = time.perf_counter() - t0
    return out


def _format(src: str, whole: bool | None) -> str:
    black = _black()
    lines = src.split("\n")
    if whole is None:
        whole = len(lines) <= WHOLE_MODULE_LINES
    if whole:
        return black.format_str(src, mode=_mode(MAX_LINE))
    out = []
    for line in lines:
        if len(line) <= MAX_LINE:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        # Format the statement alone at the top level, then indent it back.
        mode = _mode(MAX_LINE - len(indent))
        formatted = black.format_str(line.strip() + "\n", mode=mode).rstrip("\n")
        out.extend(indent + part if part else part for part in formatted.split("\n"))
    return "\n".join(out)
