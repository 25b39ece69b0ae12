"""What converted code calls: plain Python for plain values, regions for traced.

Contract: converted functions (see `symgrad.frontend.syntax`) call these
with the values the original statement would see. When nothing that decides
the control flow is traced, each function does exactly what the statement
did (the same branch, the same iterations, short-circuits, errors). When a
condition is traced:

- `if_stmt` / `if_return` / `ifexp` stage both branches with `staging.cond`
  (real branches: the untaken one never runs, so it cannot turn a NaN into
  the gradient);
- `switch_stmt` / `switch_return` (a long `if/elif/.../else` chain) evaluate
  the tests in order as Python does while they are plain values; once one
  is traced, the later tests are evaluated too (up to a plain true one,
  which acts as the else) and the branches of the traced tests are staged
  as one `staging.switch`: the first true test picks the branch, so tests
  after it never change the result;
- `while_stmt` stages the loop with `staging.while_loop`; a loop whose test
  only becomes traced after some iterations (a tolerance test on a value
  computed in the loop) is staged from its start, as long as the iterations
  run so far changed nothing but the loop's own variables;
- `for_stmt` over `range(...)` or an array stages the loop as a counting
  `while` once its break flag (or a `return` in it) depends on a traced
  value; over other sequences each remaining iteration becomes a branch on
  the flag; `range(n)` with a traced `n` is staged from the start;
- `and_` / `or_` / `not_` on traced booleans build logical operations, a
  traced number or array as an operand is an error (Python would pick one of
  the operands); `compare` evaluates chained comparisons once each;
- `call` (the one dispatcher) converts user functions before calling them,
  unwrapping lambdas, partials, bound methods, staticmethods, callable
  objects and library decorators (`__wrapped__`); it maps
  `min`, `max`, `float`, `int`, `bool` and `range` on traced values (`min` and
  `max` as Python defines them: the first of the smallest, by `<`),
  `round` and NumPy's scalar types (`np.int64(x)`: casts), and random draws;
- `getitem` / `setitem` / `aug` let plain arrays take traced indices and
  values (the array becomes a traced constant, rebound to the variable).
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import functools
import inspect
import operator
import sys
import types

import numpy as np

from symgrad import ir, ops
from symgrad.errors import ConcretizationError, SymgradError, TraceError
from symgrad.frontend import draws, resolve, staging
from symgrad.frontend import syntax as _convert
from symgrad.ir import dims
from symgrad.ir.pytree import flatten
from symgrad.ir.source import fail
from symgrad.ops import control

slice = builtins.slice  # noqa: A001 - converted code writes x[a:b] as this

_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "symgrad_frontend_memo", default=None
)
_sites: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "symgrad_frontend_sites", default=None
)
# How deep staged regions of one source line may nest before it counts as
# recursion on traced values.
MAX_NESTING = 48

NO_RETURN = staging.Undefined(
    "<return value>", "the function has not returned", internal=True
)


# symgrad.frontend.tracing, imported on first use (it imports the front end).
_tracing = staging.tracing_module


def _Tracer():
    return _tracing().Tracer


def is_traced(x) -> bool:
    return type(x) is _tracing().Tracer and x.node.op != "const"


def truth(x) -> bool:
    """Python's truth value of a plain value (or of a constant tracer)."""
    return staging._concrete_truth(x)


@contextlib.contextmanager
def tracing_memo(memo: dict):
    """Converted functions reached while this is active are kept in `memo`."""
    token = _memo.set(memo)
    sites = _sites.set({})
    try:
        yield
    finally:
        _sites.reset(sites)
        _memo.reset(token)


@contextlib.contextmanager
def _nesting(site: str):
    counts = _sites.get()
    if counts is None:
        yield
        return
    n = counts.get(site, 0)
    if n >= MAX_NESTING:
        fail(
            f"recursion on traced values: the if or loop at {site} is staged inside "
            "itself again and again (a function calls itself under a condition that "
            "depends on traced values)",
            "Write the recursion as a while loop, or make its depth a Python int",
            # A depth from an int argument: symgrad retries with ints static.
            ConcretizationError,
        )
    counts[site] = n + 1
    try:
        yield
    finally:
        counts[site] = n


# ------------------------------------------------------------------ names


def _display(name):
    """The name a variable's values get in generated code."""
    if not name.startswith(_convert.PREFIX):
        return name
    kind = name.split("_")[2]
    return {"brk": "stop", "cont": "skip", "ret": "returned", "retval": "result"}.get(
        kind
    )


def _displays(names) -> list:
    return [_display(n) for n in names]


