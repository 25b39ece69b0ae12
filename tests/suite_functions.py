"""About fifty small functions as third-party code writes them: objectives in
the styles of public optimization test suites (Rosenbrock, Beale, Booth,
Himmelblau, Styblinski-Tang, Rastrigin, Ackley, ...) and control flow in the
style of Tangent's tests (loops with an `if` inside, `while` with counters,
early returns, `break` and `continue`, lists built with `append`, imports
in the body, casts). Written for symgrad's tests (tests/test_suite.py calls
each through a lambda, a functools.partial and a bound method).

`SUITE` maps a name to (function, keyword arguments, size of x, low, high):
the test draws x uniformly in [low, high).
"""

from __future__ import annotations

import math

import numpy as np

# ------------------------------------------------------------------ objectives


def rosenbrock(x, a=1.0, b=100.0):
    return np.sum(b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)


def beale(x, c=(1.5, 2.25, 2.625)):
    x0, x1 = x[0], x[1]
    return sum((ci - x0 + x0 * x1 ** (i + 1)) ** 2 for i, ci in enumerate(c))


def booth(x):
    return (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2


def booth_residuals(x, target=(7.0, 5.0)):
    # A list of residuals, squared and summed by NumPy.
    residuals = [x[0] + 2 * x[1] - target[0], 2 * x[0] + x[1] - target[1]]
    return np.sum(np.square(residuals))


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def styblinski_tang(x):
    return 0.5 * np.sum(x**4 - 16 * x**2 + 5 * x)


def rastrigin(x, A=10.0):
    return A * len(x) + np.sum(x**2 - A * np.cos(2 * np.pi * x))


def ackley(x, a=20.0, b=0.2, c=2 * np.pi):
    n = x.shape[0]
    s1 = np.sum(x**2) / n
    s2 = np.sum(np.cos(c * x)) / n
    return -a * np.exp(-b * np.sqrt(s1)) - np.exp(s2) + a + np.e


def sphere(x):
    return np.dot(x, x)


def matyas(x):
    return 0.26 * (x[0] ** 2 + x[1] ** 2) - 0.48 * x[0] * x[1]


def three_hump_camel(x):
    x0, x1 = x
    return 2 * x0**2 - 1.05 * x0**4 + x0**6 / 6 + x0 * x1 + x1**2


def six_hump_camel(x):
    x0, x1 = x[0], x[1]
    return (4 - 2.1 * x0**2 + x0**4 / 3) * x0**2 + x0 * x1 + (-4 + 4 * x1**2) * x1**2


def mccormick(x):
    return np.sin(x[0] + x[1]) + (x[0] - x[1]) ** 2 - 1.5 * x[0] + 2.5 * x[1] + 1


def levy(x):
    w = 1 + (x - 1) / 4
    head = np.sin(np.pi * w[0]) ** 2
    mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    return head + mid + tail


def griewank(x):
    i = np.arange(1, len(x) + 1)
    return 1 + np.sum(x**2) / 4000 - np.prod(np.cos(x / np.sqrt(i)))


def zakharov(x):
    i = np.arange(1, x.size + 1)
    s = np.sum(0.5 * i * x)
    return np.sum(x**2) + s**2 + s**4


def dixon_price(x):
    i = np.arange(2, len(x) + 1)
    return (x[0] - 1) ** 2 + np.sum(i * (2 * x[1:] ** 2 - x[:-1]) ** 2)


def trid(x):
    return np.sum((x - 1) ** 2) - np.sum(x[1:] * x[:-1])


def sum_squares(x):
    return sum((i + 1) * v**2 for i, v in enumerate(x))


def powell(x):
    x0, x1, x2, x3 = x[0], x[1], x[2], x[3]
    return (
        (x0 + 10 * x1) ** 2
        + 5 * (x2 - x3) ** 2
        + (x1 - 2 * x2) ** 4
        + 10 * (x0 - x3) ** 4
    )


def goldstein_price(x):
    x0, x1 = x[0], x[1]
    a = 1 + (x0 + x1 + 1) ** 2 * (
        19 - 14 * x0 + 3 * x0**2 - 14 * x1 + 6 * x0 * x1 + 3 * x1**2
    )
    b = 30 + (2 * x0 - 3 * x1) ** 2 * (
        18 - 32 * x0 + 12 * x0**2 + 48 * x1 - 36 * x0 * x1 + 27 * x1**2
    )
    return a * b


def bukin6(x):
    return 100 * np.sqrt(abs(x[1] - 0.01 * x[0] ** 2)) + 0.01 * abs(x[0] + 10)


def schwefel(x):
    return 418.9829 * len(x) - np.sum(x * np.sin(np.sqrt(np.abs(x))))


def michalewicz(x, m=10):
    i = np.arange(1, len(x) + 1)
    return -np.sum(np.sin(x) * np.sin(i * x**2 / np.pi) ** (2 * m))


def easom(x):
    return (
        -np.cos(x[0])
        * np.cos(x[1])
        * np.exp(-((x[0] - np.pi) ** 2) - (x[1] - np.pi) ** 2)
    )


def branin(x, a=1.0, b=5.1 / (4 * np.pi**2), c=5 / np.pi, r=6.0, s=10.0):
    t = 1 / (8 * np.pi)
    return (
        a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * np.cos(x[0]) + s
    )


def bohachevsky(x):
    return (
        x[0] ** 2
        + 2 * x[1] ** 2
        - 0.3 * np.cos(3 * np.pi * x[0])
        - 0.4 * np.cos(4 * np.pi * x[1])
        + 0.7
    )


def salomon(x):
    r = np.sqrt(np.sum(x**2))
    return 1 - np.cos(2 * np.pi * r) + 0.1 * r


def qing(x):
    i = np.arange(1, len(x) + 1)
    return np.sum((x**2 - i) ** 2)


def alpine1(x):
    return np.sum(np.abs(x * np.sin(x) + 0.1 * x))


def exponential(x):
    return -np.exp(-0.5 * np.sum(x**2))


def csendes(x):
    return np.sum(x**6 * (2 + np.sin(1 / x)))


def wolfe(x):
    return 4 / 3 * (x[0] ** 2 + x[1] ** 2 - x[0] * x[1]) ** 0.75 + x[2]


def spread(x):
    # mean and std of a tuple of traced scalars.
    return np.std((x[0], x[1] * 2.0, x[2])) + np.mean([x[0], 1.0, x[1] ** 2])


# ------------------------------------------------------------------ control flow


def loop_with_if(x, scale=1.0):
    total = 0.0
    for i in range(len(x)):
        if x[i] > 0:
            total = total + scale * x[i] ** 2
        else:
            total = total - np.sin(x[i])
    return total


def while_with_counter(x, limit=10.0):
    y = x[0] * x[0] + 1.0
    steps = 0
    while y < limit:
        y = y * 1.5 + x[1] ** 2
        steps += 1
    return y * steps


def early_return(x, threshold=1.0):
    s = np.sum(x)
    if s > threshold:
        return s**2
    if s < -threshold:
        return -(s**3)
    return np.cos(s)


def nested_loops(x):
    total = 0.0
    for i in range(len(x)):
        for j in range(len(x)):
            if j > i:
                total += x[i] * x[j]
    return total


def while_true_break(x, decay=0.8):
    y = x[0] ** 2 + 2.0
    while True:
        y = y * decay + 0.1 * x[1]
        if y < 0.5:
            break
    return y


def continue_negative(x):
    total = 0.0
    for v in x:
        if v < 0:
            continue
        total = total + v**3
    return total


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def recursive_power(x, n=4):
    return power(x[0], n) + power(x[1], n - 1)


def kepler(x, tol=1e-12):
    M, e = x[0], 0.3 + 0.1 * np.tanh(x[1])
    E = M
    step = 1.0
    while abs(step) > tol:
        step = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        E = E - step
    return E


def append_then_sum(x):
    out = []
    for v in x:
        out.append(v * v if v > 0 else -v)
    return np.sum(out)


def pair(x):
    return x[0] * x[1], np.exp(x[1])


def tuple_to_sum(x):
    return np.sum(pair(x))


def import_in_body(x):
    from scipy.special import logsumexp

    return logsumexp(x) + logsumexp(np.array([x[0], 0.0]))


def stats_import_in_body(x):
    from scipy.stats import norm

    return np.sum(norm.logpdf(x, loc=0.5, scale=2.0))


def numpy_import_in_body(x):
    import numpy as onp

    return onp.sum(onp.tanh(x) ** 2)


def casts(x):
    k = int(x[0] * 3)
    step = float(x[1] >= 0)
    return k * x[1] + step * x[0] ** 2 + np.int64(x[2] * 2) * x[2]


def ternary_chain(x):
    a = x[0] ** 2 if x[0] > x[1] else (x[1] ** 3 if x[1] > 0 else -x[1])
    return a + x[1]


def builtin_min_max(x):
    return max(x[0], x[1]) * min(x[0], 0.5) + abs(x[1])


def elif_chain(x):
    v = x[0]
    if v < -1.0:
        y = -v
    elif v < 0.0:
        y = v * v + 1.0
    elif v < 1.0:
        y = np.exp(v)
    else:
        y = math.e * v
    return y * x[1]


def accumulate_until(x, target=5.0):
    s = 0.0
    k = 0
    while s < target:
        s = s + np.exp(x[0])
        k += 1
    return s * x[1] + k


def gradient_descent(x, rate=0.1, iters=5):
    # A few steps of gradient descent on a quadratic, written out.
    z = x.copy()
    for _ in range(iters):
        z = z - rate * 2.0 * (z - 1.0)
    return np.sum(z**2)


def piecewise_loop(x):
    acc = 1.0
    for i in range(3):
        acc = acc * x[i] if acc > 0.2 else acc + x[i] ** 2
    return acc


def sequence_ops(x):
    # Operators and NumPy functions on lists of traced values.
    v = np.asarray([0.0, x[0]] + list(x[1::2]))
    return np.sum(v * [1.0, x[1], 2.0]) + np.linalg.norm([x[0], x[1]])


SUITE = {
    "rosenbrock": (rosenbrock, {"a": 1.0, "b": 100.0}, 4, -1.5, 1.5),
    "beale": (beale, {"c": (1.5, 2.25, 2.625)}, 2, -1.5, 1.5),
    "booth": (booth, {}, 2, -3.0, 3.0),
    "booth_residuals": (booth_residuals, {"target": (7.0, 5.0)}, 2, -3.0, 3.0),
    "himmelblau": (himmelblau, {}, 2, -3.0, 3.0),
    "styblinski_tang": (styblinski_tang, {}, 3, -3.0, 3.0),
    "rastrigin": (rastrigin, {"A": 10.0}, 3, -1.0, 1.0),
    "ackley": (ackley, {"a": 20.0, "b": 0.2}, 3, -1.0, 1.0),
    "sphere": (sphere, {}, 3, -2.0, 2.0),
    "matyas": (matyas, {}, 2, -2.0, 2.0),
    "three_hump_camel": (three_hump_camel, {}, 2, -1.5, 1.5),
    "six_hump_camel": (six_hump_camel, {}, 2, -1.5, 1.5),
    "mccormick": (mccormick, {}, 2, -1.5, 3.0),
    "levy": (levy, {}, 3, -2.0, 2.0),
    "griewank": (griewank, {}, 3, -5.0, 5.0),
    "zakharov": (zakharov, {}, 3, -1.0, 1.0),
    "dixon_price": (dixon_price, {}, 3, -2.0, 2.0),
    "trid": (trid, {}, 4, -2.0, 2.0),
    "sum_squares": (sum_squares, {}, 3, -2.0, 2.0),
    "powell": (powell, {}, 4, -1.0, 1.0),
    "goldstein_price": (goldstein_price, {}, 2, -1.0, 1.0),
    "bukin6": (bukin6, {}, 2, -1.0, 1.0),
    "schwefel": (schwefel, {}, 3, 0.5, 4.0),
    "michalewicz": (michalewicz, {"m": 2}, 2, 0.5, 2.5),
    "easom": (easom, {}, 2, 2.5, 3.5),
    "branin": (branin, {"r": 6.0, "s": 10.0}, 2, -2.0, 5.0),
    "bohachevsky": (bohachevsky, {}, 2, -1.0, 1.0),
    "salomon": (salomon, {}, 3, 0.2, 1.5),
    "qing": (qing, {}, 3, -2.0, 2.0),
    "alpine1": (alpine1, {}, 3, 0.5, 2.0),
    "exponential": (exponential, {}, 3, -1.0, 1.0),
    "csendes": (csendes, {}, 3, 0.5, 2.0),
    "wolfe": (wolfe, {}, 3, 0.5, 2.0),
    "spread": (spread, {}, 3, -2.0, 2.0),
    "loop_with_if": (loop_with_if, {"scale": 1.5}, 4, -1.5, 1.5),
    "while_with_counter": (while_with_counter, {"limit": 10.0}, 2, -1.5, 1.5),
    "early_return": (early_return, {"threshold": 1.0}, 3, -1.5, 1.5),
    "nested_loops": (nested_loops, {}, 3, -1.5, 1.5),
    "while_true_break": (while_true_break, {"decay": 0.8}, 2, -1.5, 1.5),
    "continue_negative": (continue_negative, {}, 4, -1.5, 1.5),
    "recursive_power": (recursive_power, {"n": 4}, 2, -1.5, 1.5),
    "kepler": (kepler, {"tol": 1e-12}, 2, 0.2, 2.5),
    "append_then_sum": (append_then_sum, {}, 4, -1.5, 1.5),
    "tuple_to_sum": (tuple_to_sum, {}, 2, -1.5, 1.5),
    "import_in_body": (import_in_body, {}, 3, -1.5, 1.5),
    "stats_import_in_body": (stats_import_in_body, {}, 3, -1.5, 1.5),
    "numpy_import_in_body": (numpy_import_in_body, {}, 3, -1.5, 1.5),
    "casts": (casts, {}, 3, 0.1, 1.5),
    "ternary_chain": (ternary_chain, {}, 2, -1.5, 1.5),
    "builtin_min_max": (builtin_min_max, {}, 2, -1.5, 1.5),
    "elif_chain": (elif_chain, {}, 2, -2.0, 2.0),
    "accumulate_until": (accumulate_until, {"target": 5.0}, 2, -1.0, 1.0),
    "gradient_descent": (gradient_descent, {"rate": 0.1, "iters": 5}, 3, -2.0, 2.0),
    "piecewise_loop": (piecewise_loop, {}, 3, -1.5, 1.5),
    "sequence_ops": (sequence_ops, {}, 3, -1.5, 1.5),
}
