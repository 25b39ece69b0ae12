"""Module assembly: header, imports, argument checks and the functions.

Contract: `generate(program, target)` returns the source of a standalone module
holding the program's functions (`program.functions`: by default `forward`,
`gradient` and `value_and_grad`; transforms add `hessian`, `hvp`, `jvp`, ...;
trainers add `predict`), after the target's `prelude` (imports) and `support`
(helper definitions it copies in). Each function maps its arguments (the
user's argument structure) to an output pytree of nodes. The argument checks
are written once per argument signature, in a helper (`_arguments`) every
function with that signature calls. Nodes are emitted one per line in program
order (`ir.program_order`), named after the user's names where known (one
name per node across the module, so all functions read alike), with a comment
over each block pointing back to the user's source line. The text depends only
on the program, so identical input gives identical bytes.

Symbolic sizes (`symgrad.ir.dims`: an argument of shape `(n, 2)`) are bound by
the checks helper from the first argument leaf that has the symbol as a whole
axis (`n = X.shape[0]`); every other axis that depends on it is checked
against it (`X has 150 rows but y has 149`). The helper returns the symbols
after the leaves, so every function has them as local variables, and code
that depends on a size writes the symbol (`np.zeros((n, 16))`, `1.0 / n`).
Symbol names are claimed before anything else, so user names never shadow
them.

User text (names, keys, docstrings, file names) enters only through the
`naming` printers and `keys`; large constant arrays go to a `constants.Constants`
table (pass one in to share it between the parts of a module, or to bind the
arrays in-process, see `api`).
"""

from __future__ import annotations

import os

from symgrad import ir
from symgrad._version import __version__
from symgrad.ad.autodiff import SUM_FILE
from symgrad.codegen import formatting, keys, memory, regions
from symgrad.codegen.constants import Constants
from symgrad.codegen.naming import (
    Namer,
    bound_names,
    comment_safe,
    doc_safe,
    docstring,
    literal,
    sanitize,
)
from symgrad.ir import dims
from symgrad.ir.source import source_line
from symgrad.ops import OPS
from symgrad.ops import random as random_ops


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
        if node.is_leaf:
            continue
        exprs = _child_exprs(node, where)
        for child, e in reversed(list(zip(node.children, exprs, strict=True))):
            stack.append((depth + 1, child, e))
    return out


def _child_exprs(node, where) -> list:
    n = len(node.children)
    if node.kind != "dict":
        return [f"{where}[{i}]" for i in range(n)]
    lits = keys.dict_literals(node.keys)
    if lits is None:
        return [f"list({where}.values())[{i}]" for i in range(n)]
    return [f"{where}[{lit}]" for lit in lits]


def leaf_accesses(treedef, expr) -> list:
    """The access expression of each leaf of an argument, in flatten order."""
    return [where for _, node, where in walk(treedef, expr) if node.is_leaf]


