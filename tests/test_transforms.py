"""Transforms with JAX's names: values against finite differences and `grad`,
on both targets; JAX itself where it is installed (skipped cleanly when not).
"""

import importlib.util
import os

import numpy as np
import pytest

import symgrad
from symgrad.cli.load import load_function
from tests.oracles import assert_close, numeric_grad

TARGETS = ("numpy", "python")
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def f(x):
    return np.sum(np.tanh(x) * x[::-1]) + np.sin(x[0]) * x[1] ** 2


def vector_f(x):
    return np.sin(x) * x[0] + np.exp(x[::-1] * 0.5)


X = np.array([0.3, -0.7, 1.1])
V = np.array([0.5, 1.0, -2.0])


def _num_hessian(fun, x):
    def grad_at(z):
        return numeric_grad(fun, [z], [0])[0]

    rows = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = 1e-4
        rows.append((grad_at(x + e) - grad_at(x - e)) / 2e-4)
    return np.array(rows)


def _num_jacobian(fun, x):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = 1e-6
        cols.append((fun(x + e) - fun(x - e)) / 2e-6)
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("target", TARGETS)
def test_jvp_is_grad_dot_tangent(target):
    value, tangent = symgrad.jvp(f, (X,), (V,), target=target)
    assert value == pytest.approx(f(X), rel=1e-12)
    g = symgrad.grad(f, target=target)(X)
    assert tangent == pytest.approx(float(np.dot(g, V)), rel=1e-12)


@pytest.mark.parametrize("target", TARGETS)
def test_vjp_and_linearize(target):
    out, pullback = symgrad.vjp(vector_f, X, target=target)
    assert_close(out, vector_f(X), rtol=1e-12)
    (ct,) = pullback(V)
    assert_close(ct, _num_jacobian(vector_f, X).T @ V)
    out, push = symgrad.linearize(vector_f, X, target=target)
    assert_close(push(V), _num_jacobian(vector_f, X) @ V)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", ["jacfwd", "jacrev", "jacobian"])
def test_jacobians(kind, target):
    got = getattr(symgrad, kind)(vector_f, target=target)(X)
    assert_close(got, _num_jacobian(vector_f, X))


@pytest.mark.parametrize("target", TARGETS)
def test_hessian_and_hvp(target):
    H = symgrad.hessian(f, target=target)(X)
    assert_close(H, _num_hessian(f, X), rtol=1e-5, atol=1e-6)
    hv = symgrad.hvp(f, (X,), (V,), target=target)
    assert np.shape(hv) == X.shape  # one primal: its shape, as JAX's
    assert_close(hv, np.asarray(H) @ V, rtol=1e-10, atol=1e-12)


def test_transforms_compose_inside_traces():
    # jacfwd of jacrev is the Hessian; grad of a jvp is an HVP.
    assert_close(symgrad.jacfwd(symgrad.jacrev(f))(X), _num_hessian(f, X), 1e-5, 1e-6)
    g = symgrad.grad(lambda x: symgrad.jvp(f, (x,), (V,))[1])(X)
    assert_close(g, symgrad.hvp(f, (X,), (V,)), rtol=1e-10)


def test_pytrees_and_argnums():
    params = {"w": np.array([0.5, -1.0]), "b": 0.3}

    def loss(p, x):
        return np.sum(np.tanh(p["w"] * x + p["b"]) ** 2)

    x = np.array([1.0, 2.0])
    H = symgrad.hessian(loss)(params, x)
    assert set(H) == {"w", "b"} and set(H["w"]) == {"w", "b"}
    assert np.shape(H["w"]["w"]) == (2, 2) and np.shape(H["w"]["b"]) == (2,)
    flat = lambda v: loss({"w": v[:2], "b": v[2]}, x)  # noqa: E731
    full = _num_hessian(flat, np.array([0.5, -1.0, 0.3]))
    assert_close(H["w"]["w"], full[:2, :2], 1e-5, 1e-6)
    assert_close(H["b"]["w"], full[2, :2], 1e-5, 1e-6)
    Jx = symgrad.jacrev(lambda p, x: p["w"] * x, argnums=1)(params, x)
    assert_close(Jx, np.diag(params["w"]))


