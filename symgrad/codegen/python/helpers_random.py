"""Helpers of the pure-Python target for random draws.

Contract: `_generator(rng)` is the generator a function draws from (a fresh
`random.Random()` for None). The draw helpers take either a NumPy generator
(`Generator` or `RandomState`: then the numbers are NumPy's, the same as the
NumPy target's) or a `random.Random`, and return a float (`size` None) or a
flat list of `size` numbers.
"""


def _generator(rng):
    """The generator to draw from: `rng`, or a fresh random.Random()."""
    if rng is None:
        import random

        return random.Random()
    return rng


def _draw(rng, method, size):
    """`size` numbers (one if None) of a standard distribution."""
    if hasattr(rng, "standard_normal"):
        if size is None:
            return float(getattr(rng, method)())
        return [float(v) for v in getattr(rng, method)(size)]
    if method == "standard_normal":
        one = lambda: rng.gauss(0.0, 1.0)  # noqa: E731
    elif method == "standard_exponential":
        one = lambda: rng.expovariate(1.0)  # noqa: E731
    else:
        one = rng.random
    return one() if size is None else [one() for _ in range(size)]


def _choice(rng, n, size, replace, p):
    """Indices drawn from range(n) (probabilities p, or uniform)."""
    if hasattr(rng, "standard_normal"):
        out = rng.choice(n, size, replace=replace, p=p)
        return int(out) if size is None else [int(i) for i in out]
    count = 1 if size is None else size
    if replace:
        out = rng.choices(range(n), weights=p, k=count)
    elif p is None:
        out = rng.sample(range(n), count)
    else:
        raise ValueError("choice without replacement and with p needs a NumPy rng")
    return out[0] if size is None else out


def _integers(rng, low, high, size, endpoint):
    """Integers drawn from [low, high) (or [low, high] with endpoint)."""
    if hasattr(rng, "integers"):
        out = rng.integers(low, high, size, endpoint=endpoint)
        return int(out) if size is None else [int(i) for i in out]
    top = high + 1 if endpoint else high
    if size is None:
        return rng.randrange(low, top)
    return [rng.randrange(low, top) for _ in range(size)]


NEEDS: dict = {}
