"""Trainer modules: the gradient module plus `predict`, `train`, parameter
files and a command line, all runnable without symgrad.

Contract: `generate_trainer(loss, predict, optimizer, target, initial,
split=None)` returns one formatted module. `loss` is the program of `loss(params, X, y)`
differentiated with respect to `params`; `predict` the forward-only program of
`predict(params, X)`, which must return one score per sample; `optimizer` one
of `OPTIMIZERS`, written out inline in `train`; `initial` the example
parameters, embedded (large arrays stored compactly, see `constants`) as the
default start for the module's command line (never used by the compiled
functions themselves). Accuracy assumes labels of -1 / +1 (sign agreement),
as micrograd's demo; CSV files may also hold 0/1 labels.

`split` is the compile-time verdict of `passes.separable` on the loss,
written into the module (`ROWS_SPLIT`, `ROWS_PARAM_TERM`, `ROWS_MIXED`). A
target with `dask_pieces` (NumPy) also gets `train(..., client=)` and
`--dask` (`codegen.trainer_dask`, which reads the verdict); the others refuse
a client with a message.

Trainers are usually compiled with the data's first axis symbolic (see
`api.trainer_source`), so `train`, `predict` and the command line take any
number of rows. `train` runs full-batch or minibatch steps; the order of the
batches is `trainer_helpers._batches` (a seeded shuffle per epoch), written
out in its docstring so that anyone can reproduce it.

A trainer writes its parameters' structure into the module (`initial_params`,
`load_params`), so every dict key in the parameters must have a literal (see
`keys`); other keys are refused with an `ArgumentError`. Parameter files and
CSV files are read by the functions of `trainer_helpers` (and written by
`files._write_file`), copied into the module, so both targets accept and
reject the same files with the same messages.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np

from symgrad import files
from symgrad.codegen import keys, trainer_helpers
from symgrad.codegen.constants import Constants
from symgrad.codegen.module import function, generate, leaf_accesses, leaf_label
from symgrad.codegen.naming import comment_safe, doc_safe, literal
from symgrad.errors import ArgumentError
from symgrad.ir import dims
from symgrad.ir.pytree import LEAF
from symgrad.program import Function

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

# Newton's method: whole-vector steps with the generated Hessian (small models).
NEWTON = (1.0, [], [])
OPTIMIZERS["newton"] = NEWTON

SCHEDULE = "micrograd's schedule lr * (1 - 0.9 * k / steps)"

# Functions copied as they are into every trainer (same text on both targets).
_COPIED = [
    trainer_helpers._batches,
    trainer_helpers._portable,
    trainer_helpers._shown,
    trainer_helpers._too_deep,
    trainer_helpers._record_values,
    trainer_helpers._read_params,
    trainer_helpers._read_csv,
    trainer_helpers._encoding_hint,
    trainer_helpers._is_number,
    files._check_output,
    files._write_file,
]


def generate_trainer(loss, predict, optimizer, target, initial, split=None) -> str:
    if optimizer not in OPTIMIZERS:
        raise ArgumentError(
            f"unknown trainer {optimizer!r}; choose one of {sorted(OPTIMIZERS)}"
        )
    if not hasattr(target, "trainer_pieces"):
        raise ArgumentError(f"trainers are not available for the {target.NAME} target")
    if len(loss.params) != 3 or loss.argnums != (0,) or not loss.single:
        raise ArgumentError(
            f"a trainer needs {comment_safe(loss.fun_name)}(params, X, y) "
            "differentiated with respect to params (argnums=0)"
        )
    _check_keys(loss)
    _check_predict(loss, predict)
    own = getattr(target, "trainer_program", None)
    if own is not None:
        # A target whose trainer is a program of its own (C: one file with main).
        return own(loss, predict, optimizer, initial)
    lr, state, update = OPTIMIZERS[optimizer]
    param_leaves = [leaf for leaf in loss.leaves if leaf.path[0] == 0]
    constants = Constants(target)
    if optimizer == "newton" and loss.function("hessian") is None:
        raise ArgumentError("a newton trainer needs the loss's hessian function")
    loss = dataclasses.replace(loss, functions=loss.functions + [_predict(predict)])
    # The target's helpers (`_map`, `_data`, `load_csv`...; Newton's step),
    # and the target helpers they call.
    blocks, target_needs = target.trainer_pieces(optimizer)
    needs = set(target_needs)
    blocks += [inspect.getsource(fn).rstrip("\n").split("\n") for fn in _COPIED]
    dask = getattr(target, "dask_pieces", None) if optimizer != "newton" else None
    if dask is not None:
        blocks += dask()
    blocks.append(_split_block(split))
    blocks.append(
        [
            "FORMAT = " + literal(trainer_helpers.FORMAT),
            "MAX_DEPTH = " + literal(trainer_helpers.MAX_DEPTH),
        ]
    )
    blocks.append(_leaves_fn(loss))
    blocks.append(_tree_fn(loss))
    blocks.append(_accuracy_fn())
    blocks.append(_train_fn(optimizer, lr, state, update, dask is not None))
    blocks.append(_initial_fn(initial, constants))
    blocks += _files_fns(loss, param_leaves)
    blocks.append(_main_fn(loss, optimizer, lr, dask is not None))
    blocks.append(['if __name__ == "__main__":', "    main()"])
    doc = [
        *(
            ["train(params, X, y, steps, lr) -> (params, history), Newton's method"]
            if optimizer == "newton"
            else [
                "train(params, X, y, steps, lr, batch_size, shuffle, seed, client) -> "
                f"(params, history), {optimizer} with",
                f"    {SCHEDULE}, full batch or minibatches"
                + (",\n    here or on a Dask cluster" if dask is not None else ""),
            ]
        ),
        "save_params(params, path) / load_params(path) -> parameters as JSON",
        "python <this file> data.csv [--steps N] "
        + ("" if optimizer == "newton" else "[--batch-size B] [--seed S] ")
        + ("[--dask ADDRESS] " if dask is not None else "")
        + "-> trains on a CSV file",
    ]
    return generate(
        loss,
        target,
        extra_blocks=blocks,
        extra_doc=doc,
        extra_needs=needs,
        constants=constants,
    )


def _split_block(split) -> list:
    """The compile-time verdict on splitting the loss over blocks of rows
    (`passes.separable`), as module constants the Dask trainer reads."""
    kind = split.kind if split else None
    reason = "" if split is None or split else split.reason
    if split is None:
        reason = "the loss was not analysed"
    return [
        "# Does the loss split over blocks of rows (decided from its graph when",
        '# the module was generated)? "mean" or "sum" of per-row terms plus terms',
        "# of the parameters alone (ROWS_PARAM_TERM: one was added), else None and",
        "# ROWS_MIXED says where rows mix. Full-batch training on Dask needs it.",
        "ROWS_SPLIT = " + literal(kind),
        "ROWS_PARAM_TERM = " + literal(bool(split and split.has_param)),
        "ROWS_MIXED = " + literal(reason),
    ]


def _check_keys(loss):
    """Refuse parameter dicts whose keys the module could not write."""
    for _, node in loss.treedef.children[0].subtrees():
        if node.kind == "dict":
            if keys.dict_literals(node.keys) is None:
                shown = ", ".join(keys.key_text(k) for k in node.keys)
                raise ArgumentError(
                    f"a trainer writes the structure of its parameters into the "
                    f"module, but a dict in them has keys it cannot write "
                    f"({comment_safe(shown, 200)}); use str, int, float, bool, "
                    "None, bytes or tuples of them as keys"
                )


def _check_predict(loss, predict):
    """`predict` must give one score per sample, shaped like the labels."""
    shape = predict.function("forward").outputs[0].shape
    labels = [leaf for leaf in loss.leaves if leaf.path == (2,) and leaf.node]
    want = labels[0].node.shape if labels else None
    if len(shape) == 1 and (want is None or shape == want):
        return
    need = f"shape {want}, like y" if want is not None else "a 1-d array"
    fix = (
        "; return scores[:, 0] or scores.ravel()"
        if len(shape) == 2 and shape[-1] == 1
        else ""
    )
    raise ArgumentError(
        f"a trainer's predict must return one score per sample ({need}), but "
        f"{comment_safe(predict.fun_name)} returns shape {shape}{fix}"
    )


def _predict(program) -> Function:
    """`predict(params, X)`: the model's forward pass, its own signature."""
    fun = doc_safe(program.fun_name)
    return Function(
        "predict",
        program.signature,
        list(program.function("forward").outputs),
        LEAF,
        [False],
        doc=f"The model: {fun}({', '.join(program.params)}).",
        summary=f"scores of {fun}",
    )


