"""A vanilla tanh RNN over a sequence, built with np.concatenate.

At each step the input and the previous hidden state are concatenated and
multiplied by one weight matrix, as in Karpathy's min-char-rnn; the loss reads
out the last state. The loop over time steps is plain Python over a static
length, so it is unrolled; the generated gradient is backpropagation through
time, written out step by step.

Run it: python examples/rnn.py
"""

import numpy as np

import symgrad

STEPS, INPUT, HIDDEN = 6, 3, 8


def example(seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "W": rng.normal(scale=0.4, size=(INPUT + HIDDEN, HIDDEN)),
        "b": np.zeros(HIDDEN),
        "V": rng.normal(scale=0.4, size=(HIDDEN, 1)),
    }
    xs = rng.normal(size=(STEPS, 4, INPUT))  # time, batch, features
    target = rng.normal(size=(4, 1))
    return params, xs, target


@symgrad.export(example=example)
def rnn_loss(params, xs, target):
    h = np.zeros((xs.shape[1], HIDDEN))
    for x in xs:
        h = np.tanh(np.concatenate([x, h], axis=1) @ params["W"] + params["b"])
    prediction = h @ params["V"]
    return np.mean((prediction - target) ** 2)


def main(steps=100, lr=0.2):
    params, xs, target = example()
    step = symgrad.value_and_grad(rnn_loss)
    for k in range(steps):
        value, grads = step(params, xs, target)
        params = {key: params[key] - lr * grads[key] for key in params}
        if k % 25 == 0 or k == steps - 1:
            print(f"step {k:3d} loss {value:.6f}")


if __name__ == "__main__":
    main()