def _example(filename, name):
    fun, record = load_function(os.path.join(HERE, filename) + ":" + name)
    return fun, record.example_args()


def test_hessian_of_logistic_regression_and_the_moons_mlp():
    for filename, name in (("logistic.py", "logistic_loss"), ("moons.py", "loss")):
        fun, (params, X, y) = _example(filename, name)
        if filename == "moons.py":
            X, y = X[:12], y[:12]  # keep the finite differences cheap
        flat, unflatten = _flattener(params)
        rng = np.random.default_rng(0)
        p0 = flat + 0.1 * rng.normal(size=flat.shape)
        start = _plain(unflatten(p0))
        c = symgrad.compile(fun, start, X, y, functions=("hessian", "hvp"))
        H = _block_matrix(c.hessian(start, X, y), params)
        grad_fn = symgrad.grad(
            lambda q, fun=fun, unflatten=unflatten, X=X, y=y: fun(unflatten(q), X, y)
        )
        expected = _num_hessian_of_grad(grad_fn, p0, sample=12)
        for i, row in expected:
            assert_close(H[i], row, rtol=1e-6, atol=1e-7)


def _flattener(params):
    from symgrad.ir.pytree import flatten

    leaves, _, treedef = flatten(params)
    shapes = [np.shape(x) for x in leaves]
    sizes = [int(np.prod(s)) for s in shapes]
    flat = np.concatenate([np.ravel(x) for x in leaves])

    def unflatten(v):
        out, start = [], 0
        for shape, size in zip(shapes, sizes, strict=True):
            piece = v[start : start + size]
            out.append(piece.reshape(shape) if shape else piece[0])
            start += size
        return treedef.unflatten(out)

    return flat, unflatten


def _plain(tree):
    """Scalars as Python floats (the unflattener leaves them as 0-d arrays)."""
    from symgrad.ir.pytree import flatten

    leaves, _, treedef = flatten(tree)
    return treedef.unflatten(
        [float(x) if np.ndim(x) == 0 else np.asarray(x) for x in leaves]
    )


def _block_matrix(hess, params):
    from symgrad.ir.pytree import flatten

    leaves, _, _ = flatten(params)
    sizes = [int(np.prod(np.shape(x))) for x in leaves]
    rows, _, _ = flatten(hess)
    blocks = iter(np.reshape(b, (-1,)) for b in rows)
    out = []
    for a in sizes:
        row = [next(blocks).reshape(a, b) for b in sizes]
        out.append(np.concatenate(row, axis=1))
    return np.concatenate(out, axis=0)


def _num_hessian_of_grad(grad_fn, p, sample):
    """Rows of the Hessian by central differences of the gradient (a sample)."""
    rng = np.random.default_rng(1)
    picks = sorted(rng.choice(p.size, size=min(sample, p.size), replace=False))
    out = []
    for i in picks:
        e = np.zeros_like(p)
        e[i] = 1e-5
        out.append((i, (grad_fn(p + e) - grad_fn(p - e)) / 2e-5))
    return out


def test_hvp_does_not_form_the_hessian():
    # The HVP's operation count grows linearly with the parameter count.
    counts = []
    for n in (10, 40, 160):
        x = np.linspace(-1, 1, n)
        c = symgrad.compile(
            lambda x: np.sum(np.tanh(x) ** 2) + np.sum(x) ** 2, x, functions="hvp"
        )
        counts.append(c.stats["value_and_grad_ops"])
    assert counts[0] == counts[1] == counts[2]  # array code: independent of n


# ------------------------------------------------------------------ JAX's structures


def _structure(value):
    """The pytree skeleton of a result: containers and leaf shapes."""
    if isinstance(value, tuple):
        return ("tuple", tuple(_structure(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _structure(v)) for k, v in sorted(value.items())))
    return np.shape(value)


def two_args(x, y):
    return {"a": np.sin(x) * y, "b": (y * 2.0, x * x)}


def scalar_of_two(x, y):
    return np.sum(np.sin(x) * y) + y**3


def scalar_of_dict(p):
    return np.sum(p["w"] ** 3) * p["b"]


