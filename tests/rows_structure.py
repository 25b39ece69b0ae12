"""Op test rows: joining (concatenate, stack, np.array of traced values),
splitting, axes (expand_dims, squeeze, swapaxes, moveaxis), flips, rolls,
tiles, repeats, pads, triangles, diagonals, diff, cross, select and the
`*_like` constants."""

import numpy as np

from tests.op_rows import Row

ROWS = {
    "concatenate": Row(
        ("concatenate",),
        lambda a, b: np.concatenate([a, np.tanh(b), a * b[..., :1]], axis=-1)
        * np.sin(np.concatenate((b, a[..., :2]), axis=0)).sum()
        + np.concatenate([a, b], axis=None).sum(),
        ("any", "any"),
        (((2, 3), (2, 2)), ((3,), (2,))),
    ),
    "stack_array": Row(
        ("stack",),
        lambda a, b: np.stack([a, np.sin(b)], axis=-1) * np.array([a, b])[1, ..., None]
        + np.array([a.sum(), 2.0, np.max(b)]).sum() * np.stack((b, a)).sum()
        + np.asarray([[a.min(), 1.0], (b.sum(), a.sum() * b.mean())]).prod(),
        ("any", "any"),
        (((3,), (3,)), ((2, 3), (2, 3))),
    ),
    "stacks": Row(
        ("concatenate", "reshape"),
        lambda a, b: np.hstack([a, b]).sum() * np.vstack((a, b)).sum(0)
        + np.dstack([a, b]).sum(axis=2)
        + np.column_stack([a, b])[0].sum()
        + np.append(a, b).prod(),
        ("any", "any"),
        (((3,), (3,)), ((2, 3), (2, 3))),
    ),
    "split": Row(
        ("getitem", "scatter"),
        lambda a: sum(p.sum() * (k + 1) for k, p in enumerate(np.split(a, 3, axis=1)))
        + np.array_split(a, 2)[1].sum()
        + np.hsplit(a, [1, 2])[2][0] * np.vsplit(a, 2)[0]
        + np.array_split(a, [-1, 5], axis=1)[0].prod(),
        ("any",),
        (((4, 3),),),
        symbolic="np.array_split into 2 sections",
    ),
    "axes": Row(
        ("reshape", "transpose"),
        lambda a: np.expand_dims(a, (0, -1)).sum(axis=-1)
        * np.squeeze(a[None, :, None], axis=0).sum(axis=1)
        + np.swapaxes(a, 0, -1).T
        + np.moveaxis(a[None], 0, -1)[..., 0] * np.atleast_2d(a[0, 0]).sum()
        + np.atleast_3d(a).squeeze()
        + a.swapaxes(1, 0).T * np.ravel(a).reshape(a.shape),
        ("any",),
        (((2, 3),),),
    ),
    "flip_roll": Row(
        ("getitem", "scatter", "concatenate"),
        lambda a: np.flip(a) * np.fliplr(a) * np.flipud(np.sin(a))
        + np.roll(a, 1, axis=1) * np.roll(a, -5)
        + np.flip(a, axis=(0,)) * np.roll(a, (1, 2), axis=(0, 1)),
        ("any",),
        (((3, 4),),),
        symbolic="np.roll of an axis of symbolic length",
    ),
    "tile_repeat": Row(
        ("reshape", "broadcast_to", "concatenate"),
        lambda a: np.tile(a, 2).sum() * np.tile(a, (2, 1, 1))[1]
        + np.repeat(a, 2, axis=-1)[..., ::2]
        + a.repeat([1, 0, 2], axis=-1)
        * np.repeat(a, 2).reshape(a.shape + (2,)).sum(-1),
        ("any",),
        (((3,),), ((2, 3),)),
    ),
    "pad": Row(
        ("concatenate", "broadcast_to", "getitem"),
        lambda a: np.sin(np.pad(a, 1)).sum()
        + np.sin(
            np.pad(a, ((1, 0), (2, 3)), constant_values=((1.5, 2.5), (0.5, -1.0)))
            * np.pad(a, ((0, 1), (3, 2)), mode="edge")
        ).sum()
        + np.sin(
            np.pad(a, (2, 3), mode="reflect")
            * np.pad(np.sin(a), (1, 4), mode="symmetric")
        ).sum()
        + np.sin(np.pad(a, 2, mode="wrap")).sum(),
        ("any",),
        (((2, 3),),),
        symbolic="np.pad in mode 'reflect' of an axis of symbolic length n",
    ),
    "diagonal": Row(
        ("diagonal", "embed_diagonal", "triu", "tril"),
        lambda a: np.triu(a) * np.tril(a, -1)
        + np.triu(a, 1) * np.sin(np.tril(a, 1))
        + np.diag(np.diagonal(a)).sum() * a.diagonal(1).sum()
        + np.diag(a[0], -1)[1:, :].sum()
        + np.trace(a) * a.trace(-1)
        + np.diag(a, k=1).sum()
        * np.diagonal(a[:, None, :] * a[:, :, None], 1, 2, 1).sum(),
        ("any",),
        (((3, 3),), ((3, 4),)),
        symbolic=("n, n",),
    ),
    "diff_cross_select": Row(
        ("getitem", "stack", "where"),
        lambda a, b: np.diff(a, axis=0).sum() * np.diff(np.sin(a), n=2)
        + np.diff(a, prepend=0.5, append=b[..., :1])[..., :1]
        + np.cross(a, b)[..., :1] * np.cross(b, np.sin(a), axis=-1)
        + np.select([a > 0.5, a < -0.5], [a * b, np.sin(a)], default=b),
        ("any", "any"),
        (((3,), (3,)), ((2, 3), (2, 3))),
    ),
    "like": Row(
        ("broadcast_to",),
        lambda a: (np.zeros_like(a) + 1.0) * a
        + np.ones_like(a) * np.full_like(a, 2.5)
        + np.full_like(a, a[..., :1].sum()) * a
        + a.copy() * np.copy(a)
        + sum(np.broadcast_arrays(a, a[..., :1], 1.0)),
        ("any",),
        (((3,),), ((2, 3),)),
    ),
    "more_structure": Row(
        ("concatenate", "getitem", "transpose", "cumsum", "cumprod"),
        lambda a: np.sin(np.block([[a, a[:, :1]], [np.cos(a), a[:, 2:] * 2]])).sum()
        + np.sum(np.rot90(a) * np.rot90(a, -1) + np.rot90(a, 2).T)
        + np.sum(np.rollaxis(a[None], 2, 1) * np.permute_dims(a, (1, 0))[None])
        + np.unstack(a, axis=1)[1] * np.ediff1d(a, to_begin=0.5)[:2]
        + np.cumulative_sum(a, axis=1, include_initial=True).sum(1)
        * np.cumulative_prod(a[0]).sum()
        + np.sin(np.concat((a, a * a), axis=1)).sum()
        + np.sum(np.dsplit(a[:, None, :] * a[:, :, None], 3)[1] ** 2)
        + np.asanyarray([a.sum(), 1.0]) * np.ascontiguousarray(a[0, 0])
        + np.where(np.all(a > -5, axis=1), a[:, 0], 2.0) * np.atleast_1d(a[1, 1]),
        ("any",),
        (((2, 3),),),
        symbolic="could not be broadcast together",
    ),
    "diagflat_partition": Row(
        ("embed_diagonal", "sort"),
        lambda a: np.sum(np.diagflat(a, 1) * 2.0, axis=0)[1:].sum()
        + np.partition(a, 1, axis=-1)[:, 1]
        + np.argpartition(a, 1, axis=-1)[:, 1] * a[:, 0],
        ("any",),
        (((2, 3),),),
    ),
}
