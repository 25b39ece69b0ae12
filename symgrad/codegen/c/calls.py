"""The Python side of a C-target call: flatten the arguments, rebuild the
results, in as few interpreter steps as the structure allows.

Contract: `Flattener(treedef)(args)` returns the leaves of the argument
tuple `args` in flatten order if it has exactly the structure `treedef`
(lists and tuples of the same types and lengths, dicts with the same keys
in the same order), else None. `Builder(treedef)(items)` returns the
structure `treedef` holding `items` (leaves in flatten order). Both are
planned once, breadth first, as a flat list of steps over numbered slots:
no recursion, and per call one slice assignment per container.
"""

from __future__ import annotations

_TYPES = {"list": list, "tuple": tuple, "dict": dict}


def _plan(treedef) -> tuple:
    """(containers, leaves, slots): per container (slot, type, length, keys,
    first child slot), breadth first; the slot of each leaf in flatten order;
    the number of slots."""
    containers, nodes, first_child = [], [treedef], {}
    head = 0
    while head < len(nodes):
        node = nodes[head]
        if not node.is_leaf:
            first_child[head] = len(nodes)
            containers.append(
                (
                    head,
                    _TYPES[node.kind],
                    len(node.children),
                    node.keys if node.kind == "dict" else None,
                )
            )
            nodes.extend(node.children)
        head += 1
    containers = [(*c, first_child[c[0]]) for c in containers]
    # Leaves in flatten (depth-first) order: an explicit stack of slots.
    leaves, stack = [], [0]
    while stack:
        slot = stack.pop()
        node = nodes[slot]
        if node.is_leaf:
            leaves.append(slot)
        else:
            first = first_child[slot]
            stack.extend(range(first + len(node.children) - 1, first - 1, -1))
    return containers, leaves, len(nodes)


class Flattener:
    """The leaves of arguments of one structure (see the module docstring)."""

    def __init__(self, treedef):
        self.containers, self.leaves, self.slots = _plan(treedef)

    def __call__(self, args):
        slots = [None] * self.slots
        slots[0] = args
        for slot, kind, length, keys, first in self.containers:
            obj = slots[slot]
            if type(obj) is not kind or len(obj) != length:
                return None
            if keys is not None:
                if tuple(obj) != keys:
                    return None
                obj = obj.values()
            slots[first : first + length] = obj
        return [slots[i] for i in self.leaves]


class Builder:
    """A structure rebuilt from its leaves (see the module docstring)."""

    def __init__(self, treedef):
        containers, self.leaves, self.slots = _plan(treedef)
        self.containers = containers[::-1]  # children before their parents
        self.leaf_only = treedef.is_leaf

    def __call__(self, items):
        if self.leaf_only:
            return items[0]
        slots = [None] * self.slots
        for slot, item in zip(self.leaves, items, strict=True):
            slots[slot] = item
        for slot, kind, length, keys, first in self.containers:
            part = slots[first : first + length]
            if keys is not None:
                slots[slot] = dict(zip(keys, part, strict=True))
            else:
                slots[slot] = part if kind is list else tuple(part)
        return slots[0]
