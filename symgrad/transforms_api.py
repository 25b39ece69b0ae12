"""The transforms with JAX's names: jvp, vjp, linearize, jacfwd, jacrev,
jacobian, hessian, hvp.

Contract: each has JAX's call shape and meaning. Called on plain values it
compiles a module for the argument signature (cached per function and
signature, bounded like `grad`'s cache) and runs it; called inside a trace
(nested in `grad`, `compile` or another transform) it builds graph nodes and
returns tracers, so transforms compose symbolically (`jacfwd(jacrev(f))`,
`grad` of an `hvp`). All accept `target=` ("numpy" or "python") as `grad`
does, and `symgrad.compile(f, *args, functions=(...))` writes the same
functions into one standalone module.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections import OrderedDict

import numpy as np

from symgrad import api, frontend, ops
from symgrad.errors import ArgumentError
from symgrad.frontend import tracing
from symgrad.ir.pytree import flatten, unflatten
from symgrad.passes.rewrite import substitute
from symgrad.transforms_build import EXTRA, Traced, outputs_for

_tags = itertools.count(10**6)
_CACHE_SIZE = api.DEFAULT_CACHE_SIZE


class _Cache:
    """Compiled modules per (function, transform, options, signature), LRU."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, make):
        try:
            hash(key)
        except TypeError:
            return make()
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
                return hit
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


_cache = _Cache(4 * _CACHE_SIZE)


def _compiled(fun, args, functions, argnums, target):
    static = frozenset()
    key = (fun, functions, argnums, target, api.signature(args, static, True)[0])
    return _cache.get(
        key,
        lambda: api.compile(
            fun, *args, argnums=argnums, target=target, functions=functions
        ),
    )


def _traced(args) -> bool:
    return tracing.is_tracing() or api._has_tracer(args)


def _all(n: int) -> tuple:
    return tuple(range(n))


# ------------------------------------------------------------------ inline


def _inline(kind, fun, args, argnums, extra_value=None):
    """The transform's result as tracers, built inside the current trace."""
    name = api.function_name(fun)
    params = api._param_names(fun, len(args))
    nums, single = api._argnums(argnums, len(args), name)
    leaves, paths, treedef = flatten(tuple(args))
    tag = next(_tags)
    stand_ins, mapping, call_leaves = [], {}, []
    for i, (leaf, path) in enumerate(zip(leaves, paths, strict=True)):
        if path[0] not in nums:
            call_leaves.append(leaf)
            continue
        if isinstance(leaf, tracing.Tracer):
            node = leaf.node
        else:
            if not api._is_float_leaf(leaf):
                api._check_diff_leaves([leaf], [path], nums, params)
            node = ops.const(np.asarray(leaf))
        if node.dtype.kind != "f":
            raise ArgumentError(
                f"cannot differentiate with respect to a {node.dtype} value"
            )
        # A fresh input stands for the argument, so that values the function
        # closes over are constants for this derivative.
        stand_in = ops.input_node(
            i, api._leaf_hint(params, path), node.shape, node.dtype, tag
        )
        stand_ins.append(stand_in)
        mapping[stand_in] = node
        call_leaves.append(tracing.Tracer(stand_in))
    out = tracing.trace(frontend.convert(fun), unflatten(treedef, call_leaves))
    out_leaves, _, out_tree = flatten(out)
    outputs = [tracing.output_leaf(x, name) for x in out_leaves]
    t = Traced(
        name, outputs, out_tree, stand_ins, [treedef.children[a] for a in nums], single
    )
    extra = ()
    if kind in EXTRA:
        _, trees, likes = EXTRA[kind](t)
        values, _, given = flatten(extra_value)
        if given != trees:
            raise ArgumentError(
                f"{kind}: the {EXTRA[kind](t)[0]} have structure "
                f"{given.describe()}, but need {trees.describe()}"
            )
        extra = [
            tracing._to_node(v) if not isinstance(v, tracing.Tracer) else v.node
            for v in values
        ]
    nodes, shape, _ = outputs_for(kind, t, extra)
    nodes = substitute(nodes, mapping)
    return unflatten(shape, [tracing.Tracer(n) for n in nodes])


