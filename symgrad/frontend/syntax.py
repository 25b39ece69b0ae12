"""Source-to-source conversion: Python control flow as calls into the runtime.

Contract: `converted_code(fun)` returns the code object of `fun` rewritten so
that every statement whose behaviour may depend on a traced value asks
`symgrad.frontend.runtime` what to do (None when `fun` has no source or is
a coroutine, or cannot be converted; it then keeps today's behaviour). A
lambda is converted as `def sg__lambda(args): return body`, from its own
node in its file (found by the positions of its code when several lambdas
start on one line). The result is cached per code object. `build(fun, code,
globals, cells)` makes a function of it with `fun`'s defaults, name and
closure cells.

What is rewritten (the runtime runs plain Python for plain values, exactly as
the original would, and stages regions for traced ones):
- `if`/`elif`/`else` become two functions of the variables either branch
  assigns (returning their new values) and a call `if_stmt`; an `if` at the
  end of a function whose branches return becomes `return if_return(...)`.
  Code after an `if` whose branch returns moves into the other branch first,
  so guard clauses need no flags.
- an `if/elif/.../else` chain of `CHAIN_MIN` links or more becomes one
  call `switch_stmt` (or `switch_return`) with a function per test (called
  in order, as Python evaluates them) and per branch, so that neither the
  converter nor the staged code nests once per `elif`; shorter chains stay
  nested `if_stmt` calls (their generated code is flat already).
- `while` and `for` become a test function, a body function of the
  variables the body assigns, and `while_stmt` / `for_stmt`.
- an import in the body is followed by `names = imported(names, paths)`, so
  that what it binds resolves as the same import at module level does.
- `break`, `continue` and the remaining `return`s become flag variables (as
  AutoGraph does): the statements after one are guarded by `if not flag`, and
  loops test the flags.
- `a if c else b`, `and`, `or`, `not`, chained comparisons, comprehension
  filters, every call (`call`, which converts user functions and methods,
  maps builtins such as `min` and random draws), subscript reads, subscript
  writes and augmented assignments (which rebind the variable: a plain array
  receiving a traced value becomes a traced one), writes to globals, and
  `try` statements (refused around traced code).
- Generator functions keep their statements; their tests refuse traced
  values with an error naming generators.
Line numbers are the user's: errors, source locations and the comments of
generated code point at the original lines.
"""

from __future__ import annotations
import __future__  # noqa: I001 - the module, for its compiler flags

import ast
import builtins
import copy
import inspect
import itertools
import os
import sys
import textwrap
import threading
import types

RT = "sg__rt"
PREFIX = "sg__"

# Methods that change their object: a variable they are called on counts as
# assigned by the block (so staged branches get a copy, not the original).
MUTATORS = frozenset(
    (
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "setdefault",
        "popitem",
        "sort",
        "reverse",
        "add",
        "discard",
        "fill",
        "put",
        "resize",
    )
)
# Calls that look at the calling frame: never routed through the runtime.
_FRAME_CALLS = frozenset(
    ("super", "locals", "globals", "vars", "dir", "eval", "exec", "breakpoint")
)
_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag

_NO_CONVERT = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
_NO_CONVERT |= inspect.CO_ITERABLE_COROUTINE

_cache: dict = {}
_lock = threading.Lock()
# Code objects this module made (they are never converted again).
CONVERTED: set = set()
# Why a function was left unconverted (for debugging: code -> exception).
FAILURES: dict = {}


class Unconvertible(Exception):
    """A construct the converter leaves to plain Python."""


def converted_code(fun) -> types.CodeType | None:
    """The converted code object of a user function, or None."""
    code = fun.__code__
    try:
        return _cache[code]
    except KeyError:
        pass
    try:
        new = _convert_function(fun)
    except RecursionError:
        # The converter recurses over blocks and expressions: a function
        # nesting deeper than Python's limit allows (a 500-term sum; an
        # elif chain is flattened first, see `_flatten_chains`) stays
        # unconverted, and `resolve.unconverted_reason`
        # says why should the function need converting (an if on a traced
        # value).
        FAILURES[code] = RecursionError(_too_deep(code))
        new = None
    except Exception as exc:  # noqa: BLE001 - recorded; see FAILURES
        FAILURES[code] = exc
        new = None
    with _lock:
        new = _cache.setdefault(code, new)
    return new


def _too_deep(code) -> str:
    """What a RecursionError while converting `code` means, naming the line
    where its syntax tree nests deepest and Python's recursion limit."""
    deepest, line = 0, code.co_firstlineno
    try:
        lines, start = inspect.getsourcelines(code)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, RecursionError, ValueError):
        tree = None
    stack = [(tree, 0)] if tree is not None else []
    while stack:  # iterative: the tree is what is too deep to recurse over
        node, depth = stack.pop()
        if depth > deepest and hasattr(node, "lineno"):
            deepest, line = depth, node.lineno + start - 1
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return (
        f"its code nests {deepest} levels deep (at line {line}), more than the "
        f"converter can follow within Python's recursion limit "
        f"({sys.getrecursionlimit()}); split it into smaller functions (a long "
        "elif chain into a lookup, a long sum into a loop or np.sum)"
    )


def build(fun, code, globals_, cells: dict, runtime_cell):
    """A function running `code` with `fun`'s defaults and names, `globals_`,
    the closure cells `cells` (by free variable name) and the runtime."""
    closure = []
    for name in code.co_freevars:
        if name == RT:
            closure.append(runtime_cell)
        else:
            closure.append(cells[name])
    out = types.FunctionType(
        code, globals_, fun.__name__, fun.__defaults__, tuple(closure) or None
    )
    out.__kwdefaults__ = fun.__kwdefaults__
    out.__qualname__ = fun.__qualname__
    out.__doc__ = fun.__doc__
    out.__dict__.update(fun.__dict__)
    return out


# ------------------------------------------------------------------ parsing


