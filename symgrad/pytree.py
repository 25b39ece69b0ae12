"""Pytrees: nested lists, tuples and dicts of leaves, as JAX uses them.

Contract: `flatten(obj)` returns the leaves in a fixed order (lists and tuples
by position, dicts in insertion order) with the path to each leaf, and a
hashable `treedef`; `unflatten(treedef, leaves)` rebuilds the same structure.
Any object that is not exactly a list, tuple or dict is a leaf.
"""

from __future__ import annotations

LEAF = None


def flatten(obj):
    """(leaves, paths, treedef) of `obj`."""
    leaves: list = []
    paths: list = []
    treedef = _flatten(obj, (), leaves, paths)
    return leaves, paths, treedef


def _flatten(obj, path, leaves, paths):
    kind = type(obj)
    if kind is list or kind is tuple:
        children = tuple(
            _flatten(item, path + (i,), leaves, paths) for i, item in enumerate(obj)
        )
        return (kind.__name__, len(obj), children)
    if kind is dict:
        keys = tuple(obj)
        children = tuple(_flatten(obj[k], path + (k,), leaves, paths) for k in keys)
        return ("dict", keys, children)
    leaves.append(obj)
    paths.append(path)
    return LEAF


def unflatten(treedef, leaves):
    """Rebuild the structure `treedef` from `leaves` (an iterable, in order)."""
    return _unflatten(treedef, iter(leaves))


def _unflatten(treedef, it):
    if treedef is LEAF:
        return next(it)
    kind, meta, children = treedef
    items = [_unflatten(child, it) for child in children]
    if kind == "dict":
        return dict(zip(meta, items, strict=True))
    return items if kind == "list" else tuple(items)