class Emitter:
    """Names and lines for one module: one name per node across all its
    functions, the helpers and imports the code needs, stored constants."""

    def __init__(self, program, target, constants: Constants | None = None, defined=()):
        self.program = program
        self.target = target
        self.constants = constants if constants is not None else Constants(target)
        # Parameters are claimed first: distinct user names that clean up to
        # the same identifier (`mul`, `_mul`, `ü`, `é`) must stay distinct.
        # (A program that draws random numbers keeps `rng` for its generator.)
        outputs = [n for fn in program.functions for n in fn.outputs]
        self.random = random_ops.uses_random(outputs)
        # No user name may be one the module binds at top level (`scipy`
        # after `import scipy.special`, a helper, a function, what `defined`
        # blocks add): a local of that name would hide it from the function.
        reserved = set(target.reserved()) | set(defined)
        reserved.update(fn.name for fn in program.functions)
        self.namer = Namer((random_ops.RNG,) if self.random else (), reserved)
        self.names: dict = {}
        self.temps = 0
        # What the emitted code uses from the target's helpers and imports,
        # as declared by each lowering (collected while emitting).
        self.needs: set = set()
        self.args: dict = {}  # id(Signature) -> argument names
        self.params: dict = {}  # a user's parameter name -> its identifier
        # Symbolic sizes are written as their names (`repr` of a `Dim`), so
        # they take those names before any user name can.
        for name in _program_symbols(program):
            if self.namer.claim(name) != name:
                raise ValueError(f"the size {name!r} cannot be named in the module")
        for fn in program.functions:
            self.arguments(fn.signature)

    def arguments(self, sig) -> list:
        """The argument names of a signature (claimed once, leaves named)."""
        names = self.args.get(id(sig))
        if names is not None:
            return names
        # One identifier per user name across the module: functions whose
        # arguments extend another's (vjp's ct) read the same leaves.
        names = []
        for p in sig.params:
            if p not in self.params:
                self.params[p] = self.namer.claim(sanitize(p, "arg"))
            names.append(self.params[p])
        self.args[id(sig)] = names
        for leaf in sig.leaves:
            if leaf.node is not None and leaf.node not in self.names:
                pos, *path = leaf.path
                # A leaf that is a whole argument keeps the parameter's name.
                self.names[leaf.node] = (
                    names[pos] if not path else self.namer.claim(leaf.node.hint)
                )
        return names

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

    def fresh(self, hint=None) -> str:
        """A new variable name (from `hint` if given) for no node in particular."""
        return self.namer.claim(hint) if hint else self._temp()

    def ref(self, node) -> str:
        if node.op == "dim":
            # A size: the expression of the symbols bound by the checks.
            return dims.source(node.attr("dim"))
        if node.op == "const":
            if self.constants.stores(node.value):
                return self.constants.ref(node)
            return self.target.constant(node)
        return self.name(node)

    # ------------------------------------------------------------ arguments

    def checks_helper(self, sig, helper: str, base_helper: str | None = None):
        """`def _arguments(x, y)`: bind, convert and check every argument leaf
        and return the dynamic ones in order.

        Arguments that are lists, tuples or dicts first have their lengths
        checked, and any lookup that fails turns into a ValueError that shows
        the structure the module was generated for.
        """
        args = self.arguments(sig)
        lines = []
        first = 0
        if sig.base is not None and base_helper is not None:
            # The base signature's arguments are checked by its own helper.
            lines = self.bind_line(sig.base, base_helper)
            first = len(sig.base.params)
        accesses = [
            where
            for pos, treedef in enumerate(sig.treedef.children)
            for where in leaf_accesses(treedef, args[pos])
        ]
        skip = len(sig.base.leaves) if first else 0
        # symbol -> (label, axis) of the leaf it is read from; the base
        # signature's symbols are bound already (its helper returns them).
        bound = dict(_symbol_sources(sig.base)) if first else {}
        for leaf, access in zip(sig.leaves[skip:], accesses[skip:], strict=True):
            label = keys.label(sig.params[leaf.path[0]], leaf.path[1:])
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
            name = self.names[leaf.node]
            shape_var = None
            if not dims.is_static(leaf.node.shape):
                shape_var = self.fresh(f"{name}_shape")
            lines.extend(self.target.entry(name, access, leaf.node, label, shape_var))
            self.needs.update(self.target.entry_needs(leaf.node))
            if shape_var is not None:
                lines.extend(self._size_lines(name, shape_var, leaf.node, label, bound))
        checks, shapes = [], []
        for pos, treedef in enumerate(sig.treedef.children):
            if pos >= first and not treedef.is_leaf:
                checks += _structure_checks(treedef, args[pos])
                shapes.append(
                    f"{sig.params[pos]} = {treedef.describe(key_text=keys.key_text)}"
                )
        if checks:
            message = literal(
                "the arguments do not have the structure this module was generated "
                "for: " + comment_safe("; ".join(shapes), 300)
            )
            head = []
            if first:  # the base helper's line stays outside the try
                head, lines = lines[:1], lines[1:]
            lines = head + [
                "try:",
                f"    if {' or '.join(checks)}:",
                "        raise TypeError",
                *("    " + line for line in lines),
                "except (IndexError, KeyError, TypeError):",
                f"    raise ValueError({message}) from None",
            ]
        bound = self._bound(sig)
        returned = ", ".join(bound) if len(bound) > 1 else _tuple_src(bound)
        lines += ["", f"return {returned}"]
        return function(
            helper,
            args,
            "Check the arguments and return their leaves as the functions use them.",
            lines,
        )

    def _size_lines(self, name, shape_var, node, label, bound) -> list:
        """Bind the symbols this leaf is the first to have as a whole axis,
        and check its other symbolic axes against the sizes bound before."""
        lines = []
        for axis, d in enumerate(node.shape):
            if not dims.is_symbolic(d):
                continue
            size = self.target.runtime_size(name, shape_var, axis)
            if dims.is_symbol(d) and dims.name_of(d) not in bound:
                lines.append(f"{dims.name_of(d)} = {size}")
                bound[dims.name_of(d)] = (label, axis)
                continue
            missing = [s for s in d.symbols if s not in bound]
            if missing:
                raise ValueError(
                    f"the size {missing[0]} of {label} is not a whole axis of any "
                    "argument, so the module cannot read it"
                )
            lines += [
                f"if {size} != {dims.source(d)}:",
                f"    raise ValueError({_mismatch(d, label, axis, size, bound)})",
            ]
        return lines

    def _bound(self, sig) -> list:
        leaves = [self.names[leaf.node] for leaf in sig.leaves if leaf.node is not None]
        return leaves + list(_symbol_sources(sig))

    def bind_line(self, sig, helper: str) -> list:
        """The first line of a function: its leaves from the checks helper."""
        bound = self._bound(sig)
        call = f"{helper}({', '.join(self.arguments(sig))})"
        if not bound:
            return [call]
        if len(bound) == 1:
            return [f"{bound[0]} = {call}[0]"]
        return [f"{', '.join(bound)} = {call}"]

    # ------------------------------------------------------------ bodies

    def body_lines(self, nodes, siblings=None, plan=None) -> list:
        """The statements computing `nodes` (in order), with a comment over
        each run from one source line. `siblings`: the nodes at this level
        (default `nodes`), where several-result ops find their `item`s.
        `plan` (a `memory.Plan` for these nodes) reuses and frees buffers."""
        siblings = nodes if siblings is None else siblings
        joined = plan.joined if plan is not None else ()
        lines = []
        last = None
        for position, node in enumerate(nodes):
            if node.op in ("input", "const", "dim"):
                continue
            if regions.handles(node) and node.op in ("item", "param", "undef"):
                continue
            loc = node.loc
            # One comment per run of nodes from the same source line.
            key = None
            if loc is not None:
                # (An argument's gradient sums are told apart by its name.)
                name = loc.func if loc.file == SUM_FILE else None
                key = (loc.file, loc.line, loc.grad, name)
            if key is not None and key != last:
                lines.append("")
                lines.append(_comment(loc))
                last = key
            if regions.handles(node):
                lines.extend(regions.statements(self, node, siblings))
                continue
            args = [self.ref(i) for i in node.inputs]
            dest = plan.into.get(node) if plan is not None else None
            slot = plan.slot.get(node) if plan is not None else None
            join = plan.join.get(node) if plan is not None else None
            if node in joined:
                # Its parts were computed into its slot: nothing left to copy.
                lines.append(f"{self.name(node)} = {plan.slot_names[slot]}")
            elif join is not None:
                whole, start, stop = join
                block = f"{plan.slot_names[plan.slot[whole]]}"
                block += f"[{dims.source(start)}:{dims.source(stop)}]"
                lines.extend(
                    self.target.statements_slot(node, self.name(node), args, block)
                )
            elif slot is not None:
                lines.extend(
                    self.target.statements_slot(
                        node, self.name(node), args, plan.slot_names[slot]
                    )
                )
            elif dest is not None:
                scratch = plan.scratch.get(node)
                lines.extend(
                    self.target.statements_into(
                        node,
                        self.name(node),
                        args,
                        self.name(dest),
                        None if scratch is None else self.name(scratch),
                    )
                )
            else:
                lines.extend(self.target.statements(node, self.name(node), args))
            self.needs.update(self.target.needs(node))
            dead = plan.free.get(position) if plan is not None else None
            if dead:
                lines.append("del " + ", ".join(self.name(n) for n in dead))
        return lines

    def slot_lines(self, key: str, plan) -> list:
        """The line binding this thread's buffer slots of `plan` (none if it
        has no slots), naming them for `body_lines`."""
        if plan is None or not plan.slots:
            return []
        plan.slot_names = [self.fresh("buffer") for _ in plan.slots]
        lines, needs = self.target.slots_entry(plan.slot_names, key, plan.slots)
        self.needs.update(needs)
        return lines

    def returned(self, fn) -> str:
        """The return expression of `fn`: its output tree over its leaves."""
        sources = []
        seen = set()
        for node, as_float in zip(fn.outputs, fn.floats, strict=True):
            # Two results in one buffer (the same gradient for two arguments,
            # or W's and W.T's) would change together: the later ones copy.
            root = _buffer_root(node)
            shared = root in seen and not as_float and bool(node.shape)
            seen.add(root)
            sources.append(self.target.output(node, self.ref(node), as_float, shared))
            self.needs.update(self.target.output_needs(node, as_float))
        arg_exprs = self._container_exprs(fn.signature)
        return _tree_src(fn.tree, iter(sources), arg_exprs)

    def _container_exprs(self, sig) -> dict:
        """{id(argument subtree): its access expression} (a dict read by
        position takes the caller's own keys for the structure it returns)."""
        out = {}
        for pos, treedef in enumerate(sig.treedef.children):
            for _, node, where in walk(treedef, self.arguments(sig)[pos]):
                out[id(node)] = where
        return out