def _leaves_fn(loss) -> list:
    items = ", ".join(leaf_accesses(loss.treedef.children[0], "params"))
    return function(
        "_leaves", ["params"], "The parameters as a flat list.", [f"return [{items}]"]
    )


def _tree_fn(loss) -> list:
    counter = iter(range(len(loss.leaves)))
    body = _tree_literal(loss.treedef.children[0], counter)
    return function(
        "_tree",
        ["leaves"],
        "The parameter structure rebuilt from a flat list.",
        [f"return {body}"],
    )


def _tree_literal(treedef, counter) -> str:
    if treedef.is_leaf:
        return f"leaves[{next(counter)}]"
    kind = treedef.kind
    items = [_tree_literal(c, counter) for c in treedef.children]
    if kind == "dict":
        lits = keys.dict_literals(treedef.keys)  # never None: _check_keys ran
        return (
            "{" + ", ".join(f"{k}: {v}" for k, v in zip(lits, items, strict=True)) + "}"
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
            "hits, total = _agreement(predict(params, X), y)",
            "return hits / total",
        ],
    )


def _train_fn(optimizer, lr, state, update, dask) -> list:
    if optimizer == "newton":
        return _newton_train_fn()
    here = [
        "Xb, yb = _rows(X, picked), _rows(y, picked)",
        "loss, grads = value_and_grad(_tree(leaves), Xb, yb)",
        "acc = accuracy(_tree(leaves), Xb, yb)",
    ]
    local = [
        'X, y = _data(X, "X"), _data(y, "y")',
        "if len(X) != len(y):",
        '    raise ValueError(f"X has {len(X)} rows but y has {len(y)}")',
        "rows = len(X)",
    ]
    if dask:
        prepare = [
            "if client is None:",
            *("    " + line for line in local),
            "else:",
            "    on_dask = _dask_data(client, X, y, batch_size, globals())",
            '    rows = on_dask["rows"]',
        ]
        step = [
            "    if client is None:",
            *("        " + line for line in here),
            "    else:",
            "        loss, grads, acc = _dask_step(on_dask, _tree(leaves), picked, k)",
        ]
    else:
        prepare = [
            "if client is not None:",
            "    raise ValueError(",
            '        "this trainer is pure Python and Dask needs NumPy: generate the "',
            '        "trainer for the NumPy target to train on a Dask cluster"',
            "    )",
            *local,
        ]
        step = ["    " + line for line in here]
    body = [
        *prepare,
        "leaves = [_own(p) for p in _leaves(params)]",
        *state,
        "batches = _batches(rows, batch_size, shuffle, seed)",
        "history = []",
        "for k in range(steps):",
        "    picked = next(batches)",
        *step,
        "    history.append((k, loss, acc))",
        "    if callback is not None:",
        "        callback(k, loss, acc)",
        "    rate = lr * (1.0 - 0.9 * k / steps)",
        "    for i, grad in enumerate(_leaves(grads)):",
        *("        " + line for line in update),
        "return _tree(leaves), history",
    ]
    doc = (
        f"{optimizer} for `steps` steps with {SCHEDULE}, on any number of rows.\n\n"
        "Each step uses one batch of rows. With batch_size None (or at least the\n"
        "number of rows) that is all of them, in order: full-batch training.\n"
        "Otherwise the rows are cut into batches epoch after epoch: each epoch\n"
        "takes a permutation of range(len(X)) (random.Random(seed).shuffle, one\n"
        "generator for the whole run; the rows in order if shuffle is false)\n"
        "and its batches of batch_size rows in order, the last one smaller when\n"
        "batch_size does not divide the number of rows.\n\n"
        + (
            "With a dask.distributed client, X and y are Dask arrays or dataframes\n"
            "(see load_dask) and each step's value and gradient are computed on the\n"
            "cluster (see _dask_data), the update here: the same steps as without.\n\n"
            if dask
            else "A client (Dask) is refused: Dask needs NumPy.\n\n"
        )
        + "Returns the trained parameters and a history of (step, loss, accuracy),\n"
        "the loss and accuracy of the step's batch before its update."
    )
    args = [
        "params",
        "X",
        "y",
        "steps=100",
        f"lr={literal(float(lr))}",
        "batch_size=None",
        "shuffle=True",
        "seed=0",
        "callback=None",
        "client=None",
    ]
    return function("train", args, doc, body)


