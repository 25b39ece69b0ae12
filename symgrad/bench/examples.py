"""The examples in examples/ as benchmark problems, with their JAX versions.

Contract: `get(name)` returns a `problems.Problem` for one of `NAMES`: its
`loss` is the exported function of `examples/FILE.py` (loaded from the
source tree; `Unavailable` when the examples are not there, as in an
installed package), `data()` its `@symgrad.export` example arguments, and
`jax_loss` the same function written with `jax.numpy` (no hand-written NumPy
or PyTorch version: JAX jit is the peer).
"""

from __future__ import annotations

import math
from pathlib import Path

from symgrad.bench.peers import Unavailable
from symgrad.bench.problems import Problem
from symgrad.cli.load import load_function

FOLDER = Path(__file__).resolve().parents[2] / "examples"


def jax_softmax_regression(params, X, y):
    import jax.numpy as jnp

    z = X @ params["W"] + params["b"]
    z = z - z.max(axis=1, keepdims=True)
    log_probs = z - jnp.log(jnp.exp(z).sum(axis=1, keepdims=True))
    nll = -log_probs[jnp.arange(X.shape[0]), y].mean()
    return nll + 1e-3 * jnp.sum(params["W"] ** 2)


def jax_mixture(params, x):
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    log_weights = params["logits"] - logsumexp(params["logits"])
    scales = jnp.exp(params["log_scales"])
    z = (x[:, None] - params["means"]) / scales
    log_normal = -0.5 * z**2 - params["log_scales"] - 0.5 * math.log(2 * math.pi)
    return -logsumexp(log_weights + log_normal, axis=1).mean()


def jax_rnn(params, xs, target):
    import jax.numpy as jnp

    h = jnp.zeros((xs.shape[1], params["b"].shape[0]))
    for t in range(xs.shape[0]):
        x = xs[t]
        h = jnp.tanh(jnp.concatenate([x, h], axis=1) @ params["W"] + params["b"])
    prediction = h @ params["V"]
    return jnp.mean((prediction - target) ** 2)


def jax_gaussian_process(log_params, x, y):
    import jax.numpy as jnp

    length, scale, noise = jnp.exp(log_params)
    sq_dist = (x[:, None] - x[None, :]) ** 2
    n = x.shape[0]
    K = scale**2 * jnp.exp(-0.5 * sq_dist / length**2) + noise**2 * jnp.eye(n)
    L = jnp.linalg.cholesky(K)
    alpha = jnp.linalg.solve(L.T, jnp.linalg.solve(L, y))
    _, logdet = jnp.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet + 0.5 * n * math.log(2 * math.pi)


# name: (file, exported function, JAX version, title)
EXAMPLES = {
    "ex-softmax": (
        "softmax_regression.py",
        "cross_entropy",
        jax_softmax_regression,
        "softmax regression, 150 x 4, 3 classes",
    ),
    "ex-mixture": (
        "mixture.py",
        "mixture_nll",
        jax_mixture,
        "mixture NLL with logsumexp, 200 points",
    ),
    "ex-rnn": (
        "rnn.py",
        "rnn_loss",
        jax_rnn,
        "RNN with np.concatenate, 6 steps, hidden 8",
    ),
    "ex-gp": (
        "gaussian_process.py",
        "gp_nll",
        jax_gaussian_process,
        "Gaussian process NLL, n = 30 (cholesky, solve)",
    ),
}
NAMES = tuple(EXAMPLES)


def get(name: str) -> Problem:

    if name not in EXAMPLES:
        raise KeyError(f"unknown example {name!r}; choose from {', '.join(NAMES)}")
    file, function, jax_loss, title = EXAMPLES[name]
    path = FOLDER / file
    if not path.is_file():
        raise Unavailable(f"examples/{file} is not here (run from a source checkout)")
    fun, record = load_function(f"{path}:{function}")
    return Problem(
        name=name,
        title=title,
        data=record.example_args,
        loss=fun,
        hand=None,
        jax_loss=jax_loss,
        torch_loss=None,
        info={"file": f"examples/{file}", "function": function},
    )
