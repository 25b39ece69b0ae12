"""Module assembly: header, imports, entry checks and the three functions.

Contract: `generate(program, target)` returns the source of a standalone module
defining `forward(*args)`, `gradient(*args)` and `value_and_grad(*args)` with
the user's argument structure, after the target's `prelude` (imports) and
`support` (helper definitions it copies in). Nodes are emitted one per line in
program order (`ir.program_order`), named after the user's names where known,
with a comment over each block pointing back to the user's source line. The text
depends only on the program, so identical input gives identical bytes.
"""

from __future__ import annotations

import linecache
import os

from symgrad import __version__, ir
from symgrad.codegen import formatting, regions
from symgrad.codegen.naming import Namer, comment_safe, doc_safe, literal, sanitize


def leaf_label(program, leaf) -> str:
    """How the user would write this leaf: `params[0]['W']`."""
    pos, *keys = leaf.path
    return program.params[pos] + "".join(f"[{k!r}]" for k in keys)


class Emitter:
    def __init__(self, program, target):
        self.program = program
        self.target = target
        # Parameters are claimed first: distinct user names that clean up to
        # the same identifier (`mul`, `_mul`, `ü`, `é`) must stay distinct.
        self.namer = Namer()
        self.args = [self.namer.claim(sanitize(p, "arg")) for p in program.params]
        self.names: dict = {}
        self.temps = 0
        # What the emitted code uses from the target's helpers and imports,
        # as declared by each lowering (collected while emitting).
        self.needs: set = set()
        for leaf in program.leaves:
            if leaf.node is not None and leaf.node not in self.names:
                self.names[leaf.node] = self._leaf_name(leaf)

    def _leaf_name(self, leaf):
        pos, *keys = leaf.path
        if not keys:
            # A leaf that is a whole argument keeps the parameter's name.
            return self.args[pos]
        return self.namer.claim(leaf.node.hint)

    def name(self, node) -> str:
        name = self.names.get(node)
        if name is not None:
            return name
        if node.hint:
            name = self.namer.claim(node.hint)
        elif node.adjoint_of is not None:
            primal = self.names.get(node.adjoint_of) or node.adjoint_of.hint
            name = self.namer.claim(f"{primal}_bar") if primal else self._temp()
        else:
            name = self._temp()
        self.names[node] = name
        return name

    def _temp(self) -> str:
        while True:
            self.temps += 1
            name = f"t{self.temps}"
            if name not in self.namer.taken:
                self.namer.taken.add(name)
                return name

    def ref(self, node) -> str:
        if node.op == "const":
            return self.target.constant(node)
        return self.name(node)

    # ------------------------------------------------------------ pieces

    def entry_lines(self, nodes_used) -> list:
        """Bind, convert and check every argument leaf the code uses.

        Arguments that are lists, tuples or dicts first have their lengths
        checked, and any lookup that fails turns into a ValueError that shows
        the structure the module was generated for.
        """
        lines = self._leaf_lines(nodes_used)
        checks, shapes = [], []
        for pos, treedef in enumerate(self.program.treedef[2]):
            if treedef is not None:
                checks += _length_checks(treedef, self.args[pos])
                shapes.append(f"{self.program.params[pos]} = {_describe(treedef)}")
        if not checks:
            return lines
        message = literal(
            "the arguments do not have the structure this module was generated "
            "for: " + comment_safe("; ".join(shapes), 300)
        )
        return [
            "try:",
            f"    if {' or '.join(checks)}:",
            "        raise TypeError",
            *("    " + line for line in lines),
            "except (IndexError, KeyError, TypeError):",
            f"    raise ValueError({message}) from None",
        ]

    def _leaf_lines(self, nodes_used) -> list:
        lines = []
        for leaf in self.program.leaves:
            label = leaf_label(self.program, leaf)
            pos, *keys = leaf.path
            access = self.args[pos] + "".join(f"[{literal(k)}]" for k in keys)
            if leaf.node is None:
                if _checkable(leaf.value):
                    message = literal(
                        f"{label} was {leaf.value!r} when this module was generated; "
                        "generate it again for another value"
                    )
                    lines.append(f"if {access} != {literal(leaf.value)}:")
                    lines.append(f"    raise ValueError({message})")
                continue
            if leaf.node not in nodes_used:
                continue
            name = self.names[leaf.node]
            lines.extend(self.target.entry(name, access, leaf.node, label))
            self.needs.update(self.target.entry_needs(leaf.node))
        return lines

    def fresh(self, hint=None) -> str:
        """A new variable name (from `hint` if given) for no node in particular."""
        return self.namer.claim(hint) if hint else self._temp()

    def body_lines(self, nodes, siblings=None) -> list:
        """The statements computing `nodes` (in order), with a comment over
        each run from one source line. `siblings`: the nodes at this level
        (default `nodes`), where several-result ops find their `item`s."""
        siblings = nodes if siblings is None else siblings
        lines = []
        last = None
        for node in nodes:
            if node.op in ("input", "const"):
                continue
            if regions.handles(node) and node.op in ("item", "param", "undef"):
                continue
            loc = node.loc
            # One comment per run of nodes from the same source line.
            key = None if loc is None else (loc.file, loc.line, loc.grad)
            if key is not None and key != last:
                lines.append("")
                lines.append(_comment(loc))
                last = key
            if regions.handles(node):
                lines.extend(regions.statements(self, node, siblings))
                continue
            args = [self.ref(i) for i in node.inputs]
            lines.extend(self.target.statements(node, self.name(node), args))
            self.needs.update(self.target.needs(node))
        return lines

    def grad_tree(self) -> str:
        program = self.program
        by_leaf = dict(zip(program.diff, program.grads, strict=True))
        sources = []
        for i, leaf in enumerate(program.leaves):
            node = by_leaf.get(i)
            if node is not None:
                sources.append(self.target.output(node, self.ref(node), leaf.pyfloat))
                self.needs.update(self.target.output_needs(node, leaf.pyfloat))
            else:
                sources.append(None)
        trees = []
        for a in program.argnums:
            mine = [
                s
                for leaf, s in zip(program.leaves, sources, strict=True)
                if leaf.path[0] == a
            ]
            trees.append(_tree_src(program.treedef[2][a], iter(mine)))
        return trees[0] if program.single else _tuple_src(trees)


