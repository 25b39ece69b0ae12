"""The pieces one C function is compiled into: its blocks' lines, its
arrays' workspace slices, and what compiling it keeps track of.

Contract: `Frame` is one C function being compiled (see its docstring);
`Buffer` one workspace slice; `Decl` the declaration line of an array's
pointer, filled in once the workspace is laid out; `indented(lines)` puts a
block's lines one level deeper and `rendered(lines)` turns them into text.
Lines are strings or `Decl`s until then.
"""

from __future__ import annotations


class Decl:
    """The line declaring an array's pointer, written once the workspace
    is laid out (`text`); `indent` grows as its block nests."""

    __slots__ = ("text", "indent")

    def __init__(self):
        self.text = None
        self.indent = ""


class Buffer:
    """A workspace slice: its length, the statements that first write and
    last read it, and its declaration."""

    __slots__ = ("size", "first", "last", "decl", "name")

    def __init__(self, size, first, decl, name):
        self.size, self.first, self.last = size, first, first
        self.decl, self.name = decl, name


class Frame:
    """One C function being compiled. `pos` numbers its statements in the
    order they are written, a branch's or loop's inside it (the timeline of
    liveness); `buffers` are its workspace slices in that order;
    `storage[node]` the buffer holding a node's value (None: an argument,
    a constant or an output parameter); `scope` the nodes whose variables
    the current block sees; `dests[node]` the output parameter an output
    is written into, until it is; `direct` the outputs so written;
    `stacks` the stack variables (declared at the top, freed at the end);
    `jumps` whether some statement jumps to `_end`; `checks` the size
    checks run before anything; `arguments` the function's argument
    leaves, `orphans` inputs read that are none of them."""

    def __init__(self, dests):
        self.pos = 0
        self.buffers: list = []
        self.storage: dict = {}
        self.scope: dict = {}
        self.dests = dests
        self.direct: dict = {}
        self.stacks: list = []
        self.jumps = False
        self.checks: list = []
        self.work = 0
        self.arguments: dict = {}
        self.orphans: dict = {}

    def tick(self) -> int:
        """The number of the next statement."""
        self.pos += 1
        return self.pos - 1

    def read(self, node, pos: int) -> None:
        """Statement `pos` reads `node`: its buffer lives at least until then."""
        buffer = self.storage.get(node)
        if buffer is not None and buffer.last < pos:
            buffer.last = pos

    def orphan(self, node) -> None:
        """`node`, an `input`, is read inside a branch or loop body: note it
        if it is none of the function's arguments (see `CModule.body`)."""
        if node not in self.arguments:
            self.orphans[node] = True

    def stack(self, name: str) -> str:
        if name not in self.stacks:
            self.stacks.append(name)
        return name

    def enter(self) -> tuple:
        """What a nested block may change, to `leave` it with."""
        return dict(self.storage), dict(self.scope)

    def leave(self, saved) -> None:
        self.storage, self.scope = dict(saved[0]), dict(saved[1])


def indented(lines) -> list:
    """`lines` one level deeper (a `Decl`'s indent grows with it)."""
    out = []
    for line in lines:
        if isinstance(line, Decl):
            line.indent += "    "
            out.append(line)
        else:
            out.append("    " + line if line else "")
    return out


def rendered(lines) -> list:
    return [x.indent + x.text if isinstance(x, Decl) else x for x in lines]
