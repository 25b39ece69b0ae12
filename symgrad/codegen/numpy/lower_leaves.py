"""NumPy lowerings of the leaves that are computed (`ops.leaves`), the random
draws (`ops.random`: a method of the generator `rng`) and checks
(`ops.checks`, the statements every target shares)."""

from __future__ import annotations

from symgrad.codegen import statements
from symgrad.codegen.numpy.lowering import lower
from symgrad.ir import dims
from symgrad.ops.random import RNG


def _size(shape) -> str:
    return "" if shape == () else dims.shape_str(shape)


def _continuous(method: str):
    def printer(shape, uid):
        if shape == ():
            return f"np.float64({RNG}.{method}())"
        return f"{RNG}.{method}({_size(shape)})"

    return printer


def _choice(*p, n, shape, replace, uid):
    args = [str(n)]
    if shape != ():
        args.append(_size(shape))
    if not replace:
        args.append("replace=False")
    if p:
        args.append(f"p={p[0]}")
    call = f"{RNG}.choice({', '.join(args)})"
    return f"np.int64({call})" if shape == () else call


def _integers(low, high, shape, endpoint, uid):
    args = [str(low), str(high)]
    if shape != ():
        args.append(_size(shape))
    if endpoint:
        args.append("endpoint=True")
    call = f"{RNG}.integers({', '.join(args)})"
    return f"np.int64({call})" if shape == () else call


def _arange(n, dtype):
    if dtype == "int64":
        return f"np.arange({n!r})"
    return f"np.arange({n!r}, dtype=np.{dtype})"


lower("dim", lambda dim: dims.source(dim))
lower("arange", _arange)
lower("random_normal", _continuous("standard_normal"))
lower("random_uniform", _continuous("random"))
lower("random_exponential", _continuous("standard_exponential"))
lower("random_choice", _choice)
lower("random_integers", _integers)
lower(
    "check",
    stmts=lambda out, value, failed, dtype, exception, message: statements.check(
        out, value, failed, exception, message
    ),
)
