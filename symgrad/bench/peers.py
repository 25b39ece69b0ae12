"""The MLP step every peer computes, written once per peer.

Contract: the model is micrograd's moons MLP generalised to any widths: ReLU
on every layer but the last, one score per sample, loss = mean hinge
`relu(1 - y * score)` + 1e-4 * sum of squared parameters, float64. Each
`make_*` function takes `(params, X, y)` (NumPy) and returns a zero-argument
callable computing the value and the gradient of all parameters, or raises
`Unavailable` with a note when the peer is not installed.
"""

from __future__ import annotations

import numpy as np

from symgrad import api
from symgrad.errors import SymgradError
from symgrad.frontend.tracing import relu


class Unavailable(Exception):
    """The peer cannot run here (not installed); the message says how to get it."""


def problem(sizes=(2, 16, 16, 1), batch=100, seed=0):
    rng = np.random.default_rng(seed)
    params = [
        (rng.uniform(-1, 1, size=(o, i)), rng.uniform(-0.1, 0.1, size=o))
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    X = rng.normal(size=(batch, sizes[0]))
    y = np.where(rng.normal(size=batch) > 0, 1.0, -1.0)
    return params, X, y


def loss(params, X, y):
    """The loss, traceable by symgrad and runnable on NumPy arrays.

    `symgrad.relu` is micrograd's ReLU (relu'(0) = 0), like every peer's.
    """
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = relu(h)
    margins = relu(1 - y * h[:, 0])
    data = margins.sum() * (1.0 / len(y))
    return data + 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in params)


def hand_value_and_grad(params, X, y):
    """Forward and backward written by hand in NumPy: the speed to match."""
    acts, pres = [X], []
    h = X
    last = len(params) - 1
    for i, (W, b) in enumerate(params):
        z = h @ W.T + b
        pres.append(z)
        h = np.maximum(z, 0.0) if i < last else z
        acts.append(h)
    margins = 1 - y * h[:, 0]
    scale = 1.0 / len(y)
    value = np.maximum(margins, 0.0).sum() * scale + 1e-4 * sum(
        (W * W).sum() + (b * b).sum() for W, b in params
    )
    g = (np.where(margins > 0, -y, 0.0) * scale)[:, None]
    grads = [None] * len(params)
    for i in range(last, -1, -1):
        W, b = params[i]
        if i < last:
            g = g * (pres[i] > 0)
        grads[i] = (g.T @ acts[i] + 2e-4 * W, g.sum(axis=0) + 2e-4 * b)
        if i:
            g = g @ W
    return value, grads


def make_hand(params, X, y):
    return lambda: hand_value_and_grad(params, X, y)


def make_symgrad(params, X, y, target="numpy", function="value_and_grad"):
    """symgrad's generated `function` (value_and_grad or forward) on `target`."""

    try:
        run = getattr(api.compile(loss, params, X, y, target=target), function)
        if target == "c":
            run(params, X, y)  # builds (or loads) the extension now
    except SymgradError as exc:
        raise Unavailable(str(exc).splitlines()[0]) from None
    if target in ("numpy", "c"):
        return lambda: run(params, X, y)
    lists = ([(W.tolist(), b.tolist()) for W, b in params], X.tolist(), y.tolist())
    return lambda: run(*lists)


def make_torch(params, X, y):
    try:
        import torch
    except ImportError:
        raise Unavailable("pip install torch==2.13.0 (or .[bench])") from None
    torch.set_num_threads(1)
    ps = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
        for W, b in params
    ]
    Xt, yt = torch.tensor(X), torch.tensor(y)
    scale = 1.0 / len(y)

    def step():
        for W, b in ps:
            W.grad = b.grad = None
        h = Xt
        for i, (W, b) in enumerate(ps):
            h = h @ W.T + b
            if i < len(ps) - 1:
                h = torch.relu(h)
        total = torch.relu(1 - yt * h[:, 0]).sum() * scale + 1e-4 * sum(
            (W * W).sum() + (b * b).sum() for W, b in ps
        )
        total.backward()
        return total.item()

    return step


def make_jax(params, X, y):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise Unavailable("pip install jax (or .[bench])") from None
    jax.config.update("jax_enable_x64", True)

    def jloss(ps, X, y):
        h = X
        for i, (W, b) in enumerate(ps):
            h = h @ W.T + b
            if i < len(ps) - 1:
                h = jnp.maximum(h, 0.0)
        data = jnp.maximum(1 - y * h[:, 0], 0.0).sum() * (1.0 / y.shape[0])
        return data + 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in ps)

    fn = jax.jit(jax.value_and_grad(jloss))
    jp = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
    jX, jy = jnp.asarray(X), jnp.asarray(y)
    return lambda: jax.block_until_ready(fn(jp, jX, jy))


def make_micrograd(params, X, y):
    """micrograd's demo step: forward, zero_grad, backward."""
    try:
        from micrograd.engine import Value
        from micrograd.nn import MLP
    except ImportError:
        raise Unavailable("pip install micrograd (or .[bench])") from None
    sizes = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]
    model = MLP(sizes[0], sizes[1:])
    for (W, b), layer in zip(params, model.layers, strict=True):
        for row, bias, neuron in zip(W, b, layer.neurons, strict=True):
            for w, value in zip(neuron.w, row, strict=True):
                w.data = float(value)
            neuron.b.data = float(bias)
    rows, labels = X.tolist(), y.tolist()

    def step():
        inputs = [list(map(Value, row)) for row in rows]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(labels, scores, strict=True)]
        total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(
            p * p for p in model.parameters()
        )
        model.zero_grad()
        total.backward()
        return total.data

    return step