# ------------------------------------------------------------------ the API


def jvp(fun, primals, tangents, *, target="numpy"):
    """`(fun(*primals), J @ tangents)` (JAX's `jvp`): forward mode."""
    primals, tangents = tuple(primals), tuple(tangents)
    nums = _all(len(primals))
    if _traced(primals + tangents):
        return tuple(_inline("jvp", fun, primals, nums, tangents))
    c = _compiled(fun, primals, ("jvp",), nums, target)
    return c.jvp(*primals, tangents)


def linearize(fun, *primals, target="numpy"):
    """`(fun(*primals), f_jvp)` where `f_jvp(*tangents)` is J @ tangents."""
    nums = _all(len(primals))
    if _traced(primals):
        out = _inline("forward", fun, primals, nums)
        return out, lambda *t: _inline("jvp", fun, primals, nums, tuple(t))[1]
    c = _compiled(fun, primals, ("forward", "jvp"), nums, target)
    return c.forward(*primals), lambda *t: c.jvp(*primals, tuple(t))[1]


def vjp(fun, *primals, target="numpy"):
    """`(fun(*primals), vjp_fn)` where `vjp_fn(ct)` is the tuple of the
    primals' cotangents (JAX's `vjp`): reverse mode for any output."""
    nums = _all(len(primals))
    if _traced(primals):
        out = _inline("forward", fun, primals, nums)
        return out, lambda ct: tuple(_inline("vjp", fun, primals, nums, ct))
    c = _compiled(fun, primals, ("forward", "vjp"), nums, target)
    return c.forward(*primals), lambda ct: tuple(c.vjp(*primals, ct))


def hvp(fun, primals, tangents, *, target="numpy"):
    """The Hessian of scalar `fun` at `primals` times `tangents`, by forward
    over reverse, without forming the Hessian. JAX's structure: what
    `jax.jvp(jax.grad(fun, argnums), primals, tangents)[1]` returns, so for
    one primal a value shaped like it, and for several a tuple with one entry
    per primal (argnums=(0, 1, ...))."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ArgumentError(
            f"hvp: {len(primals)} primals but {len(tangents)} tangents; give one "
            "tangent per primal"
        )
    # One primal is argnums=0 (no tuple around the result or the tangent).
    nums, given = (
        (0, tangents[0]) if len(primals) == 1 else (_all(len(primals)), tangents)
    )
    if _traced(primals + tangents):
        out = _inline("hvp", fun, primals, nums, given)
        return out if nums == 0 else tuple(out)
    c = _compiled(fun, primals, ("hvp",), nums, target)
    out = c.hvp(*primals, given)
    return out if nums == 0 else tuple(out)


class _Transform:
    """The callable `jacfwd(f)`, `jacrev(f)`, `hessian(f)` return."""

    def __init__(self, kind, fun, argnums, target):
        if not callable(fun):
            raise ArgumentError(f"{kind} needs a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.kind, self.fun, self.argnums, self.target = kind, fun, argnums, target
        self.compiled = None

    def __call__(self, *args):
        if _traced(args):
            return _inline(self.kind, self.fun, args, self.argnums)
        self.compiled = _compiled(
            self.fun, args, (self.kind,), self.argnums, self.target
        )
        return getattr(self.compiled, self.kind)(*args)

    @property
    def source(self):
        return None if self.compiled is None else self.compiled.source


def jacfwd(fun, argnums=0, *, target="numpy"):
    """The Jacobian of `fun` by forward mode (one JVP per input element)."""
    return _Transform("jacfwd", fun, argnums, target)


def jacrev(fun, argnums=0, *, target="numpy"):
    """The Jacobian of `fun` by reverse mode (one VJP per output element)."""
    return _Transform("jacrev", fun, argnums, target)


def jacobian(fun, argnums=0, *, target="numpy"):
    """The Jacobian of `fun` (reverse mode, as `jacrev`)."""
    return _Transform("jacobian", fun, argnums, target)


def hessian(fun, argnums=0, *, target="numpy"):
    """The Hessian of scalar `fun` (forward over reverse)."""
    return _Transform("hessian", fun, argnums, target)