def _program_symbols(program) -> list:
    """Every symbol in the shapes of the program's arguments, sorted."""
    names = set()
    for fn in program.functions:
        for leaf in fn.signature.leaves:
            if leaf.node is not None:
                names.update(dims.symbols_of(leaf.node.shape))
    return sorted(names)


def _symbol_sources(sig) -> dict:
    """{symbol: (label, axis)} for the symbols of a signature, in the order
    its checks bind them (first leaf, then axis, with the symbol as a whole
    axis)."""
    out = {}
    for leaf in sig.leaves:
        if leaf.node is None:
            continue
        for axis, d in enumerate(leaf.node.shape):
            if dims.is_symbol(d) and dims.name_of(d) not in out:
                label = keys.label(sig.params[leaf.path[0]], leaf.path[1:])
                out[dims.name_of(d)] = (label, axis)
    return out


def _mismatch(d, label, axis, size, bound) -> str:
    """The message (source of a str expression) when `label`'s axis `axis`,
    of runtime size `size`, is not the size `d` bound from another argument:
    `X has 150 rows but y has 149`."""
    label = comment_safe(label, 200)
    if dims.is_symbol(d):
        first, first_axis = bound[dims.name_of(d)]
        first = comment_safe(first, 200)
        if axis == 0 and first_axis == 0:
            parts = [f"{first} has ", dims.name_of(d), f" rows but {label} has ", size]
        else:
            parts = [
                f"{first} has ",
                dims.name_of(d),
                f" entries along axis {first_axis} but {label} has ",
                size,
                f" along axis {axis}",
            ]
    else:
        sources = ", ".join(f"{s} from {bound[s][0]}" for s in d.symbols)
        parts = [
            f"{label} must have {d!r} = ",
            dims.source(d),
            f" entries along axis {axis} ({comment_safe(sources, 200)}), got ",
            size,
        ]
    # Text parts are literals; the others are expressions (sizes).
    return " + ".join(
        literal(p) if i % 2 == 0 else f"str({p})" for i, p in enumerate(parts)
    )


