"""`@symgrad.export`: declare a function's example inputs for the command line.

Contract: `export(example=..., argnums=0, predict=None, batch=None,
shapes=None)` marks a function so that `symgrad compile FILE.py:FUNC` and
`symgrad show` can find what to trace it with. `example` is a tuple of
arguments or a zero-argument callable that returns one (so data is only made
when needed); `predict`, optional, is the model function `predict(params, X)`
a generated trainer exposes; `batch` and `shapes` make axes symbolic sizes as
for `symgrad.compile` (the command line's --batch and --shapes override
them). The decorated function itself is returned unchanged.
`function_name(fun)` is a callable's name as text, also for a
`functools.partial` or a callable instance.
"""

from __future__ import annotations

from dataclasses import dataclass

from symgrad.errors import ArgumentError

ATTRIBUTE = "__symgrad_export__"


@dataclass(frozen=True)
class Export:
    fun: object
    example: object
    argnums: object = 0
    predict: object = None
    batch: object = None
    shapes: object = None

    def example_args(self) -> tuple:
        args = self.example() if callable(self.example) else self.example
        if not isinstance(args, tuple):
            raise ArgumentError(
                f"the example of {function_name(self.fun)} must be a tuple of "
                f"arguments (or a function returning one), not {type(args).__name__}"
            )
        return args


def export(fun=None, *, example, argnums=0, predict=None, batch=None, shapes=None):
    """Mark `fun` for the `symgrad` command with its example arguments (and
    which of their axes are symbolic sizes: `batch={"X": 0, "y": 0}` or
    `shapes={"X": "n, 2"}`, checked when it is compiled)."""

    def mark(f):
        setattr(f, ATTRIBUTE, Export(f, example, argnums, predict, batch, shapes))
        return f

    return mark if fun is None else mark(fun)


def exported(fun) -> Export | None:
    return getattr(fun, ATTRIBUTE, None)


def function_name(fun) -> str:
    """`fun.__name__` if it is a str; the wrapped function's for a
    functools.partial; else the callable's type name."""
    for _ in range(100):  # partials of partials
        name = getattr(fun, "__name__", None)
        if isinstance(name, str):
            return str.__str__(name)
        inner = getattr(fun, "func", None)
        if inner is None or not callable(inner):
            break
        fun = inner
    return type(fun).__name__
