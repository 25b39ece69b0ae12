"""Control flow and its tape: regions (cond, switch, while), results, stacks.

Contract: records and builders for
- `param`: an input of a region body (made by `param_node`, like `input`);
- `cond(pred, *operands, branches=(true, false))`: runs one of two regions
  on the operands; `switch(*tests, *operands, branches=(b0, ..., bN),
  ntests=N)`: runs the branch of the first true test (the last branch, the
  else, when none is): a long `if/elif/.../else` chain as one node, so that
  nothing nests as the chain grows;
  `while(*carries, *invariants, cond=, body=, ncarry=)`: runs `body` on the
  carries while `cond` holds. All three have a tuple of results,
  read with `item(node, i)`;
- `undef`: a result a branch does not define (a residual of the other
  branch, never read on this path);
- stacks, the tape of a loop's reverse sweep: `stack_new`, `push`, `pop`
  (a tuple: the rest of the stack, the value on top), `nonempty`,
  `stack_zeros` and `stack_add` (cotangents of stacks, for derivatives of
  derivatives).
Regions are closed (`ir.Region`): bodies see only their params and constants.
The VJP rules of cond and while live in `symgrad.ad.regions` (they
differentiate bodies); codegen writes these ops as statements (if/while,
`s.append(x)`, `x = s.pop()`), not through printers.
"""

from __future__ import annotations

import itertools

import numpy as np

from symgrad import ir
from symgrad.errors import ShapeError
from symgrad.ops.core import OBJECT, Op, apply, register
from symgrad.ops.evaluate import run_region

_uids = itertools.count(1)


def new_uid() -> int:
    return next(_uids)


# ------------------------------------------------------------------ builders


def param_node(vtype, region: int, index: int, hint=None) -> ir.Node:
    """Parameter `index` of region `region`, holding a value of `vtype`."""
    attrs = (("index", index), ("region", region))
    # The type is part of the identity: asking for the same slot with another
    # type is a bug that must not silently return the first node.
    if isinstance(vtype, ir.ArrayType):
        node = ir.make("param", (), attrs, vtype.shape, vtype.dtype, key=vtype)
    else:
        node = ir.make("param", (), attrs, (), OBJECT, key=vtype, vtype=vtype)
    node.hint = hint
    return node


def item(node: ir.Node, i: int) -> ir.Node:
    return apply("item", node, index=i)


def items(node: ir.Node) -> list:
    return [item(node, i) for i in range(len(node.vtype.items))]


def undef(vtype) -> ir.Node:
    return apply("undef", type=vtype)


def cond(pred, operands, true: ir.Region, false: ir.Region) -> ir.Node:
    return apply("cond", pred, *operands, branches=(true, false))


def switch(tests, operands, branches) -> ir.Node:
    """The branch of the first true test of `tests`, else the last branch."""
    if len(branches) != len(tests) + 1:
        raise ShapeError("a switch has one branch per test and an else branch")
    return apply(
        "switch", *tests, *operands, branches=tuple(branches), ntests=len(tests)
    )


def while_loop(carries, invariants, cond_region, body_region) -> ir.Node:
    return apply(
        "while",
        *carries,
        *invariants,
        cond=cond_region,
        body=body_region,
        ncarry=len(carries),
    )


def stack_new(elem: ir.ArrayType, hint=None) -> ir.Node:
    # Each stack is a distinct list at run time: a fresh uid keeps two
    # stacks of the same element type from interning into one.
    node = apply("stack_new", elem=elem, uid=new_uid())
    node.hint = hint
    return node


def push(stack, x) -> ir.Node:
    return apply("push", stack, x)


def pop(stack) -> tuple:
    """(the rest of the stack, the value on top)."""
    node = apply("pop", stack)
    return item(node, 0), item(node, 1)


def nonempty(stack) -> ir.Node:
    return apply("nonempty", stack)


def stack_zeros(stack) -> ir.Node:
    return apply("stack_zeros", stack)


def stack_add(a, b) -> ir.Node:
    return apply("stack_add", a, b)


# ------------------------------------------------------------------ types


def _item_type(nodes, index):
    (t,) = nodes
    if not isinstance(t.vtype, ir.TupleType):
        raise ShapeError(f"item of a value that is not a tuple: {ir.type_str(t)}")
    return t.vtype.items[index]


def _cond_type(nodes, branches):
    pred = nodes[0]
    if pred.shape != () or pred.dtype.kind != "b":
        raise ShapeError(
            f"a branch condition must be a boolean scalar, not {ir.type_str(pred)}"
        )
    true, false = branches
    t_types = [ir.type_of(r) for r in true.results]
    f_types = [ir.type_of(r) for r in false.results]
    if t_types != f_types:
        raise ShapeError(
            "the branches give values of different types: "
            + ", ".join(map(str, t_types))
            + " and "
            + ", ".join(map(str, f_types))
        )
    return ir.TupleType(tuple(t_types))


def _switch_type(nodes, branches, ntests):
    for t in nodes[:ntests]:
        if t.shape != () or t.dtype.kind != "b":
            raise ShapeError(
                f"a branch condition must be a boolean scalar, not {ir.type_str(t)}"
            )
    first = [ir.type_of(r) for r in branches[0].results]
    for region in branches[1:]:
        types = [ir.type_of(r) for r in region.results]
        if types != first:
            raise ShapeError(
                "the branches give values of different types: "
                + ", ".join(map(str, first))
                + " and "
                + ", ".join(map(str, types))
            )
    return ir.TupleType(tuple(first))


