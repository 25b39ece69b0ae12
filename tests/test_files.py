"""Writes are atomic: the old file or the whole new one, never a partial one."""

from __future__ import annotations

import os

import pytest

import symgrad
from symgrad.files import is_generated, write_atomic


def test_write_replaces_whole_file(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("old")
    write_atomic(path, "new text\n")
    assert path.read_text() == "new text\n"
    assert os.listdir(tmp_path) == ["m.py"]


def test_failed_write_leaves_old_file_and_no_stray(tmp_path, monkeypatch):
    path = tmp_path / "m.py"
    path.write_text("old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(symgrad.SymgradError, match="cannot write .*disk full"):
        write_atomic(path, "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["m.py"]


def test_missing_folder_is_a_clear_error(tmp_path):
    c = symgrad.compile(lambda x: x * x, 1.0)
    with pytest.raises(symgrad.SymgradError, match="does not exist"):
        c.write(tmp_path / "nope" / "m.py")


def test_generated_files_are_recognised(tmp_path):
    c = symgrad.compile(lambda x: x * x, 1.0)
    assert is_generated(c.write(tmp_path / "g.py"))
    mine = tmp_path / "mine.py"
    mine.write_text("print('hi')\n")
    assert not is_generated(mine)
    assert not is_generated(tmp_path / "absent.py")
