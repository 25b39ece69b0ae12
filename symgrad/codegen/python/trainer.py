"""The pure-Python target's pieces of a trainer (`codegen.trainer`): its helper
blocks (an elementwise map over nested lists, conversions to and from lists of
floats, CSV loading) and Newton's step with the target's `_solve` helper; the
update of adam calls the target's NumPy-faithful `_sqrt`.
"""

# Newton's step s = (H + 1e-9 I)^-1 g over all parameters (H in blocks).
NEWTON = [
    "def _newton_step(hess, grads):",
    '    """Solve (H + 1e-9 I) s = g over all parameters (H in blocks)."""',
    "    g = [_flat(x) for x in _leaves(grads)]",
    "    n = sum(len(x) for x in g)",
    "    H = [0.0] * (n * n)",
    "    row = 0",
    "    for r, a in zip(_leaves(hess), g):",
    "        col = 0",
    "        for b, c in zip(_leaves(r), g):",
    "            block = _flat(b)",
    "            for i in range(len(a)):",
    "                for j in range(len(c)):",
    "                    H[(row + i) * n + col + j] = block[i * len(c) + j]",
    "            col += len(c)",
    "        row += len(a)",
    "    for i in range(n):",
    "        H[i * n + i] += 1e-9",
    "    s = _solve(H, [v for x in g for v in x], n, 1)",
    "    out, start = [], 0",
    "    for x, shape in zip(g, [_shape_of(v) for v in _leaves(grads)]):",
    "        out.append(_shaped(s[start : start + len(x)], shape))",
    "        start += len(x)",
    "    return out",
    "",
    "",
    "def _flat(x):",
    '    """Nested lists (or a number) as one flat list, row-major."""',
    "    if not isinstance(x, list):",
    "        return [float(x)]",
    "    return [v for item in x for v in _flat(item)]",
    "",
    "",
    "def _shape_of(x):",
    "    shape = []",
    "    while isinstance(x, list):",
    "        shape.append(len(x))",
    "        x = x[0] if x else None",
    "    return tuple(shape)",
]

# Helper blocks, each a list of lines.
HELPERS = [
    [
        "def _map(fn, *trees):",
        '    """Apply `fn` elementwise over nested lists of floats."""',
        "    if isinstance(trees[0], list):",
        "        return [_map(fn, *items) for items in zip(*trees)]",
        "    return fn(*trees)",
    ],
    [
        "def _tolist(x):",
        '    return x.tolist() if hasattr(x, "tolist") else x',
    ],
    [
        "def _data(x, name):",
        '    """Training data as the trainer indexes it (nested lists), checked',
        '    as arguments are."""',
        "    _check_argument(x, name, False)",
        "    return _tolist(x)",
    ],
    [
        "def _agreement(scores, y):",
        '    """(how many scores have the sign of their label, how many there',
        '    are)."""',
        "    hits = [(s > 0) == (t > 0) for s, t in zip(_tolist(scores), _tolist(y))]",
        "    return sum(hits), len(hits)",
    ],
    [
        "def _rows(x, picked):",
        '    """The rows `picked` (a list of row numbers) of `x`, or all of '
        'them."""',
        "    return x if picked is None else [x[i] for i in picked]",
    ],
    [
        "def _own(x):",
        '    """A parameter as the trainer keeps it: nested lists or a float."""',
        '    return x.tolist() if hasattr(x, "tolist") else x',
    ],
    [
        "def _shaped(flat, shape):",
        '    """Nested lists of floats of `shape` (a float for shape ()) from flat',
        '    numbers in row-major order."""',
        "    out = [float(x) for x in flat]",
        "    if not shape:",
        "        return out[0]",
        "    rows = len(out)",
        "    for n in reversed(shape[1:]):",
        "        rows //= n",
        "        out = [out[i * n : (i + 1) * n] for i in range(rows)]",
        "    return out",
    ],
    [
        "def load_csv(path):",
        '    """(X, y) from a CSV file: features in every column but the last, the',
        '    label last (-1/+1, or 0/1 read as -1/+1); a header row is skipped."""',
        "    return _read_csv(path)",
    ],
]


def trainer_pieces(optimizer: str) -> tuple:
    """(helper blocks, helpers of the target they call) for `optimizer`."""
    blocks = list(HELPERS) + ([NEWTON] if optimizer == "newton" else [])
    needs = {"adam": ("_sqrt",), "newton": ("_solve",)}.get(optimizer, ())
    # `_data` checks the training data as the module checks arguments.
    return blocks, ("_check_argument", *needs)
