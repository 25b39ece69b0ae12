"""Module assembly: header, imports, entry checks and the three functions.

Contract: `generate(program, target)` returns the source of a standalone module
defining `forward(*args)`, `gradient(*args)` and `value_and_grad(*args)` with
the user's argument structure, after the target's `prelude` (imports) and
`support` (helper definitions it copies in). Nodes are emitted one per line in
program order (`ir.program_order`), named after the user's names where known,
with a comment over each block pointing back to the user's source line. The text
depends only on the program, so identical input gives identical bytes.

User text (names, keys, docstrings, file names) enters only through the
`naming` printers and `keys`; large constant arrays go to a `constants.Constants`
table (pass one in to share it between the parts of a module, or to bind the
arrays in-process, see `api`).
"""

from __future__ import annotations

import os

from symgrad import __version__, ir
from symgrad.codegen import formatting, keys, regions
from symgrad.codegen.constants import Constants
from symgrad.codegen.naming import (
    Namer,
    comment_safe,
    doc_safe,
    docstring,
    literal,
    sanitize,
)
from symgrad.ops import random as random_ops
from symgrad.source import source_line


def leaf_label(program, leaf) -> str:
    """How the user would write this leaf: `params[0]['W']` (for messages)."""
    pos, *path = leaf.path
    return keys.label(program.params[pos], path)


def walk(treedef, expr) -> list:
    """`(depth, treedef node, access expression)` for an argument and every
    container and leaf inside it, in pre-order (leaves in flatten order).

    A dict whose keys all have literals is indexed by key; one with a key
    that has none is read by position (`list(d.values())[i]`), see `keys`.
    """
    out = []
    stack = [(0, treedef, expr)]
    while stack:
        depth, node, where = stack.pop()
        out.append((depth, node, where))
        if node is None:
            continue
        kind, meta, children = node
        exprs = _child_exprs(kind, meta, where, len(children))
        for child, e in reversed(list(zip(children, exprs, strict=True))):
            stack.append((depth + 1, child, e))
    return out


def _child_exprs(kind, meta, where, n) -> list:
    if kind != "dict":
        return [f"{where}[{i}]" for i in range(n)]
    lits = keys.dict_literals(meta)
    if lits is None:
        return [f"list({where}.values())[{i}]" for i in range(n)]
    return [f"{where}[{lit}]" for lit in lits]


def leaf_accesses(treedef, expr) -> list:
    """The access expression of each leaf of an argument, in flatten order."""
    return [where for _, node, where in walk(treedef, expr) if node is None]


class Emitter:
    def __init__(self, program, target, constants: Constants | None = None):
        self.program = program
        self.target = target
        self.constants = constants if constants is not None else Constants(target.NAME)
        # Parameters are claimed first: distinct user names that clean up to
        # the same identifier (`mul`, `_mul`, `ü`, `é`) must stay distinct.
        # (A program that draws random numbers keeps `rng` for its generator.)
        self.random = random_ops.uses_random([program.value, *program.grads])
        self.namer = Namer((random_ops.RNG,) if self.random else ())
        self.args = [self.namer.claim(sanitize(p, "arg")) for p in program.params]
        self.access = [
            where
            for pos, treedef in enumerate(program.treedef[2])
            for where in leaf_accesses(treedef, self.args[pos])
        ]
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
            if self.constants.stores(node.value):
                return self.constants.ref(node)
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
                checks += _structure_checks(treedef, self.args[pos])
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
        for leaf, access in zip(self.program.leaves, self.access, strict=True):
            label = leaf_label(self.program, leaf)
            if leaf.node is None:
                # A static value (an int, a str, np.int64(3)...) is baked into
                # the code: calling with another one must fail, not reuse it.
                value = keys.literal_of(leaf.value)
                if value is not None:
                    message = literal(
                        f"{label} was {comment_safe(value)} when this module was "
                        "generated; generate it again for another value"
                    )
                    lines.append(f"if {access} != {value}:")
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
            trees.append(_tree_src(program.treedef[2][a], iter(mine), self.args[a]))
        return trees[0] if program.single else _tuple_src(trees)


def _tuple_src(items) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _tree_src(treedef, it, where) -> str:
    """The gradient in the argument's structure; `where` is the argument's own
    expression (a dict read by position takes its keys from the caller's)."""
    if treedef is None:
        return next(it)
    kind, meta, children = treedef
    exprs = _child_exprs(kind, meta, where, len(children))
    items = [_tree_src(c, it, e) for c, e in zip(children, exprs, strict=True)]
    if kind == "dict":
        lits = keys.dict_literals(meta)
        if lits is None:
            return f"dict(zip({where}, [{', '.join(items)}]))"
        pairs = zip(lits, items, strict=True)
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    return _tuple_src(items)