def _newton_train_fn() -> list:
    body = [
        "leaves = [_own(p) for p in _leaves(params)]",
        "history = []",
        "for k in range(steps):",
        "    loss, grads = value_and_grad(_tree(leaves), X, y)",
        "    acc = accuracy(_tree(leaves), X, y)",
        "    history.append((k, loss, acc))",
        "    if callback is not None:",
        "        callback(k, loss, acc)",
        "    step = _newton_step(hessian(_tree(leaves), X, y), grads)",
        "    leaves = [",
        "        _map(lambda p, s: p - lr * s, p, s) for p, s in zip(leaves, step)",
        "    ]",
        "return _tree(leaves), history",
    ]
    doc = (
        "Newton's method for `steps` steps: each step solves (H + 1e-9 I) s = g\n"
        "with the generated Hessian H and moves by lr * s (lr = 1: full steps).\n\n"
        "Returns the trained parameters and a history of (step, loss, accuracy),\n"
        "the loss and accuracy measured before each step's update."
    )
    args = ["params", "X", "y", "steps=10", "lr=1.0", "callback=None"]
    return function("train", args, doc, body)


def _initial_fn(initial, constants) -> list:
    """`initial_params()`: every leaf from its flat numbers (large arrays
    stored compactly as module constants), as the module's own arrays."""
    items = []
    for value in initial:
        array = np.asarray(value, dtype=np.float64)
        if not array.shape:
            items.append(literal(float(array)))
            continue
        if constants.stores(array):
            flat = constants.add(array)
        else:
            flat = literal([float(x) for x in array.ravel().tolist()])
        items.append(f"_shaped({flat}, {literal(tuple(array.shape))})")
    return function(
        "initial_params",
        [],
        "The example parameters the module was compiled with (a starting point).",
        [f"return _tree([{', '.join(items)}])"],
    )


