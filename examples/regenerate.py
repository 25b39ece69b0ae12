"""Regenerate every module in generated/ from the examples.

Run it: python examples/regenerate.py
A test regenerates into a temporary folder and compares byte for byte.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import micrograd_mlp  # noqa: E402
import mlp  # noqa: E402
import neuron  # noqa: E402

import symgrad  # noqa: E402

# output file -> (function, example arguments, argnums)
MODULES = {
    "neuron_grad.py": (neuron.neuron, neuron.EXAMPLE, neuron.ARGNUMS),
    "mlp_grad.py": (mlp.mlp_loss, mlp.EXAMPLE, 0),
    "micrograd_mlp_grad.py": (micrograd_mlp.loss, micrograd_mlp.EXAMPLE, 0),
}


def regenerate(out_dir):
    written = []
    for filename, (fun, args, argnums) in MODULES.items():
        compiled = symgrad.compile(fun, *args, argnums=argnums)
        written.append(compiled.write(os.path.join(out_dir, filename)))
    return written


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "generated")
    for path in regenerate(target):
        print("wrote", os.path.normpath(path))
