"""Trainer modules: the gradient module plus `predict`, `train`, parameter
files and a command line, all runnable without symgrad.

Contract: `generate_trainer(loss, predict, optimizer, target, initial)` returns
one formatted module. `loss` is the program of `loss(params, X, y)`
differentiated with respect to `params`; `predict` the forward-only program of
`predict(params, X)`; `optimizer` one of `OPTIMIZERS`, written out inline in
`train`; `initial` the example parameters, embedded as the default start for
the module's command line (never used by the compiled functions themselves).
Accuracy assumes labels of -1 / +1 (sign agreement), as micrograd's demo.
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.codegen.module import Emitter, function, generate, leaf_label
from symgrad.errors import ArgumentError

# name -> (default learning rate, state initialisation, update lines)
OPTIMIZERS = {
    "sgd": (
        1.0,
        [],
        ["leaves[i] = _map(lambda p, g: p - rate * g, leaves[i], grad)"],
    ),
    "momentum": (
        0.1,
        ["velocity = [_map(lambda p: p * 0.0, p) for p in leaves]"],
        [
            "velocity[i] = _map(lambda v, g: 0.9 * v + g, velocity[i], grad)",
            "leaves[i] = _map(lambda p, v: p - rate * v, leaves[i], velocity[i])",
        ],
    ),
    "adam": (
        0.05,
        [
            "first = [_map(lambda p: p * 0.0, p) for p in leaves]",
            "second = [_map(lambda p: p * 0.0, p) for p in leaves]",
        ],
        [
            "first[i] = _map(lambda m, g: 0.9 * m + 0.1 * g, first[i], grad)",
            "second[i] = _map(lambda s, g: 0.999 * s + 0.001 * g * g, second[i], grad)",
            "c1, c2 = 1.0 - 0.9 ** (k + 1), 1.0 - 0.999 ** (k + 1)",
            "leaves[i] = _map(",
            "    lambda p, m, s: p - rate * (m / c1) / (_sqrt(s / c2) + 1e-8),",
            "    leaves[i],",
            "    first[i],",
            "    second[i],",
            ")",
        ],
    ),
}

SCHEDULE = "micrograd's schedule lr * (1 - 0.9 * k / steps)"

# Target-specific helpers: elementwise map over a parameter, square root,
# conversion to JSON-ready lists, and CSV loading. (The pure-Python target
# brings its own NumPy-faithful `_sqrt` among its helpers.)
_HELPERS = {
    "numpy": [
        [
            "def _map(fn, *arrays):",
            '    """Apply `fn` elementwise (NumPy arithmetic broadcasts already)."""',
            "    return fn(*arrays)",
        ],
        ["_sqrt = np.sqrt"],
        [
            "def _tolist(x):",
            "    return np.asarray(x).tolist()",
        ],
        [
            "def _fromlist(x):",
            "    return np.asarray(x, dtype=np.float64) if isinstance(x, list) "
            "else float(x)",
        ],
        [
            "def load_csv(path):",
            '    """Features in every column but the last; the -1/+1 label last."""',
            "    data = np.loadtxt(path, delimiter=',', ndmin=2)",
            "    return data[:, :-1], data[:, -1]",
        ],
    ],
    "python": [
        [
            "def _map(fn, *trees):",
            '    """Apply `fn` elementwise over nested lists of floats."""',
            "    if isinstance(trees[0], list):",
            "        return [_map(fn, *items) for items in zip(*trees)]",
            "    return fn(*trees)",
        ],
        [
            "def _tolist(x):",
            "    return x",
        ],
        [
            "def _fromlist(x):",
            "    return x if isinstance(x, list) else float(x)",
        ],
        [
            "def load_csv(path):",
            '    """Features in every column but the last; the -1/+1 label last."""',
            "    import csv",
            "",
            "    with open(path, newline='') as f:",
            "        rows = [[float(v) for v in row] for row in csv.reader(f) if row]",
            "    return [row[:-1] for row in rows], [row[-1] for row in rows]",
        ],
    ],
}


def generate_trainer(loss, predict, optimizer, target, initial) -> str:
    if optimizer not in OPTIMIZERS:
        raise ArgumentError(
            f"unknown trainer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}"
        )
    if target.NAME not in _HELPERS:
        raise ArgumentError(f"trainers are not available for the {target.NAME} target")
    if len(loss.params) != 3 or loss.argnums != (0,) or not loss.single:
        raise ArgumentError(
            f"a trainer needs {loss.fun_name}(params, X, y) differentiated with "
            "respect to params (argnums=0)"
        )
    lr, state, update = OPTIMIZERS[optimizer]
    param_leaves = [leaf for leaf in loss.leaves if leaf.path[0] == 0]
    predict_block, needs = _predict(predict, target)
    blocks = [predict_block]
    if target.NAME == "python" and optimizer == "adam":
        needs.add("_sqrt")  # the update's square root, NumPy-faithful
    blocks += _HELPERS[target.NAME]
    blocks.append(_leaves_fn(loss, param_leaves))
    blocks.append(_tree_fn(loss))
    blocks.append(_accuracy_fn())
    blocks.append(_train_fn(optimizer, lr, state, update))
    blocks.append(_initial_fn(initial))
    blocks += _files_fns(loss, param_leaves)
    blocks.append(_main_fn(loss, optimizer, lr))
    blocks.append(['if __name__ == "__main__":', "    main()"])
    doc = [
        f"predict(params, X) -> scores of {predict.fun_name}",
        f"train(params, X, y, steps, lr) -> (params, history), {optimizer} with",
        f"    {SCHEDULE}",
        "save_params(params, path) / load_params(path) -> parameters as JSON",
        "python {this file} data.csv [--steps N] -> trains on a CSV file",
    ]
    return generate(loss, target, extra_blocks=blocks, extra_doc=doc, extra_needs=needs)


def _predict(program, target) -> tuple:
    em = Emitter(program, target)
    nodes = ir.program_order([program.value])
    lines = em.entry_lines(dict.fromkeys(nodes)) + em.body_lines(nodes)
    value = target.output(program.value, em.ref(program.value), False)
    lines += ["", f"return {value}"]
    em.needs.update(target.output_needs(program.value, False))
    doc = f"The model: {program.fun_name}({', '.join(program.params)})."
    return function("predict", em.args, doc, lines, target.DECORATORS), em.needs


def _leaves_fn(loss, param_leaves) -> list:
    items = ", ".join(
        "params" + "".join(f"[{k!r}]" for k in leaf.path[1:]) for leaf in param_leaves
    )
    return function(
        "_leaves", ["params"], "The parameters as a flat list.", [f"return [{items}]"]
    )


def _tree_fn(loss) -> list:
    counter = iter(range(len(loss.leaves)))
    body = _tree_literal(loss.treedef[2][0], counter)
    return function(
        "_tree",
        ["leaves"],
        "The parameter structure rebuilt from a flat list.",
        [f"return {body}"],
    )


def _tree_literal(treedef, counter) -> str:
    if treedef is None:
        return f"leaves[{next(counter)}]"
    kind, meta, children = treedef
    items = [_tree_literal(c, counter) for c in children]
    if kind == "dict":
        return (
            "{"
            + ", ".join(f"{k!r}: {v}" for k, v in zip(meta, items, strict=True))
            + "}"
        )
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _accuracy_fn() -> list:
    return function(
        "accuracy",
        ["params", "X", "y"],
        "The share of samples whose score has the sign of their -1/+1 label.",
        [
            "scores = _tolist(predict(params, X))",
            "hits = [(s > 0) == (t > 0) for s, t in zip(scores, _tolist(y))]",
            "return sum(hits) / len(hits)",
        ],
    )


def _train_fn(optimizer, lr, state, update) -> list:
    body = [
        "leaves = _leaves(params)",
        *state,
        "history = []",
        "for k in range(steps):",
        "    loss, grads = value_and_grad(_tree(leaves), X, y)",
        "    acc = accuracy(_tree(leaves), X, y)",
        "    history.append((k, loss, acc))",
        "    if callback is not None:",
        "        callback(k, loss, acc)",
        "    rate = lr * (1.0 - 0.9 * k / steps)",
        "    for i, grad in enumerate(_leaves(grads)):",
        *("        " + line for line in update),
        "return _tree(leaves), history",
    ]
    doc = (
        f"Full-batch {optimizer} for `steps` steps with {SCHEDULE}.\n\n"
        "    Returns the trained parameters and a history of (step, loss, accuracy),\n"
        "    the loss and accuracy measured before each step's update.\n    "
    )
    args = ["params", "X", "y", "steps=100", f"lr={lr!r}", "callback=None"]
    return function("train", args, doc, body)


def _initial_fn(initial) -> list:
    values = [
        np.asarray(v).tolist() if isinstance(v, np.ndarray) else float(v)
        for v in initial
    ]
    return function(
        "initial_params",
        [],
        "The example parameters the module was compiled with (a starting point).",
        [f"return _tree([_fromlist(x) for x in {values!r}])"],
    )


def _files_fns(loss, param_leaves) -> list:
    names = [leaf_label(loss, leaf) for leaf in param_leaves]
    save = function(
        "save_params",
        ["params", "path"],
        "Write the parameters as JSON: a list of {name, shape, values}.",
        [
            "import json",
            "",
            f"names = {names!r}",
            "leaves = [_tolist(p) for p in _leaves(params)]",
            "records = [",
            "    {'name': n, 'shape': list(_shape(v)), 'values': v}",
            "    for n, v in zip(names, leaves)",
            "]",
            "with open(path, 'w', encoding='utf-8') as f:",
            "    json.dump({'format': 'symgrad-params/1', 'leaves': records}, f)",
        ],
    )
    shape = function(
        "_shape",
        ["value"],
        "The shape of a nested list.",
        [
            "shape = []",
            "while isinstance(value, list):",
            "    shape.append(len(value))",
            "    value = value[0] if value else None",
            "return tuple(shape)",
        ],
    )
    load = function(
        "load_params",
        ["path"],
        "Read parameters written by save_params.",
        [
            "import json",
            "",
            "with open(path, encoding='utf-8') as f:",
            "    records = json.load(f)['leaves']",
            "return _tree([_fromlist(r['values']) for r in records])",
        ],
    )
    return [save, shape, load]


def _main_fn(loss, optimizer, lr) -> list:
    return function(
        "main",
        ["argv=None"],
        "Train on a CSV file from the command line, printing every step.",
        [
            "import argparse",
            "",
            "parser = argparse.ArgumentParser(",
            f"    description='Train {loss.fun_name} with {optimizer} on a CSV file "
            "(features, then a -1/+1 label).'",
            ")",
            "parser.add_argument('csv', help='training data, one sample per row')",
            "parser.add_argument('--steps', type=int, default=100)",
            f"parser.add_argument('--lr', type=float, default={lr!r})",
            "parser.add_argument('--params', help='initial parameters (JSON)')",
            "parser.add_argument('--save', help='write trained parameters (JSON)')",
            "args = parser.parse_args(argv)",
            "X, y = load_csv(args.csv)",
            "params = load_params(args.params) if args.params else initial_params()",
            "",
            "def report(k, loss, acc):",
            "    print(f'step {k} loss {loss!r}, accuracy {acc * 100}%')",
            "",
            "params, _ = train(params, X, y, args.steps, args.lr, callback=report)",
            "if args.save:",
            "    save_params(params, args.save)",
        ],
    )