def _files_fns(loss, param_leaves) -> list:
    records = [
        (leaf_label(loss, leaf), tuple(int(n) for n in leaf.node.shape))
        for leaf in param_leaves
    ]
    table = [
        "# The parameter records of this model, in file order: (name, shape).",
        "_RECORDS = " + literal(records),
    ]
    save = function(
        "save_params",
        ["params", "path"],
        "Write the parameters to `path` as JSON (atomically: the old file stays\n"
        "whole until the new one is complete): a list of {name, shape, values}\n"
        "records; NaN and infinities are written as the strings nan, inf and -inf.",
        [
            "import json",
            "",
            "records = []",
            "for (name, shape), value in zip(_RECORDS, _leaves(params)):",
            "    value = _portable(_tolist(value))",
            '    _record_values(value, shape, f"parameter {name}")  # as load checks',
            '    records.append({"name": name, "shape": list(shape), "values": value})',
            'data = {"format": FORMAT, "leaves": records}',
            '_write_file(path, json.dumps(data, allow_nan=False) + "\\n")',
        ],
    )
    load = function(
        "load_params",
        ["path"],
        "Read parameters written by save_params. A ValueError names the first\n"
        "record that is missing, extra, renamed, out of order, of another shape\n"
        "or not numbers.",
        [
            "flat = _read_params(path, _RECORDS)",
            "return _tree([_shaped(v, s) for v, (_, s) in zip(flat, _RECORDS)])",
        ],
    )
    return [table, save, load]


def _data_shape(loss):
    """The shape X (the second argument) is compiled for, or None."""
    return next(
        (leaf.node.shape for leaf in loss.leaves if leaf.path == (1,) and leaf.node),
        None,
    )


def _width_check(loss) -> list:
    """Lines of `main` refusing a CSV whose rows hold another number of
    features than X has columns, naming the file (the module's own argument
    check would name only X)."""
    shape = _data_shape(loss)
    if shape is None or len(shape) != 2 or dims.is_symbolic(shape[1]):
        return []
    k = shape[1]
    return [
        f"    if len(X[0]) != {k}:",
        "        raise ValueError(",
        "            f'{args.csv}: a row holds {len(X[0])} feature(s) and a label; '",
        f"            'the model needs {k} feature(s) per row'",
        "        )",
    ]


def columns_text(loss) -> str:
    """What a CSV row holds, from the shape of X (and whether its rows may
    be any number)."""
    shape = _data_shape(loss)
    if shape is None or len(shape) != 2 or dims.is_symbolic(shape[1]):
        return "the features of one sample, then its label (-1/+1 or 0/1)"
    k = shape[1]
    rows = (
        "any number of rows"
        if dims.is_symbolic(shape[0])
        else f"exactly {shape[0]} rows (the module was compiled for that many)"
    )
    return (
        f"the {k} feature{'s' if k != 1 else ''} of one sample, then its label "
        f"(-1/+1 or 0/1); {rows}, and a first row that is not numbers is a "
        "header"
    )


