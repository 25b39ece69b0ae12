"""A physics formula and its exact gradient: the range of a projectile.

Launched at speed v (m/s) and angle theta (radians) from height h (m), a
projectile without drag lands at distance

    R = v cos(theta) / g * (v sin(theta) + sqrt((v sin(theta))**2 + 2 g h)).

`@symgrad.grad` gives dR/dv, dR/dtheta and dR/dh, and `.source` shows the
derivative code. Gradient ascent on theta then finds the best launch angle,
which is below 45 degrees when h > 0.

Run it: python examples/projectile.py
"""

import numpy as np

import symgrad

G = 9.81


@symgrad.export(example=(20.0, 0.6, 2.0), argnums=(0, 1, 2))
def flight_range(v, theta, h):
    vx = v * np.cos(theta)
    vy = v * np.sin(theta)
    return vx / G * (vy + np.sqrt(vy**2 + 2 * G * h))


def main():
    drange = symgrad.grad(flight_range, argnums=(0, 1, 2))
    dv, dtheta, dh = drange(20.0, 0.6, 2.0)
    print(f"R = {flight_range(20.0, 0.6, 2.0):.4f} m")
    print(f"dR/dv = {dv:.4f} s   dR/dtheta = {dtheta:.4f} m/rad   dR/dh = {dh:.4f}")
    theta = 0.3
    best = symgrad.grad(flight_range, argnums=1)
    for _ in range(200):
        theta += 0.002 * best(20.0, theta, 2.0)
    print(f"best angle from 2 m at 20 m/s: {np.degrees(theta):.2f} degrees")
    print("\nThe derivative code:\n")
    print(drange.source)


if __name__ == "__main__":
    main()