def ld(thunk, name: str):
    """The value of a variable that may not have one yet."""
    try:
        return thunk()
    except NameError:
        return staging.Undefined(name, "it is used before it is assigned")


def returned(value):
    """The value a traced function returns: no variable without a value in it."""
    for leaf in flatten(value)[0]:
        if type(leaf) is staging.Undefined:
            leaf.fail()
    return value


def result(returned, value):
    """What a function whose returns became flags returns at its end."""
    if not is_traced(returned):
        return value if truth(returned) else None
    fail(
        "this function returns a value on some paths and reaches its end (returning "
        "None) on others, depending on traced values",
        "End the function with a return statement",
    )


# ------------------------------------------------------------------ checks


def raise_if(test, make, site):
    """`if test: raise make()`, where `test` may be traced: then the generated
    code keeps the check (see `symgrad.ops.checks`)."""
    if not is_traced(test):
        if truth(test):
            raise make()
        return
    _traced_check(staging.predicate(test), make, site)


def assert_(test, message, site):
    """`assert test, message()`, where `test` may be traced."""
    if not is_traced(test):
        if not truth(test):
            text = message()
            raise AssertionError() if text is None else AssertionError(text)
        return
    failed = ops.apply("logical_not", staging.predicate(test))

    def make():
        text = message()
        return AssertionError("" if text is None else text)

    _traced_check(failed, make, site)


def _traced_check(failed, make, site):
    import builtins as _builtins

    if staging.depth():
        fail(
            f"a raise or assert (at {site}) on a traced value inside an if or "
            "loop on a traced value",
            "Check before the if or loop, or compute with np.where",
        )
    try:
        exc = make()
    except SymgradError:
        raise
    except Exception as error:  # noqa: BLE001 - the message used traced values
        exc = error
    kind = type(exc)
    name = kind.__name__
    if getattr(_builtins, name, None) is not kind:
        # A module cannot name the user's own class: the nearest built-in.
        base = next(
            k for k in kind.__mro__ if getattr(_builtins, k.__name__, None) is k
        )
        name = base.__name__ if issubclass(base, Exception) else "ValueError"
    args = getattr(exc, "args", ())
    message = args[0] if len(args) == 1 and type(args[0]) is str else str(exc)
    if not _tracing().add_check(failed, name, message):
        fail(f"a raise or assert (at {site}) on a traced value", "Remove it")


# ------------------------------------------------------------------ if


def _refuse_writes(line: int, what: str):
    if line:
        fail(
            f"an attribute is assigned (or an object changed) on line {line}, inside "
            f"{what} on a traced value",
            "symgrad traces every path of it, so the object would see the writes of "
            "paths that do not run; keep the value in a local variable instead",
        )


def if_stmt(test, then_fn, else_fn, values, names, site, writes=0, guard=None):
    """`if test: then else: else_` over the variables `names` (values in
    `values`); returns their new values."""
    if not is_traced(test):
        return (then_fn if truth(test) else else_fn)(*values)
    _refuse_writes(writes, "an if")
    values = list(values)
    made_internal = []
    if guard:
        # A guard `if not flag: rest` added for break/continue/return: on the
        # path where the flag is set the rest is skipped, and nothing reads
        # what it would have assigned, so those variables may stay unset there.
        for i, v in enumerate(values):
            if type(v) is staging.Undefined and not v.internal:
                values[i] = staging.Undefined(v.name, v.reason, internal=True)
                made_internal.append(i)
        if len(guard) == 1 and guard[0] in names:
            k = names.index(guard[0])
            inner = else_fn

            def else_fn(*vals):  # noqa: F811 - the flag is set on this path
                vals = list(vals)
                vals[k] = True
                return inner(*vals)

    with _nesting(site):
        out = staging.cond(test, then_fn, else_fn, *values, names=_displays(names))
    if made_internal:
        out = list(out)
        for i in made_internal:
            if type(out[i]) is staging.Undefined:
                out[i] = staging.Undefined(out[i].name, out[i].reason)
        out = tuple(out)
    return out


def if_return(test, then_fn, else_fn, values, names, site, writes=0, guard=None):
    """An if at the end of a function whose branches return: the value the
    function returns."""
    if not is_traced(test):
        return (then_fn if truth(test) else else_fn)(*values)
    _refuse_writes(writes, "an if")
    with _nesting(site):
        out = staging.cond(
            test, then_fn, else_fn, *values, names=["<the return value>"]
        )
    _name_results(out, "result")
    return out


