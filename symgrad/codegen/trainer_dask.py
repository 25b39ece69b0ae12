"""Training on a Dask cluster: functions copied as they are into the NumPy
target's trainers (`train(..., client=)` and `--dask` on their command line).

Contract: the trainer module holds these functions and calls them only when a
client is given, so it imports Dask only then (and runs without Dask, and
without symgrad, otherwise). `_dask_data(client, X, y, batch_size, names)`
prepares the data (`names` is the trainer's `globals()`); `_dask_step(data,
params, picked, k)` returns the step's `(loss, gradient, accuracy)`, equal
(to rounding) to the in-process step on the same rows; `load_dask(pattern)`
reads CSV or Parquet files as Dask arrays; `_dask_client(address)` connects.

What runs on the workers. A remote worker has NumPy and Dask, not symgrad
and not the trainer file. So the trainer sends:
- its own SOURCE text (the file it was loaded from, scattered once to every
  worker), which a worker executes into a module named after the text's
  hash, kept in its `sys.modules`: once per worker, not per task;
- the task functions `_dask_task` and `_dask_add` BY VALUE (their code, not
  a reference to a module the worker could not import): each is sent as a
  copy with no globals but the builtins and a module name no process can
  import, which plain pickle refuses, so Dask falls back to cloudpickle,
  which then pickles the code itself. Both use nothing of the trainer (only
  builtins and what they import), so nothing else of the client's process
  goes with them; this holds whether the trainer runs as a script
  (`__main__`) or was imported.

Steps. Full batch: one task per block of rows, its result scaled by a weight
and the results added by a tree reduction: for a mean (`ROWS_SPLIT ==
"mean"`) the weight is rows_k / n, so the parameter-only term counts once;
for a sum every weight is 1 and the K - 1 extra copies of the parameter-only
term (the module run here on zero rows) are subtracted. A loss that does not
split (`ROWS_SPLIT is None`, with `ROWS_MIXED` naming the line) is refused
for full-batch training. Minibatches: the rows of the batch, in the batch's
order, are gathered into one block on one worker, which runs the module on
them (so any loss trains this way). Data not persisted in the cluster's
memory is read again at every step, a partition at a time per worker thread.

Faults: Dask reruns the tasks of a worker that dies. If a step still fails
with a lost worker or connection, it is tried again (twice), then the run
stops with an OSError naming the step; the parameters are only written by
the client, after training, so a file saved before stays whole.
"""

# ruff: noqa: F821, B905 - `_tolist`, `_leaves`, ... are the trainer's own
# names; zip without strict= as the trainers run on Python 3.8.


def _dask_client(address):
    """(client, cluster) for --dask: a new local cluster of worker processes
    for "local", else the scheduler at `address` (tcp://host:8786; cluster
    None)."""
    from distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(dashboard_address=None)
        return Client(cluster), cluster
    return Client(address), None


