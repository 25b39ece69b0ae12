"""Symbolic sizes in C: dimension expressions as C `long` arithmetic.

Contract: a size symbol `n` (a user's name from `batch=`/`shapes=`) is the C
variable `size_var("n")`, a `long` parameter of every generated function
whose arguments have it as an axis. `c_size(d)` prints a dimension (an int,
or a `dims.Dim` polynomial) as a C operand: an int as it is, a lone symbol
as its variable, anything else in parentheses, so it can stand next to any
operator (`_i / c_size(stride)`). `workspace_guard(d)` is the C condition
that is true when evaluating `d` in `long` could overflow; `magnitude(d)`
bounds every partial result of `d` (all its coefficients positive), and a
sum of magnitudes bounds a set of sizes and their sums.

Symbol variables start with `_n_` and encode the name injectively with
ASCII letters and digits only (a `_` starts an escape), so a user's name is
never C text and never meets a sanitized user name (those never start with
an underscore) or a loop variable.
"""

from __future__ import annotations

from symgrad.ir import dims

# A workspace of more elements than this is refused (8 PB: no machine has
# it); below it, long arithmetic on the sizes is exact (well under 2^63).
MAX_ELEMENTS = 10**15


def size_var(name: str) -> str:
    """The C variable holding size symbol `name`."""
    out = ["_n_"]
    for ch in name:
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif ch == "_":
            out.append("_u")
        else:
            out.append(f"_x{ord(ch):x}_")
    return "".join(out)


def _terms(d):
    """[(coefficient, [symbol variables, one per power])] of `d`."""
    out = []
    for mono, coeff in sorted(d.terms, key=lambda t: (len(t[0]), t[0])):
        factors = []
        for symbol, power in mono:
            factors += [size_var(symbol)] * power
        out.append((coeff, factors))
    return out


def c_size(d) -> str:
    """`d` (an int or a `Dim`) as a C operand of type long (or an int)."""
    if not dims.is_symbolic(d):
        return str(int(d))
    if dims.is_symbol(d):
        return size_var(dims.name_of(d))
    parts = []
    for coeff, factors in _terms(d):
        size = abs(coeff)
        text = " * ".join(factors) if factors else str(size)
        if factors and size != 1:
            text = f"{size} * {text}"
        if not parts:
            parts.append(f"-{text}" if coeff < 0 else text)
        else:
            parts.append(f"- {text}" if coeff < 0 else f"+ {text}")
    return "(" + " ".join(parts) + ")"


def c_double(d) -> str:
    """`d` as a C operand of type double (a size used as a number)."""
    if not dims.is_symbolic(d):
        return f"{int(d)}.0"
    return f"((double){c_size(d)})"


def workspace_guard(d) -> str:
    """A C condition, true when `d` may be more than `MAX_ELEMENTS`: the sum
    of its terms' magnitudes, evaluated in double (never overflows), bounds
    every partial result of evaluating `d` in long (sizes are never
    negative), so below the limit that evaluation is exact."""
    if not dims.is_symbolic(d):
        return "0" if abs(d) <= MAX_ELEMENTS else "1"
    terms = []
    for coeff, factors in _terms(d):
        terms.append(
            " * ".join([f"{abs(coeff)}.0", *(f"(double){f}" for f in factors)])
        )
    return f"{' + '.join(terms)} > {MAX_ELEMENTS}.0"


def magnitude(d):
    """`d` with every coefficient made positive: an int or `Dim` no smaller
    than any partial result of evaluating `d` (sizes are never negative)."""
    if not dims.is_symbolic(d):
        return abs(int(d))
    total = 0
    for mono, coeff in d.terms:
        term = abs(coeff)
        for symbol, power in mono:
            term = term * dims.symbol(symbol) ** power
        total = total + term
    return total


def symbols_in_order(leaves) -> list:
    """The size symbols of argument leaf nodes, in the order the argument
    checks bind them (first leaf, then axis, as a whole axis)."""
    out = []
    for node in leaves:
        for d in node.shape:
            if dims.is_symbol(d) and dims.name_of(d) not in out:
                out.append(dims.name_of(d))
    return out
