"""Pure-Python lowerings of the random draws (see `symgrad.ops.random`)."""

from __future__ import annotations

import math

from symgrad.codegen.python.lowering import lowering
from symgrad.ops.random import RNG

_METHOD = {
    "random_normal": "standard_normal",
    "random_uniform": "random",
    "random_exponential": "standard_exponential",
}


def _count(shape):
    return None if shape == () else math.prod(shape)


@lowering(*_METHOD, helpers=("_draw",))
def _continuous(node, out, args) -> list:
    method = _METHOD[node.op]
    return [f"{out} = _draw({RNG}, \"{method}\", {_count(node.attr('shape'))})"]


@lowering("random_choice", helpers=("_choice",))
def _choice(node, out, args) -> list:
    p = args[0] if args else "None"
    n, replace = node.attr("n"), node.attr("replace")
    size = _count(node.attr("shape"))
    return [f"{out} = _choice({RNG}, {n}, {size}, {replace}, {p})"]


@lowering("random_integers", helpers=("_integers",))
def _integers(node, out, args) -> list:
    low, high = node.attr("low"), node.attr("high")
    size = _count(node.attr("shape"))
    endpoint = node.attr("endpoint")
    return [f"{out} = _integers({RNG}, {low}, {high}, {size}, {endpoint})"]
