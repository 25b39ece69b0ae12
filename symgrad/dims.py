"""Dimensions and shapes: integers, or expressions in named symbols.

Contract:
- A dimension is a Python `int` or a `Dim`: a polynomial with integer
  coefficients in named symbols (`n`, `2*n`, `n - 1`, `n*m`). A `Dim` whose
  polynomial is a constant is always returned as a plain `int`, so code that
  only ever sees static shapes never meets a `Dim`.
- A shape is a tuple of dimensions. Shape rules compute with the helpers here
  (`prod`, `broadcast_shapes`, `same`, ...) instead of probing NumPy with
  arrays, so the same rule serves static and symbolic shapes.
- `repr(dim)` is Python source (`2 * n + 1`) that evaluates to the size once
  the symbols are bound to ints, which is how generated code computes sizes.
- An equality that cannot be decided (`n == 3`, `n == m`) is not guessed: the
  helpers raise `ShapeError` naming both dimensions.
"""

from __future__ import annotations

import operator

from symgrad.errors import ShapeError


class Dim:
    """An integer polynomial in symbols: `{monomial: coefficient}`.

    A monomial is a sorted tuple of `(symbol, power)` pairs; the empty tuple is
    the constant term. Instances are immutable and hashable; equality is
    equality of the normalized polynomials.
    """

    __slots__ = ("terms", "_hash")

    def __init__(self, terms: tuple):
        self.terms = terms
        self._hash = hash(terms)

    @property
    def symbols(self) -> tuple:
        names = {s for mono, _ in self.terms for s, _ in mono}
        return tuple(sorted(names))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        if isinstance(other, Dim):
            return self.terms == other.terms
        return False  # a Dim is never a constant (those are ints)

    def __ne__(self, other):
        return not self.__eq__(other)

    # ---------------------------------------------------------------- algebra
    def __add__(self, other):
        return _combine(self, other, 1)

    __radd__ = __add__

    def __sub__(self, other):
        return _combine(self, other, -1)

    def __rsub__(self, other):
        return _combine(_poly(other), self, -1)

    def __neg__(self):
        return _make({m: -c for m, c in self.terms})

    def __mul__(self, other):
        if not isinstance(other, (int, Dim)):
            return NotImplemented
        out: dict = {}
        for m1, c1 in _poly(self).terms:
            for m2, c2 in _poly(other).terms:
                mono = _mono_mul(m1, m2)
                out[mono] = out.get(mono, 0) + c1 * c2
        return _make(out)

    __rmul__ = __mul__

    def __floordiv__(self, other):
        """Exact division by an int (`(2*n) // 2 == n`); anything else is refused."""
        if isinstance(other, int) and other != 0:
            if all(c % other == 0 for _, c in self.terms):
                return _make({m: c // other for m, c in self.terms})
        if isinstance(other, Dim) and other == self:
            return 1
        raise ShapeError(f"cannot divide the dimension {self!r} by {other!r} exactly")

    def __index__(self):
        raise ShapeError(
            f"the size {self!r} is symbolic: it is only known when the generated "
            "code runs, so it cannot be used where a Python int is needed here"
        )

    __int__ = __index__

    def __bool__(self):
        return True  # a dimension expression is never the int 0

    def __lt__(self, other):
        raise ShapeError(
            f"cannot compare the symbolic dimension {self!r} with {other!r}"
        )

    __le__ = __gt__ = __ge__ = __lt__

    # ---------------------------------------------------------------- printing
    def __repr__(self) -> str:
        parts = []
        for mono, coeff in sorted(self.terms, key=_term_order):
            factors = [s if p == 1 else f"{s}**{p}" for s, p in mono]
            text = " * ".join(factors)
            size = abs(coeff)
            if not text:
                text = str(size)
            elif size != 1:
                text = f"{size} * {text}"
            if not parts:
                parts.append(f"-{text}" if coeff < 0 else text)
            else:
                parts.append(f"- {text}" if coeff < 0 else f"+ {text}")
        return " ".join(parts)

    __str__ = __repr__


def _term_order(term):
    mono, _ = term
    degree = sum(p for _, p in mono)
    return (-degree, mono) if mono else (1, ())


def _mono_mul(a: tuple, b: tuple) -> tuple:
    powers = dict(a)
    for s, p in b:
        powers[s] = powers.get(s, 0) + p
    return tuple(sorted(powers.items()))


def _poly(x) -> Dim:
    if isinstance(x, Dim):
        return x
    if isinstance(x, int):
        return Dim(((((), x),)) if x else ())
    raise TypeError(f"not a dimension: {x!r}")


def _make(terms: dict):
    """Normalize: drop zero terms, sort, and return an int for constants."""
    items = tuple(sorted((m, c) for m, c in terms.items() if c != 0))
    if not items:
        return 0
    if len(items) == 1 and items[0][0] == ():
        return items[0][1]
    return Dim(items)


def _combine(a, b, sign):
    if not isinstance(b, (int, Dim)) or not isinstance(a, (int, Dim)):
        return NotImplemented
    out = dict(_poly(a).terms)
    for m, c in _poly(b).terms:
        out[m] = out.get(m, 0) + sign * c
    return _make(out)


# ------------------------------------------------------------------ helpers


def symbol(name: str) -> Dim:
    """The dimension called `name` (an identifier)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a dimension symbol must be an identifier, not {name!r}")
    return Dim(((((name, 1),), 1),))


def is_static(shape) -> bool:
    """True when every dimension of `shape` is an int."""
    return all(type(d) is int for d in shape)


def is_symbolic(d) -> bool:
    return isinstance(d, Dim)


def normalize(shape) -> tuple:
    """`shape` as a tuple of ints and `Dim`s (NumPy integers become ints)."""
    out = []
    for d in shape:
        if isinstance(d, Dim):
            out.append(d)
        else:
            out.append(operator.index(d))
    return tuple(out)


def prod(shape):
    """The number of elements: an int, or a `Dim` for a symbolic shape."""
    total = 1
    for d in shape:
        total = total * d
    return total


def known_equal(a, b) -> bool:
    """True if `a == b` for every value of the symbols."""
    return a == b


def known_different(a, b) -> bool:
    """True if `a != b` for every value of the symbols (here: two ints)."""
    return type(a) is int and type(b) is int and a != b


def same(a, b, what: str = "dimensions"):
    """`a` if `a` and `b` are provably equal; ShapeError if they differ or
    their equality cannot be decided."""
    if a == b:
        return a
    if known_different(a, b):
        raise ShapeError(f"{what} {a!r} and {b!r} differ")
    raise ShapeError(
        f"{what} {a!r} and {b!r} may differ: symgrad cannot tell whether they are "
        "equal for every size (give them the same symbol, or make one static)"
    )


def broadcast_dims(a, b):
    """NumPy's rule for one axis: equal, or one of them is 1."""
    if a == b:
        return a
    if a == 1:
        return b
    if b == 1:
        return a
    if known_different(a, b):
        raise ShapeError(f"sizes {a} and {b} do not broadcast")
    raise ShapeError(
        f"sizes {a!r} and {b!r} broadcast only if they are equal (or one is 1), "
        "which symgrad cannot decide for symbolic sizes"
    )


def broadcast_shapes(*shapes) -> tuple:
    """NumPy's broadcasting of several shapes, with ShapeError on mismatch."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    try:
        for shape in shapes:
            offset = ndim - len(shape)
            for i, d in enumerate(shape):
                out[offset + i] = broadcast_dims(out[offset + i], d)
    except ShapeError:
        raise ShapeError(
            "operands could not be broadcast together with shapes "
            + " ".join(_shape_str(s) for s in shapes)
        ) from None
    return tuple(out)


def _shape_str(shape) -> str:
    if len(shape) == 1:
        return f"({shape[0]!r},)"
    return "(" + ", ".join(repr(d) for d in shape) + ")"


def shape_str(shape) -> str:
    """A shape as Python source: `(n, 2)`, `(3,)`, `()`."""
    return _shape_str(tuple(shape))


def can_broadcast_to(src, dst) -> bool:
    """Whether `src` broadcasts to exactly `dst` (NumPy's broadcast_to)."""
    if len(src) > len(dst):
        return False
    offset = len(dst) - len(src)
    return all(d == 1 or d == dst[offset + i] for i, d in enumerate(src))


def symbols_of(shape) -> tuple:
    """The symbols a shape mentions, sorted."""
    names = set()
    for d in shape:
        if isinstance(d, Dim):
            names.update(d.symbols)
    return tuple(sorted(names))
