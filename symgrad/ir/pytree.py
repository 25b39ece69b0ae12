"""Pytrees: nested lists, tuples and dicts of leaves, as JAX uses them.

Contract: `flatten(obj)` returns the leaves in a fixed order (lists and tuples
by position, dicts in insertion order), the path to each leaf, and a
`TreeDef` describing the structure; `treedef.unflatten(leaves)` (or
`unflatten(treedef, leaves)`) rebuilds the same structure. Any object that is
not exactly a list, tuple or dict is a leaf.

A `TreeDef` is immutable, hashable and compared by structure (kind, dict keys
and children), so it serves as part of a cache key; it also records the path
of each container from the root it was flattened from (`path`), which code
generation uses to read the caller's own dict keys. `describe()` shows the
structure with leaves as `*`, the form used in error messages. Every walk is
iterative or bounded by the nesting depth of user data.
"""

from __future__ import annotations


class TreeDef:
    """The structure of a pytree: a leaf, or a list/tuple/dict of subtrees."""

    __slots__ = ("kind", "keys", "children", "path", "_hash", "num_leaves")

    def __init__(self, kind: str, keys=(), children=(), path=()):
        self.kind = kind  # "leaf", "list", "tuple" or "dict"
        self.keys = tuple(keys)  # dict keys, in order
        self.children = tuple(children)
        self.path = tuple(path)  # keys from the root to this node
        self._hash = None
        self.num_leaves = (
            1 if kind == "leaf" else sum(c.num_leaves for c in self.children)
        )

    @property
    def is_leaf(self) -> bool:
        return self.kind == "leaf"

    def _identity(self):
        return (self.kind, self.keys, self.children)

    def __eq__(self, other):
        if not isinstance(other, TreeDef):
            return NotImplemented
        return self is other or self._identity() == other._identity()

    def __hash__(self):
        if self._hash is None:
            self._hash = hash(self._identity())
        return self._hash

    def __repr__(self):
        return f"TreeDef({self.describe()})"

    def unflatten(self, leaves):
        """This structure with `leaves` (an iterable, in flatten order)."""
        return _unflatten(self, iter(leaves))

    def describe(self, leaf: str = "*", key_text=repr) -> str:
        """`[(*, *), {'W': *}]`: the structure with each leaf shown as `leaf`."""
        return _describe(self, leaf, key_text)

    def subtrees(self):
        """(depth, subtree) for this node and every node below, pre-order."""
        stack = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(node.children))


LEAF = TreeDef("leaf")


def flatten(obj, root=()):
    """(leaves, paths, treedef) of `obj`; paths start with `root`."""
    leaves: list = []
    paths: list = []
    treedef = _flatten(obj, tuple(root), leaves, paths)
    return leaves, paths, treedef


def _flatten(obj, path, leaves, paths):
    kind = type(obj)
    if kind is list or kind is tuple:
        children = [
            _flatten(item, path + (i,), leaves, paths) for i, item in enumerate(obj)
        ]
        return TreeDef(kind.__name__, (), children, path)
    if kind is dict:
        keys = tuple(obj)
        children = [_flatten(obj[k], path + (k,), leaves, paths) for k in keys]
        return TreeDef("dict", keys, children, path)
    leaves.append(obj)
    paths.append(path)
    return LEAF if not path else TreeDef("leaf", (), (), path)


def unflatten(treedef: TreeDef, leaves):
    """Rebuild the structure `treedef` from `leaves` (an iterable, in order)."""
    return treedef.unflatten(leaves)


def tree(kind: str, children, keys=()) -> TreeDef:
    """A container of the given subtrees (for building output structures)."""
    return TreeDef(kind, keys, children)


def _unflatten(treedef, it):
    if treedef.kind == "leaf":
        return next(it)
    items = [_unflatten(child, it) for child in treedef.children]
    if treedef.kind == "dict":
        return dict(zip(treedef.keys, items, strict=True))
    return items if treedef.kind == "list" else tuple(items)


def _describe(treedef, leaf, key_text) -> str:
    if treedef.kind == "leaf":
        return leaf
    items = [_describe(c, leaf, key_text) for c in treedef.children]
    if treedef.kind == "dict":
        pairs = zip(treedef.keys, items, strict=True)
        return "{" + ", ".join(f"{key_text(k)}: {v}" for k, v in pairs) + "}"
    if treedef.kind == "list":
        return "[" + ", ".join(items) + "]"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def graft(outer: TreeDef, inner) -> TreeDef:
    """`outer` with its k-th leaf replaced by the tree `inner(k)` (JAX's
    layout of Jacobians: the output's structure around the input's)."""
    counter = iter(range(outer.num_leaves))

    def build(node):
        if node.is_leaf:
            return inner(next(counter))
        children = [build(c) for c in node.children]
        return TreeDef(node.kind, node.keys, children, node.path)

    return build(outer)
