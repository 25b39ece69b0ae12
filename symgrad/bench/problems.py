"""The four problems of the peer table (moons, two MLPs, an RNN), written once per peer.

Contract: `get(name, quick)` returns a `Problem`: `data()` builds the
arguments (float64, fixed seed; the first argument holds the parameters,
the only one differentiated), `loss` is the function symgrad compiles,
`hand` computes (value, gradient) the way a NumPy expert writes it, and
`jax_loss` / `torch_loss` are the same function for `jax.numpy` and
`torch` (called as `loss(params, *rest)`, where the other arguments are
converted like the parameters). Gradients share the parameters' structure
(lists, tuples, dicts), so `flatten` lines every peer's leaves up.

The problems (value and gradient of all parameters each step):
- `moons`: micrograd's moons MLP 2-16-16-1 on 100 samples, mean hinge loss
  plus 1e-4 * sum of squared parameters (`peers.loss`);
- `mlp128`: the same loss on an MLP 2-128-128-1 with 1,000 samples;
- `mlp512`: an MLP 64-512-512-10 on 10,000 samples, sum of squared errors on
  the 10 outputs, averaged over the samples;
- `rnn`: a tanh RNN, 50 steps, hidden 32, batch 16, 8 inputs, read out at the
  last step (mean squared error) plus 1e-4 * sum of squared parameters.
`quick` shrinks each to a smoke-test size.

"Hand" is what an expert writes: in-place bias add and ReLU, masks applied
in place, one temporary per layer, `g.T @ h` weight gradients; for the RNN
the input projection of all steps is one matmul, and the weight gradients of
all steps are one matmul each.
"""

from __future__ import annotations

import inspect
import linecache
import types
from dataclasses import dataclass, field

import numpy as np

from symgrad.bench import peers
from symgrad.frontend.tracing import relu

NAMES = ("moons", "mlp128", "mlp512", "rnn")


@dataclass(frozen=True)
class Problem:
    name: str
    title: str
    data: object  # () -> args
    loss: object
    hand: object
    jax_loss: object
    torch_loss: object
    info: dict = field(default_factory=dict)


def flatten(tree) -> list:
    """The leaves of nested lists, tuples and dicts (dicts in key order)."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in flatten(tree[key])]
    if isinstance(tree, list | tuple):
        return [leaf for item in tree for leaf in flatten(item)]
    return [tree]


def tree_map(fn, tree):
    """`tree` with every leaf replaced by `fn(leaf)` (same structure)."""
    if isinstance(tree, dict):
        return {key: tree_map(fn, value) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(tree_map(fn, item) for item in tree)
    return fn(tree)


def as_user_code(fn):
    """`fn` with its code filed under `<symgrad.bench>/FILE.py` (its lines
    registered in linecache), so that the tracer, which skips frames in
    symgrad's own folder, treats it as user code: the generated module's
    comments then name the loss's lines, and the profile can group by them."""
    real = inspect.getsourcefile(fn)
    name = "<symgrad.bench>/" + real.rsplit("/", 1)[-1]
    if name not in linecache.cache:
        lines = linecache.getlines(real)
        linecache.cache[name] = (sum(map(len, lines)), None, lines, name)

    def relabel(code):
        consts = tuple(
            relabel(c) if isinstance(c, types.CodeType) else c for c in code.co_consts
        )
        return code.replace(co_filename=name, co_consts=consts)

    return types.FunctionType(
        relabel(fn.__code__),
        fn.__globals__,
        fn.__name__,
        fn.__defaults__,
        fn.__closure__,
    )


# --- MLPs -----------------------------------------------------------------


