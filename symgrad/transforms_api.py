"""The transforms with JAX's names: jvp, vjp, linearize, jacfwd, jacrev,
jacobian, hessian, hvp.

Contract: each has JAX's call shape and meaning, and is a thin call of the
compiler stage (`symgrad.compiler`). Called on plain values it compiles a
module for the argument signature (kept in a `compiler.Cache` per function
and signature, bounded like `grad`'s cache) and runs it; called inside a trace
(nested in `grad`, `compile` or another transform) it builds graph nodes and
returns tracers, so transforms compose symbolically (`jacfwd(jacrev(f))`,
`grad` of an `hvp`). All accept `target=` ("numpy" or "python") as `grad`
does, and `symgrad.compile(f, *args, functions=(...))` writes the same
functions into one standalone module.
"""

from __future__ import annotations

import functools

from symgrad import api, compiler
from symgrad.errors import ArgumentError

# Compiled modules per (function, functions, argnums, target) and signature.
_cache = compiler.Cache(4 * api.DEFAULT_CACHE_SIZE)


def _compiled(fun, args, functions, argnums, target):
    return _cache.get(
        (fun, functions, argnums, target),
        fun,
        args,
        frozenset(),
        (None, None),
        lambda: api.compile(
            fun, *args, argnums=argnums, target=target, functions=functions
        ),
    )


def _all(n: int) -> tuple:
    return tuple(range(n))


# ------------------------------------------------------------------ the API


def jvp(fun, primals, tangents, *, target="numpy"):
    """`(fun(*primals), J @ tangents)` (JAX's `jvp`): forward mode."""
    primals, tangents = tuple(primals), tuple(tangents)
    nums = _all(len(primals))
    if compiler.in_trace(primals + tangents):
        return tuple(compiler.inline("jvp", fun, primals, nums, tangents))
    c = _compiled(fun, primals, ("jvp",), nums, target)
    return c.jvp(*primals, tangents)


def linearize(fun, *primals, target="numpy"):
    """`(fun(*primals), f_jvp)` where `f_jvp(*tangents)` is J @ tangents."""
    nums = _all(len(primals))
    if compiler.in_trace(primals):
        out = compiler.inline("forward", fun, primals, nums)
        return out, lambda *t: compiler.inline("jvp", fun, primals, nums, tuple(t))[1]
    c = _compiled(fun, primals, ("forward", "jvp"), nums, target)
    return c.forward(*primals), lambda *t: c.jvp(*primals, tuple(t))[1]


def vjp(fun, *primals, target="numpy"):
    """`(fun(*primals), vjp_fn)` where `vjp_fn(ct)` is the tuple of the
    primals' cotangents (JAX's `vjp`): reverse mode for any output."""
    nums = _all(len(primals))
    if compiler.in_trace(primals):
        out = compiler.inline("forward", fun, primals, nums)
        return out, lambda ct: tuple(compiler.inline("vjp", fun, primals, nums, ct))
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
    if compiler.in_trace(primals + tangents):
        out = compiler.inline("hvp", fun, primals, nums, given)
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
        if compiler.in_trace(args):
            return compiler.inline(self.kind, self.fun, args, self.argnums)
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
