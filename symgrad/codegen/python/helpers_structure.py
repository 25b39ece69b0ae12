"""Helpers of the pure-Python target for joining arrays, running sums and
products, products, argmax/argmin and diagonals.

Contract: as `helpers`: plain Python 3 needing nothing but what
`NEEDS` declares; arrays are flat row-major lists with static shapes passed
as literals. Results are NumPy's, bit for bit where NumPy computes in order
(running sums and products go left to right, as NumPy's do).
"""

from symgrad.codegen.python.helpers import _strides


def _concatenate(parts, blocks, outer):
    """Flat arrays joined along an axis: for each of the `outer` leading
    positions, `blocks[k]` consecutive entries of part k, in turn."""
    out = []
    for o in range(outer):
        for part, size in zip(parts, blocks):  # noqa: B905
            out += part[o * size : (o + 1) * size]
    return out


def _cumsum(a, n, inner):
    """Running sums along an axis of length `n` with `inner` entries after it."""
    out = list(a)
    block = n * inner
    for start in range(0, len(out), block):
        for i in range(start + inner, start + block):
            out[i] = out[i - inner] + out[i]
    return out


def _cumprod(a, n, inner):
    """Running products along an axis of length `n` with `inner` entries after it."""
    out = list(a)
    block = n * inner
    for start in range(0, len(out), block):
        for i in range(start + inner, start + block):
            out[i] = out[i - inner] * out[i]
    return out


def _prod(values):
    """The product of `values` in order (1 for none, as NumPy)."""
    out = 1
    for x in values:
        out = out * x
    return out


def _argmax(values):
    """Index of the first largest value (of the first nan, if any, as NumPy)."""
    best = 0
    for i, x in enumerate(values):
        if x != x:
            return i
        if x > values[best]:
            best = i
    return best


def _argmin(values):
    """Index of the first smallest value (of the first nan, if any, as NumPy)."""
    best = 0
    for i, x in enumerate(values):
        if x != x:
            return i
        if x < values[best]:
            best = i
    return best


def _diagonal(a, shape, offset, axis1, axis2):
    """np.diagonal(a, offset, axis1, axis2) of `a` of `shape`, flat."""
    strides = _strides(shape)
    rows, cols = shape[axis1], shape[axis2]
    first_row, first_col = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(min(rows - first_row, cols - first_col), 0)
    start = first_row * strides[axis1] + first_col * strides[axis2]
    step = strides[axis1] + strides[axis2]
    offsets = [0]
    for axis in range(len(shape)):
        if axis not in (axis1, axis2):
            offsets = [
                o + i * strides[axis] for o in offsets for i in range(shape[axis])
            ]
    return [a[o + start + k * step] for o in offsets for k in range(length)]


def _embed_diagonal(d, batches, rows, cols, offset, zero):
    """`batches` matrices of (rows, cols) zeros with the next entries of `d`
    on diagonal `offset`, flat (np.diag of a vector when batches is 1)."""
    first_row, first_col = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(min(rows - first_row, cols - first_col), 0)
    size = rows * cols
    out = [zero] * (batches * size)
    for b in range(batches):
        start = b * size + first_row * cols + first_col
        stop = start + length * (cols + 1)
        out[start : stop : cols + 1] = d[b * length : (b + 1) * length]
    return out


def _triangle(a, rows, cols, k, upper, zero):
    """np.triu(a, k) (upper) or np.tril(a, k) of matrices of (rows, cols), flat."""
    out = list(a)
    size = rows * cols
    for start in range(0, len(out), size):
        for i in range(rows):
            for j in range(cols):
                if (j - i < k) if upper else (j - i > k):
                    out[start + i * cols + j] = zero
    return out


# What each helper calls (helpers of any helper module, or `_mul`).
NEEDS = {
    "_diagonal": ("_strides",),
}