def _elif_chain(tests, fns):
    """The branch to run as Python runs it (plain tests decide), or the
    traced tests and their branches (the last one the else) to stage."""
    preds, chosen = [], []
    for test, fn in zip(tests, fns, strict=False):
        t = test()
        if is_traced(t):
            preds.append(t)
            chosen.append(fn)
        elif truth(t):
            if not preds:
                return fn, None
            chosen.append(fn)  # reached when every traced test before fails
            return None, (preds, chosen)
    if not preds:
        return fns[-1], None
    chosen.append(fns[-1])
    return None, (preds, chosen)


def _stage_chain(preds, fns, values, names, site):
    with _nesting(site):
        if len(preds) == 1:
            return staging.cond(preds[0], fns[0], fns[1], *values, names=names)
        return staging.switch(preds, fns, *values, names=names)


def switch_stmt(tests, fns, values, names, site, writes=0):
    """`if/elif/.../else` over the variables `names`: `tests` are functions
    giving each test in turn, `fns` one function per branch and the else
    (`len(fns) == len(tests) + 1`); returns the variables' new values."""
    plain, staged = _elif_chain(tests, fns)
    if staged is None:
        return plain(*values)
    _refuse_writes(writes, "an if")
    return _stage_chain(*staged, values, _displays(names), site)


def switch_return(tests, fns, values, names, site, writes=0):
    """A chain at the end of a function whose branches return: the value the
    function returns."""
    plain, staged = _elif_chain(tests, fns)
    if staged is None:
        return plain(*values)
    _refuse_writes(writes, "an if")
    out = _stage_chain(*staged, values, ["<the return value>"], site)
    _name_results(out, "result")
    return out


def _name_results(out, name):
    tracer = _Tracer()
    for leaf in flatten(out)[0]:
        if type(leaf) is tracer and leaf.node.op == "item" and not leaf.node.hint:
            leaf.node.hint = name


def ifexp(test, then_thunk, else_thunk, site):
    """`a if test else b`."""
    if not is_traced(test):
        return then_thunk() if truth(test) else else_thunk()
    with _nesting(site):
        return staging.cond(
            test, then_thunk, else_thunk, names=["<the conditional expression>"]
        )


# ------------------------------------------------------------------ loops


def _snapshot(values):
    leaves, _, treedef = flatten(tuple(values))
    tracer = _Tracer()
    nodes = [x.node if type(x) is tracer else None for x in leaves]
    return leaves, treedef, nodes


def _unchanged(values, snap) -> bool:
    """Whether the values a loop started from are still what they were (so
    the loop can be staged from its start)."""
    leaves, treedef, nodes = snap
    now, _, tree = flatten(tuple(values))
    if tree != treedef or len(now) != len(leaves):
        return False
    tracer = _Tracer()
    for a, b, node in zip(leaves, now, nodes, strict=True):
        if a is not b:
            return False
        if type(a) is tracer and a.node is not node:
            return False
    return True


def while_stmt(test_fn, body_fn, values, names, site, writes=0):
    """`while test: body` over the variables `names`."""
    start, snap = values, _snapshot(values)
    ran = False
    while True:
        t = test_fn(*values)
        if is_traced(t):
            break
        if not truth(t):
            return values
        values = body_fn(*values)
        ran = True
    _refuse_writes(writes, "a while loop")
    if ran and _unchanged(start, snap):
        values = start
    with _nesting(site):
        return staging.while_loop(
            lambda v: test_fn(*v),
            lambda v: tuple(body_fn(*v)),
            tuple(values),
            names=_displays(names),
        )


class TracedRange:
    """`range(start, stop, step)` with a traced bound: a for loop over it is
    staged."""

    def __init__(self, start, stop, step, size=None):
        self.start, self.stop, self.step = start, stop, step
        self.size = size  # the symbolic size it counts to, if any

    def _refuse(self, *_args):
        if self.size is not None:
            fail(
                f"the size {self.size} is symbolic: a range over it works directly "
                "in a for statement, not in a comprehension, generator or list",
                "Write the computation on whole arrays (vectorized: x.sum(axis=0) "
                "rather than a loop over len(x)), use a for statement, or compile "
                "with this size fixed (leave the argument out of batch=/shapes=)",
            )
        fail(
            "a range with a traced bound is used other than directly in a for loop",
            "Loop over it with `for i in range(n):`, or use a Python int bound",
        )

    __iter__ = __len__ = __getitem__ = __contains__ = _refuse

    def __repr__(self):
        return "range(<traced>)"


