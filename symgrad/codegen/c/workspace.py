"""Slices of one workspace for a C function's temporaries, reused by liveness.

Contract: `assign(buffers)` takes, per temporary array in statement order,
`(size, first, last)`: its length in doubles, the index of the statement
that writes it and of the last statement that reads it (`last >= first`;
an output read at the end has the index of a statement after all others).
It returns `(offsets, total)`: each buffer's offset in the workspace and the
workspace's length. Two buffers share memory only when one's last read
comes strictly before the other's first write, so a statement never writes
over what it reads. First fit over a free list kept sorted by offset, with
neighbours merged: deterministic, no iteration over sets.
"""

from __future__ import annotations


def assign(buffers) -> tuple:
    offsets = [0] * len(buffers)
    free: list = []  # [offset, size], sorted by offset, never touching
    total = 0
    # Buffers still live: (last, index), released once a statement after
    # `last` starts.
    live: list = []
    for index, (size, first, last) in enumerate(buffers):
        still = []
        for end, k in live:
            if end < first:
                _release(free, offsets[k], buffers[k][0])
            else:
                still.append((end, k))
        live = still
        offsets[index], total = _take(free, size, total)
        live.append((last, index))
    return offsets, total


def _take(free: list, size: int, total: int) -> tuple:
    """(offset, new total): the first free block that fits, else the end."""
    for k, (offset, room) in enumerate(free):
        if room >= size:
            if room == size:
                del free[k]
            else:
                free[k] = [offset + size, room - size]
            return offset, total
    # Grow the workspace, using a free block that ends at its end.
    if free and free[-1][0] + free[-1][1] == total:
        offset = free.pop()[0]
        return offset, offset + size
    return total, total + size


def _release(free: list, offset: int, size: int) -> None:
    k = 0
    while k < len(free) and free[k][0] < offset:
        k += 1
    free.insert(k, [offset, size])
    # Merge with the next block, then with the previous one.
    if k + 1 < len(free) and free[k][0] + free[k][1] == free[k + 1][0]:
        free[k][1] += free.pop(k + 1)[1]
    if k > 0 and free[k - 1][0] + free[k - 1][1] == free[k][0]:
        free[k - 1][1] += free.pop(k)[1]
