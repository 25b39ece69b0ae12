"""Random draws: numbers the generated code draws from its generator.

Contract: one record per kind of draw, each the "standard" draw NumPy's
distributions are built from (`loc + scale * standard_normal`, `low + (high
- low) * random`, `scale * standard_exponential`, `choice` of indices,
`integers`), so gradients flow through the parameters by the ordinary rules
(the reparameterization trick) and the draw itself has none.

- The generated functions take a keyword argument `rng` (None: a fresh
  `np.random.default_rng()`; the pure-Python target: a fresh
  `random.Random()`, or a NumPy generator for NumPy's numbers) and every draw
  calls one of its methods, in the order the traced function made them:
  `rng.standard_normal(size)`, `rng.random(size)`,
  `rng.standard_exponential(size)`, `rng.choice(n, size, replace, p)`,
  `rng.integers(low, high, size)`. NumPy's `Generator` and the legacy
  `RandomState` both have these (except `integers`, a Generator's), so a
  function written with `np.random.normal(...)` gives, with
  `rng=np.random.RandomState(seed)`, the numbers it gives after
  `np.random.seed(seed)`, and one drawing from `np.random.default_rng(seed)`
  the numbers of `rng=np.random.default_rng(seed)`.
- Each draw has a `uid`, so two draws never intern into one node, and the
  flag "effect": passes never fold, merge or move them.
- `uses_random(outputs)` says whether a program draws (looking inside
  regions); each target's `random_entry` gives `rng` its default.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.ops import control
from symgrad.ops.core import Op, apply, register

RNG = "rng"  # the generated functions' keyword argument
_FLOAT = np.dtype(np.float64)
_INT = np.dtype(np.int64)

# The reference interpreter's generator (tests reseed it through `seed`).
_EVAL = {"rng": np.random.default_rng()}


def seed(value):
    """Reseed the generator the reference interpreter draws from."""
    _EVAL["rng"] = np.random.default_rng(value)


def _continuous(name: str, method: str, doc: str):
    def evaluate(shape, uid):
        return np.asarray(getattr(_EVAL["rng"], method)(shape or None), _FLOAT)

    register(
        Op(
            name=name,
            nin=0,
            shape=lambda shapes, shape, uid: shape,
            dtype=lambda nodes, **_: _FLOAT,
            eval=evaluate,
            vjp=lambda g, out: (),
            flags=frozenset(("effect",)),
            doc=doc,
        )
    )


_continuous("random_normal", "standard_normal", "standard normal numbers")
_continuous("random_uniform", "random", "uniform numbers in [0, 1)")
_continuous("random_exponential", "standard_exponential", "exponential numbers")


def _choice_eval(*p, n, shape, replace, uid):
    out = _EVAL["rng"].choice(n, shape or None, replace=replace, p=p[0] if p else None)
    return np.asarray(out, _INT)


register(
    Op(
        name="random_choice",
        nin=None,
        shape=lambda shapes, n, shape, replace, uid: shape,
        dtype=lambda nodes, **_: _INT,
        eval=_choice_eval,
        vjp=lambda g, out, *p: (None,) * len(p),
        flags=frozenset(("effect",)),
        doc="indices drawn from range(n) (with probabilities p)",
    )
)


def _integers_eval(low, high, shape, endpoint, uid):
    out = _EVAL["rng"].integers(low, high, shape or None, endpoint=endpoint)
    return np.asarray(out, _INT)


register(
    Op(
        name="random_integers",
        nin=0,
        shape=lambda shapes, low, high, shape, endpoint, uid: shape,
        dtype=lambda nodes, **_: _INT,
        eval=_integers_eval,
        vjp=lambda g, out: (),
        flags=frozenset(("effect",)),
        doc="integers drawn from [low, high)",
    )
)

RANDOM_OPS = frozenset(
    (
        "random_normal",
        "random_uniform",
        "random_exponential",
        "random_choice",
        "random_integers",
    )
)


# How many draws were built so far (the front end checks for unused ones
# only when a trace made some).
made = [0]


def draw(op: str, *inputs, **attrs) -> ir.Node:
    """A new draw node (never the same as another)."""

    made[0] += 1
    return apply(op, *inputs, uid=control.new_uid(), **attrs)


def reachable(outputs) -> set:
    """Every node computing `outputs`, inside their regions too."""
    stack = list(ir.toposort(list(outputs)))
    seen: set = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for _, value in node.attrs:
            regions = value if isinstance(value, tuple) else (value,)
            for region in regions:
                if isinstance(region, ir.Region):
                    stack.extend(region.nodes())
    return seen


def uses_random(outputs) -> bool:
    """Whether computing `outputs` makes a random draw (in regions too)."""
    return any(n.op in RANDOM_OPS for n in reachable(outputs))
