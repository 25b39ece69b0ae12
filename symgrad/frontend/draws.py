"""Random generators as traced functions see them.

Contract: `GeneratorView(g)` stands for a NumPy `Generator` or `RandomState`
`g` in a traced function (one it creates with `np.random.default_rng(seed)`,
or reaches through its globals or closure): while tracing, its drawing
methods record draws (`symgrad.numpy_api.random`); its other drawing
methods are refused by name; everything else is `g`'s own. `method(f, args,
kwargs)` does the same for a bound method of a generator that converted code
calls (a generator passed in as an argument), and returns `NOT_A_DRAW` for
anything else.
`check_unused` warns about draws the result does not use.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir, ops
from symgrad.frontend import tracing
from symgrad.ir.pytree import flatten
from symgrad.ir.source import fail
from symgrad.numpy_api import random as np_random
from symgrad.ops import random

NOT_A_DRAW = object()
GENERATORS = (np.random.Generator, np.random.RandomState)


def _table(rng) -> tuple:
    if isinstance(rng, np.random.Generator):
        return np_random.GENERATOR, "np.random.Generator"
    return np_random.LEGACY, "np.random.RandomState"


def _tracing():

    return tracing


def _call(rng, name, args, kwargs):
    table, owner = _table(rng)
    fn = table.get(name)
    if fn is None:

        fail(
            f"{owner}.{name} inside a function being compiled is not supported",
            "Draw with normal, standard_normal, uniform, random, exponential or "
            "choice (integers on a Generator), or draw outside and pass the "
            "numbers in",
        )
    entry = ops.Entry(f"{owner}.{name}", fn)
    return _tracing().call(entry, args, kwargs)


class GeneratorView:
    """A generator whose draws, while tracing, are ops of the graph."""

    __slots__ = ("_rng",)

    def __init__(self, rng):
        object.__setattr__(self, "_rng", rng)

    def __getattr__(self, name):
        value = getattr(self._rng, name)
        if not callable(value) or name.startswith("_"):
            return value
        rng = self._rng

        def method(*args, **kwargs):
            if _tracing().is_tracing():
                return _call(rng, name, args, kwargs)
            return value(*args, **kwargs)

        method.__name__ = name
        return method

    def __repr__(self):
        return f"<symgrad view of {self._rng!r}>"


np_random.set_generator_view(GeneratorView)


def method(f, args, kwargs):
    """A generator's bound method called by converted code, as a draw."""
    owner = getattr(f, "__self__", None)
    if not isinstance(owner, GENERATORS) or not _tracing().is_tracing():
        return NOT_A_DRAW
    return _call(owner, f.__name__, args, kwargs)


def check_unused(start: int, made_before: int, out):
    """Warn about draws of this trace (nodes after `start`) that the result
    does not use: the generated code does not make them, so the draws after
    them take other numbers than the function's own."""
    import os
    import warnings

    if random.made[0] == made_before:
        return
    tracer = _tracing().Tracer
    nodes = [x.node for x in flatten(out)[0] if type(x) is tracer]
    live = random.reachable(nodes)
    lines = {(n.loc.file, n.loc.line) for n in live if n.loc is not None}
    table = ir.current_scope().table.values()
    for node in table:
        if node.id <= start or node.op not in random.RANDOM_OPS or node in live:
            continue
        loc = node.loc
        if loc is None or (loc.file, loc.line) in lines:
            continue
        lines.add((loc.file, loc.line))
        warnings.warn(
            f"{os.path.basename(loc.file)}:{loc.line}: a random draw whose value the "
            "result does not use; the generated code does not make it, so later "
            "draws get other numbers than the function itself would",
            stacklevel=2,
        )