P = {"w": X, "b": 0.4}
PT = {"w": V, "b": 1.0}


@pytest.mark.parametrize("target", TARGETS)
def test_results_have_jaxs_structures(target):
    # jvp: (primals_out, tangents_out), both shaped like the output.
    both = _structure(two_args(X, 0.4))
    got = symgrad.jvp(two_args, (X, 0.4), (V, 1.0), target=target)
    assert _structure(got) == ("tuple", (both, both))
    assert _structure(symgrad.jvp(f, (X,), (V,), target=target)) == (
        "tuple",
        ((), ()),
    )
    # vjp: (primals_out, vjp_fn); vjp_fn gives a tuple, one entry per primal.
    out, pullback = symgrad.vjp(f, X, target=target)
    assert _structure(pullback(1.0)) == ("tuple", (X.shape,))
    out, pullback = symgrad.vjp(two_args, X, 0.4, target=target)
    assert _structure(out) == both
    assert _structure(pullback(two_args(V, 1.0))) == ("tuple", (X.shape, ()))
    # linearize: (primals_out, f_jvp); f_jvp(*tangents) is shaped like out.
    out, push = symgrad.linearize(two_args, X, 0.4, target=target)
    assert _structure(out) == _structure(push(V, 1.0)) == both
    # hvp: one primal gives its structure; several give a tuple.
    assert _structure(symgrad.hvp(f, (X,), (V,), target=target)) == X.shape
    got = symgrad.hvp(scalar_of_dict, (P,), (PT,), target=target)
    assert _structure(got) == _structure(P)
    got = symgrad.hvp(scalar_of_two, (X, 0.4), (V, 1.0), target=target)
    assert _structure(got) == ("tuple", (X.shape, ()))
    assert _structure(symgrad.hvp(lambda s: s**3, (2.0,), (1.0,))) == ()


def test_hvp_structures_inside_a_trace():
    # The same structures when the transform runs inside another trace.
    def inner(x):
        one = symgrad.hvp(f, (x,), (V,))
        several = symgrad.hvp(scalar_of_two, (x, 0.4), (V, 1.0))
        tree = symgrad.hvp(scalar_of_dict, ({"w": x, "b": 0.4},), (PT,))
        assert isinstance(several, tuple) and len(several) == 2
        return np.sum(one) + np.sum(several[0]) + np.sum(tree["w"]) * tree["b"]

    g = symgrad.grad(inner)(X)
    assert_close(g, numeric_grad(inner, [X], [0])[0], rtol=1e-6)


def test_hvp_needs_a_tangent_per_primal():
    with pytest.raises(symgrad.ArgumentError, match="one tangent per primal"):
        symgrad.hvp(scalar_of_two, (X, 0.4), (V,))


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX not installed")
def test_structures_against_jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def j_two_args(x, y):
        return {"a": jnp.sin(x) * y, "b": (y * 2.0, x * x)}

    def j_scalar_of_two(x, y):
        return jnp.sum(jnp.sin(x) * y) + y**3

    def j_scalar_of_dict(p):
        return jnp.sum(p["w"] ** 3) * p["b"]

    def same(ours, theirs):
        assert _structure(ours) == _structure(
            jax.tree_util.tree_map(np.asarray, theirs)
        )
        for a, b in zip(
            jax.tree_util.tree_leaves(ours),
            jax.tree_util.tree_leaves(theirs),
            strict=True,
        ):
            assert_close(a, np.asarray(b), rtol=1e-10, atol=1e-12)

    same(
        symgrad.jvp(two_args, (X, 0.4), (V, 1.0)),
        jax.jvp(j_two_args, (X, 0.4), (V, 1.0)),
    )
    ours, our_fn = symgrad.vjp(two_args, X, 0.4)
    theirs, their_fn = jax.vjp(j_two_args, X, 0.4)
    same(ours, theirs)
    ct = two_args(V, 1.0)
    same(our_fn(ct), their_fn(ct))
    ours, our_push = symgrad.linearize(two_args, X, 0.4)
    theirs, their_push = jax.linearize(j_two_args, X, 0.4)
    same(ours, theirs)
    same(our_push(V, 1.0), their_push(V, 1.0))
    # hvp is jax.jvp(jax.grad(f, argnums), primals, tangents)[1].
    same(
        symgrad.hvp(f, (X,), (V,)),
        jax.jvp(jax.grad(lambda x: _jf(jnp, x)), (X,), (V,))[1],
    )
    same(
        symgrad.hvp(scalar_of_dict, (P,), (PT,)),
        jax.jvp(jax.grad(j_scalar_of_dict), (P,), (PT,))[1],
    )
    same(
        symgrad.hvp(scalar_of_two, (X, 0.4), (V, 1.0)),
        jax.jvp(jax.grad(j_scalar_of_two, argnums=(0, 1)), (X, 0.4), (V, 1.0))[1],
    )