def for_stmt(iterable, test_fn, body_fn, values, names, site, writes=0, target=None):
    """`for target in iterable: body` over the variables `names`; `test_fn`
    (or None) says whether to go on (break and return flags)."""
    counter = target if target and target != "_" else "i"
    if type(iterable) is TracedRange:
        _refuse_writes(writes, "a for loop")
        with _nesting(site):
            return _counting(
                iterable, 0, test_fn, body_fn, values, names, counter, range_=True
            )
    it = iter(iterable)
    if test_fn is None:
        # No break or return in the loop: it runs as Python, item by item.
        for item in it:
            values = body_fn(item, *values)
        return values
    start, snap = values, _snapshot(values)
    done = 0
    while True:
        t = True if test_fn is None else test_fn(*values)
        if is_traced(t):
            break
        if not truth(t):
            return values
        try:
            item = next(it)
        except StopIteration:
            return values
        values = body_fn(item, *values)
        done += 1
    _refuse_writes(writes, "a for loop")
    with _nesting(site):
        kind = _indexable(iterable)
        if kind is not None:
            if done and _unchanged(start, snap):
                values, done = start, 0
            return _counting(
                iterable,
                done,
                test_fn,
                body_fn,
                values,
                names,
                counter,
                range_=kind == "range",
            )
        return _guarded(it, t, test_fn, body_fn, values, names)


def _indexable(iterable):
    """ "range" or "array" for what a staged loop can index with a traced
    counter, else None."""
    if type(iterable) is builtins.range:
        return "range"
    tracer = _Tracer()
    if type(iterable) is tracer or (
        isinstance(iterable, np.ndarray) and iterable.dtype.kind in "biuf"
    ):
        if np.ndim(iterable) >= 1 and _traced_index_ok(iterable):
            return "array"
    return None


def _traced_index_ok(array) -> bool:
    """Whether the op table can index `array` with a traced int."""

    tracer = _Tracer()
    arr = array if type(array) is tracer else tracer(ops.const(array))
    probe = control.param_node(ir.ArrayType((), np.dtype(np.int64)), -1, 0)
    try:
        with ir.annotate(None):
            arr[tracer(probe)]
    except (SymgradError, TypeError, IndexError):
        return False
    return True


def _counting(seq, done, test_fn, body_fn, values, names, counter, range_):
    """The rest of a for loop (from item `done`) as a staged counting loop."""
    tracer = _Tracer()
    if range_:
        step = seq.step
        if is_traced(step):
            fail("range() with a traced step", "Use a Python int step")
        if step == 0:
            raise ValueError("range() arg 3 must not be zero")
        first = seq.start + done * step if done else seq.start
        stop = seq.stop

        def more(i):
            return i < stop if step > 0 else i > stop

        def item(i):
            return i

    else:
        array = seq if type(seq) is tracer else tracer(ops.const(seq))
        n = len(array)
        first, step = done, 1

        def more(i):
            return i < n

        def item(i):
            return array[i]

    def cond(state):
        go = more(state[0])
        if test_fn is None:
            return go
        return and_(go, lambda: test_fn(*state[1:]))

    def body(state):
        i = state[0]
        return (i + step, *body_fn(item(i), *state[1:]))

    out = staging.while_loop(
        cond,
        body,
        (first, *values),
        names=[counter] + _displays(names),
    )
    return tuple(out[1:])


def _guarded(it, t, test_fn, body_fn, values, names):
    """The rest of a loop over a plain sequence: each item under a branch on
    the loop's flags."""
    display = _displays(names)
    first = True
    for item in it:
        if not first:
            t = test_fn(*values)
        first = False
        if not is_traced(t):
            if not truth(t):
                return values
            values = body_fn(item, *values)
            continue

        def run(*vals, _item=item):
            return tuple(body_fn(_item, *vals))

        values = staging.cond(t, run, lambda *vals: vals, *values, names=display)
    return values


# ------------------------------------------------------------------ booleans


def _logical(name: str, a, b):
    """np.logical_<name>(a, b) on boolean scalars (a where without it)."""
    tracing = _tracing()
    entry = ops.API.get(f"numpy.logical_{name}")
    if entry is not None:
        return tracing.call(entry, (a, b), None)
    if name == "and":
        return tracing._record(ops.where, a, b, False)
    return tracing._record(ops.where, a, True, b)


def _boolean(x, op: str):
    """A traced operand of and/or/not as a boolean scalar, or an error."""
    node = x.node
    if node.shape != ():
        fail(
            f"`{op}` on a traced array (of shape {node.shape})",
            "Use np.logical_and / np.logical_or / np.logical_not (or & | ~) for "
            "elementwise logic, or .all() / .any()",
        )
    if node.dtype.kind != "b":
        fail(
            f"`{op}` on a traced number (Python would give one of the operands)",
            "Compare it first (x != 0), or choose the value with an if",
        )
    return x