def _convert_function(fun):
    code = fun.__code__
    if code.co_flags & _NO_CONVERT:
        return None
    if code.co_name == "<lambda>":
        fdef = _lambda_def(code)
        if fdef is None:
            return None
    else:
        fdef = _function_def(code)
        if fdef is None:
            return None
        if fdef.name != code.co_name:
            raise Unconvertible("the source does not match the function (edited?)")
    if _arg_names(fdef) != _code_args(code):
        raise Unconvertible("the source does not match the function (edited?)")
    fdef.decorator_list = []
    fdef.returns = None
    _strip_signature(fdef.args)
    filename = code.co_filename
    generator = bool(code.co_flags & inspect.CO_GENERATOR)
    new_def = _Function(fdef, filename, itertools.count(1), generator).run()
    freevars = [v for v in code.co_freevars if v != "__class__"]
    parts = fun.__qualname__.split(".")
    owner = parts[-2] if len(parts) > 1 and parts[-2] != "<locals>" else None
    if owner is not None and owner.isidentifier():
        inner = [ast.ClassDef(owner, [], [], [new_def], [])]
        result = ast.Subscript(
            ast.Attribute(_load(owner), "__dict__", ast.Load()),
            ast.Constant(fdef.name),
            ast.Load(),
        )
    else:
        # Under another name: a def named like the function would make the
        # function's own name (recursion) a closure variable of the factory.
        new_def.name = PREFIX + "function"
        inner = [new_def]
        result = _load(new_def.name)
    factory = ast.FunctionDef(
        name=PREFIX + "factory",
        args=_params([RT] + freevars),
        body=inner + [ast.Return(result)],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    _locate(factory, fdef)
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    compiled = compile(
        module,
        filename,
        "exec",
        flags=code.co_flags & _FUTURE_FLAGS,
        dont_inherit=True,
    )
    namespace = {"__builtins__": builtins, "__name__": fun.__module__}
    exec(compiled, namespace)  # noqa: S102 - our own AST of the user's source
    made = namespace[PREFIX + "factory"](*([None] * (1 + len(freevars))))
    new_code = made.__code__.replace(co_name=code.co_name, co_qualname=code.co_qualname)
    _register(new_code)
    return new_code


def _function_def(code):
    """The def of a function's code object, with the file's line numbers
    (None without source)."""
    try:
        # (Of the code object: for a function, inspect would follow
        # `__wrapped__` to the function a decorator wraps.)
        lines, start = inspect.getsourcelines(code)
    except (OSError, TypeError):
        return None
    source = textwrap.dedent("".join(lines))
    tree = ast.parse(source)
    if not tree.body or not isinstance(tree.body[0], ast.FunctionDef):
        raise Unconvertible("the source does not start with a def")
    ast.increment_lineno(tree, start - 1)
    return tree.body[0]


def _lambda_def(code):
    """A lambda's code object as `def sg__lambda(args): return body`, from its
    own node in the file's source (None without source).

    Several lambdas may start on one line (`f = lambda x: ...; g = lambda
    y: ...`, or nested ones): the node is the lambda starting there with the
    same parameters whose body holds the source positions of the code's
    instructions (on Python 3.11+; before, only a lone candidate is taken).
    """
    try:
        lines, _ = inspect.findsource(code)
    except (OSError, TypeError):
        return None
    found = [
        node
        for node in ast.walk(_parsed("".join(lines)))
        if isinstance(node, ast.Lambda)
        and node.lineno == code.co_firstlineno
        and _arg_names(node) == _code_args(code)
    ]
    if len(found) > 1 and hasattr(code, "co_positions"):
        points = [
            (line, col)
            for line, _, col, _ in code.co_positions()
            if line is not None and col is not None
        ]
        scores = [_inside(node.body, points) for node in found]
        best = max(scores)
        found = [node for node, n in zip(found, scores, strict=True) if n == best]
    if len(found) != 1:
        raise Unconvertible(f"{len(found)} lambdas on line {code.co_firstlineno} match")
    node = copy.deepcopy(found[0])
    ret = ast.copy_location(ast.Return(node.body), node.body)
    fdef = ast.FunctionDef(
        name=PREFIX + "lambda",
        args=node.args,
        body=[ret],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    return ast.copy_location(fdef, node)


def _inside(node, points) -> int:
    """How many (line, column) points fall within the node's span."""
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno, node.end_col_offset)
    return sum(start <= p < end for p in points)


_PARSED: dict = {}


def _parsed(source: str):
    """The parsed text of a file (the last few kept: the lambdas of one
    file are converted one after another)."""
    tree = _PARSED.get(source)
    if tree is None:
        tree = ast.parse(source)
        with _lock:
            if len(_PARSED) >= 8:
                _PARSED.pop(next(iter(_PARSED)))
            _PARSED[source] = tree
    return tree


def _register(code):
    stack = [code]
    found = []
    while stack:
        c = stack.pop()
        found.append(c)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    with _lock:
        CONVERTED.update(found)


def _arg_names(fdef) -> list:
    a = fdef.args
    names = [x.arg for x in a.posonlyargs + a.args]
    names += [x.arg for x in a.kwonlyargs]
    return names


def _code_args(code) -> list:
    n = code.co_argcount + code.co_kwonlyargcount
    return list(code.co_varnames[:n])


def _strip_signature(args):
    """Annotations and defaults go (the rebuilt function gets the original
    default values; annotations would be evaluated in the wrong place)."""
    for a in args.posonlyargs + args.args + args.kwonlyargs:
        a.annotation = None
    for a in (args.vararg, args.kwarg):
        if a is not None:
            a.annotation = None
    args.defaults = []
    args.kw_defaults = [None] * len(args.kwonlyargs)


# ------------------------------------------------------------------ helpers


def _load(name):
    return ast.Name(name, ast.Load())


def _store(name):
    return ast.Name(name, ast.Store())


def _rt(attr):
    return ast.Attribute(_load(RT), attr, ast.Load())


def _rt_call(attr, *args):
    return ast.Call(_rt(attr), list(args), [])


def _const(value):
    return ast.Constant(value)


def _tuple(items, ctx=None):
    return ast.Tuple(list(items), ctx or ast.Load())


def _lambda(body):
    return ast.Lambda(_params([]), body)


def _params(names):
    return ast.arguments(
        posonlyargs=[],
        args=[ast.arg(n) for n in names],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )


def _fdef(name, params, body):
    return ast.FunctionDef(
        name=name,
        args=_params(params),
        body=body or [ast.Pass()],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )


def _assign(name, value):
    return ast.Assign([_store(name)], value)


def _locate(new, old):
    """Give every node of `new` without a location the start of `old` (a
    one-line location: Python reports a call at its attribute's end line)."""
    for node in ast.walk(new):
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            node.lineno = node.end_lineno = old.lineno
            node.col_offset = node.end_col_offset = old.col_offset
    return new


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _walk_scope(nodes):
    """Every node of `nodes` in this scope (not inside nested functions,
    classes, lambdas or comprehensions; their names and defaults count)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack.extend(node.decorator_list)
            stack.extend(node.args.defaults)
            stack.extend(d for d in node.args.kw_defaults if d is not None)
            continue
        if isinstance(node, ast.ClassDef):
            stack.extend(node.decorator_list + node.bases)
            continue
        if isinstance(node, (ast.Lambda,) + _COMPREHENSIONS):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _target_names(target, out):
    if isinstance(target, ast.Name):
        out.append(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _target_names(elt, out)
    elif isinstance(target, ast.Starred):
        _target_names(target.value, out)
    elif isinstance(target, ast.Subscript):
        base = _base_name(target)
        if base is not None:
            out.append(base)


def _base_name(node):
    """`x` for `x[i]`, `x[i][j]` (the variable a subscript write rebinds)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def bound_names(stmts) -> list:
    """Variables the statements (re)bind in this scope, in order of first
    appearance: assignments, loop targets, imports, defs, subscript writes
    and calls of mutating methods (`lst.append(v)`)."""
    found: list = []
    for node in _walk_scope(stmts):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.append(node.id)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Subscript) or (
                    isinstance(t, (ast.Tuple, ast.List))
                ):
                    _target_names(t, found)
        elif isinstance(node, ast.For):
            _target_names(node.target, found)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.append((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.append(node.name)
        elif isinstance(node, ast.NamedExpr):
            found.append(node.target.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in MUTATORS and isinstance(node.func.value, ast.Name):
                found.append(node.func.value.id)
    return list(dict.fromkeys(found))


def _writes_objects(stmts) -> int:
    """The line of the first attribute write or mutating method call on an
    attribute in the statements (0 if none): staged branches would run it on
    both paths."""
    for node in _walk_scope(stmts):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            return node.lineno
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
            return node.lineno
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in MUTATORS and not isinstance(node.func.value, ast.Name):
                return node.lineno
    return 0


def _contains(stmts, kinds) -> bool:
    return any(isinstance(n, kinds) for n in _walk_scope(stmts))


def _loop_jumps(stmts, kind) -> bool:
    """Whether the statements hold a `break` / `continue` of this loop (not
    of a nested one)."""
    stack = list(stmts)
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            return True
        if isinstance(node, (ast.For, ast.While)):
            stack.extend(node.orelse)
            continue
        if isinstance(node, _SCOPES):
            continue
        stack.extend(
            n for n in ast.iter_child_nodes(node) if isinstance(n, (ast.stmt, _Case))
        )
    return False


def _forever(loop) -> bool:
    """A `while` loop whose test is a true constant (`while True:`)."""
    test = getattr(loop, "test", None)
    return isinstance(test, ast.Constant) and bool(test.value)


def _has_unsafe_lazy(expr) -> bool:
    """Expressions that cannot move into a lambda (they bind or suspend)."""
    return any(
        isinstance(n, (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await))
        for n in ast.walk(expr)
    )


def _exits(stmts) -> bool:
    """Whether the statements always end with a return or a raise."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return _exits(last.body) and _exits(last.orelse)
    if isinstance(last, _Chain):
        return all(_exits(b) for b in last.blocks())
    return False


# ------------------------------------------------------------------ chains

# Links from which an if/elif chain becomes one `_Chain` (one runtime call,
# one staged switch). Shorter chains keep their nested form, whose generated
# code is already flat (`elif`), so existing programs keep their code.
CHAIN_MIN = 8


class _Case(ast.AST):
    """One `if test:` / `elif test:` of a chain."""

    _fields = ("test", "body")
    _attributes = ("lineno", "col_offset", "end_lineno", "end_col_offset")


class _Chain(ast.stmt):
    """An `if/elif/.../else` chain as one flat statement: `cases` (one per if
    and elif), `orelse` the final else. Only the converter sees it."""

    _fields = ("cases", "orelse")

    def blocks(self) -> list:
        return [c.body for c in self.cases] + [self.orelse]


def _links(s) -> list:
    """The ifs of the chain starting at `s` (an else holding only an if is
    an elif), found without recursion."""
    links = [s]
    while len(links[-1].orelse) == 1 and isinstance(links[-1].orelse[0], ast.If):
        links.append(links[-1].orelse[0])
    return links


def _flatten_chains(stmts) -> None:
    """Replace, in place, every chain of `CHAIN_MIN` links or more in these
    statements (and the blocks inside them, in this scope) by a `_Chain`.
    Iterative: the chain is what nests too deeply to recurse over."""
    todo = [stmts]
    while todo:
        block = todo.pop()
        for i, s in enumerate(block):
            if isinstance(s, ast.If):
                links = _links(s)
                if len(links) >= CHAIN_MIN and not any(
                    _has_unsafe_lazy(link.test) for link in links
                ):
                    cases = [
                        ast.copy_location(_Case(link.test, link.body), link)
                        for link in links
                    ]
                    s = block[i] = ast.copy_location(_Chain(cases, links[-1].orelse), s)
            if isinstance(s, _Chain):
                todo.extend(s.blocks())
                continue
            if isinstance(s, _SCOPES):
                continue  # converted as its own function, if at all
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    todo.append(inner)
            if isinstance(s, ast.Try):
                todo.extend(h.body for h in s.handlers)


def _lift_returns(stmts) -> list:
    """Move the code after an `if` one of whose branches returns into the
    other branch (`if c: return a` / `rest` -> `if c: return a` / `else:
    rest`), so returns end up at the ends of branches."""
    out = []
    for i, s in enumerate(stmts):
        out.append(s)
        if isinstance(s, _Chain):
            for c in s.cases:
                c.body = _lift_returns(c.body)
            s.orelse = _lift_returns(s.orelse)
            exits = [_exits(b) for b in s.blocks()]
            rest = stmts[i + 1 :]
            if all(exits):
                return out  # what follows never runs
            if any(exits) and rest and exits.count(False) == 1:
                k = exits.index(False)
                if k < len(s.cases):
                    s.cases[k].body = _lift_returns(s.cases[k].body + rest)
                else:
                    s.orelse = _lift_returns(s.orelse + rest)
                return out
            # Several branches go on: the rest stays after the chain (the
            # return flags guard it).
            continue
        if isinstance(s, ast.If):
            s.body = _lift_returns(s.body)
            s.orelse = _lift_returns(s.orelse)
            t, f = _exits(s.body), _exits(s.orelse)
            rest = stmts[i + 1 :]
            if (t or f) and rest:
                if not t:
                    s.body = _lift_returns(s.body + rest)
                elif not f:
                    s.orelse = _lift_returns(s.orelse + rest)
                return out
        if isinstance(s, (ast.Return, ast.Raise)):
            return out  # what follows never runs
    return out


def _tail_only(stmts) -> bool:
    """Whether every return is at the end of the function (or at the end of
    a branch of a final if, recursively)."""
    for s in stmts[:-1]:
        if _contains([s], ast.Return):
            return False
    if not stmts:
        return True
    last = stmts[-1]
    if isinstance(last, ast.Return):
        return True
    if isinstance(last, ast.If):
        return _tail_only(last.body) and _tail_only(last.orelse)
    if isinstance(last, _Chain):
        return all(_tail_only(b) for b in last.blocks())
    return not _contains([last], ast.Return)


# ------------------------------------------------------------------ flags


class _Jumps:
    """`break`, `continue` and `return` as flag variables (see module doc)."""

    def __init__(self, counter, ret: bool):
        self.counter = counter
        self.ret = ret

    def block(self, stmts, loop):
        out = []
        for i, s in enumerate(stmts):
            new, may = self.stmt(s, loop)
            out.extend(new)
            if may:
                if isinstance(s, (ast.Break, ast.Continue, ast.Return)):
                    return out, may  # the rest of the block never runs
                rest, rest_may = self.block(stmts[i + 1 :], loop)
                if rest:
                    guard = ast.If(_not_any(sorted(may)), rest, [])
                    guard.sg_guard = sorted(may)
                    out.append(_locate(guard, stmts[i + 1]))
                return out, may | rest_may
        return out, set()

    def stmt(self, s, loop):
        if isinstance(s, ast.Return) and self.ret:
            value = s.value if s.value is not None else _const(None)
            new = [_assign(RET_VALUE, value), _assign(RET_FLAG, _const(True))]
            return [_locate(n, s) for n in new], {RET_FLAG}
        if isinstance(s, ast.Break):
            return [_locate(_assign(loop[0], _const(True)), s)], {loop[0]}
        if isinstance(s, ast.Continue):
            return [_locate(_assign(loop[1], _const(True)), s)], {loop[1]}
        if isinstance(s, ast.If):
            s.body, m1 = self.block(s.body, loop)
            s.orelse, m2 = self.block(s.orelse, loop)
            s.body = s.body or [ast.Pass()]
            return [s], m1 | m2
        if isinstance(s, _Chain):
            may = set()
            for c in s.cases:
                c.body, m = self.block(c.body, loop)
                c.body = c.body or [ast.Pass()]
                may |= m
            s.orelse, m = self.block(s.orelse, loop)
            return [s], may | m
        if isinstance(s, ast.With):
            s.body, m = self.block(s.body, loop)
            return [s], m
        if isinstance(s, ast.Try):
            s.body, m = self.block(s.body, loop)
            for h in s.handlers:
                h.body, mh = self.block(h.body, loop)
                m |= mh
            s.orelse, mo = self.block(s.orelse, loop)
            s.finalbody, mf = self.block(s.finalbody, loop)
            s.body = s.body or [ast.Pass()]
            return [s], m | mo | mf
        if isinstance(s, (ast.While, ast.For)):
            return self.loop(s, loop)
        return [s], set()

    def loop(self, s, outer):
        n = next(self.counter)
        brk = f"{PREFIX}brk_{n}" if _loop_jumps(s.body, ast.Break) else None
        cont = f"{PREFIX}cont_{n}" if _loop_jumps(s.body, ast.Continue) else None
        body, may = self.block(s.body, (brk, cont))
        if cont:
            body = [_locate(_assign(cont, _const(False)), s)] + body
        s.body = body or [ast.Pass()]
        extra = [brk] if brk else []
        if RET_FLAG in may:
            extra.append(RET_FLAG)
        s.sg_extra = extra
        before = [_locate(_assign(brk, _const(False)), s)] if brk else []
        after = []
        out_may = may & {RET_FLAG}
        if RET_FLAG in may and not brk and _forever(s):
            # `while True:` without a break ends only by returning: after
            # it the function has returned, whatever the traced values.
            after = [_locate(_assign(RET_FLAG, _const(True)), s)]
        if s.orelse:
            orelse, mo = self.block(s.orelse, outer)
            if brk:
                after = [_locate(ast.If(_not_any([brk]), orelse, []), s.orelse[0])]
            else:
                after = orelse
            out_may |= mo
            s.orelse = []
        return before + [s] + after, out_may


def _temporary(name: str) -> bool:
    """Names of values used within one statement of converted code."""
    return name.startswith(PREFIX) and name.split("_")[2] in _TEMPS


_TEMPS = frozenset(("v", "k", "c", "n", "item", "try", "then", "else", "body", "test"))

RET_FLAG = PREFIX + "ret"
RET_VALUE = PREFIX + "retval"


def _not_any(flags):
    tests = [ast.UnaryOp(ast.Not(), _load(f)) for f in flags]
    return tests[0] if len(tests) == 1 else ast.BoolOp(ast.And(), tests)


# ------------------------------------------------------------------ functions


class _Function:
    """Converts one function definition (its own scope)."""

    def __init__(self, fdef, filename, counter, generator=False):
        self.fdef = fdef
        self.filename = filename
        self.base = os.path.basename(filename)
        self.counter = counter
        self.generator = generator
        self.globals = set()
        self.nonlocals = set()
        # Names the function binds itself (its locals): a subscript write to
        # any other name (a closure's dict, a global list) must not rebind it.
        self.locals = set(_arg_names(fdef))
        for node in _walk_scope(fdef.body):
            if isinstance(node, ast.Global):
                self.globals.update(node.names)
            elif isinstance(node, ast.Nonlocal):
                self.nonlocals.update(node.names)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.locals.add(node.id)

    def site(self, node) -> str:
        return f"{self.base}:{node.lineno}"

    def run(self):
        fdef = self.fdef
        if _contains(fdef.body, (ast.AsyncFor, ast.AsyncWith, ast.Await)):
            raise Unconvertible("async code")
        if any(
            isinstance(n, getattr(ast, "Match", ())) for n in _walk_scope(fdef.body)
        ):
            raise Unconvertible("match statements")
        if self.generator:
            fdef.body = _Generator(self).block(fdef.body)
            return fdef
        _flatten_chains(fdef.body)
        body = _lift_returns(self.guards(fdef.body))
        tail = _tail_only(body)
        jumps = _Jumps(self.counter, ret=not tail)
        body, _ = jumps.block(body, None)
        if not tail:
            start = [
                _assign(RET_FLAG, _const(False)),
                _assign(RET_VALUE, _rt("NO_RETURN")),
            ]
            body = [_locate(s, fdef) for s in start] + body
            end = ast.Return(_rt_call("result", _load(RET_FLAG), _load(RET_VALUE)))
            body.append(_locate(end, body[-1]))
        defined = set(_arg_names(fdef))
        a = fdef.args
        for extra in (a.vararg, a.kwarg):
            if extra is not None:
                defined.add(extra.arg)
        defined |= self.globals | self.nonlocals
        fdef.body = self.block(body, defined, tail=tail) or [ast.Pass()]
        return fdef

    def guards(self, stmts) -> list:
        """`if test: raise E(...)` (nothing else in the if) as a call of the
        runtime's `raise_if`, in every block: on a traced test the generated
        code keeps the check. `assert` statements become `assert_` calls."""
        out = []
        for s in stmts:
            if (
                isinstance(s, ast.If)
                and not s.orelse
                and len(s.body) == 1
                and isinstance(s.body[0], ast.Raise)
                and s.body[0].exc is not None
                and s.body[0].cause is None
                and not _has_unsafe_lazy(s.test)
                and not _has_unsafe_lazy(s.body[0].exc)
            ):
                call = _rt_call(
                    "raise_if", s.test, _lambda(s.body[0].exc), _const(self.site(s))
                )
                out.append(_locate(ast.Expr(call), s))
                continue
            if isinstance(s, ast.Assert) and not _has_unsafe_lazy(s.test):
                message = s.msg if s.msg is not None else _const(None)
                if _has_unsafe_lazy(message):
                    out.append(s)
                    continue
                call = _rt_call(
                    "assert_", s.test, _lambda(message), _const(self.site(s))
                )
                out.append(_locate(ast.Expr(call), s))
                continue
            if isinstance(s, _SCOPES):
                out.append(s)  # converted as its own function, if at all
                continue
            if isinstance(s, _Chain):
                for c in s.cases:
                    c.body = self.guards(c.body)
                s.orelse = self.guards(s.orelse)
                out.append(s)
                continue
            for field in ("body", "orelse", "finalbody"):
                block = getattr(s, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    setattr(s, field, self.guards(block))
            if isinstance(s, ast.Try):
                for h in s.handlers:
                    h.body = self.guards(h.body)
            out.append(s)
        return out

    # --- statements --------------------------------------------------------

    def block(self, stmts, defined, tail=False) -> list:
        out = []
        for i, s in enumerate(stmts):
            last = tail and i == len(stmts) - 1
            out.extend(self.stmt(s, defined, last))
        return out

    def stmt(self, s, defined, tail):
        if isinstance(s, ast.If):
            return self.if_(s, defined, tail)
        if isinstance(s, _Chain):
            return self.chain_(s, defined, tail)
        if isinstance(s, ast.While):
            return self.while_(s, defined)
        if isinstance(s, ast.For):
            return self.for_(s, defined)
        if isinstance(s, ast.Assign):
            return self.assign(s, defined)
        if isinstance(s, ast.AugAssign):
            return self.augassign(s, defined)
        if isinstance(s, ast.AnnAssign):
            if s.value is not None and isinstance(s.target, ast.Name):
                return self.assign(
                    ast.copy_location(ast.Assign([s.target], s.value), s), defined
                )
            return [s]
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(s.name)
            return [self.nested(s)]
        if isinstance(s, ast.ClassDef):
            defined.add(s.name)
            s.body = [
                self.nested(b) if isinstance(b, ast.FunctionDef) else b for b in s.body
            ]
            return [s]
        if isinstance(s, ast.Try):
            return self.try_(s, defined)
        if isinstance(s, ast.With):
            for item in s.items:
                item.context_expr = self.expr(item.context_expr)
            s.body = self.block(s.body, defined) or [ast.Pass()]
            for item in s.items:
                if item.optional_vars is not None:
                    names = []
                    _target_names(item.optional_vars, names)
                    defined.update(names)
            return [s]
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            defined.update(bound_names([s]))
            return [s] + self.resolve_import(s)
        if isinstance(s, (ast.Expr, ast.Return, ast.Raise, ast.Assert, ast.Delete)):
            return [self.expr(s)]
        return [s]

    def resolve_import(self, s) -> list:
        """`names = sg__rt.imported(names, paths)` after an import in the
        body, so that what it binds resolves as the same import at module
        level does (`from scipy.special import logsumexp`, `import numpy as
        np`: symgrad's versions)."""
        names, paths = [], []
        for alias in s.names:
            if alias.name == "*":
                return []
            if isinstance(s, ast.ImportFrom):
                module = s.module if s.level == 0 else None
                path = f"{module}.{alias.name}" if module else None
                names.append(alias.asname or alias.name)
            elif alias.asname:
                path = alias.name
                names.append(alias.asname)
            else:
                # `import scipy.special` binds `scipy`.
                path = alias.name.split(".")[0]
                names.append(path)
            paths.append(path)
        if any(n in self.globals or n in self.nonlocals for n in names):
            return []
        call = _rt_call(
            "imported",
            _tuple([_load(n) for n in names]),
            _tuple([_const(p) for p in paths]),
        )
        target = _tuple([_store(n) for n in names], ast.Store())
        return [_locate(ast.Assign([target], call), s)]

    def nested(self, fdef):
        """A function defined inside this one: converted as its own scope
        (decorators and defaults are expressions of this one)."""
        fdef.decorator_list = [self.expr(d) for d in fdef.decorator_list]
        fdef.args.defaults = [self.expr(d) for d in fdef.args.defaults]
        fdef.args.kw_defaults = [
            None if d is None else self.expr(d) for d in fdef.args.kw_defaults
        ]
        if isinstance(fdef, ast.AsyncFunctionDef):
            return fdef
        generator = _contains(fdef.body, (ast.Yield, ast.YieldFrom))
        try:
            return _Function(fdef, self.filename, self.counter, generator).run()
        except Unconvertible:
            return fdef

    def expr(self, node):
        return _Expressions(self).visit(node)

    def load(self, name, defined):
        """The value of variable `name`, or an Undefined if it may be unbound."""
        if name in defined:
            return _load(name)
        return _rt_call("ld", _lambda(_load(name)), _const(name))

    def carried(self, stmts, extra=()) -> list:
        """The variables a block may change (its temporaries stay inside)."""
        names = list(dict.fromkeys(list(extra) + bound_names(stmts)))
        return [n for n in names if n not in self.globals and not _temporary(n)]

    def branch(self, name, params, body, defined_inner, at, result=True, tail=False):
        """A function `name(*params)` running `body`, returning the params."""
        inner = set(defined_inner) | set(params)
        stmts = self.block(body, inner, tail=tail)
        written = [g for g in bound_names(body) if g in self.globals]
        if written:
            stmts = [ast.Global(written)] + stmts
        if result:
            stmts.append(ast.Return(_tuple([_load(p) for p in params])))
        return _locate(_fdef(name, params, stmts), at)

    def if_(self, s, defined, tail):
        n = next(self.counter)
        returning = tail and _contains([s], ast.Return)
        names = self.carried(s.body + s.orelse)
        guard = getattr(s, "sg_guard", None)
        then_fn = self.branch(
            f"{PREFIX}then_{n}",
            names,
            s.body,
            defined,
            s,
            result=not returning,
            tail=returning,
        )
        else_fn = self.branch(
            f"{PREFIX}else_{n}",
            names,
            s.orelse,
            defined,
            s.orelse[0] if s.orelse else s,
            result=not returning,
            tail=returning,
        )
        values = _tuple([self.load(v, defined) for v in names])
        call = _rt_call(
            "if_return" if returning else "if_stmt",
            self.expr(s.test),
            _load(then_fn.name),
            _load(else_fn.name),
            values,
            _tuple([_const(v) for v in names]),
            _const(self.site(s)),
            _const(_writes_objects(s.body + s.orelse)),
            _const(tuple(guard) if guard else None),
        )
        if returning:
            last = ast.Return(call)
        elif names:
            last = ast.Assign([_tuple([_store(v) for v in names], ast.Store())], call)
        else:
            last = ast.Expr(call)
        defined.update(names)
        return [then_fn, else_fn, _locate(last, s)]

    def chain_(self, s, defined, tail):
        """A long if/elif chain: `switch_stmt(tests, branches, ...)`, a
        function per test (evaluated in order by the runtime, as Python
        does) and per branch (the last one the else)."""
        n = next(self.counter)
        returning = tail and _contains([s], ast.Return)
        blocks = s.blocks()
        names = self.carried([x for b in blocks for x in b])
        places = list(s.cases) + [s.orelse[0] if s.orelse else s]
        fns = []
        for k, (block, at) in enumerate(zip(blocks, places, strict=True)):
            name = f"{PREFIX}then_{n}_{k}" if k < len(s.cases) else f"{PREFIX}else_{n}"
            fns.append(
                self.branch(
                    name,
                    names,
                    block,
                    defined,
                    at,
                    result=not returning,
                    tail=returning,
                )
            )
        tests = [_locate(_lambda(self.expr(c.test)), c) for c in s.cases]
        call = _rt_call(
            "switch_return" if returning else "switch_stmt",
            _tuple(tests),
            _tuple([_load(f.name) for f in fns]),
            _tuple([self.load(v, defined) for v in names]),
            _tuple([_const(v) for v in names]),
            _const(self.site(s)),
            _const(_writes_objects([x for b in blocks for x in b])),
        )
        if returning:
            last = ast.Return(call)
        else:
            last = self._bind(names, call)
        defined.update(names)
        return fns + [_locate(last, s)]

    def while_(self, s, defined):
        n = next(self.counter)
        names = self.carried(s.body)
        test = s.test
        extra = getattr(s, "sg_extra", [])
        if extra:
            test = ast.BoolOp(
                ast.And(), [ast.UnaryOp(ast.Not(), _load(f)) for f in extra] + [test]
            )
            _locate(test, s.test)
        test_fn = _locate(
            _fdef(f"{PREFIX}test_{n}", names, [ast.Return(self.expr(test))]), s
        )
        body_fn = self.branch(f"{PREFIX}body_{n}", names, s.body, defined, s)
        call = _rt_call(
            "while_stmt",
            _load(test_fn.name),
            _load(body_fn.name),
            _tuple([self.load(v, defined) for v in names]),
            _tuple([_const(v) for v in names]),
            _const(self.site(s)),
            _const(_writes_objects(s.body)),
        )
        defined.update(names)
        return [test_fn, body_fn, _locate(self._bind(names, call), s)]

    def for_(self, s, defined):
        n = next(self.counter)
        target_names = []
        _target_names(s.target, target_names)
        names = self.carried(s.body, target_names)
        item = f"{PREFIX}item_{n}"
        bind = _locate(ast.Assign([s.target], _load(item)), s.target)
        body_fn = self.branch(f"{PREFIX}body_{n}", names, [bind] + s.body, defined, s)
        body_fn.args = _params([item] + names)
        extra = getattr(s, "sg_extra", [])
        test_fn = None
        out = []
        if extra:
            test_fn = _locate(
                _fdef(
                    f"{PREFIX}test_{n}",
                    names,
                    [ast.Return(self.expr(_locate(_not_any(extra), s)))],
                ),
                s,
            )
            out.append(test_fn)
        target = s.target.id if isinstance(s.target, ast.Name) else None
        call = _rt_call(
            "for_stmt",
            self.expr(s.iter),
            _load(test_fn.name) if test_fn else _const(None),
            _load(body_fn.name),
            _tuple([self.load(v, defined) for v in names]),
            _tuple([_const(v) for v in names]),
            _const(self.site(s)),
            _const(_writes_objects(s.body)),
            _const(target),
        )
        defined.update(names)
        return out + [body_fn, _locate(self._bind(names, call), s)]

    @staticmethod
    def _bind(names, call):
        if not names:
            return ast.Expr(call)
        return ast.Assign([_tuple([_store(v) for v in names], ast.Store())], call)

    # --- writes --------------------------------------------------------------

    def assign(self, s, defined):
        value = self.expr(s.value)
        targets = s.targets
        plain = all(self._plain_target(t) for t in targets)
        if plain:
            if any(isinstance(t, ast.Name) and t.id in self.globals for t in targets):
                value = _rt_call("global_write", value, _const(self.site(s)))
            s.value = value
            for t in targets:
                self._bind_target(t, defined)
            return [s]
        n = next(self.counter)
        tmp = f"{PREFIX}v_{n}"
        out = [_locate(_assign(tmp, value), s)]
        for t in targets:
            out.extend(self._write(t, _load(tmp), s, defined))
        return out

    def _plain_target(self, t) -> bool:
        if isinstance(t, ast.Subscript):
            return False
        if isinstance(t, (ast.Tuple, ast.List)):
            return all(self._plain_target(e) for e in t.elts)
        if isinstance(t, ast.Starred):
            return self._plain_target(t.value)
        return True

    def _bind_target(self, t, defined):
        names = []
        _target_names(t, names)
        defined.update(names)

    def _write(self, target, value, at, defined) -> list:
        """`target = value` for a target that may hold subscripts."""
        if isinstance(target, ast.Subscript):
            return self._setitem(target, value, at)
        if isinstance(target, (ast.Tuple, ast.List)) and not self._plain_target(target):
            temps = []
            parts = []
            elts = []
            for e in target.elts:
                if isinstance(e, ast.Starred) or self._plain_target(e):
                    elts.append(e)
                    continue
                tmp = f"{PREFIX}v_{next(self.counter)}"
                elts.append(_store(tmp))
                temps.append((e, tmp))
            unpack = type(target)(elts, ast.Store())
            parts.append(_locate(ast.Assign([unpack], value), at))
            self._bind_target(unpack, defined)
            for e, tmp in temps:
                parts.extend(self._write(e, _load(tmp), at, defined))
            return parts
        if isinstance(target, ast.Name) and target.id in self.globals:
            value = _rt_call("global_write", value, _const(self.site(at)))
        self._bind_target(target, defined)
        return [_locate(ast.Assign([target], value), at)]

    def _setitem(self, target, value, at) -> list:
        """`c[k] = v` rebinds `c` to `setitem(c, k, v)` (the same object for
        plain containers; a traced array when a traced value lands in an
        array)."""
        key = _Expressions(self).key(target.slice)
        container = target.value
        if isinstance(container, ast.Name) and container.id not in self.locals:
            # A container from outside the function is written in place.
            call = _rt_call("setitem_outside", self.expr(container), key, value)
            return [_locate(ast.Expr(call), at)]
        if isinstance(container, ast.Name):
            call = _rt_call("setitem", self.expr(container), key, value)
            return self._write(_store(container.id), call, at, set())
        n = next(self.counter)
        old, new = f"{PREFIX}c_{n}", f"{PREFIX}n_{n}"
        read = self.expr(_copy_load(container))
        stmts = [
            _assign(old, read),
            _assign(new, _rt_call("setitem", _load(old), key, value)),
        ]
        back = self._write(_copy_store(container), _load(new), at, set())
        test = ast.Compare(_load(new), [ast.IsNot()], [_load(old)])
        stmts.append(ast.If(test, back, []))
        return [_locate(x, at) for x in stmts]

    def augassign(self, s, defined):
        op = type(s.op).__name__
        target = s.target
        if isinstance(target, ast.Name):
            value = _rt_call("aug", _load(target.id), _const(op), self.expr(s.value))
            if target.id in self.globals:
                value = _rt_call("global_write", value, _const(self.site(s)))
            defined.add(target.id)
            return [_locate(ast.Assign([_store(target.id)], value), s)]
        if isinstance(target, ast.Subscript):
            n = next(self.counter)
            key = f"{PREFIX}k_{n}"
            out = [_locate(_assign(key, _Expressions(self).key(target.slice)), s)]
            container = target.value
            if not isinstance(container, ast.Name):
                holder = f"{PREFIX}c_{n}"
                out.append(_locate(_assign(holder, self.expr(container)), s))
                container_load = _load(holder)
            else:
                container_load = _load(container.id)
            current = _rt_call("getitem", container_load, _load(key))
            value = _rt_call("aug", current, _const(op), self.expr(s.value))
            write = ast.Subscript(container, _load(key), ast.Store())
            out.extend(self._write(write, value, s, defined))
            return out
        s.value = self.expr(s.value)
        return [s]

    def try_(self, s, defined):
        if not s.handlers:
            s.body = self.block(s.body, defined) or [ast.Pass()]
            s.finalbody = self.block(s.finalbody, defined)
            return [s]
        n = next(self.counter)
        mark = f"{PREFIX}try_{n}"
        site = _const(self.site(s))
        begin = _locate(_assign(mark, _rt_call("try_begin")), s)
        s.body = self.block(s.body, defined) or [ast.Pass()]
        for h in s.handlers:
            if h.type is not None:
                h.type = self.expr(h.type)
            inner = set(defined)
            if h.name:
                inner.add(h.name)
            caught = ast.Expr(_rt_call("try_caught", _load(mark), site))
            h.body = [_locate(caught, h)] + self.block(h.body, inner)
        s.orelse = self.block(s.orelse, defined)
        check = ast.Expr(_rt_call("try_check", _load(mark), site))
        s.finalbody = [_locate(check, s)] + self.block(s.finalbody, defined)
        return [begin, s]


def _copy_load(node):
    return _Retarget(ast.Load).visit(copy.deepcopy(node))


def _copy_store(node):
    new = copy.deepcopy(node)
    new.ctx = ast.Store()
    return new


class _Retarget(ast.NodeTransformer):
    def __init__(self, ctx):
        self.ctx = ctx

    def visit_Name(self, node):
        node.ctx = self.ctx()
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        node.ctx = self.ctx()
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        node.ctx = self.ctx()
        return node


# ------------------------------------------------------------------ expressions


_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


class _Expressions(ast.NodeTransformer):
    """Expressions whose meaning may depend on traced values."""

    def __init__(self, fn: _Function):
        self.fn = fn

    def key(self, node):
        """A subscript's index as an expression (slices become slice())."""
        if isinstance(node, ast.Slice):
            parts = [node.lower, node.upper, node.step]
            args = [self.visit(p) if p is not None else _const(None) for p in parts]
            return ast.Call(_rt("slice"), args, [])
        if isinstance(node, ast.Tuple):
            return _tuple([self.key(e) for e in node.elts])
        return self.visit(node)

    def visit_FunctionDef(self, node):
        return node

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id in _FRAME_CALLS:
            return node
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == RT
        ):
            return node
        return _locate(ast.Call(_rt("call"), [func] + node.args, node.keywords), node)

    def visit_Subscript(self, node):
        if not isinstance(node.ctx, ast.Load):
            self.generic_visit(node)
            return node
        value = self.visit(node.value)
        key = self.key(node.slice)
        return _locate(ast.Call(_rt("getitem"), [value, key], []), node)

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if self.fn.generator:
            node.test = self._static(node.test, "a conditional expression")
            return node
        if _has_unsafe_lazy(node.body) or _has_unsafe_lazy(node.orelse):
            return node
        call = _rt_call(
            "ifexp",
            node.test,
            _lambda(node.body),
            _lambda(node.orelse),
            _const(self.fn.site(node)),
        )
        return _locate(call, node)

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        if self.fn.generator or any(_has_unsafe_lazy(v) for v in node.values[1:]):
            return node
        name = "and_" if isinstance(node.op, ast.And) else "or_"
        args = [node.values[0]] + [_lambda(v) for v in node.values[1:]]
        return _locate(_rt_call(name, *args), node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and not self.fn.generator:
            return _locate(_rt_call("not_", node.operand), node)
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) < 2 or self.fn.generator:
            return node
        if any(_has_unsafe_lazy(c) for c in node.comparators[1:]):
            return node
        ops = _tuple([_const(_COMPARE[type(o)]) for o in node.ops])
        first = node.comparators[0]
        rest = [_lambda(c) for c in node.comparators[1:]]
        call = _rt_call("compare", node.left, ops, first, _tuple(rest))
        return _locate(call, node)

    def _comprehension(self, node):
        self.generic_visit(node)
        for gen in node.generators:
            gen.ifs = [self._static(c, "a comprehension's if") for c in gen.ifs]
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = _comprehension
    visit_GeneratorExp = _comprehension

    def _static(self, test, what):
        call = _rt_call("static_test", test, _const(what), _const(self.fn.site(test)))
        return _locate(call, test)


# ------------------------------------------------------------------ generators


class _Generator:
    """A generator function: statements stay, tests refuse traced values."""

    def __init__(self, fn: _Function):
        self.fn = fn

    def block(self, stmts):
        return [self.stmt(s) for s in stmts]

    def stmt(self, s):
        ex = _Expressions(self.fn)
        if isinstance(s, (ast.If, ast.While)):
            s.test = ex._static(ex.visit(s.test), f"an {type(s).__name__.lower()}")
            s.body = self.block(s.body)
            s.orelse = self.block(s.orelse)
            return s
        if isinstance(s, ast.For):
            s.iter = ex.visit(s.iter)
            s.body = self.block(s.body)
            s.orelse = self.block(s.orelse)
            return s
        if isinstance(s, (ast.With, ast.Try)):
            s.body = self.block(s.body)
            if isinstance(s, ast.Try):
                for h in s.handlers:
                    h.body = self.block(h.body)
                s.orelse = self.block(s.orelse)
                s.finalbody = self.block(s.finalbody)
            return s
        if isinstance(s, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            return s
        return ex.visit(s)
