"""Karpathy's lecture neuron, o = tanh(x1*w1 + x2*w2 + b), with @symgrad.grad.

Run it: python examples/neuron.py
It prints the gradients from the lecture (x1: -1.5, x2: 0.5, w1: 1.0, w2: 0.0)
and the generated derivative code that computed them.
"""

import symgrad

# The lecture's inputs, weights and bias (chosen so that o = sqrt(1/2)).
EXAMPLE = (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)
ARGNUMS = (0, 1, 2, 3)


@symgrad.export(example=EXAMPLE, argnums=ARGNUMS)
def neuron(x1, x2, w1, w2, b):
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    return o


def main():
    dneuron = symgrad.value_and_grad(neuron, argnums=ARGNUMS)
    o, (dx1, dx2, dw1, dw2) = dneuron(*EXAMPLE)
    print(f"o = {o:.4f}")
    print(f"do/dx1 = {dx1:.4f}  do/dx2 = {dx2:.4f}")
    print(f"do/dw1 = {dw1:.4f}  do/dw2 = {dw2:.4f}")
    print("\nThe code symgrad generated for it:\n")
    print(dneuron.source)


if __name__ == "__main__":
    main()