def _bool_operand(x, op):
    if type(x) is _Tracer():
        return _boolean(x, op) if is_traced(x) else bool(truth(x))
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    fail(
        f"`{op}` with a traced operand and a {type(x).__name__} operand (Python "
        "would give one of them)",
        "Use booleans on both sides (comparisons)",
    )


def and_(first, *thunks):
    """`first and thunk() and ...` with Python's short-circuit on plain values."""
    return _chain("and", first, thunks)


def or_(first, *thunks):
    """`first or thunk() or ...` with Python's short-circuit on plain values."""
    return _chain("or", first, thunks)


def _chain(op, first, thunks):
    # `or` stops at the first true plain value, `and` at the first false one;
    # a traced operand joins the rest elementwise (np.logical_and / _or).
    stop = op == "or"
    value = first
    for thunk in thunks:
        if not is_traced(value):
            if truth(value) == stop:
                return value
            value = thunk()
            continue
        a = _bool_operand(value, op)
        b = thunk()
        if not is_traced(b):
            b = _bool_operand(b, op)
            if stop:
                value = True if b else a
            else:
                value = a if b else False
            continue
        value = _logical(op, a, _bool_operand(b, op))
    return value


def not_(x):
    """`not x`: a traced boolean's negation; a traced number's `x == 0`."""
    if not is_traced(x):
        return not truth(x)
    node = x.node
    if node.shape != ():
        _boolean(x, "not")
    tracing = _tracing()
    if node.dtype.kind == "b":
        entry = ops.API.get("numpy.logical_not")
        if entry is not None:
            return tracing.call(entry, (x,), None)
        return tracing._record(ops.eq, x, False)
    return tracing._record(ops.eq, x, 0)


_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "is": operator.is_,
    "is not": operator.is_not,
    "in": lambda a, b: operator.contains(b, a),
    "not in": lambda a, b: not operator.contains(b, a),
}


def compare(left, ops_, first, rest):
    """`left op1 first op2 rest[0]() ...`: each operand evaluated once, the
    later ones only while the chain holds."""
    value = None
    right = first
    for k, op in enumerate(ops_):
        if k:
            right = rest[k - 1]()
        c = _COMPARE[op](left, right)
        if value is None:
            value = c
        else:
            value = and_(value, lambda c=c: c)
        if not is_traced(value) and not truth(value):
            return value
        left = right
    return value


def static_test(test, what: str, site: str):
    """A test that cannot be staged (comprehension filters, generators)."""
    if is_traced(test):
        if what == "a comprehension's if":
            fail(
                "a comprehension's `if` filter on a traced value (the length of the "
                "result would depend on it)",
                "Keep every item and choose with np.where(cond, x, 0), or use a for "
                "loop with an if",
            )
        fail(
            f"{what} on a traced value in a generator function (one with yield)",
            "symgrad cannot stage generators: build a list in a loop and return it",
        )
    return truth(test)


# ------------------------------------------------------------------ writes


def _has_traced(x) -> bool:
    tracer = _Tracer()
    stack = [x]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is tracer:
            return True
        if kind is list or kind is tuple:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.values())
    return False


def _as_traced(obj):
    """A plain array (or a list of numbers or traced values) as a tracer."""
    tracer = _Tracer()
    tracing = _tracing()
    if isinstance(obj, np.ndarray):
        return tracer(ops.const(obj))
    if isinstance(obj, (list, tuple)):
        if _has_traced(obj):
            entry = ops.API.get("numpy.stack") or ops.API.get("numpy.array")
            if entry is None:
                return None
            return tracing.call(entry, (list(obj),), None)
        try:
            array = np.asarray(obj)
        except (TypeError, ValueError):
            return None
        if array.dtype.kind in "biuf":
            return tracer(ops.const(array))
    return None


def getitem(obj, key):
    """`obj[key]`; a plain array or list indexed with a traced value is
    indexed as a traced constant."""
    try:
        return obj[key]
    except TraceError:
        if type(obj) is _Tracer() or not _has_traced(key):
            raise
        traced = _as_traced(obj)
        if traced is None:
            raise
        return traced[key]


def setitem(container, key, value):
    """`container[key] = value`; returns what the variable is bound to after
    (the container itself, or a traced array when a plain array receives a
    traced value or a traced index)."""
    tracer = _Tracer()
    if type(container) is tracer:
        container[key] = value
        return container
    if isinstance(container, np.ndarray) and (_has_traced(key) or _has_traced(value)):
        if not container.flags.writeable:
            raise ValueError("assignment destination is read-only")
        base = container.base
        if isinstance(base, np.ndarray) and sys.getrefcount(base) > 2:
            fail(
                "a traced value is written into a view of another array (such as "
                "row = M[0]; row[1] = v)",
                "symgrad cannot make the other array see it: write into the array "
                "itself (M[0, 1] = v), or make the view a copy (row = M[0].copy())",
            )
        traced = tracer(ops.const(container))
        traced[key] = value
        return traced
    container[key] = value
    return container