def _tuple_src(items) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _tree_src(treedef, it) -> str:
    if treedef is None:
        return next(it)
    kind, meta, children = treedef
    items = [_tree_src(c, it) for c in children]
    if kind == "dict":
        pairs = zip(meta, items, strict=True)
        return "{" + ", ".join(f"{literal(k)}: {v}" for k, v in pairs) + "}"
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    return _tuple_src(items)


def _length_checks(treedef, access) -> list:
    """`len(x) != n` for every container in an argument's structure."""
    checks = []
    stack = [(treedef, access)]
    while stack:
        node, where = stack.pop()
        if node is None:
            continue
        kind, meta, children = node
        checks.append(f"len({where}) != {len(children)}")
        keys = meta if kind == "dict" else range(len(children))
        for key, child in zip(keys, children, strict=True):
            stack.append((child, f"{where}[{literal(key)}]"))
    return sorted(checks, key=lambda c: (c.count("["), c))


def _describe(treedef) -> str:
    """A structure like `[(*, *), (*, *)]`, leaves shown as `*`."""
    if treedef is None:
        return "*"
    kind, meta, children = treedef
    items = [_describe(c) for c in children]
    if kind == "dict":
        pairs = zip(meta, items, strict=True)
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in pairs) + "}"
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _checkable(value) -> bool:
    return value is None or type(value) in (int, bool, str)


def _comment(loc: ir.Loc) -> str:
    text = comment_safe(linecache.getline(loc.file, loc.line)) or loc.func
    where = comment_safe(f"{os.path.basename(loc.file)}:{loc.line}")
    prefix = "grad of: " if loc.grad else ""
    return f"# {prefix}{text}  ({where})"


def function(name, args, doc, lines, decorators=()) -> list:
    out = [*decorators, f"def {name}({', '.join(args)}):", f'    """{doc}"""']
    for line in lines:
        out.append("    " + line if line else "")
    return out


def generate(
    program,
    target,
    whole: bool | None = None,
    extra_blocks=(),
    extra_doc=(),
    extra_needs=(),
) -> str:
    """Module source; `whole` forces (True) or skips (False) whole-module black.

    `extra_blocks` (lists of lines: more top-level functions) are appended,
    `extra_doc` lines added to the header docstring and `extra_needs` (helpers
    and imports those blocks use) added to what the module brings in, as
    trainers do.
    """
    em = Emitter(program, target)
    fwd_nodes = ir.program_order([program.value])
    all_nodes = ir.program_order([program.value] + list(program.grads))
    # Name every node in program order first so both functions agree.
    for node in all_nodes:
        if node.op != "const":
            em.name(node)
    fwd_used = dict.fromkeys(fwd_nodes)
    all_used = dict.fromkeys(all_nodes)
    value = em.ref(program.value)

    fwd = em.entry_lines(fwd_used) + em.body_lines(fwd_nodes)
    fwd += ["", f"return float({value})"]
    vag = em.entry_lines(all_used) + em.body_lines(all_nodes)
    vag += ["", f"return float({value}), {em.grad_tree()}"]

    args = em.args
    wrt = ", ".join(program.params[a] for a in program.argnums)
    fun = doc_safe(program.fun_name)
    src = doc_safe(os.path.basename(program.filename))
    header = [
        '"""Generated by symgrad ' + __version__ + f" from {src}:{fun}. Do not edit.",
        "",
        f"forward({', '.join(args)}) -> value of {fun}",
        f"gradient({', '.join(args)}) -> its gradient with respect to {doc_safe(wrt)}",
        f"value_and_grad({', '.join(args)}) -> (value, gradient)",
        *extra_doc,
        '"""',
        "",
        *target.prelude(em.needs | set(extra_needs)),
    ]
    quiet = target.DECORATORS
    functions = function("forward", args, f"The value of {fun}.", fwd, quiet)
    for part in (
        function(
            "gradient",
            args,
            "The gradient (same structure as the differentiated arguments).",
            [f"return value_and_grad({', '.join(args)})[1]"],
        ),
        function("value_and_grad", args, "The value and the gradient.", vag, quiet),
        *extra_blocks,
    ):
        functions += ["", ""] + part
    # Black formats top-level definitions independently, so the helpers a
    # target copies in (already black-formatted text) skip black: that halves
    # the time to generate a small module.
    stats = program.stats
    text = formatting.format_source("\n".join(header) + "\n", whole, stats)
    for block in target.support(em.needs | set(extra_needs)):
        text += "\n\n" + block + "\n"
    body = formatting.format_source("\n".join(functions) + "\n", whole, stats)
    return text + "\n\n" + body
