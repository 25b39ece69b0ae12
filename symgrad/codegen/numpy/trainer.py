"""The NumPy target's pieces of a trainer (`codegen.trainer`): its helper
blocks (an elementwise map that is the function itself, as NumPy arithmetic
broadcasts; conversions to and from arrays; CSV loading) and Newton's step
with `np.linalg.solve`; and the functions that train on a Dask cluster
(`codegen.trainer_dask`), which need NumPy.
"""

import inspect

from symgrad.codegen import trainer_dask

# Newton's step s = (H + 1e-9 I)^-1 g over all parameters (H in blocks).
NEWTON = [
    "def _newton_step(hess, grads):",
    '    """Solve (H + 1e-9 I) s = g over all parameters (H in blocks)."""',
    "    g = [np.asarray(x, dtype=np.float64) for x in _leaves(grads)]",
    "    H = np.block(",
    "        [",
    "            [np.reshape(b, (a.size, c.size)) for b, c in zip(_leaves(r), g)]",
    "            for r, a in zip(_leaves(hess), g)",
    "        ]",
    "    )",
    "    flat = np.concatenate([x.ravel() for x in g])",
    "    s = np.linalg.solve(H + 1e-9 * np.eye(flat.size), flat)",
    "    out, start = [], 0",
    "    for x in g:",
    "        piece = s[start : start + x.size]",
    "        out.append(piece.reshape(x.shape) if x.shape else float(piece[0]))",
    "        start += x.size",
    "    return out",
]

# Helper blocks, each a list of lines.
HELPERS = [
    [
        "def _map(fn, *arrays):",
        '    """Apply `fn` elementwise (NumPy arithmetic broadcasts already)."""',
        "    return fn(*arrays)",
    ],
    ["_sqrt = np.sqrt"],
    [
        "def _data(x, name):",
        '    """Training data as the trainer indexes it (an array), checked as',
        '    arguments are."""',
        "    return _as_array(x, name, None)",
    ],
    [
        "def _agreement(scores, y):",
        '    """(how many scores have the sign of their label, how many there',
        '    are), counted by NumPy."""',
        "    s = np.asarray(scores, dtype=np.float64)",
        "    t = np.asarray(y, dtype=np.float64)",
        "    return int(np.count_nonzero((s > 0) == (t > 0))), len(s)",
    ],
    [
        "def _rows(x, picked):",
        '    """The rows `picked` (a list of row numbers) of `x`, or all of '
        'them."""',
        "    return x if picked is None else x[picked]",
    ],
    [
        "def _own(x):",
        '    """A parameter as the trainer keeps it: a float array or a float."""',
        "    return np.array(x, dtype=np.float64) if np.ndim(x) else float(x)",
    ],
    [
        "def _tolist(x):",
        "    return np.asarray(x, dtype=np.float64).tolist()",
    ],
    [
        "def _shaped(flat, shape):",
        '    """A float array of `shape` (a float for shape ()) from flat '
        'numbers."""',
        "    if not shape:",
        "        return float(flat[0])",
        "    return np.array(flat, dtype=np.float64).reshape(shape)",
    ],
    [
        "def load_csv(path):",
        '    """(X, y) from a CSV file: features in every column but the last, the',
        '    label last (-1/+1, or 0/1 read as -1/+1); a header row is skipped."""',
        "    features, labels = _read_csv(path)",
        "    return np.array(features), np.array(labels)",
    ],
]


def trainer_pieces(optimizer: str) -> tuple:
    """(helper blocks, helpers of the target they call) for `optimizer`."""
    blocks = list(HELPERS) + ([NEWTON] if optimizer == "newton" else [])
    # `_data` checks the training data as the module checks arguments.
    return blocks, ("_check_argument", "_as_array")


def dask_pieces() -> list:
    """The blocks of `train(..., client=)` and `--dask` (Dask needs NumPy,
    so only this target's trainers have them)."""
    return [
        inspect.getsource(fn).rstrip("\n").split("\n") for fn in trainer_dask.COPIED
    ]