def setitem_outside(container, key, value):
    """`container[key] = value` for a container the function did not bind
    itself (a closure's or a global's): written in place, never rebound."""
    if isinstance(container, np.ndarray) and (_has_traced(key) or _has_traced(value)):
        fail(
            "a traced value is written into an array from outside the function",
            "Build the array inside the function (out = np.zeros(n)), or return "
            "the values instead",
        )
    container[key] = value


_AUG = {
    "Add": operator.iadd,
    "Sub": operator.isub,
    "Mult": operator.imul,
    "Div": operator.itruediv,
    "FloorDiv": operator.ifloordiv,
    "Mod": operator.imod,
    "Pow": operator.ipow,
    "MatMult": operator.imatmul,
    "LShift": operator.ilshift,
    "RShift": operator.irshift,
    "BitAnd": operator.iand,
    "BitOr": operator.ior,
    "BitXor": operator.ixor,
}


def aug(current, op: str, value):
    """`current op= value`; a plain array combined with a traced value gives
    a traced array (bound to the variable; other names for the array keep
    the old values). A traced array is updated in place, as NumPy updates
    an array: every name bound to it, and the array a view of it looks
    into, see the new values (`z = y; z += 1` changes `y` too)."""
    if isinstance(current, np.ndarray) and _has_traced(value):
        current = _Tracer()(ops.const(current))
    result = _AUG[op](current, value)
    tracer = _Tracer()
    if (
        type(current) is tracer
        and current.node.ndim >= 1
        and type(result) is tracer
        and result is not current
    ):
        current[...] = result
        return current
    return result


def global_write(value, site: str):
    """The value of an assignment to a global variable (checked)."""
    if staging.depth():
        fail(
            "a global variable is assigned inside an if or loop on a traced value",
            "symgrad traces every path of it, so the global would see writes from "
            "paths that do not run: return the value instead",
        )
    if _has_traced(value):
        fail(
            "a traced value is assigned to a global variable (it would escape the "
            "function being compiled)",
            "Return it instead",
        )
    return value


def try_begin():
    if not _tracing().is_tracing():
        return None
    return ir.current_scope().counter


def try_check(mark, site: str):
    """At the end of a try statement: refuse it if it ran traced code."""
    if mark is None:
        return
    if isinstance(sys.exc_info()[1], SymgradError):
        return  # symgrad's own error is on its way up
    if ir.current_scope().counter > mark:
        fail(
            f"a try statement (at {site}) around code on traced values",
            "The generated code cannot raise where Python would (it gives inf or "
            "nan), so the except clause would never run as written: move the "
            "traced code out of the try, and check its inputs with an if",
        )


def try_caught(mark, site: str):
    """First statement of an except clause: symgrad's errors pass through."""
    exc = sys.exc_info()[1]
    if isinstance(exc, SymgradError):
        raise exc
    try_check(mark, site)


# ------------------------------------------------------------------ calls


_user_code: dict = {}


def _user(fun):
    """The converted version of a user function (itself if not a user's)."""
    code = fun.__code__
    status = _user_code.get(code)
    if status is None:
        status = _user_code[code] = resolve.is_user_function(fun)
    if not status:
        return fun
    memo = _memo.get()
    if memo is None:
        return fun
    out = memo.get(fun)
    if out is None:
        out = resolve.convert(fun, memo)
    return out


def _min(*args, **kwargs):
    return _extreme(builtins.min, "min", args, kwargs)


def _max(*args, **kwargs):
    return _extreme(builtins.max, "max", args, kwargs)


_MISSING = object()


def _extreme(original, which, args, kwargs):
    """min / max as Python defines them (the first smallest or largest, by
    `<` / `>`), written with np.where when the comparison is traced."""
    if not _has_traced(args) and not (len(args) == 1 and type(args[0]) is _Tracer()):
        return original(*args, **kwargs)
    key = kwargs.pop("key", None)
    default = kwargs.pop("default", _MISSING)
    if kwargs or key is not None:
        fail(
            f"{which}() with key= or other keywords on traced values",
            f"Compute the keys first and use np.arg{which}, or write the loop out",
        )
    tracer = _Tracer()
    items = args
    if len(args) == 1:
        (items,) = args
        if type(items) is tracer and items.ndim > 1:
            fail(
                f"{which}() of a traced array with {items.ndim} dimensions (Python "
                "would compare its rows)",
                f"Use np.{which}(x) or x.{which}(axis=...)",
            )
        items = list(items)
    if not items:
        if default is not _MISSING:
            return default
        return original(items)
    best = items[0]
    for x in items[1:]:
        best = _pick(which, x, best)
    return best