def _while_type(nodes, cond, body, ncarry):
    carries = [ir.type_of(n) for n in nodes[:ncarry]]
    if [ir.type_of(r) for r in body.results] != carries:
        raise ShapeError(
            "a loop body must give its values back with the types they had: "
            + ", ".join(map(str, carries))
            + " became "
            + ", ".join(str(ir.type_of(r)) for r in body.results)
        )
    (c,) = cond.results
    if c.shape != () or c.dtype.kind != "b":
        raise ShapeError(
            f"a loop condition must be a boolean scalar, not {ir.type_str(c)}"
        )
    return ir.TupleType(tuple(carries))


def _stack_of(node) -> ir.StackType:
    if not isinstance(node.vtype, ir.StackType):
        raise ShapeError(f"expected a stack, got {ir.type_str(node)}")
    return node.vtype


def _push_type(nodes):
    stack, x = nodes
    st = _stack_of(stack)
    if ir.type_of(x) != st.elem:
        raise ShapeError(f"pushing {ir.type_str(x)} onto a {st}")
    return st


def _pop_type(nodes):
    st = _stack_of(nodes[0])
    return ir.TupleType((st, st.elem))


# ------------------------------------------------------------------ evaluation


def _run(region, args):

    return run_region(region, args)


def _eval_cond(pred, *operands, branches):
    chosen = branches[0] if bool(pred) else branches[1]
    return tuple(_run(chosen, operands))


def _eval_switch(*inputs, branches, ntests):
    chosen = branches[-1]
    for test, region in zip(inputs[:ntests], branches, strict=False):
        if bool(test):
            chosen = region
            break
    return tuple(_run(chosen, inputs[ntests:]))


def _eval_while(*operands, cond, body, ncarry):
    carries = list(operands[:ncarry])
    invariants = list(operands[ncarry:])
    while bool(_run(cond, carries + invariants)[0]):
        carries = list(_run(body, carries + invariants))
    return tuple(carries)


class _Undefined:
    """The value of `undef` in the reference interpreter."""

    def __repr__(self):
        return "<undefined>"


UNDEFINED = _Undefined()


def _eval_pop(stack):
    rest = list(stack)
    top = rest.pop()
    return (rest, top)


def _zeros_of(x):
    if isinstance(x, list):  # a stack of stacks
        return [_zeros_of(v) for v in x]
    return np.zeros_like(np.asarray(x))


def _added(a, b):
    if isinstance(a, list):
        return [_added(u, v) for u, v in zip(a, b, strict=True)]
    return a + b


# ------------------------------------------------------------------ records

_NO_VJP = "see symgrad.ad.regions"

# name -> VJP rule of a region or stack op. The rules differentiate region
# bodies, which is reverse mode's business: `symgrad.ad.regions` defines them
# (`define_vjp`) when the `ad` package is imported, so ops never import `ad`.
_REGION_VJPS: dict = {}


def define_vjp(name: str, rule) -> None:
    """Install the VJP rule of the control op `name` (see `_REGION_VJPS`)."""
    _REGION_VJPS[name] = rule


def _region_vjp(name):
    def vjp(g, out, *inputs):
        return _REGION_VJPS[name](g, out, *inputs)

    return vjp


register(
    Op(
        name="param",
        nin=0,
        shape=lambda shapes, **_: (),
        eval=lambda **_: None,
        flags=frozenset(("leaf",)),
    )
)
register(
    Op(
        name="item",
        nin=1,
        result_type=_item_type,
        eval=lambda t, index: t[index],
        # Autodiff routes an item's cotangent to its tuple directly.
        vjp=None,
    )
)
register(
    Op(
        name="undef",
        nin=0,
        result_type=lambda nodes, type: type,
        eval=lambda type: UNDEFINED,
        vjp=lambda g, out: (),
    )
)
register(
    Op(
        name="cond",
        nin=None,
        result_type=_cond_type,
        eval=_eval_cond,
        vjp=_region_vjp("cond"),
        flags=frozenset(("region",)),
    )
)
register(
    Op(
        name="switch",
        nin=None,
        result_type=_switch_type,
        eval=_eval_switch,
        vjp=_region_vjp("switch"),
        flags=frozenset(("region",)),
    )
)
register(
    Op(
        name="while",
        nin=None,
        result_type=_while_type,
        eval=_eval_while,
        vjp=_region_vjp("while"),
        flags=frozenset(("region",)),
    )
)
register(
    Op(
        name="stack_new",
        nin=0,
        result_type=lambda nodes, elem, uid: ir.StackType(elem),
        eval=lambda elem, uid: [],
        vjp=lambda g, out: (),
        flags=frozenset(("effect",)),
    )
)
register(
    Op(
        name="push",
        nin=2,
        result_type=_push_type,
        eval=lambda stack, x: list(stack) + [x],
        vjp=_region_vjp("push"),
        flags=frozenset(("effect",)),
    )
)
register(
    Op(
        name="pop",
        nin=1,
        result_type=_pop_type,
        eval=_eval_pop,
        vjp=_region_vjp("pop"),
        flags=frozenset(("effect",)),
    )
)
register(
    Op(
        name="nonempty",
        nin=1,
        result_type=lambda nodes: ir.ArrayType((), np.dtype(bool)),
        eval=lambda stack: np.bool_(len(stack) > 0),
        vjp=lambda g, out, s: (None,),
    )
)
register(
    Op(
        name="stack_zeros",
        nin=1,
        result_type=lambda nodes: _stack_of(nodes[0]),
        eval=lambda stack: [_zeros_of(x) for x in stack],
        vjp=lambda g, out, s: (None,),
    )
)
register(
    Op(
        name="stack_add",
        nin=2,
        result_type=lambda nodes: _stack_of(nodes[0]),
        eval=lambda a, b: [_added(x, y) for x, y in zip(a, b, strict=True)],
        vjp=lambda g, out, a, b: (g, g),
        flags=frozenset(("commutative",)),
    )
)
