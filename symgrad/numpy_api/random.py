"""NumPy's random functions inside traced functions: draws in the graph.

Contract: `np.random.normal/standard_normal/randn/uniform/rand/random/
random_sample/exponential/standard_exponential/choice` (the legacy module
functions) and the same methods of a `Generator` or `RandomState` (plus a
Generator's `integers`), called while tracing, build the draws of
`symgrad.ops.random` with NumPy's own arithmetic on top (`loc + scale * z`),
whatever their arguments (plain or traced): the generated code draws on each
call, from its `rng` argument. `np.random.default_rng(seed)` while tracing
gives a view of a generator whose methods do the same (the seed does not
reach the generated code: pass `rng=np.random.default_rng(seed)` to it).
`np.random.seed` inside a traced function is refused.

Handlers are marked `draws = True`: the front end calls them while tracing
even when no argument is traced. `GENERATOR` holds the Generator methods
(`RandomState` methods are the module functions of the same names).
"""

from __future__ import annotations

import numpy as np

from symgrad import ops
from symgrad.ir import dims
from symgrad.ir.source import fail
from symgrad.numpy_api.args import as_node, is_node, shape_arg, static_int
from symgrad.ops.core import implements
from symgrad.ops.random import draw

_DEFAULT = object()  # an argument left out (NumPy's arithmetic is skipped)


def _draws(fn):
    fn.draws = True
    return fn


def _draw(op: str, shape) -> object:
    return draw(op, shape=tuple(shape))


def _shape(size, *params):
    """The shape of the draws: `size`, or the parameters' broadcast shape."""
    nodes = [as_node(p) for p in params if p is not _DEFAULT]
    broadcast = dims.broadcast_shapes(*(n.shape for n in nodes)) if nodes else ()
    if size is None:
        return broadcast
    shape = shape_arg(size)
    if dims.broadcast_shapes(shape, broadcast) != shape:
        fail(
            f"size {dims.shape_str(shape)} does not fit parameters of shape "
            f"{dims.shape_str(broadcast)}",
            "Give a size the parameters broadcast to",
        )
    return shape


def _dims(args) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(static_int(a, "a size") for a in args)


@_draws
def normal(loc=_DEFAULT, scale=_DEFAULT, size=None):
    """loc + scale * standard_normal(size), as NumPy computes it."""
    z = _draw("random_normal", _shape(size, loc, scale))
    if scale is not _DEFAULT:
        z = ops.mul(as_node(scale), z)
    if loc is not _DEFAULT:
        z = ops.add(as_node(loc), z)
    return z


@_draws
def standard_normal(size=None):
    return _draw("random_normal", _shape(size))


@_draws
def randn(*args):
    return _draw("random_normal", _dims(args))


@_draws
def uniform(low=_DEFAULT, high=_DEFAULT, size=None):
    """low + (high - low) * random(size), as NumPy computes it."""
    u = _draw("random_uniform", _shape(size, low, high))
    if low is _DEFAULT and high is _DEFAULT:
        return u
    lo = as_node(0.0 if low is _DEFAULT else low)
    hi = as_node(1.0 if high is _DEFAULT else high)
    return ops.add(lo, ops.mul(ops.sub(hi, lo), u))


@_draws
def rand(*args):
    return _draw("random_uniform", _dims(args))


@_draws
def random(size=None):
    return _draw("random_uniform", _shape(size))


@_draws
def exponential(scale=_DEFAULT, size=None):
    """scale * standard_exponential(size)."""
    e = _draw("random_exponential", _shape(size, scale))
    return e if scale is _DEFAULT else ops.mul(as_node(scale), e)


@_draws
def standard_exponential(size=None):
    return _draw("random_exponential", _shape(size))


@_draws
def choice(a, size=None, replace=True, p=None):
    """Indices drawn from range(n), then `a[indices]` for an array `a`."""
    if isinstance(a, (int, np.integer)) and not isinstance(a, bool):
        n, values = int(a), None
    else:
        values = as_node(a)
        if values.ndim != 1:
            fail(
                "np.random.choice of an array that is not 1-D",
                "Draw indices (np.random.choice(len(a))) and index with them",
            )
        n = values.shape[0]
    shape = () if size is None else shape_arg(size)
    inputs = []
    if p is not None:
        p = as_node(p)
        if p.shape != (n,):
            fail("p must have one probability per item", "Give p of shape (n,)")
        inputs.append(ops.cast(p, np.float64) if p.dtype.kind != "f" else p)
    index = draw(
        "random_choice", *inputs, n=n, shape=tuple(shape), replace=bool(replace)
    )
    if values is None:
        return index
    try:
        return ops.OPERATORS["__getitem__"].handler(values, index)
    except Exception:  # noqa: BLE001 - say which feature is missing
        fail(
            "np.random.choice of an array needs indexing with traced indices",
            "Draw the indices (np.random.choice(len(a), size)) and use them where "
            "indexing with traced indices is supported",
        )


def integers(low, high=None, size=None, dtype=np.int64, endpoint=False):
    """A Generator's integers in [low, high) (Python int bounds)."""
    if high is None:
        low, high = 0, low
    if is_node(low) or is_node(high):
        fail("integers() with traced bounds", "Give Python int bounds")
    shape = () if size is None else shape_arg(size)
    return draw(
        "random_integers",
        low=int(low),
        high=int(high),
        shape=tuple(shape),
        endpoint=bool(endpoint),
    )


integers.draws = True


# The class standing for a generator in traced code: the front end's
# `draws.GeneratorView`, installed by it (`set_generator_view`) so that
# composites never import the front end. A composite only runs while tracing,
# when the front end is loaded.
_GENERATOR_VIEW: list = [None]


def set_generator_view(cls) -> None:
    _GENERATOR_VIEW[0] = cls


@_draws
def default_rng(seed=None):
    """A view of a Generator: its methods draw in the graph."""
    return _GENERATOR_VIEW[0](np.random.default_rng(seed))


@_draws
def seed(*args, **kwargs):
    fail(
        "np.random.seed inside a function being compiled",
        "The generated code draws from its rng argument: seed that instead "
        "(rng=np.random.RandomState(seed) gives np.random.seed's numbers)",
    )


_MODULE = {
    "normal": normal,
    "standard_normal": standard_normal,
    "randn": randn,
    "uniform": uniform,
    "rand": rand,
    "random": random,
    "random_sample": random,
    "exponential": exponential,
    "standard_exponential": standard_exponential,
    "choice": choice,
    "default_rng": default_rng,
    "seed": seed,
}
for _name, _fn in _MODULE.items():
    implements(f"numpy.random.{_name}")(_fn)

# A Generator's methods (a RandomState has the module functions' names).
GENERATOR = {
    name: _MODULE[name]
    for name in (
        "normal",
        "standard_normal",
        "uniform",
        "random",
        "exponential",
        "standard_exponential",
        "choice",
    )
}
GENERATOR["integers"] = integers
LEGACY = {k: v for k, v in _MODULE.items() if k not in ("default_rng", "seed")}