def _jf(jnp, x):
    return jnp.sum(jnp.tanh(x) * x[::-1]) + jnp.sin(x[0]) * x[1] ** 2


# ------------------------------------------------------------------ custom rules


@symgrad.custom_vjp
def softplus(x):
    return np.log1p(np.exp(x))


def _softplus_fwd(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0), x


def _softplus_bwd(x, g):
    return (g / (1.0 + np.exp(-x)),)


softplus.defvjp(_softplus_fwd, _softplus_bwd)


@symgrad.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1.0, 1.0),))


@pytest.mark.parametrize("target", TARGETS)
def test_custom_vjp_stable_softplus_and_gradient_clipping(target):
    x = np.array([1000.0, 0.5, -3.0])
    g = symgrad.grad(lambda x: np.sum(softplus(x)), target=target)(x)
    assert_close(g, 1.0 / (1.0 + np.exp(-x)), rtol=1e-12)
    assert np.all(np.isfinite(g))
    g = symgrad.grad(lambda x: np.sum(clip_gradient(x) * 5.0), target=target)(x)
    assert_close(g, [1.0, 1.0, 1.0])
    src = symgrad.compile(lambda x: np.sum(softplus(x)), x, target=target).source
    assert "return (g / (1.0 + np.exp(-x)),)  (test_transforms.py:" in src


def test_custom_jvp_and_stop_gradient():
    @symgrad.custom_jvp
    def halved(x):
        return x * 1.0

    @halved.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return x, 0.5 * t

    assert_close(symgrad.grad(lambda x: np.sum(halved(x) ** 2))(V), V)
    assert_close(symgrad.jvp(lambda x: halved(x), (V,), (V,))[1], 0.5 * V)
    g = symgrad.grad(lambda x: np.sum(x * symgrad.stop_gradient(x)))(V)
    assert_close(g, V)


# Examples in the manner of JAX's custom-derivative tutorial: the rules call
# the decorated function itself, which there means its primal computation.


