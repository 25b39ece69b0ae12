"""Logistic regression trained by Newton's method from a generated module.

symgrad compiles the loss's value, gradient and Hessian (forward over reverse,
one Hessian-vector product per row, as a loop) into a trainer module with
`optimizer="newton"`; each step solves (H + 1e-9 I) s = g. Newton's method
converges in a handful of steps where gradient descent needs hundreds.

Run it: python examples/newton_logistic.py
    or: symgrad compile examples/newton_logistic.py:loss --trainer newton -o t.py
"""

import numpy as np

import symgrad


def make_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.where(X @ np.array([1.5, -2.0]) + 0.5 + rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


def example():
    X, y = make_data()
    return {"w": np.zeros(2), "b": 0.0}, X, y


def scores(params, X):
    return X @ params["w"] + params["b"]


@symgrad.export(example=example, predict=scores)
def loss(params, X, y):
    margins = y * scores(params, X)
    return np.mean(np.logaddexp(0.0, -margins)) + 1e-3 * np.sum(params["w"] ** 2)


def main(steps=8):
    import types

    from symgrad import api

    params, X, y = example()
    source = api.trainer_source(loss, scores, (params, X, y), optimizer="newton")
    trainer = types.ModuleType("newton_trainer")
    exec(compile(source, "newton_trainer", "exec"), trainer.__dict__)

    def report(k, value, acc):
        print(f"step {k} loss {value:.10f}, accuracy {acc * 100:.1f}%")

    params, _ = trainer.train(params, X, y, steps=steps, callback=report)
    print("w =", np.round(params["w"], 4), " b =", round(params["b"], 4))


if __name__ == "__main__":
    main()
