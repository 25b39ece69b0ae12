"""A Gaussian mixture's negative log-likelihood with scipy.special.logsumexp.

Each point's likelihood sums over the components in log space, as every
mixture-model implementation does; `logsumexp` stays one readable call in the
generated module (`scipy.special.logsumexp(..., axis=1)`), and its gradient
is the responsibilities (a softmax computed from its output).

Run it: python examples/mixture.py
"""

import numpy as np
from scipy.special import logsumexp

import symgrad


def make_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    which = rng.integers(0, 2, size=n)
    x = np.where(which == 0, rng.normal(-2.0, 0.7, n), rng.normal(1.5, 1.0, n))
    return x


def example():
    params = {
        "logits": np.zeros(2),
        "means": np.array([-1.0, 1.0]),
        "log_scales": np.zeros(2),
    }
    return params, make_data()


@symgrad.export(example=example)
def mixture_nll(params, x):
    log_weights = params["logits"] - logsumexp(params["logits"])
    scales = np.exp(params["log_scales"])
    z = (x[:, None] - params["means"]) / scales
    log_normal = -0.5 * z**2 - params["log_scales"] - 0.5 * np.log(2 * np.pi)
    return -logsumexp(log_weights + log_normal, axis=1).mean()


def main(steps=200, lr=0.1):
    params, x = example()
    step = symgrad.value_and_grad(mixture_nll)
    for k in range(steps):
        value, grads = step(params, x)
        params = {key: params[key] - lr * grads[key] for key in params}
        if k % 50 == 0 or k == steps - 1:
            print(f"step {k:3d} nll {value:.6f} means {np.round(params['means'], 3)}")


if __name__ == "__main__":
    main()
