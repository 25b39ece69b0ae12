"""The buffer slots a NumPy-target module keeps between calls, copied into it.

Contract: `_buffers(key, slots)` returns the calling thread's arrays for the
slots of generated function `key`, `slots` being `((shape, dtype), ...)`:
`np.empty` arrays made on the first call with those shapes, the same arrays
on every later call with them (so a big temporary costs no allocation, page
faults or zeroing after the first call). Each thread has its own arrays
(`threading.local`), so threads never share a buffer. A function whose
shapes change (a symbolic batch size) keeps the arrays of its last
`_KEEP` shape sets per thread, so memory stays bounded. `release()` drops
every thread's arrays (they are made again when next needed).

Generated code writes slots only with `out=` and never returns one (see
`codegen.memory`): results are always fresh arrays the caller owns.
`codegen.numpy.support` copies `BLOCK` (the globals) and the source of these
functions; they use only the module's `np`, `threading` and `weakref`.
"""

import threading
import weakref

import numpy as np

IMPORTS = ["import threading", "import weakref"]
# The module-level state the functions below read, as source lines.
BLOCK = [
    "# Buffers kept between calls: per thread, by function and shapes (see",
    "# _buffers). _STORES lists every live thread's store for release().",
    "_BUFFERS = threading.local()",
    "_STORES = weakref.WeakSet()",
    "_STORES_LOCK = threading.Lock()",
    "_KEEP = 4",
]
_BUFFERS = threading.local()
_STORES = weakref.WeakSet()
_STORES_LOCK = threading.Lock()
_KEEP = 4


class _Store(dict):
    """One thread's buffers, {(function, slots): [arrays]}: a dict that the
    set of stores can hold weakly, each store its own member."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__


def _buffers(key, slots):
    """This thread's arrays for the buffer slots of function `key`, of the
    shapes and dtypes `slots`: made on first use, kept between calls."""
    store = getattr(_BUFFERS, "store", None)
    if store is None:
        store = _BUFFERS.store = _Store()
        with _STORES_LOCK:
            _STORES.add(store)
    arrays = store.get((key, slots))
    if arrays is None:
        # Only the last few shape sets of a function stay (batch sizes vary).
        mine = [k for k in store if k[0] == key]
        for old in mine[: max(0, len(mine) - _KEEP + 1)]:
            del store[old]
        arrays = store[(key, slots)] = [np.empty(s, dtype=d) for s, d in slots]
    return arrays


def release():
    """Free the buffers this module keeps between calls, in every thread.
    Later calls work as before; they make their buffers again."""
    with _STORES_LOCK:
        stores = list(_STORES)
    for store in stores:
        store.clear()


FUNCTIONS = (_Store, _buffers, release)
NAMES = frozenset(
    ["_BUFFERS", "_STORES", "_STORES_LOCK", "_KEEP", "threading", "weakref"]
    + [f.__name__ for f in FUNCTIONS]
)