def _mlp_data(sizes, batch, loss, seed=0):
    if sizes == (2, 16, 16, 1) and loss == "hinge":
        return lambda: peers.problem(sizes, batch, seed)  # the moons step's data

    def data():
        rng = np.random.default_rng(seed)
        params = [
            (rng.normal(size=(o, i)) * np.sqrt(2.0 / i), rng.normal(size=o) * 0.1)
            for i, o in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        X = rng.normal(size=(batch, sizes[0]))
        if loss == "hinge":
            y = np.where(rng.normal(size=batch) > 0, 1.0, -1.0)
        else:
            y = rng.normal(size=(batch, sizes[-1]))
        return params, X, y

    return data


def squares_loss(params, X, Y):
    """Sum of squared errors on every output, averaged over the samples."""
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = relu(h)
    return np.sum((h - Y) ** 2) / X.shape[0]


def hand_mlp(params, X, y, loss="hinge"):
    """An MLP's value and gradient as a NumPy expert writes them."""
    n = X.shape[0]
    last = len(params) - 1
    acts = [X]
    h = X
    for i, (W, b) in enumerate(params):
        z = h @ W.T
        z += b
        if i < last:
            np.maximum(z, 0.0, out=z)
        acts.append(z)
        h = z
    if loss == "hinge":
        m = y * h[:, 0]
        np.subtract(1.0, m, out=m)
        g = (m > 0) * (-1.0 / n)
        g *= y
        np.maximum(m, 0.0, out=m)
        value = m.sum() * (1.0 / n) + 1e-4 * sum(
            np.vdot(W, W) + np.vdot(b, b) for W, b in params
        )
        g = g.reshape(n, 1)
    else:
        g = h - y
        value = np.vdot(g, g) / n
        g *= 2.0 / n
    grads = [None] * len(params)
    for i in range(last, -1, -1):
        W, b = params[i]
        gW = g.T @ acts[i]
        gb = g.sum(axis=0)
        if loss == "hinge":
            gW += 2e-4 * W
            gb += 2e-4 * b
        grads[i] = (gW, gb)
        if i:
            g = g @ W
            g *= acts[i] > 0
    return float(value), grads


def _jax_mlp(loss):
    def jloss(params, X, y):
        import jax.numpy as jnp

        h = X
        for i, (W, b) in enumerate(params):
            h = h @ W.T + b
            if i < len(params) - 1:
                h = jnp.maximum(h, 0.0)
        if loss != "hinge":
            return jnp.sum((h - y) ** 2) / X.shape[0]
        data = jnp.maximum(1 - y * h[:, 0], 0.0).sum() * (1.0 / y.shape[0])
        return data + 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in params)

    return jloss


def _torch_mlp(loss):
    def tloss(params, X, y):
        import torch

        h = X
        for i, (W, b) in enumerate(params):
            h = h @ W.T + b
            if i < len(params) - 1:
                h = torch.relu(h)
        if loss != "hinge":
            return torch.sum((h - y) ** 2) / X.shape[0]
        data = torch.relu(1 - y * h[:, 0]).sum() * (1.0 / y.shape[0])
        return data + 1e-4 * sum((W * W).sum() + (b * b).sum() for W, b in params)

    return tloss


def _mlp(name, title, sizes, batch, loss):
    return Problem(
        name=name,
        title=title,
        data=_mlp_data(sizes, batch, loss),
        loss=as_user_code(peers.loss if loss == "hinge" else squares_loss),
        hand=lambda p, X, y: hand_mlp(p, X, y, loss),
        jax_loss=_jax_mlp(loss),
        torch_loss=_torch_mlp(loss),
        info={"sizes": list(sizes), "batch": batch, "loss": loss},
    )


# --- RNN ------------------------------------------------------------------

RNN_KEYS = ("Wx", "Wh", "b", "V")


def _rnn_data(steps, hidden, batch, inputs, seed=0):
    def data():
        rng = np.random.default_rng(seed)
        params = {
            "Wx": rng.normal(size=(inputs, hidden)) / np.sqrt(inputs),
            "Wh": rng.normal(size=(hidden, hidden)) / np.sqrt(hidden),
            "b": rng.normal(size=hidden) * 0.1,
            "V": rng.normal(size=(hidden, 1)) / np.sqrt(hidden),
        }
        xs = rng.normal(size=(steps, batch, inputs))  # time, batch, features
        target = rng.normal(size=(batch, 1))
        return params, xs, target

    return data


def rnn_loss(p, xs, target):
    """A tanh RNN read out at its last step, as people write it."""
    h = np.zeros((xs.shape[1], p["Wh"].shape[0]))
    for x in xs:
        h = np.tanh(x @ p["Wx"] + h @ p["Wh"] + p["b"])
    err = h @ p["V"] - target
    return np.mean(err**2) + 1e-4 * sum(np.sum(p[k] ** 2) for k in RNN_KEYS)


