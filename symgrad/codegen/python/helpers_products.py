"""Pure-Python helpers for products: einsum and 1-D convolution.

Contract: as `helpers` (plain Python, `math` and `_mul` only, flat
row-major lists with static shapes passed as literals); `NEEDS` says what
each helper calls.
"""

from symgrad.codegen.python.helpers import _strides


def _offsets(labels, size, stride):
    """The flat offsets of every index over `labels` (row-major order), for an
    array with `stride` per label (0 for the labels it does not have)."""
    offsets = [0]
    for c in labels:
        step = stride.get(c, 0)
        offsets = [o + i * step for o in offsets for i in range(size[c])]
    return offsets


def _einsum(spec, shapes, *arrays):
    """np.einsum(spec, *arrays) for flat lists of the given shapes (the spec in
    explicit form: letters, one size per letter)."""
    inputs, out = spec.split("->")
    terms = inputs.split(",")
    size = {}
    for term, shape in zip(terms, shapes):  # noqa: B905
        size.update(zip(term, shape))  # noqa: B905
    summed = [c for c in size if c not in out]
    outer, inner = [], []
    for term, shape in zip(terms, shapes):  # noqa: B905
        # A label repeated in a term (a diagonal) steps along both axes.
        stride = dict.fromkeys(term, 0)
        for c, step in zip(term, _strides(shape)):  # noqa: B905
            stride[c] += step
        outer.append(_offsets(out, size, stride))
        inner.append(_offsets(summed, size, stride))
    result = []
    for starts in zip(*outer):  # noqa: B905
        products = [1] * len(inner[0])
        for a, start, offsets in zip(arrays, starts, inner):  # noqa: B905
            pairs = zip(products, offsets)  # noqa: B905
            products = [p * a[start + o] for p, o in pairs]
        result.append(sum(products))
    return result


def _convolve(a, v, start, stop):
    """Entries start to stop - 1 of the full discrete convolution of a and v."""
    n, m = len(a), len(v)
    out = []
    for k in range(start, stop):
        terms = range(max(0, k - m + 1), min(n, k + 1))
        out.append(sum(a[i] * v[k - i] for i in terms))
    return out


# What each helper calls (other helpers, or `_mul`).
NEEDS = {
    "_einsum": ("_offsets", "_strides"),
}