_DASK_HELP = [
    "    help='train on a Dask cluster: local (a new one on this machine) '",
    "    'or the scheduler address, e.g. tcp://host:8786; the data may then '",
    "    'be a glob of CSV or of Parquet files (*.parquet)',",
]
_NO_DASK_HELP = ["    help='refused: this trainer is pure Python (Dask needs NumPy)',"]


def _main_fn(loss, optimizer, lr, dask) -> list:
    # argparse %-formats a description holding "%(prog)": this one always
    # does, so a "%" in the function's name is doubled to stay text.
    name = comment_safe(loss.fun_name).replace("%", "%%")
    description = literal(
        f"%(prog)s: train {name} with {optimizer} on a CSV file. Each row holds "
        + columns_text(loss).replace("%", "%%")
        + "."
    )
    minibatch = optimizer != "newton"
    options = (
        [
            "parser.add_argument(",
            "    '--batch-size',",
            "    type=int,",
            "    help='rows per step (default: all of them); each epoch shuffles the '",
            "    'rows with --seed and takes batches in order, the last one smaller',",
            ")",
            "parser.add_argument(",
            "    '--seed', type=int, default=0, help='seed of the shuffle (default 0)'",
            ")",
        ]
        if minibatch
        else []
    )
    if minibatch:
        options += [
            "parser.add_argument(",
            "    '--dask',",
            "    metavar='ADDRESS',",
            *(_DASK_HELP if dask else _NO_DASK_HELP),
            ")",
        ]
    checks = (
        [
            "if args.batch_size is not None and args.batch_size < 1:",
            "    parser.error('--batch-size must be 1 or more')",
        ]
        if minibatch
        else []
    )
    if minibatch and not dask:
        checks += [
            "if args.dask:",
            "    parser.error(",
            "        '--dask: this trainer is pure Python and Dask needs NumPy; '",
            "        'generate the trainer for the NumPy target'",
            "    )",
        ]
    call = (
        "    params, _ = train(",
        "        params,",
        "        X,",
        "        y,",
        "        args.steps,",
        "        args.lr,",
        *(
            ["        batch_size=args.batch_size,", "        seed=args.seed,"]
            if minibatch
            else []
        ),
        "        callback=report,",
        *(["        client=client,"] if dask else []),
        "    )",
    )
    load = ["    X, y = load_csv(args.csv)"]
    errors = "(OSError, ValueError)"
    if dask:
        load = [
            "    if args.dask:",
            "        client, cluster = _dask_client(args.dask)",
            "        X, y = load_dask(args.csv)",
            "    else:",
            "        X, y = load_csv(args.csv)",
        ]
    closing = (
        [
            "finally:",
            "    if client is not None:",
            "        client.close()",
            "    if cluster is not None:",
            "        cluster.close()",
        ]
        if dask
        else []
    )
    return function(
        "main",
        ["argv=None"],
        (
            "Train on a CSV file (with --dask, files on a Dask cluster) from the\n"
            "command line, printing every step.\n\n"
            if dask
            else "Train on a CSV file from the command line, printing every step.\n\n"
        )
        + "Bad input (a file that cannot be read, a bad CSV or parameter file, data\n"
        "of the wrong shape) ends with a one-line error and exit status 2.",
        [
            "import argparse",
            "",
            f"parser = argparse.ArgumentParser(description={description})",
            "parser.add_argument('csv', help='training data, one sample per row')",
            "parser.add_argument('--steps', type=int, default=100)",
            f"parser.add_argument('--lr', type=float, default={literal(float(lr))})",
            *options,
            "parser.add_argument('--params', help='initial parameters (JSON)')",
            "parser.add_argument('--save', help='write trained parameters (JSON)')",
            "args = parser.parse_args(argv)",
            "if args.steps < 0:",
            "    parser.error('--steps must be 0 or more')",
            *checks,
            "",
            "def report(k, loss, acc):",
            "    print(f'step {k} loss {loss!r}, accuracy {acc * 100:.1f}%')",
            "",
            *(["client = cluster = None"] if dask else []),
            "try:",
            "    if args.save:",
            "        # Before training: never over the data, nor over a FIFO.",
            "        _check_output(args.save, [args.csv, args.params or args.csv])",
            *load,
            *_width_check(loss),
            "    params = initial_params()",
            "    if args.params:",
            "        params = load_params(args.params)",
            *call,
            "    if args.save:",
            "        save_params(params, args.save)",
            "        print(f'saved the trained parameters to {args.save}')",
            f"except {errors} as exc:",
            "    parser.exit(2, f'{parser.prog}: error: {exc}\\n')",
            *closing,
        ],
    )
