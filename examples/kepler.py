"""Newton's method in a loop, differentiated: Kepler's equation.

A planet on an orbit of eccentricity e is, at mean anomaly M (the fraction of
its period, as an angle), at the eccentric anomaly E that solves Kepler's
equation

    E - e sin(E) = M.

There is no formula for E; Newton's method finds it, starting from M (or from
pi on very eccentric orbits) and stopping when the step is below 1e-12.
symgrad compiles the loop as a real `while` loop, and its gradient as the
loop run backwards over the values it kept: dE/dM and dE/de, which implicit
differentiation gives as 1 / (1 - e cos E) and sin(E) / (1 - e cos E).

Run it: python examples/kepler.py
"""

import numpy as np

import symgrad


@symgrad.export(example=(1.0, 0.3), argnums=(0, 1))
def eccentric_anomaly(M, e):
    E = M if e < 0.8 else np.pi
    step = 1.0
    while abs(step) > 1e-12:
        residual = E - e * np.sin(E) - M
        slope = 1.0 - e * np.cos(E)
        step = residual / slope
        E = E - step
    return E


def main():
    M, e = 1.0, 0.3
    E = eccentric_anomaly(M, e)
    dM, de = symgrad.grad(eccentric_anomaly, argnums=(0, 1))(M, e)
    print(f"E = {E:.12f}  (E - e sin E = {E - e * np.sin(E):.12f})")
    print(f"dE/dM = {dM:.12f}  implicit: {1 / (1 - e * np.cos(E)):.12f}")
    print(f"dE/de = {de:.12f}  implicit: {np.sin(E) / (1 - e * np.cos(E)):.12f}")
    print("\nThe generated module:\n")
    print(symgrad.compile(eccentric_anomaly, M, e, argnums=(0, 1)).source)


if __name__ == "__main__":
    main()
