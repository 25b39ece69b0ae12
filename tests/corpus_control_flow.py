"""Control-flow programs as people write them, for tests/test_frontend.py.

Each program is plain Python and NumPy: run as it is, it is its own
reference (its value, and float64 central differences of it for the
gradient). `CASES` maps a name to (function, points); the points take
different paths through the function (other branches, other trip counts).
"""

from __future__ import annotations

import numpy as np


def piecewise_sqrt(x):
    # The untaken branch would give NaN (and a NaN gradient) under np.where.
    if x > 0:
        return np.sqrt(x) * x
    return 3.0 * x * x


def nested_elif(x):
    if x < -1.0:
        y = -x
    elif x < 1.0:
        y = x * x
        if x > 0.5:
            y = y + 1.0
    else:
        y = np.sin(x)
    return y * 2.0


def guard_clauses(x):
    if x < -2.0:
        return -x
    if x < 0.0:
        return x * x
    y = np.exp(-x)
    if y < 0.5:
        return y * 3.0
    return y - x


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = x - (x * x - a) / (2.0 * x)
    return x


def newton_cubic(p):
    # The root of x**3 + p*x - 2 near 1: its derivative is -x / (3x**2 + p).
    x = 1.0
    step = 1.0
    while abs(step) > 1e-13:
        step = (x**3 + p * x - 2.0) / (3.0 * x * x + p)
        x = x - step
    return x * x


def taylor_exp(x):
    term = 1.0
    total = 1.0
    for k in range(1, 80):
        term = term * x / k
        total = total + term
        if abs(term) < 1e-16 * abs(total):
            break
    return total


def skip_negatives(x):
    total = 0.0
    for i in range(6):
        t = x * i - 2.0
        if t < 0.0:
            continue
        total += t * t
    return total + x


def first_over(x):
    for _ in range(10):
        x = x * 1.5
        if x > 5.0:
            return x - 5.0
    return -x


def loop_in_branch(x):
    if x > 0.0:
        a = x
        n = 0.0
        while a > 0.1:
            a = a * 0.5 + 0.01 * x
            n += 1.0
        return a * n
    return x * x * x


def branch_in_loop(x):
    a = x
    for _ in range(5):
        if a > 1.0:
            a = a * 0.5
        else:
            a = a * x + 0.3
    return a


def fixed_point(a):
    # x = cos(x) * a, iterated until it settles; the test is a Python float
    # at first and traced after one iteration.
    x = 0.5
    change = 1.0
    while change > 1e-12:
        new = np.cos(x) * a
        change = abs(new - x)
        x = new
    return x


def ternaries(x):
    y = x * x if 0.0 < x < 1.0 else (x if x >= 1.0 and x < 3.0 else -x)
    z = np.tanh(y) if not x < -1.0 or x < -3.0 else y * 0.5
    return y + z


def min_max(x):
    return min(x, 0.5) * max(x * x, 1.0, x + 1.0) + abs(x)


def nested_loops(x):
    total = 0.0
    for i in range(3):
        for j in range(4):
            if j > i:
                break
            total = total + x ** (i + j) / (1.0 + j)
        if total > 3.0:
            total = total * 0.5
    return total


def counted(x):
    a = x * x
    n = 0
    while a > 0.1:
        a = a * 0.5
        n += 1
    return a * n


def appended(x):
    values = []
    for i in range(4):
        if x > i * 0.5:
            values.append(np.sin(x * i))
        else:
            values.append(x * i)
    return sum(values) * values[-1]


def python_ints(x, n):
    # n is a Python int: every if and loop on it runs at trace time.
    out = x
    for i in range(n):
        if i % 2 == 0:
            out = out * x
        else:
            out = out + 1.0
    return out if n > 2 else -out


CASES = {
    "piecewise_sqrt": (piecewise_sqrt, [2.0, -1.5, 0.3]),
    "nested_elif": (nested_elif, [-2.0, 0.3, 0.7, 2.0]),
    "guard_clauses": (guard_clauses, [-3.0, -1.0, 0.2, 1.5]),
    "newton_sqrt": (newton_sqrt, [2.0, 9.0, 0.5]),
    "newton_cubic": (newton_cubic, [1.0, 3.0]),
    "taylor_exp": (taylor_exp, [0.5, -2.0, 3.0]),
    "skip_negatives": (skip_negatives, [0.3, 1.1, -0.5]),
    "first_over": (first_over, [0.3, 0.01, -1.0]),
    "loop_in_branch": (loop_in_branch, [1.3, 2.9, -0.7]),
    "branch_in_loop": (branch_in_loop, [0.9, 1.7]),
    "fixed_point": (fixed_point, [0.7, 1.3]),
    "ternaries": (ternaries, [0.5, 2.0, -0.5, -2.0, -4.0, 4.0]),
    "min_max": (min_max, [0.3, 2.0, -1.5]),
    "nested_loops": (nested_loops, [0.5, 1.2, 2.0]),
    "counted": (counted, [1.3, 0.2]),
    "appended": (appended, [0.3, 1.2]),
}
