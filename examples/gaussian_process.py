"""A Gaussian process's negative log marginal likelihood, as in every GP
tutorial: an RBF kernel, a Cholesky factor, two solves and a log-determinant.

    K = s^2 exp(-|x_i - x_j|^2 / (2 l^2)) + noise^2 I
    nll = 1/2 y^T K^-1 y + 1/2 log|K| + n/2 log(2 pi)

The generated gradient calls `np.linalg.cholesky`, `np.linalg.solve` and
`np.linalg.slogdet` the way a person would write them; their derivatives come
from the op table's rules (Murray's formula for the Cholesky factor).
Fitting the three hyperparameters (log length scale, log signal scale, log
noise) by gradient descent recovers the data's length scale.

Run it: python examples/gaussian_process.py
"""

import numpy as np

import symgrad


def make_data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3, 3, size=n))
    y = np.sin(1.5 * x) + 0.1 * rng.normal(size=n)
    return x, y


def example():
    x, y = make_data()
    return np.array([0.0, 0.0, -1.0]), x, y


@symgrad.export(example=example)
def gp_nll(log_params, x, y):
    length, scale, noise = np.exp(log_params)
    sq_dist = (x[:, None] - x[None, :]) ** 2
    K = scale**2 * np.exp(-0.5 * sq_dist / length**2) + noise**2 * np.eye(len(x))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    _, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet + 0.5 * len(x) * np.log(2 * np.pi)


def main(steps=200, lr=0.01):
    log_params, x, y = example()
    step = symgrad.value_and_grad(gp_nll)
    for k in range(steps):
        value, grad = step(log_params, x, y)
        log_params = log_params - lr * grad
        if k % 50 == 0 or k == steps - 1:
            length, scale, noise = np.exp(log_params)
            print(
                f"step {k:3d} nll {value:.4f} length {length:.3f} "
                f"scale {scale:.3f} noise {noise:.3f}"
            )


if __name__ == "__main__":
    main()