def _tuple_src(items) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _tree_src(treedef, it, arg_exprs: dict) -> str:
    """Source building `treedef` from leaf sources; a dict that is (a part of)
    an argument with keys that have no literal is rebuilt from the caller's
    keys (`arg_exprs`)."""
    if treedef.is_leaf:
        return next(it)
    items = [_tree_src(c, it, arg_exprs) for c in treedef.children]
    if treedef.kind == "dict":
        lits = keys.dict_literals(treedef.keys)
        if lits is None:
            where = arg_exprs.get(id(treedef))
            if where is None:
                raise ValueError(
                    "a returned dict has keys that cannot be written in the module: "
                    + comment_safe(", ".join(map(keys.key_text, treedef.keys)), 200)
                )
            return f"dict(zip({where}, [{', '.join(items)}]))"
        pairs = zip(lits, items, strict=True)
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if treedef.kind == "list":
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
        if node.is_leaf:
            continue
        checks.append((depth, 0, f"len({where}) != {len(node.children)}"))
        if node.kind == "dict" and keys.dict_literals(node.keys) is None:
            names = literal([keys.type_name(k) for k in node.keys])
            parts = [
                f"not isinstance({where}, dict)",
                f"[type(k).__name__ for k in {where}] != {names}",
            ]
            for i, key in enumerate(node.keys):
                text = keys.literal_of(key)
                if text is not None:
                    parts.append(f"list({where})[{i}] != {text}")
            checks.append((depth, 1, " or ".join(parts)))
    return [text for _, _, text in sorted(checks)]


