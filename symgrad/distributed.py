"""The value and gradient of a compiled loss over Dask arrays.

Contract: `run(compiled, what, args)` computes `compiled`'s `what`
("value_and_grad" or "gradient") where the batched arguments (the ones whose
axis 0 is the symbolic row size, see `symgrad.passes.separable`) are Dask
arrays. Dask is imported here only when called (it is an optional extra).

How: the compile-time verdict says the value is
`L = sum_j c_j * R_j(rows) + g(params)` where every `R_j` is a mean over the
rows (kind "mean") or every one is a sum over them (kind "sum"). The rows
are split into Dask's row blocks (other axes joined into one chunk); each
block runs the generated module on a worker, which receives the module's
SOURCE text (executed there into a fresh namespace, cached by its hash) and
the arrays, nothing else from this process. Block k returns its result
scaled by a weight, and the scaled results are added by a tree reduction:
- mean: weight rows_k / n. The block's result is `sum_j c_j R_j(block) + g`;
  the weights add up to 1, so `g` (and its gradient) is counted exactly once
  and every mean is the mean over all n rows.
- sum: weight 1, so `g` is counted once per block; the K - 1 extra copies
  are subtracted at the end, `g` being the module run in this process on
  zero rows (every sum over no rows is 0, so that run is exactly `g`). This
  is skipped when the verdict says no param-only term was added.
Blocks with no rows are left out. The combined result equals the in-process
one up to rounding (the order of the additions differs).

Workers need NumPy and symgrad importable (the task function is this
module's `_block`, sent by reference); the generated module itself is never
pickled.
"""

from __future__ import annotations

import collections
import hashlib
import math
import threading

import numpy as np

from symgrad.errors import ArgumentError
from symgrad.ir.pytree import flatten, unflatten


def is_dask(x) -> bool:
    """A Dask collection (checked without importing Dask)."""
    return type(x).__module__.partition(".")[0] == "dask"


def arrays(args) -> tuple:
    """`args` with each Dask dataframe or series turned into a Dask array
    (one pass over the data to learn each partition's rows)."""
    return tuple(
        (
            a.to_dask_array(lengths=True)
            if is_dask(a) and hasattr(a, "to_dask_array")
            # other arguments, NumPy and Dask arrays pass as they are
            else a
        )
        for a in args
    )


def examples(args) -> tuple:
    """Arguments to compile with in place of `args`: each Dask array becomes
    a NumPy array of zeros of its dtype, its other axes, and two rows (or
    its one row). With the rows symbolic (`batch=`) the module compiled is
    the one for every number of rows, so nothing is read from the data."""
    out = []
    for a in args:
        if is_dask(a):
            n = a.shape[0]
            rows = 2 if math.isnan(n) else min(int(n), 2)
            a = np.zeros((rows,) + tuple(a.shape[1:]), dtype=a.dtype)
        out.append(a)
    return tuple(out)