def _structure_checks(treedef, access) -> list:
    """Conditions that are true when an argument does not have the structure
    of the example: `len(x) != n` for every container, and for a dict read by
    position one condition on its keys (a dict, the keys' type names, then
    those of its keys that have literals). Outer containers come first, so
    `or` never indexes into a wrong one."""
    checks = []
    for depth, node, where in walk(treedef, access):
        if node is None:
            continue
        kind, meta, children = node
        checks.append((depth, 0, f"len({where}) != {len(children)}"))
        if kind == "dict" and keys.dict_literals(meta) is None:
            names = literal([keys.type_name(k) for k in meta])
            parts = [
                f"not isinstance({where}, dict)",
                f"[type(k).__name__ for k in {where}] != {names}",
            ]
            for i, key in enumerate(meta):
                text = keys.literal_of(key)
                if text is not None:
                    parts.append(f"list({where})[{i}] != {text}")
            checks.append((depth, 1, " or ".join(parts)))
    return [text for _, _, text in sorted(checks)]


def _describe(treedef) -> str:
    """A structure like `[(*, *), (*, *)]`, leaves shown as `*`."""
    if treedef is None:
        return "*"
    kind, meta, children = treedef
    items = [_describe(c) for c in children]
    if kind == "dict":
        pairs = zip(meta, items, strict=True)
        return "{" + ", ".join(f"{keys.key_text(k)}: {v}" for k, v in pairs) + "}"
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _comment(loc: ir.Loc) -> str:
    # Without the source line (a function made by exec, a deleted file) the
    # comment names the code object, which is user text like any other.
    text = comment_safe(source_line(loc.file, loc.line)) or comment_safe(loc.func)
    where = comment_safe(f"{os.path.basename(loc.file)}:{loc.line}")
    prefix = "grad of: " if loc.grad else ""
    return f"# {prefix}{text}  ({where})"


def function(name, args, doc, lines, decorators=()) -> list:
    """A top-level function; `doc` (lines separated by newlines) goes through
    the docstring writer, so it may hold user text."""
    out = [*decorators, f"def {name}({', '.join(args)}):", *docstring(doc, "    ")]
    for line in lines:
        out.append("    " + line if line else "")
    return out


def _imports(extra, prelude) -> list:
    """The target's prelude with the `extra` imports sorted into its leading
    `import ...` lines."""
    n = 0
    while n < len(prelude) and prelude[n].startswith("import "):
        n += 1
    return sorted(set(extra) | set(prelude[:n])) + list(prelude[n:])


def generate(
    program,
    target,
    whole: bool | None = None,
    extra_blocks=(),
    extra_doc=(),
    extra_needs=(),
    constants: Constants | None = None,
) -> str:
    """Module source; `whole` forces (True) or skips (False) whole-module black.

    `extra_blocks` (lists of lines: more top-level functions) are appended,
    `extra_doc` lines added to the header docstring and `extra_needs` (helpers
    and imports those blocks use) added to what the module brings in, as
    trainers do. Stored constants go into `constants` (a fresh table if None).
    """
    if constants is None:
        constants = Constants(target.NAME)
    em = Emitter(program, target, constants)
    fwd_nodes = ir.program_order([program.value])
    all_nodes = ir.program_order([program.value] + list(program.grads))
    # Name every node in program order first so both functions agree.
    for node in all_nodes:
        if node.op != "const":
            em.name(node)
    fwd_used = dict.fromkeys(fwd_nodes)
    all_used = dict.fromkeys(all_nodes)
    value = em.ref(program.value)

    rng_lines, rng_needs = (
        random_ops.entry_lines(target.NAME) if em.random else ([], ())
    )
    em.needs.update(rng_needs)
    fwd = rng_lines + em.entry_lines(fwd_used) + em.body_lines(fwd_nodes)
    fwd += ["", f"return float({value})"]
    vag = rng_lines + em.entry_lines(all_used) + em.body_lines(all_nodes)
    vag += ["", f"return float({value}), {em.grad_tree()}"]

    args = em.args
    # Random draws come from a keyword argument: `rng=None`, passed along.
    rng = [random_ops.RNG] if em.random else []
    params = args + (["*", f"{random_ops.RNG}=None"] if em.random else [])
    calls = args + [f"{r}={r}" for r in rng]
    wrt = ", ".join(program.params[a] for a in program.argnums)
    fun = doc_safe(program.fun_name)
    src = doc_safe(os.path.basename(program.filename))
    doc = [
        "Generated by symgrad " + __version__ + f" from {src}:{fun}. Do not edit.",
        "",
        f"forward({', '.join(args)}) -> value of {fun}",
        f"gradient({', '.join(args)}) -> its gradient with respect to {doc_safe(wrt)}",
        f"value_and_grad({', '.join(args)}) -> (value, gradient)",
        *(random_ops.DOC[target.NAME] if em.random else ()),
        *extra_doc,
    ]
    header = [
        *docstring("\n".join(doc)),
        "",
        *_imports(constants.imports(), target.prelude(em.needs | set(extra_needs))),
    ]
    quiet = target.DECORATORS
    functions = function("forward", params, f"The value of {fun}.", fwd, quiet)
    for part in (
        function(
            "gradient",
            params,
            "The gradient (same structure as the differentiated arguments).",
            [f"return value_and_grad({', '.join(calls)})[1]"],
        ),
        function("value_and_grad", params, "The value and the gradient.", vag, quiet),
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
    # Stored constants are one long line each that black must not see.
    if constants.entries:
        text += "\n\n" + constants.block() + "\n"
    body = formatting.format_source("\n".join(functions) + "\n", whole, stats)
    return text + "\n\n" + body