def _comment(loc: ir.Loc) -> str:
    if loc.file == SUM_FILE:
        return f"# total gradient of {comment_safe(loc.func)}: the sum over its uses"
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


def _helper_name(helpers: dict, sig) -> str:
    """`_arguments`, then `_arguments_ct` for a signature extending it with
    `ct` (numbered if that is taken too)."""
    name = "_arguments"
    if sig.base is not None:
        name += "_" + sanitize(sig.params[-1], "more")
    taken = set(helpers.values())
    k, base = 1, name
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    return name


_INLINE = ("input", "const", "dim")


class SharedForward:
    """The forward computation `forward` and `value_and_grad` both need,
    written once in a `_forward` function that returns the value and the
    forward values the gradient reads (`residuals`)."""

    def __init__(self, forward_fn, both_fn):
        self.forward_fn = forward_fn
        self.both_fn = both_fn
        self.nodes = ir.program_order(list(forward_fn.outputs))
        inside = set(self.nodes)
        everything = ir.program_order(list(both_fn.outputs))
        self.rest = [n for n in everything if n not in inside]
        # (Inputs, constants and sizes are written where they are used.)
        found: dict = {}
        for node in self.rest:
            for x in node.inputs:
                if x in inside and x.op not in _INLINE:
                    found[x] = None
        for node in both_fn.outputs:
            if node in inside and node.op not in _INLINE:
                found[node] = None
        value = forward_fn.outputs[0]
        self.returned = [value] + [n for n in found if n is not value]
        self.in_slots: set = set()  # set when `_forward` is planned

    @staticmethod
    def of(program):
        """The shared forward of a program, or None when there is none (no
        forward function, or reverse mode changed the forward computation)."""
        fwd, both = program.function("forward"), program.function("value_and_grad")
        if fwd is None or both is None or fwd.delegate or both.delegate:
            return None
        if fwd.signature is not both.signature or len(fwd.outputs) != 1:
            return None
        if fwd.outputs[0] is not both.outputs[0]:
            return None
        if fwd.outputs[0].op in _INLINE:
            return None  # nothing to compute
        shared = SharedForward(fwd, both)
        return shared

    def _params(self, em) -> list:
        return em._bound(self.forward_fn.signature) + (
            [random_ops.RNG] if em.random else []
        )

    def lines(self, em) -> list:
        params = self._params(em)
        plan = None
        if em.target.PLANS_MEMORY:
            plan = memory.plan(
                self.nodes,
                self.returned,
                into=em.target.writes_into,
                into_slot=em.target.writes_slot,
                kept=self.kept(),
            )
            self.in_slots = plan.in_slots
        body = em.slot_lines("_forward", plan) + em.body_lines(self.nodes, plan=plan)
        names = [em.ref(n) for n in self.returned]
        body += ["", f"return {', '.join(names) if len(names) > 1 else names[0]}"]
        doc = "The forward pass, written once: the value and what the gradient reads."
        # No decorators: its callers, `forward` and `value_and_grad`, carry
        # them (NumPy's errstate costs a context switch per call).
        return function("_forward", params, doc, body)

    def kept(self) -> list:
        """The forward values only `value_and_grad` reads (it never returns
        them, nor a view of them): they may live in `_forward`'s buffer slots."""
        handed_out = {_buffer_root(n) for n in self.both_fn.outputs}
        handed_out.add(_buffer_root(self.returned[0]))
        return [n for n in self.returned[1:] if _buffer_root(n) not in handed_out]

    def call(self, em) -> str:
        return f"_forward({', '.join(self._params(em))})"


