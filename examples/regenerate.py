"""Regenerate every module in generated/ from the examples.

Run it: python examples/regenerate.py [OUT_DIR]
Each entry names an example's exported function (see @symgrad.export in the
example) and the module written for it. A test regenerates into a temporary
folder and compares byte for byte with the committed files.
"""

import os
import sys

from symgrad import api
from symgrad.cli.load import load_function
from symgrad.files import write_atomic

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATED = os.path.join(HERE, "..", "generated")

# output file -> (example file, function, target, trainer or None)
MODULES = {
    "neuron_grad.py": ("neuron.py", "neuron", "numpy", None),
    "projectile_grad.py": ("projectile.py", "flight_range", "numpy", None),
    "kepler_grad.py": ("kepler.py", "eccentric_anomaly", "numpy", None),
    "lecture_mlp_grad.py": ("lecture_mlp.py", "loss", "numpy", None),
    "logistic_grad.py": ("logistic.py", "logistic_loss", "numpy", None),
    "mlp_grad.py": ("mlp.py", "mlp_loss", "numpy", None),
    "mlp_grad_python.py": ("mlp.py", "mlp_loss", "python", None),
    "moons_trainer.py": ("moons.py", "loss", "numpy", "sgd"),
    "moons_trainer_python.py": ("moons.py", "loss", "python", "sgd"),
    "softmax_regression_grad.py": (
        "softmax_regression.py",
        "cross_entropy",
        "numpy",
        None,
    ),
    "mixture_grad.py": ("mixture.py", "mixture_nll", "numpy", None),
    "rnn_grad.py": ("rnn.py", "rnn_loss", "numpy", None),
    "gaussian_process_grad.py": ("gaussian_process.py", "gp_nll", "numpy", None),
    "newton_logistic_trainer.py": ("newton_logistic.py", "loss", "numpy", "newton"),
}


def load(filename):
    """(function, its export record, target, trainer) for one output file."""
    source, name, target, trainer = MODULES[filename]
    fun, record = load_function(os.path.join(HERE, source) + ":" + name)
    return fun, record, target, trainer


def source_of(filename) -> str:
    fun, record, target, trainer = load(filename)
    example = record.example_args()
    if trainer:
        return api.trainer_source(fun, record.predict, example, trainer, target)
    return api.compile(fun, *example, argnums=record.argnums, target=target).source


def regenerate(out_dir):
    return [write_atomic(os.path.join(out_dir, f), source_of(f)) for f in MODULES]


if __name__ == "__main__":
    for path in regenerate(sys.argv[1] if len(sys.argv) > 1 else GENERATED):
        print("wrote", os.path.normpath(path))