def _pick(which, x, best):
    """`x if x < best else best` (min) / `x if x > best else best` (max)."""
    better = x < best if which == "min" else x > best
    if not is_traced(better):
        return x if truth(better) else best
    node = better.node
    if node.shape != ():
        fail(
            f"{which}() of traced arrays (Python would need one truth value per "
            "comparison)",
            f"Use np.{'minimum' if which == 'min' else 'maximum'}(a, b) for arrays",
        )
    return _tracing()._record(ops.where, better, x, best)


def _float(x=0.0, /):
    tracer = _Tracer()
    if type(x) is tracer:
        node = x.node
        if node.shape != ():
            fail(
                f"float() of a traced array of shape {node.shape}",
                "Index it first (x[0]) or reduce it (x.sum())",
            )
        if node.dtype == np.float64:
            return x
        return _tracing()._record(ops.cast, x, dtype=np.dtype(np.float64))
    return builtins.float(x)


def _int(x=0, /, *args):
    tracer = _Tracer()
    if type(x) is tracer and not args:
        node = x.node
        if node.shape != ():
            fail(f"int() of a traced array of shape {node.shape}", "Index it first")
        if node.dtype.kind in "iu":
            return x
        # astype truncates toward zero, as int() does.
        return _tracing()._record(ops.cast, x, dtype=np.dtype(np.int64))
    return builtins.int(x, *args)


def _numpy_scalar(kind, x, /, *args, **kwargs):
    """`np.int64(x)`, `np.float32(x)` of a traced value: a cast (the value
    as NumPy makes it, truncated toward zero for ints; no gradient through
    a cast to ints)."""
    if args or kwargs:
        return kind(x, *args, **kwargs)  # the error NumPy gives
    if x.node.dtype == np.dtype(kind):
        return x
    return _tracing()._record(ops.cast, x, dtype=np.dtype(kind))


def _any(iterable, /):
    return _truth_of_items(builtins.any, np.any, iterable)


def _all(iterable, /):
    return _truth_of_items(builtins.all, np.all, iterable)


def _truth_of_items(python, numpy, iterable):
    """any() / all() of a traced vector, or of a list or tuple holding traced
    scalars: NumPy's, which agrees with Python's there (a traced boolean);
    Python's for everything else."""
    tracer = _Tracer()
    if type(iterable) is tracer and iterable.node.ndim == 1:
        return numpy(iterable)
    if type(iterable) in (list, tuple) and _has_traced(iterable):
        # Items that are numbers (a nested list's truth is its length).
        if all(
            (type(v) is tracer and v.node.ndim == 0) or isinstance(v, _NUMBERS)
            for v in iterable
        ):
            return numpy(np.stack(iterable))  # (dispatches to the tracer)
    return python(iterable)


_NUMBERS = (bool, int, float, np.generic)


def _round(number, ndigits=None):
    """round() of a traced number: half to even, as Python's; an int (a
    traced one, with no gradient) without `ndigits`, as Python's."""
    if type(number) is not _Tracer():
        return builtins.round(number, ndigits)
    if number.node.shape != ():
        fail(
            f"round() of a traced array of shape {number.node.shape}",
            "Use np.round(x, decimals)",
        )
    if ndigits is not None:
        return np.round(number, ndigits)
    if number.node.dtype.kind in "iub":
        return number
    return _int(np.round(number))


def _bool(x=False, /):
    if type(x) is _Tracer() and is_traced(x):
        return _Tracer()(staging.predicate(x))
    return builtins.bool(x)


def _range(*args):
    # A symbolic size (len(X) with a batch axis) counts as a traced int: the
    # loop over it is staged, as one over an int argument is.
    size = next((a for a in args if dims.is_symbolic(a)), None)
    args = tuple(_Tracer()(ops.dim_node(a)) if dims.is_symbolic(a) else a for a in args)
    if not any(type(a) is _Tracer() and is_traced(a) for a in args):
        return builtins.range(*args)
    if not 1 <= len(args) <= 3:
        return builtins.range(*args)  # the TypeError Python gives
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
    for a in (start, stop, step):
        if type(a) is _Tracer() and a.node.dtype.kind not in "iub":
            fail(
                f"range() of a traced {a.node.dtype} value",
                "Give range() ints (int(x) makes a traced int)",
            )
    return TracedRange(start, stop, step, size)