@symgrad.custom_jvp
def log1pexp(x):
    return np.log(1.0 + np.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    # 1 - 1 / (1 + e^x) stays finite where e^x overflows.
    return log1pexp(x), (1.0 - 1.0 / (1.0 + np.exp(x))) * dx


@symgrad.custom_jvp
def ratio(x):
    return x / (1.0 + np.sqrt(x))


@ratio.defjvp
def _ratio_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    root = np.sqrt(x)
    # The derivative simplified by hand: finite at 0, where sqrt's is not.
    return ratio(x), (root + 2.0) / (2.0 * (root + 1.0) ** 2) * dx


@symgrad.custom_jvp
def sin_times(x, y):
    return np.sin(x) * y


@sin_times.defjvp
def _sin_times_jvp(primals, tangents):
    (x, y), (dx, dy) = primals, tangents
    return sin_times(x, y), np.cos(x) * dx * y + np.sin(x) * dy


@symgrad.custom_vjp
def sin_times_vjp(x, y):
    return np.sin(x) * y


def _sin_times_fwd(x, y):
    # JAX's documented pattern: the forward rule calls the function itself.
    return sin_times_vjp(x, y), (np.cos(x), np.sin(x), y)


def _sin_times_bwd(residuals, g):
    cos_x, sin_x, y = residuals
    return (cos_x * g * y, sin_x * g)


sin_times_vjp.defvjp(_sin_times_fwd, _sin_times_bwd)


@symgrad.custom_vjp
def clip_between(lo, hi, x):
    return x  # the identity forward; the backward pass clips the cotangent


clip_between.defvjp(
    lambda lo, hi, x: (x, (lo, hi)),
    lambda bounds, g: (None, None, np.clip(g, bounds[0], bounds[1])),
)


@symgrad.custom_vjp
def exp_again(x):
    return np.exp(x)


# The backward rule calls the function too (the derivative of exp is exp).
exp_again.defvjp(lambda x: (exp_again(x), x), lambda x, g: (g * exp_again(x),))


@pytest.mark.parametrize("target", TARGETS)
def test_custom_rules_as_in_jaxs_tutorial(target):
    def grad(fun, argnums=0):
        return symgrad.grad(fun, argnums=argnums, target=target)

    # Off the trace each is its own function.
    assert log1pexp(0.0) == pytest.approx(np.log(2.0))
    # log(1 + e^x): e^1000 overflows, the custom rule's derivative does not.
    assert grad(log1pexp)(1000.0) == 1.0
    assert grad(log1pexp)(1.0) == pytest.approx(1.0 / (1.0 + np.exp(-1.0)))
    s = 1.0 / (1.0 + np.exp(-1.0))
    assert grad(grad(log1pexp))(1.0) == pytest.approx(s * (1.0 - s), rel=1e-12)
    value, tangent = symgrad.jvp(log1pexp, (3.0,), (2.0,), target=target)
    assert value == pytest.approx(np.log1p(np.exp(3.0)), rel=1e-12)
    assert tangent == pytest.approx(2.0 / (1.0 + np.exp(-3.0)), rel=1e-12)
    # x / (1 + sqrt(x)) at 0: the rule's derivative is 1 there.
    assert grad(ratio)(0.0) == 1.0
    assert grad(ratio)(4.0) == pytest.approx(4.0 / 18.0, rel=1e-12)
    # Two arguments, forward and reverse rules.
    expected = (np.cos(2.0) * 3.0, np.sin(2.0))
    for fun in (sin_times, sin_times_vjp):
        got = grad(fun, argnums=(0, 1))(2.0, 3.0)
        assert got == pytest.approx(expected, rel=1e-12)
    out, pullback = symgrad.vjp(sin_times_vjp, 2.0, 3.0, target=target)
    assert out == pytest.approx(np.sin(2.0) * 3.0, rel=1e-12)
    assert pullback(1.0) == pytest.approx(expected, rel=1e-12)
    # The cotangent clipped to [-0.75, 0.75] before it reaches sin.
    x = np.array([0.1, 2.0, -1.0])
    got = grad(lambda x: np.sum(clip_between(-0.75, 0.75, np.sin(x) * 3.0)))(x)
    assert_close(got, 0.75 * 3.0 * np.cos(x), rtol=1e-12)
    got = grad(lambda x: np.sum(clip_between(-0.75, 0.75, np.sin(x)) * 0.5))(x)
    assert_close(got, 0.5 * np.cos(x), rtol=1e-12)
    # A backward rule that calls its own function.
    assert grad(exp_again)(0.7) == pytest.approx(np.exp(0.7), rel=1e-12)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX not installed")
def test_against_jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def jf(x):
        return jnp.sum(jnp.tanh(x) * x[::-1]) + jnp.sin(x[0]) * x[1] ** 2

    def jvec(x):
        return jnp.sin(x) * x[0] + jnp.exp(x[::-1] * 0.5)

    close = dict(rtol=1e-10, atol=1e-12)
    assert_close(symgrad.jvp(f, (X,), (V,))[1], jax.jvp(jf, (X,), (V,))[1], **close)
    assert_close(symgrad.vjp(vector_f, X)[1](V)[0], jax.vjp(jvec, X)[1](V)[0], **close)
    assert_close(symgrad.jacfwd(vector_f)(X), jax.jacfwd(jvec)(X), **close)
    assert_close(symgrad.jacrev(vector_f)(X), jax.jacrev(jvec)(X), **close)
    assert_close(symgrad.hessian(f)(X), jax.hessian(jf)(X), **close)
