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

import numbers
import operator

from symgrad.errors import ShapeError

# Arithmetic of a `Dim` with something that is not a dimension (`1.0 / n`,
# `n * x` for a traced `x`): the tracer installs a function `(op, a, b)` here
# that turns the dimension into a traced value computed from the runtime
# shapes (this module imports nothing above it). Without it, such arithmetic
# is a TypeError, as for any other object.
# Likewise `_fail_hook(message)` raises a ShapeError that names the user's
# line when a symbolic size is used where an int is needed (`range(n)`).
_mixed_hook = None
_fail_hook = None


def set_hooks(mixed=None, fail=None) -> None:
    """Install the function computing `Dim <op> other` for non-dimensions
    and the one raising located errors (see above)."""
    global _mixed_hook, _fail_hook
    _mixed_hook, _fail_hook = mixed, fail


def _refuse(message: str):
    if _fail_hook is not None:
        _fail_hook(message)
    raise ShapeError(message)


def _as_int(x):
    """`x` as an int if it is an integer (NumPy's too, not bools), else None."""
    if type(x) is int:
        return x
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return operator.index(x)
    return None


def _mixed(op, a, b):
    if _mixed_hook is None:
        return NotImplemented
    return _mixed_hook(op, a, b)


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
        if _dim_or_none(other) is None:
            return _mixed("add", self, other)
        return _combine(self, other, 1)

    def __radd__(self, other):
        if _dim_or_none(other) is None:
            return _mixed("add", other, self)
        return _combine(self, other, 1)

    def __sub__(self, other):
        if _dim_or_none(other) is None:
            return _mixed("sub", self, other)
        return _combine(self, other, -1)

    def __rsub__(self, other):
        if _dim_or_none(other) is None:
            return _mixed("sub", other, self)
        return _combine(_poly(_dim_or_none(other)), self, -1)

    def __neg__(self):
        return _make({m: -c for m, c in self.terms})

    def __pos__(self):
        return self

    def __mul__(self, other):
        other_dim = _dim_or_none(other)
        if other_dim is None:
            return _mixed("mul", self, other)
        other = other_dim
        out: dict = {}
        for m1, c1 in _poly(self).terms:
            for m2, c2 in _poly(other).terms:
                mono = _mono_mul(m1, m2)
                out[mono] = out.get(mono, 0) + c1 * c2
        return _make(out)

    def __rmul__(self, other):
        if _dim_or_none(other) is None:
            return _mixed("mul", other, self)
        return self.__mul__(other)

    # Division, powers and remainders of sizes are values, not dimensions:
    # `1.0 / n` is a traced float computed from the runtime size.
    def __truediv__(self, other):
        return _mixed("truediv", self, other)

    def __rtruediv__(self, other):
        return _mixed("truediv", other, self)

    def __pow__(self, other):
        k = _as_int(other)
        if k is not None and k >= 0:
            out = 1
            for _ in range(k):
                out = out * self
            return out
        return _mixed("pow", self, other)

    def __rpow__(self, other):
        return _mixed("pow", other, self)

    def __rfloordiv__(self, other):
        return _mixed("floordiv", other, self)

    def __mod__(self, other):
        return _mixed("mod", self, other)

    def __rmod__(self, other):
        return _mixed("mod", other, self)

    def __floordiv__(self, other):
        """Exact division by an int (`(2*n) // 2 == n`); anything else is refused."""
        if _as_int(other) is not None:
            other = _as_int(other)
        elif not isinstance(other, Dim):
            return _mixed("floordiv", self, other)
        if isinstance(other, int) and other != 0:
            if all(c % other == 0 for _, c in self.terms):
                return _make({m: c // other for m, c in self.terms})
        if isinstance(other, Dim) and other == self:
            return 1
        if isinstance(other, Dim) and len(other.terms) == 1:
            # By a monomial (`6 * n // n`): every term must hold it.
            ((mono, coeff),) = other.terms
            out = {}
            for m, c in self.terms:
                powers = dict(m)
                if c % coeff or any(powers.get(s, 0) < p for s, p in mono):
                    break
                for s, p in mono:
                    powers[s] -= p
                key = tuple(sorted((s, p) for s, p in powers.items() if p))
                out[key] = out.get(key, 0) + c // coeff
            else:
                return _make(out)
        _refuse(
            f"cannot divide the symbolic size {self!r} by {other!r} exactly: it is "
            f"only known when the generated code runs, and {self!r} // {other!r} "
            "is not a whole polynomial in it. Use sizes that stay whole (x[:-1], "
            "a fixed number of rows), or compile with this size fixed: "
            "leave the argument out of batch=/shapes="
        )

    def __index__(self):
        _refuse(
            f"the size {self!r} is symbolic: it is only known when the generated "
            "code runs, so it cannot be used where a Python int is needed (a "
            "range() bound, a loop over the rows, an index). Write the "
            "computation on whole arrays (vectorized: x.sum(axis=0) rather than a "
            "loop over len(x)), or compile with this size fixed: leave the "
            "argument out of batch=/shapes= (as static_argnums fixes an int "
            "argument)"
        )

    __int__ = __index__

    def __float__(self):
        _refuse(
            f"float() of the symbolic size {self!r}: use it in arithmetic instead "
            f"(1.0 * {self!r}, or x / {self!r}), which is computed when the "
            "generated code runs"
        )

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


def _dim_or_none(x):
    """`x` as a dimension (a `Dim` or an int), or None for anything else."""
    if isinstance(x, Dim):
        return x
    return _as_int(x)


def _poly(x) -> Dim:
    if isinstance(x, Dim):
        return x
    x = _as_int(x) if _as_int(x) is not None else x
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
    a, b = _dim_or_none(a), _dim_or_none(b)
    if a is None or b is None:
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


def known_ge(a, b) -> bool:
    """True if `a >= b` provably, taking every symbol to be at least 1 (a
    size of an axis that has entries): all terms but the constant have
    non-negative coefficients, so `a - b` is smallest when every symbol is 1."""
    d = a - b
    if isinstance(d, int):
        return d >= 0
    at_one = sum(c for _, c in d.terms)
    return at_one >= 0 and all(c >= 0 for m, c in d.terms if m)


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


# ------------------------------------------------------------------ runtime


def source(d) -> str:
    """`d` as a Python operand: an int or a lone symbol as it is (`3`, `n`),
    any other expression in parentheses (`(2 * n + 1)`), so that it can stand
    next to any operator in generated code."""
    if isinstance(d, Dim) and not is_symbol(d):
        return f"({d!r})"
    return repr(d)


def is_symbol(d) -> bool:
    """True for a dimension that is one symbol (`n`, not `2 * n`)."""
    return (
        isinstance(d, Dim)
        and d.terms[0][1] == 1
        and len(d.terms) == 1
        and (len(d.terms[0][0]) == 1 and d.terms[0][0][0][1] == 1)
    )


def name_of(d) -> str:
    """The symbol of a dimension that is one symbol."""
    return d.terms[0][0][0][0]


def evaluate(d, bindings: dict) -> int:
    """The value of a dimension once its symbols are bound to ints."""
    if not isinstance(d, Dim):
        return d
    total = 0
    for mono, coeff in d.terms:
        term = coeff
        for s, p in mono:
            if s not in bindings:
                raise ShapeError(f"the size {s} is not bound to a value")
            term *= bindings[s] ** p
        total += term
    return total


def substitute(value, bindings: dict):
    """`value` (a dimension, or tuples and lists holding some) with every
    `Dim` evaluated under `bindings`."""
    if isinstance(value, Dim):
        return evaluate(value, bindings)
    if type(value) is tuple:
        return tuple(substitute(v, bindings) for v in value)
    if type(value) is list:
        return [substitute(v, bindings) for v in value]
    return value


def has_symbols(value) -> bool:
    """True if `value` (a dimension, or tuples and lists) holds a `Dim`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Dim):
            return True
        if type(item) in (tuple, list):
            stack.extend(item)
    return False


def bind(shape, actual, bindings: dict) -> None:
    """Add to `bindings` the symbols that `shape` holds as whole axes, read
    from the concrete `actual` shape (for the reference evaluator)."""
    for d, n in zip(shape, actual, strict=False):
        if is_symbol(d):
            bindings.setdefault(name_of(d), int(n))


def parse_spec(text: str) -> tuple:
    """A shape spec as JAX writes them (`"n, 2"`, `"(batch, 3, 4)"`, `""`):
    comma-separated axes, each a symbol name or a non-negative int.

    Symbols with the same name are the same dimension. A ShapeError explains
    anything else.
    """
    if not isinstance(text, str):
        raise ShapeError(f"a shape spec is a string like 'n, 2', not {text!r}")
    body = text.strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    if not body.strip():
        return ()
    parts = [p.strip() for p in body.split(",")]
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]  # "n," as in a one-axis tuple
    out = []
    for part in parts:
        if part.isdigit() and part.isascii():
            out.append(int(part))
        elif part.isidentifier() and part.isascii():
            out.append(symbol(part))
        else:
            raise ShapeError(
                f"in the shape spec {text!r}: {part!r} is neither a size (a "
                "non-negative int) nor a symbol name (an identifier such as n)"
            )
    return tuple(out)
