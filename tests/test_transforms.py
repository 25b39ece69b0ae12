"""Transforms with JAX's names: values against finite differences and `grad`,
on both targets; JAX itself where it is installed (skipped cleanly when not).
"""

import importlib.util
import os

import numpy as np
import pytest

import symgrad
from symgrad.cli import load_function
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
    (hv,) = symgrad.hvp(f, (X,), (V,), target=target)
    assert_close(hv, np.asarray(H) @ V, rtol=1e-10, atol=1e-12)


def test_transforms_compose_inside_traces():
    # jacfwd of jacrev is the Hessian; grad of a jvp is an HVP.
    assert_close(symgrad.jacfwd(symgrad.jacrev(f))(X), _num_hessian(f, X), 1e-5, 1e-6)
    g = symgrad.grad(lambda x: symgrad.jvp(f, (x,), (V,))[1])(X)
    assert_close(g, symgrad.hvp(f, (X,), (V,))[0], rtol=1e-10)


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
    from symgrad.pytree import flatten

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
    from symgrad.pytree import flatten

    leaves, _, treedef = flatten(tree)
    return treedef.unflatten(
        [float(x) if np.ndim(x) == 0 else np.asarray(x) for x in leaves]
    )


def _block_matrix(hess, params):
    from symgrad.pytree import flatten

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