def load_dask(pattern):
    """(X, y) as Dask arrays from the CSV files matching `pattern` (a glob,
    local or a URL Dask reads, e.g. s3://bucket/part-*.csv), or the Parquet
    files when it ends in .parquet or .pq: features in every column but the
    last, the label last (-1/+1, or 0/1 read as -1/+1). A CSV file whose
    first row is not all numbers has a header. One pass over the data counts
    each partition's rows and checks the labels; the arrays stay lazy."""
    import dask
    import dask.dataframe as dd
    import fsspec

    files = fsspec.open_files(pattern, mode="rb")
    if not files:
        raise ValueError(f"{pattern}: no file matches")
    if pattern.endswith((".parquet", ".pq")):
        frame = dd.read_parquet(pattern)
    else:
        with files[0] as f:
            first = f.readline().decode("utf-8-sig").strip().split(",")
        header = None if all(_is_number(field) for field in first) else 0
        frame = dd.read_csv(pattern, header=header, encoding="utf-8-sig")
    if len(frame.columns) < 2:
        raise ValueError(f"{pattern}: a row needs features and a label")
    data = frame.astype("float64").to_dask_array()
    label = data[:, -1]
    # One pass (one read of each partition): its rows, and the labels' values.
    parts = data.to_delayed(optimize_graph=False).ravel()
    try:
        lengths, zero_one, other, not_01 = dask.compute(
            [dask.delayed(len)(part) for part in parts],
            (label == 0.0).any(),
            ((label != -1.0) & (label != 1.0)).any(),
            ((label != 0.0) & (label != 1.0)).any(),
            optimize_graph=False,
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{pattern}: not numbers: {exc}") from None
    if (not_01 if zero_one else other) or sum(lengths) == 0:
        raise ValueError(
            f"{pattern}: no rows"
            if sum(lengths) == 0
            else f"{pattern}: a label is not -1/+1 (or all 0/1)"
        )
    data = frame.astype("float64").to_dask_array(lengths=list(lengths))
    y = data[:, -1]
    return data[:, :-1], (2.0 * y - 1.0 if zero_one else y)


def _dask_data(client, X, y, batch_size, names):
    """The state of a run on Dask: the data as row blocks aligned between X
    and y, this module's source scattered to the workers, the task functions
    as copies sent by value. Refuses full-batch training of a loss that does
    not split."""
    import builtins
    import types

    import dask.array as da

    arrays = []
    for a in (X, y):
        if hasattr(a, "to_dask_array"):  # a dataframe or series
            a = a.to_dask_array(lengths=True)
        elif not hasattr(a, "dask"):  # NumPy data: sent to the workers once
            a = client.persist(da.from_array(a))
        a = da.asarray(a)
        if any(c != c for c in a.chunks[0]):  # NaN: sizes unknown
            a = a.compute_chunk_sizes()
        arrays.append(a)
    X, y = arrays
    rows = X.shape[0]
    if y.shape[0] != rows:
        raise ValueError(f"X has {rows} rows but y has {y.shape[0]}")
    full = batch_size is None or batch_size >= rows
    if full and names["ROWS_SPLIT"] is None:
        raise ValueError(
            "full-batch training on Dask splits the loss over blocks of rows, "
            f"which is not exact for this loss: {names['ROWS_MIXED']}; train "
            "with minibatches (batch_size / --batch-size), each on one worker"
        )
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    y = y.rechunk({0: X.chunks[0], **{axis: -1 for axis in range(1, y.ndim)}})
    path = names.get("__file__")
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except (OSError, TypeError):
        raise ValueError(
            "training on Dask sends this trainer's source file to the workers; "
            f"load the trainer from its file (it was loaded from {path!r})"
        ) from None
    shipped = []
    for fn in (_dask_task, _dask_add):
        copy = types.FunctionType(fn.__code__, {"__builtins__": builtins}, fn.__name__)
        copy.__module__ = "symgrad_trainer_tasks"  # importable nowhere
        shipped.append(copy)
    return {
        "client": client,
        "X": X,
        "y": y,
        "rows": rows,
        # Unoptimized: X's and y's blocks then share the task reading their
        # partition (fused, each would read it again).
        "blocks": list(
            zip(
                X.to_delayed(optimize_graph=False).ravel(),
                y.to_delayed(optimize_graph=False).ravel(),
            )
        ),
        "sizes": [int(c) for c in X.chunks[0]],
        "text": source,
        "source": client.scatter(source, broadcast=True, hash=False),
        "names": names,
        "task": shipped[0],
        "add": shipped[1],
    }


def _dask_step(data, params, picked, k):
    """(loss, gradient, accuracy) of step `k` on the rows `picked` (None: all
    of them), on the cluster; a step that loses a worker is tried again."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    for _ in range(3):
        try:
            return _dask_compute(data, params, picked)
        except (OSError, KilledWorker, CancelledError) as exc:
            failure = exc
            # The scattered source may have gone with the worker.
            data["source"] = data["client"].scatter(
                data["text"], broadcast=True, hash=False
            )
    raise OSError(
        f"step {k}: the Dask cluster failed three times ({failure!r}); "
        "stopped without saving"
    )


def _dask_compute(data, params, picked):
    """One step's tasks, their tree reduction, and its result here."""
    import dask
    import numpy

    names, rows = data["names"], data["rows"]
    kind, weights = names["ROWS_SPLIT"], []
    if picked is None:
        blocks = [b for b, size in zip(data["blocks"], data["sizes"]) if size]
        sizes = [size for size in data["sizes"] if size]
        weights = [size / rows if kind == "mean" else 1.0 for size in sizes]
    else:
        rows = len(picked)
        X, y = data["X"][picked], data["y"][picked]
        X, y = X.rechunk({0: -1}), y.rechunk({0: -1})
        blocks = [(X.to_delayed().ravel()[0], y.to_delayed().ravel()[0])]
        weights = [1.0]
    task = dask.delayed(data["task"], pure=True)
    parts = [
        task(data["source"], params, Xb, yb, w) for (Xb, yb), w in zip(blocks, weights)
    ]
    while len(parts) > 1:
        pairs = range(0, len(parts) - 1, 2)
        merged = [dask.delayed(data["add"])(parts[i], parts[i + 1]) for i in pairs]
        parts = merged + ([parts[-1]] if len(parts) % 2 else [])
    loss, leaves, hits = data["client"].compute(parts[0]).result()
    if (
        picked is None
        and kind == "sum"
        and names["ROWS_PARAM_TERM"]
        and len(blocks) > 1
    ):
        # The parameter-only term, counted once per block: keep one.
        X, y = data["X"], data["y"]
        empty_X = numpy.empty((0,) + X.shape[1:], dtype=X.dtype)
        empty_y = numpy.empty((0,) + y.shape[1:], dtype=y.dtype)
        g_loss, g_grads = names["value_and_grad"](params, empty_X, empty_y)
        extra = len(blocks) - 1
        loss = loss - extra * g_loss
        leaves = [x - extra * g for x, g in zip(leaves, names["_leaves"](g_grads))]
    return loss, names["_tree"](leaves), hits / rows


def _dask_task(source, params, X, y, weight):
    """On a worker: the trainer module (executed from `source` once per
    worker) on one block of rows: (weight * loss, weight * gradient leaves,
    rows whose score has the sign of their label)."""
    import hashlib
    import sys
    import types

    import numpy

    name = "symgrad_trainer_" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name)
        exec(compile(source, name, "exec"), module.__dict__)
        module = sys.modules.setdefault(name, module)
    loss, grads = module.value_and_grad(params, X, y)
    scores = numpy.asarray(module.predict(params, X))
    hits = int(numpy.sum((scores > 0) == (numpy.asarray(y) > 0)))
    return weight * loss, [weight * g for g in module._leaves(grads)], hits


def _dask_add(a, b):
    """Two blocks' (loss, gradient leaves, hits) added."""
    return a[0] + b[0], [x + y for x, y in zip(a[1], b[1])], a[2] + b[2]


# In the order they are written into the trainer.
COPIED = [
    _dask_client,
    load_dask,
    _dask_data,
    _dask_step,
    _dask_compute,
    _dask_task,
    _dask_add,
]
