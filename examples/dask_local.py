"""A loss's value and gradient over Dask arrays on a local cluster.

Needs the optional extra: pip install 'symgrad[dask]'. Run it as
`python examples/dask_local.py`: it starts two worker processes, splits
200,000 rows into blocks, and checks the result against one process.
"""

import numpy as np

import symgrad


def loss(w, X, y):
    """Mean squared error plus an L2 term: a mean over rows plus a term of w."""
    r = X @ w - y
    return np.mean(r**2) + 1e-3 * np.sum(w * w)


def standardized(w, X, y):
    """Not splittable: every row is scaled by statistics of all the rows."""
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.mean((Z @ w - y) ** 2)


def main(rows=200_000, client=None):
    import dask.array as da
    from distributed import Client, LocalCluster

    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(rows, 5)), rng.normal(size=rows), np.zeros(5)
    c = symgrad.compile(loss, w, X[:8], y[:8], batch={"X": 0, "y": 0})
    print(c.separable)  # Verdict(separable=True, kind='mean', has_param=True, ...)

    own = client is None
    if own:
        cluster = LocalCluster(n_workers=2, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        Xd = da.from_array(X, chunks=(rows // 4, 5))  # four blocks of rows
        yd = da.from_array(y, chunks=rows // 4)
        value, grad = c.value_and_grad(w, Xd, yd)  # one task per block
        want_value, want_grad = c.value_and_grad(w, X, y)  # in this process
        assert np.isclose(value, want_value, rtol=1e-12, atol=0)
        assert np.allclose(grad, want_grad, rtol=1e-12, atol=1e-15)

        bad = symgrad.compile(standardized, w, X[:8], y[:8], batch={"X": 0, "y": 0})
        print(bad.separable.reason)  # dask_local.py:21: sub combines each row ...
        try:
            bad.value_and_grad(w, Xd, yd)
        except symgrad.SymgradError as e:
            print("refused:", e)
    finally:
        if own:
            client.close()
            cluster.close()
    return value, grad


if __name__ == "__main__":
    main()
