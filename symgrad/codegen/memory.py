"""Memory planning for the targets that plan memory (`PLANS_MEMORY`, the
NumPy target): reuse and free dead temporaries.

Contract: an analysis over the IR that reads the ops' memory flags ("fresh",
"c_contiguous", "out_when_big", "out_scratch_first", "view") and asks the
target which nodes it can compute into an existing buffer (`into`, the
target's `writes_into`). `plan(nodes, outputs, into=...)` looks at one
function's statements (the nodes in emission order) and returns a `Plan`:
- `into[node] = operand`: compute `node` into the buffer of `operand`, an
  array this function allocated, of the same shape and dtype, read for the
  last time by this very statement (`h = np.add(t1, b, out=t1)`). The ufunc is
  the same, so the bits are the same; NumPy handles overlapping operands.
- `scratch[node] = operand`: the first operand of a node computed `into` a
  buffer, when it also dies at this statement and the op's flags allow its
  `out=` form to overwrite it (`out_scratch_first`: a `where`'s mask,
  negated in place instead of into a new array). Ops flagged `out_when_big`
  are computed into a buffer only when they are big.
- `free[i]`: names whose arrays (and every view of them) are dead after
  statement `i` (`del t1, t2`), for arrays big enough to matter
  (`FREE_SIZE` elements or a symbolic size): NumPy can then reuse that
  memory for the next allocation instead of faulting in fresh pages.
- `slot[node] = k`: `node`, the first array of a buffer (a group of nodes
  computed into one another's buffers, and their views), is computed with
  `out=` into slot `k` of the function's buffers (`slots[k]`: shape and
  dtype), arrays the module keeps between calls (per thread, per shapes:
  see the target's `buffers` helper) instead of allocating them anew, which
  for big arrays costs page faults and zeroing on every call. Only big
  buffers get a slot, only when the target's `into_slot(node)` says the op can
  write into a given array, and never a buffer that holds or backs a value
  the function returns (`outputs`), unless the caller is generated code
  that keeps it to itself (`kept`: the forward values `_forward` hands to
  the gradient). Buffers whose lives do not overlap share a slot.
- `join[part] = (join, start, stop)`: a big `np.concatenate` along axis 0
  whose parts are all computed here is not a copy: each part is computed
  into its rows `start:stop` of the join's slot, see `_joins`.
A buffer is reused only when its layout is the one a fresh result would get:
NumPy lays out a ufunc's result like its inputs ("K" order), and a reduction
then sums in memory order, so writing into a Fortran-ordered buffer (a
transpose, a fancy-indexing result) could change the last bit of a later sum.
Both the buffer and the other full-size operands must be known C-contiguous
(results of ops flagged "c_contiguous" such as matmul and reductions, and of
"fresh" elementwise ops on such arrays).
Never touched: arguments (the caller's arrays, or views of them), constants,
results of branches and loops, stacks, views (they share their base's
buffer: a buffer is dead only when every view of it is), and the arrays a
function returns (they must stay fresh for the caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symgrad.ir import dims
from symgrad.ops import OPS

# Arrays smaller than this are cheap to allocate; `del` lines for them would
# only clutter the code.
FREE_SIZE = 4096


@dataclass
class Plan:
    into: dict = field(default_factory=dict)  # node -> operand whose buffer
    scratch: dict = field(default_factory=dict)  # node -> dying operand
    free: dict = field(default_factory=dict)  # position -> [nodes to del]
    slot: dict = field(default_factory=dict)  # node -> index into `slots`
    slots: list = field(default_factory=list)  # [(shape, dtype)]
    in_slots: set = field(default_factory=set)  # every node whose array is a slot
    join: dict = field(default_factory=dict)  # part -> (join, start row, stop row)
    slot_names: list = field(default_factory=list)  # names given by codegen

    @property
    def joined(self) -> set:
        """The joins whose parts fill their slot (nothing left to copy)."""
        return {whole for whole, _, _ in self.join.values()}


def fresh(node) -> bool:
    """True for an array value computed into a new array (op flag "fresh")."""
    if node.vtype is not None or not node.shape:
        return False
    return "fresh" in OPS[node.op].flags


def _view(node) -> bool:
    return node.vtype is None and "view" in OPS[node.op].flags


def _big(node) -> bool:
    size = dims.prod(node.shape)
    return not isinstance(size, int) or size >= FREE_SIZE


def c_order(nodes, known=()) -> set:
    """The nodes known to be C-contiguous arrays (`known`: already known)."""
    known = set(known)
    for node in nodes:
        if _view(node) and node.op == "getitem" and node.inputs[0] in known:
            index = node.attr("index")
            if all(type(i) is int for i in index):
                known.add(node)  # X[t] of a C-contiguous X: a C-contiguous block
            continue
        if not fresh(node):
            continue
        if "c_contiguous" in OPS[node.op].flags:
            known.add(node)
        elif all(x in known for x in node.inputs if x.shape == node.shape):
            known.add(node)  # "K" order of C-contiguous full-size operands
    return known


def plan(
    nodes, outputs, owned=(), known_c=(), into=None, into_slot=None, kept=()
) -> Plan:
    """The plan for statements `nodes` returning `outputs`; `owned` are
    arrays computed before them that this function may reuse and free (the
    forward values a gradient function receives from `_forward`), of which
    `known_c` are known C-contiguous. `into(node)` says whether the target
    can compute `node` into an existing buffer (None: never), `into_slot(node)`
    whether into a slot (None: no slots); `kept` are outputs that may live
    in slots (see the module doc)."""
    out = Plan()
    end = len(nodes)
    received = list(owned)
    owned = [n for n in received if fresh(n)]
    position = {n: i for i, n in enumerate(nodes)}
    for n in received:
        position[n] = -1
    c_order_ = c_order(nodes, known_c)
    # The buffer each value lives in: its own (fresh), its base's (a view),
    # or none (foreign: never reused or freed).
    buffer: dict = {n: n for n in owned}
    for n in received:
        # A view received next to its base (`t3 = t2[0]` from `_forward`)
        # keeps the base's buffer alive for as long as it is read.
        root = n
        while _view(root) and root.inputs:
            root = root.inputs[0]
        if root is not n and root in buffer:
            buffer[n] = buffer[root]
    joins = {}
    if into_slot is not None:
        joins = _joins(nodes, position, outputs, c_order_, into_slot)
    part_of = {p: c for c, parts in joins.items() for p, _, _ in parts}
    for node in nodes:
        if node in joins:
            buffer[node] = node
        elif node in part_of:
            buffer[node] = part_of[node]  # a block of the join's buffer
        elif fresh(node):
            buffer[node] = node
        elif _view(node) and node.inputs and node.inputs[0] in buffer:
            buffer[node] = buffer[node.inputs[0]]
    last: dict = {}  # buffer -> last position anything reads it
    for i, node in enumerate(nodes):
        for x in node.inputs:
            b = buffer.get(x)
            if b is not None:
                last[b] = max(last.get(b, -1), i)
    returned = {buffer[o] for o in outputs if o in buffer}
    # Reuse: a node may be computed into an operand's buffer when this
    # statement is that buffer's last read. The node then owns the buffer
    # (`parent`): the merged buffer lives as long as the node's own would.
    parent: dict = {}
    taken = set()

    def dying(x, i):
        # An array this function owns, read for the last time at statement i.
        return (
            buffer.get(x) is x
            and x not in taken
            and x not in returned
            and last.get(x) == i
            and position.get(x, end) < i
        )

    for i, node in enumerate(nodes):
        if into is None or not into(node) or buffer.get(node) is not node:
            continue
        if node in joins:
            continue
        if node not in c_order_:
            continue
        flags = OPS[node.op].flags
        if "out_when_big" in flags and not _big(node):
            continue  # allocating a small array is cheaper than the in-place form
        for x in node.inputs:
            if (
                dying(x, i)
                and x in c_order_
                and x.shape == node.shape
                and x.dtype == node.dtype
            ):
                out.into[node] = x
                parent[x] = node
                taken.add(x)
                break
        if "out_scratch_first" in flags and node in out.into:
            first = node.inputs[0]
            if first not in node.inputs[1:] and dying(first, i):
                out.scratch[node] = first
                taken.add(first)

    def root(b):
        while b in parent:
            b = parent[b]
        return b

    # Free: every name of a big buffer after the last read of all of them.
    groups: dict = {}
    for node in received + list(nodes):
        b = buffer.get(node)
        if b is not None:
            groups.setdefault(root(b), []).append(node)
    if into_slot is not None:
        escaping = {buffer[o] for o in outputs if o in buffer and o not in kept}
        candidates = []
        for members in groups.values():
            # The node whose statement allocates the buffer: the first of the
            # chain computed into one another.
            first = [m for m in members if buffer[m] is m and m not in out.into]
            if len(first) != 1 or any(buffer[m] in escaping for m in members):
                continue
            (first,) = first
            at = position.get(first, -1)
            if first in joins:
                # Its parts write into its slot: it lives from the first one.
                at = min(position[p] for p, _, _ in joins[first])
            elif at < 0 or first not in c_order_ or not _big(first):
                continue
            elif not into_slot(first):
                continue
            reads = [last[buffer[m]] for m in members if buffer[m] in last]
            # A buffer returned to the caller (`kept`) lives past the end.
            alive = any(buffer[m] in returned for m in members)
            stop = end if alive else max(reads, default=at)
            candidates.append((at, stop, first))
        _assign_slots(out, candidates)
        for members in groups.values():
            if any(m in out.slot for m in members):
                out.in_slots.update(members)
        for c, parts in joins.items():
            if c in out.slot:  # (always: a join is planned only when it can)
                out.join.update({p: (c, start, stop) for p, start, stop in parts})
    for r, members in groups.items():
        if any(m in out.slot for m in members):
            continue
        if any(buffer[m] in returned for m in members):
            continue
        if not _big(r):
            continue
        reads = [last[buffer[m]] for m in members if buffer[m] in last]
        if reads:
            out.free.setdefault(max(reads), []).extend(members)
    return out


def _joins(nodes, position, outputs, c_order_, into_slot) -> dict:
    """{join: [(part, start row, stop row)]}: the `np.concatenate`s along
    axis 0 whose parts can be computed straight into blocks of the join's
    buffer slot (`out=slot[start:stop]`), so that joining copies nothing:
    the per-step gradients of a loop joined for one product. Each part is
    computed here, by an op that writes into a given array, its own array
    (fresh, C-contiguous as the block is), of the join's dtype, used once by
    the join and by no other join, and neither the part nor the join (nor a
    view of them) is returned. The join must be big (it gets a slot)."""
    handed_out = set()
    for o in outputs:
        while _view(o) and o.inputs:
            handed_out.add(o)
            o = o.inputs[0]
        handed_out.add(o)
    found: dict = {}
    claimed: set = set()
    for node in nodes:
        if node.op != "concatenate" or node.attr("axis") != 0 or node.vtype:
            continue
        if node in handed_out or not _big(node) or len(node.inputs) < 2:
            continue
        parts = node.inputs
        ok = len(set(parts)) == len(parts) and all(
            position.get(p, -1) >= 0
            and position[p] < position[node]
            and fresh(p)
            and p in c_order_
            and p.dtype == node.dtype
            and p.ndim == node.ndim
            and p not in handed_out
            and p not in claimed
            and into_slot(p)
            for p in parts
        )
        if not ok:
            continue
        blocks, start = [], 0
        for p in parts:
            stop = start + p.shape[0]
            blocks.append((p, start, stop))
            start = stop
        found[node] = blocks
        claimed.update(parts)
    return found


def _assign_slots(out: Plan, candidates) -> None:
    """Give each buffer `(start, end, first node)` a slot of its shape and
    dtype, sharing a slot with buffers whose last read comes before its
    first write (interval colouring in order of first writes)."""
    free_after: list = []  # slot -> the position after which it is free
    for start, end, first in sorted(candidates, key=lambda c: (c[0], c[2].id)):
        kind = (tuple(first.shape), first.dtype)
        k = next(
            (
                k
                for k, spec in enumerate(out.slots)
                if spec == kind and free_after[k] < start
            ),
            None,
        )
        if k is None:
            k = len(out.slots)
            out.slots.append(kind)
            free_after.append(end)
        out.slot[first] = k
        free_after[k] = end
