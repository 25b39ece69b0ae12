"""Custom derivative rules with JAX's shapes, and stop_gradient.

Contract:
- `@custom_vjp` with `f.defvjp(fwd, bwd)`: `fwd(*args) -> (out, residuals)`,
  `bwd(residuals, g) -> tuple` of one cotangent per argument (None for
  none). Traced, `fwd` runs inline (its nodes are the forward computation,
  at `fwd`'s source lines) and `bwd` is traced once into a closed region;
  reverse mode instantiates that region with the residuals and the output
  cotangent, so the generated gradient contains the user's rule, with
  comments naming its lines, and needs nothing at run time.
- `@custom_jvp` with `f.defjvp(rule)`: `rule(primals, tangents) ->
  (out, tangent_out)`. The forward value comes from `f`; reverse mode uses
  the transpose of the rule (the rule is linear in the tangents, so its VJP
  is reverse mode over the traced rule), and forward mode (symgrad's JVP is
  derived from VJPs) then gets the rule back.
- On plain values both call `f` itself, and so does a call of `f` inside
  its own rules (JAX's pattern `def f_fwd(x): return f(x), x`, or
  `ans = f(x)` in a JVP rule): there `f` is the primal computation, which is
  what the rule asks for (the custom node gives the derivative), rather than
  the rule again, endlessly.
- `stop_gradient(x)` is `x` with no gradient.
The node holding a rule is `custom_vjp` (results: the outputs, passed
through); its VJP rule lives here.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools

from symgrad import ir, ops
from symgrad.ad import autodiff
from symgrad.ad.transforms import placeholder
from symgrad.errors import ArgumentError, TraceError
from symgrad.frontend import staging, tracing
from symgrad.ir.pytree import flatten, unflatten
from symgrad.ops import control
from symgrad.ops.core import Op, apply, register
from symgrad.ops.elementwise import TIE_RULE
from symgrad.passes.rewrite import substitute


def _nodes(tree_value, what):
    leaves, _, treedef = flatten(tree_value)
    nodes = []
    for x in leaves:
        if x is None:
            nodes.append(None)
        else:
            nodes.append(tracing.output_leaf(x, what))
    return nodes, treedef


def _custom_type(nodes, rule, nargs, nout, nres):
    outs = nodes[nargs : nargs + nout]
    return ir.TupleType(tuple(ir.type_of(o) for o in outs))


def _custom_vjp(g, out, *inputs):
    rule = out.attr("rule")
    nargs, nout, nres = out.attr("nargs"), out.attr("nout"), out.attr("nres")
    outs = inputs[nargs : nargs + nout]
    res = inputs[nargs + nout : nargs + nout + nres]
    free = inputs[nargs + nout + nres :]
    cts = [
        gi if gi is not None else autodiff.zeros_like(o)
        for gi, o in zip(g, outs, strict=True)
    ]
    mapping = dict(zip(rule.params, list(res) + cts + list(free), strict=True))
    results = substitute(list(rule.results), mapping)
    return tuple(results) + (None,) * (len(inputs) - nargs)


register(
    Op(
        name="custom_vjp",
        nin=None,
        result_type=_custom_type,
        eval=lambda *inputs, rule, nargs, nout, nres: tuple(
            inputs[nargs : nargs + nout]
        ),
        vjp=_custom_vjp,
    )
)


def _stop_vjp(g, out, a):
    return (None,)


register(
    Op(
        name="stop_gradient",
        nin=1,
        shape=lambda shapes: shapes[0],
        dtype=lambda nodes: nodes[0].dtype,
        eval=lambda a: a,
        vjp=_stop_vjp,
        sympy=lambda a: a,
        flags=frozenset(("elementwise", "zero_sign_from_operands")),
    )
)


def stop_gradient(x):
    """`x`, with no gradient flowing through it (JAX's `lax.stop_gradient`)."""
    leaves, _, treedef = flatten(x)
    out = [
        (
            tracing._record(lambda n: apply("stop_gradient", n), leaf)
            if isinstance(leaf, tracing.Tracer)
            else leaf
        )
        for leaf in leaves
    ]
    return unflatten(treedef, out)


def _traced(args) -> bool:
    leaves, _, _ = flatten(tuple(args))
    return any(isinstance(x, tracing.Tracer) for x in leaves)


# The custom functions whose rules are being traced now (innermost last), per
# thread and context: inside its own rule a custom function is its primal.
_IN_RULES: contextvars.ContextVar[tuple] = contextvars.ContextVar(
    "symgrad_custom_rules", default=()
)


@contextlib.contextmanager
def _own_rules(fn):
    token = _IN_RULES.set(_IN_RULES.get() + (fn,))
    try:
        yield
    finally:
        _IN_RULES.reset(token)


def _primal_only(fn, args) -> bool:
    """True where `fn(*args)` is just its function: on plain values, and
    inside fn's own rules."""
    return not _traced(args) or any(f is fn for f in _IN_RULES.get())


def _attach(fun_name, args, outs, out_tree, residuals, rule_fn, res_types):
    """The custom node over `args` whose VJP is the region traced from
    `rule_fn(*residual_params, *cotangent_params) -> cotangents per arg`."""
    arg_leaves, _, _ = flatten(tuple(args))
    arg_nodes = [tracing._to_node(a) for a in arg_leaves]
    types = list(res_types) + [ir.type_of(o) for o in outs]
    uid = control.new_uid()
    params = [control.param_node(t, uid, i) for i, t in enumerate(types)]
    watermark = ir.current_scope().counter
    with ir.annotate(None):
        result = rule_fn(*[tracing.Tracer(p) for p in params])
    leaves, _, _ = flatten(result)
    cts = [None if x is None else tracing._to_node(x) for x in leaves]
    if len(cts) != len(arg_nodes):
        raise TraceError(
            f"the derivative rule of {fun_name} gave {len(cts)} cotangent values "
            f"for {len(arg_nodes)} argument values; give one per argument (in a "
            "tuple, with each argument's structure)"
        )
    fixed = []
    for ct, a in zip(cts, arg_nodes, strict=True):
        if ct is None or (ct.op == "const" and ct.value is None):
            fixed.append(autodiff.zeros_like(a))
        elif ct.shape != a.shape:
            fixed.append(ops.broadcast_to(ct, a.shape) if ct.ndim < a.ndim else ct)
        else:
            fixed.append(ct)
    free = staging._free(fixed, watermark, set(params))
    region = staging._close(params, uid, fixed, free, free)
    node = apply(
        "custom_vjp",
        *arg_nodes,
        *outs,
        *residuals,
        *free,
        rule=region,
        nargs=len(arg_nodes),
        nout=len(outs),
        nres=len(residuals),
    )
    results = [tracing.Tracer(n) for n in control.items(node)]
    return unflatten(out_tree, results)


class custom_vjp:  # noqa: N801 - JAX's name
    """A function with its own reverse-mode rule (see the module doc)."""

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd
        return self

    def __call__(self, *args):
        if _primal_only(self, args):
            return self.fun(*args)
        if self.fwd is None:
            raise ArgumentError(
                f"{self.__name__} is a custom_vjp function without a rule; call "
                ".defvjp(fwd, bwd) on it"
            )
        with _own_rules(self):
            pair = self.fwd(*args)
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TraceError(
                f"the fwd of {self.__name__} must return (output, residuals)"
            )
        out, res = pair
        outs, out_tree = _nodes(out, self.__name__)
        res_nodes, res_tree = _nodes(res, self.__name__)
        # None residuals (nothing kept) are passed back to bwd as None.
        residuals = [r for r in res_nodes if r is not None]
        bwd = self.bwd
        nres = len(residuals)

        def rule(*params):
            given = iter(params[:nres])
            r = unflatten(
                res_tree, [None if x is None else next(given) for x in res_nodes]
            )
            g = unflatten(out_tree, params[nres:])
            with _own_rules(self):
                cts = bwd(r, g)
            if not isinstance(cts, tuple):
                raise TraceError(
                    f"the bwd of {self.__name__} must return a tuple of "
                    "cotangents, one per argument"
                )
            return [ct if ct is not None else 0.0 for ct in cts]

        return _attach(
            self.__name__,
            args,
            outs,
            out_tree,
            residuals,
            rule,
            [ir.type_of(r) for r in residuals],
        )


class custom_jvp:  # noqa: N801 - JAX's name
    """A function with its own forward-mode rule (see the module doc)."""

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.rule = None

    def defjvp(self, rule):
        self.rule = rule
        return rule

    def __call__(self, *args):
        if _primal_only(self, args):
            return self.fun(*args)
        if self.rule is None:
            raise ArgumentError(
                f"{self.__name__} is a custom_jvp function without a rule; "
                "decorate its rule with @{name}.defjvp"
            )
        out = self.fun(*args)
        outs, out_tree = _nodes(out, self.__name__)
        arg_leaves, _, arg_tree = flatten(tuple(args))
        arg_nodes = [tracing._to_node(a) for a in arg_leaves]
        rule = self.rule
        n = len(arg_nodes)

        def transposed(*params):
            # params: the arguments (as residuals), then the output cotangents.
            primals = unflatten(arg_tree, [tracing.Tracer(p.node) for p in params[:n]])
            tangents_nodes = [transforms_placeholder(a.node) for a in params[:n]]
            tangents = unflatten(arg_tree, [tracing.Tracer(t) for t in tangents_nodes])
            with _own_rules(self):
                _, tangent_out = rule(primals, tangents)
            touts, _ = _nodes(tangent_out, self.__name__)
            seeds = [p.node for p in params[n:]]
            grads, _ = autodiff.backward(touts, seeds, tangents_nodes)
            zeros = {t: autodiff.zeros_like(t) for t in tangents_nodes}
            grads = [
                g if g is not None else autodiff.zeros_like(a.node)
                for g, a in zip(grads, params[:n], strict=True)
            ]
            return substitute(grads, zeros)

        return _attach(
            self.__name__,
            args,
            outs,
            out_tree,
            arg_nodes,
            transposed,
            [ir.type_of(a) for a in arg_nodes],
        )


def transforms_placeholder(like):

    return placeholder(like, "tangent")


class tie_rule:  # noqa: N801 - used like a function
    """`with symgrad.tie_rule("split"):` compiles np.maximum(x, c) and
    np.minimum(x, c) with JAX's even split of the gradient at ties instead of
    the default "strict" rule (the traced operand gets it only where it
    strictly wins, as relu'(0) = 0)."""

    def __init__(self, rule: str):
        if rule not in ("strict", "split"):
            raise ArgumentError(f"tie_rule({rule!r}): use 'strict' or 'split'")
        self.rule = rule
        self.token = None

    def __enter__(self):

        self.token = TIE_RULE.set(self.rule)
        return self

    def __exit__(self, *exc):

        TIE_RULE.reset(self.token)
        return False