def run(compiled, what: str, args, kwargs):
    """`compiled.<what>(*args)` with Dask arrays for the batched arguments."""
    import dask
    import dask.array as da

    name = compiled.program.fun_name
    args = arrays(args)
    if kwargs:
        raise ArgumentError(
            f"{name}: with Dask arrays, pass arguments positionally and no "
            f"keywords (got {sorted(kwargs)}); random draws do not split over rows"
        )
    verdict = compiled.separable
    if not verdict.separable:
        raise ArgumentError(
            f"{name} cannot be split over row blocks of Dask arrays: "
            f"{verdict.reason}. Splitting is exact only for a sum or mean over "
            "rows of per-row terms plus terms of the parameters alone; compute "
            "this loss in one process (np.asarray the arrays) or on minibatches "
            "that each fit one worker"
        )
    positions = []
    for path in verdict.batched:
        if len(path) != 1:
            raise ArgumentError(
                f"{name}: a batched array inside an argument's structure (at "
                f"{path}) cannot be split; pass the data arrays as arguments"
            )
        positions.append(path[0])
    for pos, arg in enumerate(args):
        if is_dask(arg) and pos not in positions:
            raise ArgumentError(
                f"{name}: argument {pos} is a Dask collection but its axis 0 is "
                "not the symbolic rows; only the batched arguments (batch=) may be"
            )
    first = next(args[p] for p in positions if is_dask(args[p]))
    if not isinstance(first, da.Array):
        raise ArgumentError(
            f"{name}: a Dask {type(first).__name__} cannot be split over rows; "
            "pass Dask arrays, dataframes or series"
        )
    chunks = first.chunks[0]
    if any(math.isnan(c) for c in chunks):
        raise ArgumentError(
            f"{name}: the row blocks have unknown sizes; call "
            ".compute_chunk_sizes() on the array first"
        )
    sizes = [int(c) for c in chunks]
    total = sum(sizes)
    blocks = {}
    for pos in positions:
        arr = da.asarray(args[pos])
        if arr.shape[0] != total:
            raise ArgumentError(
                f"{name}: argument {pos} has {arr.shape[0]} rows but argument "
                f"{positions[0]} has {total}"
            )
        joined = {axis: -1 for axis in range(1, arr.ndim)}
        arr = arr.rechunk({0: chunks, **joined})
        blocks[pos] = list(arr.to_delayed().ravel())
    source = dask.delayed(compiled.source, pure=True)
    shared = {
        pos: dask.delayed(arg, pure=True)
        for pos, arg in enumerate(args)
        if pos not in blocks
    }
    parts = []
    for k, rows in enumerate(sizes):
        if rows == 0:
            continue
        weight = rows / total if verdict.kind == "mean" else 1.0
        call = [blocks[p][k] if p in blocks else shared[p] for p in range(len(args))]
        parts.append(dask.delayed(_block, pure=True)(source, what, weight, call))
    if not parts:
        raise ArgumentError(f"{name}: the Dask arrays have no rows")
    count = len(parts)
    while len(parts) > 1:
        pairs = range(0, len(parts) - 1, 2)
        merged = [dask.delayed(_add, pure=True)(parts[i], parts[i + 1]) for i in pairs]
        parts = merged + ([parts[-1]] if len(parts) % 2 else [])
    ((leaves, treedef),) = dask.compute(parts[0])
    if verdict.kind == "sum" and verdict.has_param and count > 1:
        empty = list(args)
        for pos in positions:
            arr = args[pos]
            empty[pos] = np.empty((0,) + tuple(arr.shape[1:]), dtype=arr.dtype)
        param_only = flatten(getattr(compiled.module, what)(*empty))[0]
        leaves = [x - (count - 1) * g for x, g in zip(leaves, param_only, strict=True)]
    return unflatten(treedef, leaves)


# Modules executed on this worker, by the hash of their source (a few).
_MODULES: collections.OrderedDict = collections.OrderedDict()
_MODULES_LOCK = threading.Lock()
_MODULES_KEPT = 8


def _module(source: str) -> dict:
    """The namespace of the generated module `source`, executed once here."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    with _MODULES_LOCK:
        namespace = _MODULES.get(digest)
        if namespace is not None:
            _MODULES.move_to_end(digest)
            return namespace
    namespace = {"__name__": "symgrad_generated"}
    exec(compile(source, f"<symgrad block module {digest[:12]}>", "exec"), namespace)
    with _MODULES_LOCK:
        _MODULES[digest] = namespace
        while len(_MODULES) > _MODULES_KEPT:
            _MODULES.popitem(last=False)
    return namespace


def _block(source: str, what: str, weight: float, args):
    """One row block on a worker: the module's result scaled by `weight`, as
    (flat leaves, structure)."""
    leaves, _, treedef = flatten(_module(source)[what](*args))
    return [leaf * weight for leaf in leaves], treedef


def _add(a, b):
    """Two blocks' scaled results added leaf by leaf."""
    return [x + y for x, y in zip(a[0], b[0], strict=True)], a[1]
