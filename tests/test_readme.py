"""Every Python snippet in the README runs as shown, or is a true excerpt.

A ```python block in README.md is one of:

- a program: run as it stands, in a fresh namespace, in a temporary folder;
- marked `<!-- continues -->` on the line before its fence: run in the namespace
  of the program block before it (a snippet that builds on the one above);
- marked `<!-- excerpt: PATH -->`: a piece of a file of this repository; each run
  of lines between `...` lines must appear in PATH, as they stand and in order,
  so that an excerpt of a generated module cannot go stale.

There is no other kind: a snippet either works or is checked against the file
it shows.
"""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
_MARK = re.compile(r"^<!-- (continues|excerpt: (\S+)) -->$")


def _blocks():
    """[(line number, marker or None, excerpt path or None, code)] of the
    README's python blocks, in order."""
    with open(README, encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i + 1
            end = lines.index("```", start)
            mark = _MARK.match(lines[i - 1]) if i else None
            kind = mark.group(1).split(":")[0] if mark else None
            path = mark.group(2) if mark else None
            blocks.append((start, kind, path, "\n".join(lines[start:end])))
            i = end
        i += 1
    return blocks


BLOCKS = _blocks()
PROGRAMS = [b for b in BLOCKS if b[1] in (None, "continues")]
EXCERPTS = [b for b in BLOCKS if b[1] == "excerpt"]


def test_the_readme_has_both_kinds():
    assert len(PROGRAMS) >= 5 and len(EXCERPTS) >= 2
    assert PROGRAMS[0][1] is None, "the first program cannot continue another"


def _chains():
    """Programs grouped: a block and the `continues` blocks after it."""
    chains = []
    for block in PROGRAMS:
        if block[1] == "continues":
            chains[-1].append(block)
        else:
            chains.append([block])
    return chains


@pytest.mark.parametrize(
    "chain", _chains(), ids=lambda chain: f"README.md:{chain[0][0]}"
)
def test_program_runs_as_shown(chain, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace = {"__name__": "__readme__"}
    for line, _, _, code in chain:
        # Each block runs from a real .py file (symgrad reads the source of what
        # it converts), padded so that its line numbers are the README's.
        path = tmp_path / f"README_md_line_{line + 1}.py"
        path.write_text("\n" * line + code + "\n", encoding="utf-8")
        exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102


@pytest.mark.parametrize("block", EXCERPTS, ids=lambda b: f"README.md:{b[0] + 1}")
def test_excerpt_is_in_its_file(block):
    line, _, path, code = block
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        text = f.read()
    pieces = re.split(r"(?m)^[ \t]*\.\.\.[ \t]*\n?", code)
    at = 0
    for piece in pieces:
        piece = piece.strip("\n")
        if not piece:
            continue
        found = text.find(piece, at)
        assert found >= 0, (
            f"README.md:{line + 1}: this part of the excerpt is not in {path} "
            f"(after what came before it):\n{piece}"
        )
        at = found + len(piece)