def hand_rnn(p, xs, target):
    """The RNN's value and gradient as an expert writes them: the input
    projection of every step in one matmul, states kept in one buffer,
    each weight gradient one matmul over all steps."""
    Wx, Wh, b, V = (p[k] for k in RNN_KEYS)
    T, B, D = xs.shape
    H = Wh.shape[0]
    X2 = xs.reshape(T * B, D)
    hs = np.empty((T, B, H))
    np.matmul(X2, Wx, out=hs.reshape(T * B, H))
    hs += b
    np.tanh(hs[0], out=hs[0])
    for t in range(1, T):
        ht = hs[t]
        ht += hs[t - 1] @ Wh
        np.tanh(ht, out=ht)
    h = hs[-1]
    r = h @ V
    r -= target
    value = np.vdot(r, r) / r.size + 1e-4 * sum(np.vdot(w, w) for w in (Wx, Wh, b, V))
    r *= 2.0 / r.size
    gV = h.T @ r
    gV += 2e-4 * V
    gz = np.empty_like(hs)
    gh = r @ V.T
    for t in range(T - 1, -1, -1):
        g = gz[t]
        np.multiply(hs[t], hs[t], out=g)
        np.subtract(1.0, g, out=g)
        g *= gh
        if t:
            gh = g @ Wh.T
    G = gz.reshape(T * B, H)
    gWh = hs[:-1].reshape((T - 1) * B, H).T @ gz[1:].reshape((T - 1) * B, H)
    gWh += 2e-4 * Wh
    gWx = X2.T @ G
    gWx += 2e-4 * Wx
    gb = G.sum(axis=0)
    gb += 2e-4 * b
    return float(value), {"Wx": gWx, "Wh": gWh, "b": gb, "V": gV}


def jax_rnn_loss(p, xs, target):
    import jax.numpy as jnp

    h = jnp.zeros((xs.shape[1], p["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = jnp.tanh(xs[t] @ p["Wx"] + h @ p["Wh"] + p["b"])
    err = h @ p["V"] - target
    return jnp.mean(err**2) + 1e-4 * sum(jnp.sum(p[k] ** 2) for k in RNN_KEYS)


def torch_rnn_loss(p, xs, target):
    import torch

    h = torch.zeros((xs.shape[1], p["Wh"].shape[0]), dtype=xs.dtype)
    for x in xs:
        h = torch.tanh(x @ p["Wx"] + h @ p["Wh"] + p["b"])
    err = h @ p["V"] - target
    return torch.mean(err**2) + 1e-4 * sum(torch.sum(p[k] ** 2) for k in RNN_KEYS)


def _rnn(steps, hidden, batch, inputs):
    return Problem(
        name="rnn",
        title=f"tanh RNN, {steps} steps, hidden {hidden}, batch {batch}",
        data=_rnn_data(steps, hidden, batch, inputs),
        loss=as_user_code(rnn_loss),
        hand=hand_rnn,
        jax_loss=jax_rnn_loss,
        torch_loss=torch_rnn_loss,
        info={"steps": steps, "hidden": hidden, "batch": batch, "inputs": inputs},
    )


def _mlp_title(sizes, batch):
    return "MLP {}, batch {:,}".format("-".join(map(str, sizes)), batch)


def get(name: str, quick: bool = False) -> Problem:
    if name == "moons":
        return _mlp(
            "moons",
            "micrograd's moons MLP 2-16-16-1, batch 100",
            (2, 16, 16, 1),
            100,
            "hinge",
        )
    if name == "mlp128":
        sizes, batch = ((2, 32, 32, 1), 100) if quick else ((2, 128, 128, 1), 1000)
        return _mlp("mlp128", _mlp_title(sizes, batch), sizes, batch, "hinge")
    if name == "mlp512":
        sizes, batch = ((16, 64, 64, 10), 200) if quick else ((64, 512, 512, 10), 10000)
        return _mlp("mlp512", _mlp_title(sizes, batch), sizes, batch, "squares")
    if name == "rnn":
        return _rnn(10, 8, 4, 3) if quick else _rnn(50, 32, 16, 8)
    raise KeyError(f"unknown problem {name!r}; choose from {', '.join(NAMES)}")
