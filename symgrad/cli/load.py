"""Loading the user's file for the command line and the benchmarks.

Contract: `load_function("FILE.py:FUNC")` imports the file (its folder on
`sys.path` meanwhile) and returns the function with its `@symgrad.export`
record; every mistake (no such file, a file that fails to import, no such
function, no example inputs) is a `UserError` saying what to do. `user_code`
runs the user's code and turns its exceptions into such one-line errors.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback

from symgrad.errors import SymgradError
from symgrad.frontend.export import exported


class UserError(Exception):
    """A mistake on the command line: reported as one line, exit code 2."""


def one_line(exc) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def user_code(what: str, fn, *args):
    """Run the user's code (`fn(*args)`); an exception in it becomes a
    UserError saying `what` failed, where, and why."""
    try:
        return fn(*args)
    except (UserError, SymgradError):
        raise
    except SyntaxError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.lineno else exc.filename
        raise UserError(f"{what} failed: syntax error at {where}: {exc.msg}") from exc
    except Exception as exc:  # noqa: BLE001 - any error of the user's code
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        raise UserError(
            f"{what} failed{where}: {type(exc).__name__}: {one_line(exc)}"
        ) from exc


def load_function(spec: str):
    """Import FILE.py and return (function, its export record)."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise UserError(f"expected FILE.py:FUNC, got {spec!r}")
    if not os.path.isfile(path):
        raise UserError(f"no such file: {path}")
    folder = os.path.dirname(os.path.abspath(path))
    module_name = "symgrad_user_" + os.path.splitext(os.path.basename(path))[0]
    spec_obj = importlib.util.spec_from_file_location(module_name, path)
    if spec_obj is None or spec_obj.loader is None:
        raise UserError(
            f"{path} is not a Python source file; give FILE.py:FUNC with a .py file"
        )
    module = importlib.util.module_from_spec(spec_obj)
    sys.path.insert(0, folder)  # so the file can import its neighbours
    try:
        user_code(f"importing {path}", spec_obj.loader.exec_module, module)
    finally:
        sys.path.remove(folder)
    fun = getattr(module, name, None)
    if not callable(fun):
        found = sorted(
            n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
        )
        raise UserError(
            f"{path} has no function {name!r}"
            + (f" (it defines: {', '.join(found)})" if found else "")
        )
    record = exported(fun)
    if record is None:
        raise UserError(
            f"{path}:{name} has no example inputs; decorate it with "
            "@symgrad.export(example=(...)) so symgrad knows what to trace it with"
        )
    return fun, record