def _function_lines(em, fn, helpers: dict, shared=None) -> list:
    args = em.arguments(fn.signature)
    # Random draws come from a keyword argument, `rng=None`, passed along.
    rng = [random_ops.RNG] if em.random else []
    params = args + (["*", f"{random_ops.RNG}=None"] if rng else [])
    if fn.delegate is not None:
        target, index = fn.delegate
        calls = args + [f"{r}={r}" for r in rng]
        body = [f"return {target}({', '.join(calls)})[{index}]"]
        return function(fn.name, params, fn.doc, body)
    lines = em.bind_line(fn.signature, helpers[id(fn.signature)])
    if rng:
        rng_lines, rng_needs = em.target.random_entry(random_ops.RNG)
        lines += rng_lines
        em.needs.update(rng_needs)
    if shared is not None and fn is shared.forward_fn:
        value = shared.call(em) + ("[0]" if len(shared.returned) > 1 else "")
        (node,) = fn.outputs
        lines += ["", f"return {em.target.output(node, value, fn.floats[0])}"]
        return function(fn.name, params, fn.doc, lines, em.target.DECORATORS)
    if shared is not None and fn is shared.both_fn:
        names = ", ".join(em.ref(n) for n in shared.returned)
        lines += [f"{names} = {shared.call(em)}"]
        nodes = shared.rest
        plan = None
        if em.target.PLANS_MEMORY:
            known = memory.c_order(shared.nodes)
            # Forward values in `_forward`'s slots are read, never reused here.
            owned = [n for n in shared.returned if n not in shared.in_slots]
            plan = memory.plan(
                nodes,
                fn.outputs,
                owned,
                known,
                em.target.writes_into,
                em.target.writes_slot,
            )
    else:
        nodes = ir.program_order(list(fn.outputs))
        plan = None
        if em.target.PLANS_MEMORY:
            plan = memory.plan(
                nodes,
                fn.outputs,
                into=em.target.writes_into,
                into_slot=em.target.writes_slot,
            )
    lines += em.slot_lines(fn.name, plan)
    lines += em.body_lines(nodes, plan=plan)
    lines += ["", f"return {em.returned(fn)}"]
    return function(fn.name, params, fn.doc, lines, em.target.DECORATORS)


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
        constants = Constants(target)
    em = Emitter(program, target, constants, defined=_defined(extra_blocks))
    # Name every node in program order first, function by function, so that
    # a value has one name in every function that computes it.
    for fn in program.functions:
        for node in ir.program_order(list(fn.outputs)):
            if node.op not in ("const", "dim"):
                em.name(node)
    helpers: dict = {}
    blocks = []
    for fn in program.functions:
        sig = fn.signature
        if fn.delegate is not None or id(sig) in helpers:
            continue
        base = sig.base
        if base is not None and id(base) not in helpers:
            helpers[id(base)] = _helper_name(helpers, base)
            blocks.append(em.checks_helper(base, helpers[id(base)]))
        helpers[id(sig)] = _helper_name(helpers, sig)
        base_helper = helpers.get(id(base)) if base is not None else None
        blocks.append(em.checks_helper(sig, helpers[id(sig)], base_helper))
    shared = SharedForward.of(program)
    if shared is not None:
        blocks.append(shared.lines(em))
    for fn in program.functions:
        blocks.append(_function_lines(em, fn, helpers, shared))

    fun = doc_safe(program.fun_name)
    src = doc_safe(os.path.basename(program.filename))
    doc = [
        "Generated by symgrad " + __version__ + f" from {src}:{fun}. Do not edit.",
        "",
    ]
    for fn in program.functions:
        args = ", ".join(em.arguments(fn.signature))
        doc.append(f"{fn.name}({args}) -> {fn.summary}")
    if em.random:
        doc += list(target.RANDOM_DOC)
    doc += list(extra_doc)
    header = [
        *docstring("\n".join(doc)),
        "",
        *_imports(constants.imports(), target.prelude(em.needs | set(extra_needs))),
    ]
    functions = []
    for part in [*blocks, *extra_blocks]:
        functions += (["", ""] if functions else []) + part
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


def _defined(blocks) -> frozenset:
    """The top-level names extra blocks define (`def train(`, `FORMAT = `)."""
    names = set()
    for lines in blocks:
        names |= bound_names(lines)
    return frozenset(names)


def _buffer_root(node):
    """The node whose array `node` is (itself, or the base of a view)."""
    while node.vtype is None and node.inputs and "view" in OPS[node.op].flags:
        node = node.inputs[0]
    return node