_BUILTINS = {
    id(builtins.min): _min,
    id(builtins.max): _max,
    id(builtins.round): _round,
    id(builtins.any): _any,
    id(builtins.all): _all,
}
_TYPES = {
    builtins.float: _float,
    builtins.int: _int,
    builtins.bool: _bool,
    builtins.range: _range,
}
_PLAIN = frozenset(
    (
        types.BuiltinFunctionType,
        np.ufunc,
        type(np.sum),
        types.MethodWrapperType,
        types.WrapperDescriptorType,
        types.MethodDescriptorType,
    )
)


def call(f, /, *args, **kwargs):
    """`f(*args, **kwargs)` as the converted code makes every call."""
    kind = type(f)
    if kind is types.FunctionType:
        if f.__code__ not in _convert.CONVERTED:
            inner = _library_wrapped(f, args, kwargs)
            if inner is not None:
                return call(inner, *args, **kwargs)
            f = _user(f)
    elif kind is types.MethodType:
        func = f.__func__
        if type(func) is types.FunctionType:
            if func.__code__ not in _convert.CONVERTED:
                new = _user(func)
                if new is not func:
                    f = types.MethodType(new, f.__self__)
        else:
            draw = _draws().method(f, args, kwargs)
            if draw is not _draws().NOT_A_DRAW:
                return draw
    elif kind is types.BuiltinFunctionType:
        special = _BUILTINS.get(id(f))
        if special is not None and getattr(builtins, f.__name__, None) is f:
            return special(*args, **kwargs)
    elif kind is type:
        special = _TYPES.get(f)
        if special is not None:
            return special(*args, **kwargs)
        if issubclass(f, np.number) and args and type(args[0]) is _Tracer():
            return _numpy_scalar(f, *args, **kwargs)
    elif kind is functools.partial:
        # Whatever the partial holds (a function, a method, another partial)
        # is called as converted code would call it.
        return call(f.func, *f.args, *args, **{**f.keywords, **kwargs})
    elif kind is staticmethod:
        return call(f.__func__, *args, **kwargs)
    elif kind not in _PLAIN:
        inner = _library_wrapped(f, args, kwargs)
        if inner is not None:
            return call(inner, *args, **kwargs)
        method = _class_attribute(kind, "__call__")
        if type(method) is types.FunctionType and method.__code__ not in (
            _convert.CONVERTED
        ):
            new = _user(method)
            if new is not method:
                return new(f, *args, **kwargs)
        elif type(method) is staticmethod:
            return call(method.__func__, *args, **kwargs)
        elif type(method) is classmethod:
            return call(method.__func__, kind, *args, **kwargs)
    return f(*args, **kwargs)


def imported(values, paths):
    """What an import in a converted function binds, resolved as the same
    import at module level is (`symgrad.frontend.resolve`)."""
    return tuple(resolve.imported(v, p) for v, p in zip(values, paths, strict=True))


def _library_wrapped(f, args, kwargs):
    """The user function a library decorator wraps (`functools.wraps` sets
    `__wrapped__`), or None. A wrapper written in a library (a cache, a JIT,
    a logger) is never converted, so the user's function would run through
    it unconverted: on traced arguments it is called directly instead.
    Wrappers in the user's own code are converted and called as they are;
    symgrad's own (custom rules, table entries) are not unwrapped, nor are
    wrappers of generators (`contextlib.contextmanager` makes something
    else of its function)."""
    if not (_has_traced(args) or (kwargs and _has_traced(kwargs))):
        return None
    if _symgrad_object(f):
        return None
    inner = getattr(f, "__wrapped__", None)
    if inner is None:
        return None
    if type(f) is types.FunctionType and resolve.is_user_function(f):
        return None
    seen = 0
    while not resolve.is_user_function(inner) and seen < 16:
        inner = getattr(inner, "__wrapped__", None)
        if inner is None or _symgrad_object(inner):
            return None
        seen += 1
    if not resolve.is_user_function(inner):
        return None
    return None if inner.__code__.co_flags & _SUSPENDING else inner


_SUSPENDING = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _symgrad_object(f) -> bool:
    if type(f) is types.FunctionType:
        module = f.__module__ or ""
    else:
        module = type(f).__module__ or ""
    return module == "symgrad" or module.startswith("symgrad.")


def _class_attribute(kind, name):
    for klass in kind.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _draws():

    return draws


resolve.use_runtime(sys.modules[__name__])
