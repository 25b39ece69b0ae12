"""Slices of one workspace for a C function's temporaries, reused by liveness.

Contract: `assign(buffers)` takes, per temporary array in statement order,
`(size, first, last)`: its length in doubles (an int, or a `dims.Dim` of the
size symbols), the index of the statement that writes it and of the last
statement that reads it (`last >= first`; an output read at the end has the
index of a statement after all others). It returns `(offsets, total)`: each
buffer's offset in the workspace and the workspace's length (ints, or
`Dim`s: sums of the sizes). Two buffers share memory only when one's last
read comes strictly before the other's first write, so a statement never
writes over what it reads. First fit over the workspace's segments in
address order, free neighbours merged: deterministic, no iteration over
sets. With symbolic sizes a free segment is reused only when it is provably
large enough for every value of the symbols (`fits`).
"""

from __future__ import annotations

from symgrad.ir import dims


def fits(room, size) -> bool:
    """Whether `room >= size` for every value (>= 0) of the size symbols:
    the difference has no negative coefficient."""
    d = room - size
    if not dims.is_symbolic(d):
        return d >= 0
    return all(c >= 0 for _, c in d.terms)


def assign(buffers) -> tuple:
    offsets = [0] * len(buffers)
    # The workspace in address order: [size, index of the buffer in it or
    # None when free]; free segments never touch. A segment before a taken
    # one is only ever split or merged, so a buffer's offset never moves.
    segments: list = []
    live: list = []  # (last, index): released once a statement after `last`
    for index, (size, first, last) in enumerate(buffers):
        still = []
        for end, k in live:
            if end < first:
                _release(segments, k)
            else:
                still.append((end, k))
        live = still
        offsets[index] = _take(segments, size, index)
        live.append((last, index))
    return offsets, _sum(size for size, _ in segments)


def _sum(sizes):
    total = 0
    for size in sizes:
        total = total + size
    return total


def _take(segments: list, size, index: int):
    """The offset of buffer `index`: the first free segment that fits, else
    the end (growing a free segment that ends the workspace, where the
    buffer is provably at least as long)."""
    for k, (room, owner) in enumerate(segments):
        if owner is None and fits(room, size):
            rest = room - size
            segments[k] = [size, index]
            if rest != 0:
                segments.insert(k + 1, [rest, None])
            return _sum(s for s, _ in segments[:k])
    if segments and segments[-1][1] is None and fits(size, segments[-1][0]):
        # Only a segment provably no longer than the buffer: the workspace
        # never shrinks under buffers placed earlier.
        segments[-1] = [size, index]
    else:
        segments.append([size, index])
    return _sum(s for s, _ in segments[:-1])


def _release(segments: list, index: int) -> None:
    """Free buffer `index`'s segment, merged with free neighbours."""
    k = next(k for k, (_, owner) in enumerate(segments) if owner == index)
    segments[k][1] = None
    if k + 1 < len(segments) and segments[k + 1][1] is None:
        segments[k][0] = segments[k][0] + segments.pop(k + 1)[0]
    if k > 0 and segments[k - 1][1] is None:
        segments[k - 1][0] = segments[k - 1][0] + segments.pop(k)[0]
