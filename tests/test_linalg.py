"""Linear algebra and products beyond the op rows: the conventions at kinks,
singular and non-positive-definite matrices on both targets, what the
pure-Python target refuses, readable generated code, the pure-Python helpers
against NumPy, and a Gaussian-process likelihood to second order."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad.codegen.python import helpers_linalg as hl
from symgrad.codegen.python import helpers_products as hp
from symgrad.errors import SymgradError, TraceError
from tests.oracles import assert_close, numeric_grad

TARGETS = ("numpy", "python")
rng = np.random.default_rng(12)


def _spd(n, batch=()):
    m = rng.normal(size=batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def _flat(a):
    return np.asarray(a, dtype=float).ravel().tolist()


# ------------------------------------------------------------------ readable code


def test_generated_numpy_code_calls_numpy_by_name():
    def nll(K, y, a, b):
        np.linalg.cholesky(K)  # computed and unused
        alpha = np.linalg.solve(K, y)
        sign, logdet = np.linalg.slogdet(K)
        return 0.5 * y @ alpha + 0.5 * logdet + np.sum(np.einsum("ij,jk->ik", a, b))

    K, y = _spd(3), rng.normal(size=3)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    src = symgrad.compile(nll, K, y, a, b, argnums=(0, 1, 2, 3)).source
    for call in (
        "np.linalg.solve(K, y)",
        "np.linalg.slogdet(K)[1]",
        'np.einsum("ij,jk->ik", a, b)',
    ):
        assert call in src, call
    # The cholesky factor is unused: no code computes it.
    assert "cholesky" not in src
    # Gradients read like the math: solve with the transpose, einsum again.
    assert "np.linalg.solve(t" in src
    assert 'np.einsum("ik,ij->jk", ' in src
    python = symgrad.compile(nll, K, y, a, b, argnums=(0, 1), target="python").source
    assert "_solve(K, " in python and "_slogdet(K, 3)[1]" in python


def test_einsum_printing_keeps_optimize_and_simplifies_single_operands():
    def f(a, b, c):
        return (
            np.einsum("ij,jk,kl->il", a, b, c, optimize=True).sum()
            + np.einsum("ij->j", a).sum()
        )

    args = [rng.normal(size=(2, 2)) for _ in range(3)]
    src = symgrad.compile(f, *args).source
    assert 'np.einsum("ij,jk,kl->il", a, b, c, optimize=True)' in src
    assert "np.add.reduce(a, axis=0)" in src  # ij->j is a sum


# ------------------------------------------------------------------ singular matrices


@pytest.mark.parametrize("target", TARGETS)
def test_singular_matrices_give_numpys_values_and_errors(target):
    # det and slogdet of a singular matrix: 0.0 and (0.0, -inf) as NumPy.
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])

    def dets(a):
        sign, logdet = np.linalg.slogdet(a)
        return np.linalg.det(a) + sign + np.exp(logdet)

    assert symgrad.compile(dets, singular, target=target).forward(singular) == 0.0

    # solve and inv raise numpy.linalg.LinAlgError (NumPy target) or
    # ValueError (pure-Python target; LinAlgError is a ValueError), with
    # NumPy's message; so does cholesky of a matrix that is not positive
    # definite.
    cases = [
        (lambda a: np.sum(np.linalg.inv(a)), "Singular matrix"),
        (lambda a: np.sum(np.linalg.solve(a, a[0])), "Singular matrix"),
        (lambda a: np.sum(np.linalg.cholesky(a)), "not positive definite"),
    ]
    for fn, message in cases:
        c = symgrad.compile(fn, singular, target=target)
        with pytest.raises(ValueError, match=message) as info:
            c.forward(singular)
        if target == "numpy":
            assert info.type is np.linalg.LinAlgError


@pytest.mark.parametrize("target", TARGETS)
def test_det_gradient_at_a_singular_matrix_raises(target):
    # The gradient det(A) A^-T needs the inverse (documented).
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="Singular matrix"):
        symgrad.grad(lambda a: np.linalg.det(a), target=target)(singular)


# ------------------------------------------------------------------ conventions


@pytest.mark.parametrize("target", TARGETS)
def test_norm_gradient_is_zero_at_zero(target):
    def norms(x):
        return (
            np.linalg.norm(x)
            + np.linalg.norm(x, 3)
            + np.linalg.norm(x, 1)
            + np.linalg.norm(x, np.inf)
            + np.linalg.norm(x.reshape(2, 2), "fro")
        )

    zero = np.zeros(4)
    value, grad = symgrad.value_and_grad(norms, target=target)(zero)
    assert value == 0.0
    assert np.array_equal(grad, np.zeros(4))
    # Second order stays finite too.
    hess = symgrad.grad(lambda x: np.sum(symgrad.grad(norms)(x)), target=target)
    assert np.all(np.isfinite(hess(zero)))
    # Orders below 1 have an infinite slope at a zero entry: nan.
    for order in (0.5, -1.5):
        g = symgrad.grad(
            lambda x, order=order: np.linalg.norm(x, order), target=target
        )(zero)
        assert np.all(np.isnan(g))


@pytest.mark.parametrize("target", TARGETS)
def test_vector_norms_of_special_values_are_numpys(target):
    orders = (None, 1, 2, 3, 0.5, -1.5, 0, np.inf, -np.inf)
    for x in ([np.inf, -1.0], [0.0, -0.0], [np.nan, 1.0], [2.0, -3.0]):
        x = np.array(x)
        for order in orders:
            with np.errstate(all="ignore"):
                want = np.linalg.norm(x, order)
                c = symgrad.compile(
                    lambda x, order=order: np.linalg.norm(x, order), x, target=target
                )
                got = c.forward(x)
            # (To rounding: NumPy's pow on arrays and on scalars differ.)
            assert got == pytest.approx(want, rel=1e-14, nan_ok=True), (x, order)


# ------------------------------------------------------------------ partial reads
# NumPy's cholesky, eigh and eigvalsh (and SciPy's solvers for symmetric
# matrices) read one triangle. The inputs below are NOT symmetric: the read
# triangle is that of a symmetric positive definite matrix, the other is
# noise, so finite differences see exactly what NumPy computes.


def _scrambled(part, batch=(), n=3):
    a = _spd(n, batch)
    keep = np.tril(np.ones((n, n), bool))
    if part == "upper":
        keep = keep.T
    return np.where(keep, a, rng.normal(size=a.shape))


def _eigh_vectors(uplo):
    # Squared: an eigenvector's sign is arbitrary, its square is not.
    return lambda a: np.linalg.eigh(a, UPLO=uplo)[1] ** 2


PARTIAL_READS = {
    # name: (function of the matrix, the triangle it reads, targets)
    "cholesky": (np.linalg.cholesky, "lower", TARGETS),
    "cholesky_upper": (lambda a: np.linalg.cholesky(a, upper=True), "upper", TARGETS),
    "eigvalsh_L": (np.linalg.eigvalsh, "lower", ("numpy",)),
    "eigvalsh_U": (lambda a: np.linalg.eigvalsh(a, UPLO="U"), "upper", ("numpy",)),
    "eigh_L": (_eigh_vectors("L"), "lower", ("numpy",)),
    "eigh_U": (_eigh_vectors("U"), "upper", ("numpy",)),
    "eigh_values_U": (lambda a: np.linalg.eigh(a, "U")[0], "upper", ("numpy",)),
}


def _partial_case(name, batch, seed):
    fn, part, targets = PARTIAL_READS[name]
    a = _scrambled(part, batch)
    w = np.random.default_rng(seed).normal(size=np.shape(fn(a)))

    def f(a):
        return np.sum(np.sin(fn(a)) * w)

    return f, a, part, targets


def _outside(part, n=3):
    """The entries a `part` reader ignores."""
    inside = np.tril(np.ones((n, n), bool))
    return ~(inside if part == "lower" else inside.T)


@pytest.mark.parametrize("batch", [(), (2,)], ids=["matrix", "stack"])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(PARTIAL_READS))
def test_partial_read_first_order(name, target, batch):
    f, a, part, targets = _partial_case(name, batch, 0)
    if target not in targets:
        pytest.skip(f"{name} is not implemented on the {target} target")
    g = np.asarray(symgrad.grad(f, target=target)(a))
    # The ignored triangle changes nothing: its gradient is exactly 0.
    assert np.all(g[..., _outside(part)] == 0.0)
    (expected,) = numeric_grad(f, [a], (0,))
    assert_close(g, expected)


@pytest.mark.parametrize("batch", [(), (2,)], ids=["matrix", "stack"])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(PARTIAL_READS))
def test_partial_read_second_order(name, target, batch):
    f, a, part, targets = _partial_case(name, batch, 1)
    if target not in targets:
        pytest.skip(f"{name} is not implemented on the {target} target")
    first = symgrad.grad(f, target=target)
    v = np.random.default_rng(2).normal(size=a.shape)

    def directional(a):
        return np.sum(first(a) * v)

    h = symgrad.grad(directional, target=target)(a)
    assert np.all(np.asarray(h)[..., _outside(part)] == 0.0)
    (expected,) = numeric_grad(directional, [a], (0,))
    assert_close(h, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("target", TARGETS)
def test_partial_read_gradient_of_a_symmetric_matrix(target):
    # On a symmetric matrix the gradient along symmetric perturbations (what
    # JAX, PyTorch and autograd report) is the same number either way.
    a = _spd(3)
    w = rng.normal(size=(3, 3))

    def f(a):
        return np.sum(np.linalg.cholesky(a) * w)

    g = np.asarray(symgrad.grad(f, target=target)(a))
    d = rng.normal(size=(3, 3))
    d = d + d.T
    step = 1e-6
    along = (f(a + step * d) - f(a - step * d)) / (2 * step)
    assert np.sum(g * d) == pytest.approx(along, rel=1e-6)


def _linalg_samples():
    """(op name, attributes) for every primitive of symgrad.ops.linalg with
    one matrix operand."""
    from symgrad.ops import OPS

    attrs = {
        "eigvalsh": ({"UPLO": "L"}, {"UPLO": "U"}),
        "eigh_vectors": ({"UPLO": "L"}, {"UPLO": "U"}),
        "svd_u": ({"full": False},),
        "svd_vh": ({"full": False},),
        "norm": ({"axes": None, "keepdims": False},),
    }
    for name, op in OPS.items():
        if name == "slogdet_sign":
            continue  # piecewise constant: a scramble rarely changes it
        if op.nin == 1 and getattr(op.vjp, "__module__", "") == "symgrad.ops.linalg":
            for a in attrs.get(name, ({},)):
                yield pytest.param(name, a, id=f"{name}-{a}")


@pytest.mark.parametrize("name,attrs", list(_linalg_samples()))
def test_every_linalg_op_declares_what_it_reads(name, attrs):
    # Scramble each strict triangle of a symmetric positive definite matrix:
    # an op whose NumPy value does not change must declare that it ignores
    # that triangle (and one that declares it must not change).
    from symgrad.ops import OPS

    op = OPS[name]
    declared = op.reads(**attrs)[0] if op.reads else None
    a = _spd(4)
    base = op.eval(a, **attrs)
    for part, ignored in (
        ("lower", np.triu(a, 1) != 0),
        ("upper", np.tril(a, -1) != 0),
    ):
        b = np.where(ignored, rng.normal(size=a.shape), a)
        unchanged = np.array_equal(op.eval(b, **attrs), base)
        assert unchanged == (declared == part), (name, part)


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize(
    "assume_a",
    [
        "sym",
        "pos",
        "her",
        "upper triangular",
        "lower triangular",
        "diagonal",
        "tridiagonal",
    ],
)
def test_scipy_solvers_read_what_scipy_reads(assume_a, lower):
    scipy_linalg = pytest.importorskip("scipy.linalg")
    n = 4
    a = _spd(n)
    i, j = np.indices((n, n))
    read = {
        "upper triangular": i <= j,
        "lower triangular": i >= j,
        "diagonal": i == j,
        "tridiagonal": abs(i - j) <= 1,
    }.get(assume_a, i >= j if lower else i <= j)
    a = np.where(read, a, rng.normal(size=a.shape))
    b = rng.normal(size=n)
    w = rng.normal(size=(n, n))

    def f(a, b):
        x = scipy_linalg.solve(a, b, assume_a=assume_a, lower=lower)
        if assume_a == "tridiagonal":  # SciPy's inv has no tridiagonal solver
            return np.sum(np.sin(x))
        inv = scipy_linalg.inv(a, assume_a=assume_a, lower=lower)
        if assume_a == "diagonal":
            # SciPy 1.17's inv(assume_a="diagonal") keeps the entries off the
            # diagonal of its input; symgrad's is the inverse of the diagonal.
            inv = np.diagonal(inv)
        return np.sum(np.sin(x)) + np.sum(inv * w[: inv.shape[0]])

    ga, gb = symgrad.grad(f, argnums=(0, 1))(a, b)
    assert np.all(ga[~read] == 0.0)
    for ours, theirs in zip((ga, gb), numeric_grad(f, [a, b], (0, 1)), strict=True):
        assert_close(ours, theirs)


def test_eigenvalue_gradients_survive_repeated_eigenvalues():
    # F = 1/(w_j - w_i) is 0 where two eigenvalues are equal, so functions of
    # the eigenvalues alone keep their gradient (here at the identity).
    g = symgrad.grad(lambda a: np.sum(np.linalg.eigvalsh(a) ** 2))(np.eye(3))
    assert_close(g, 2 * np.eye(3), rtol=1e-12, atol=1e-14)
    g = symgrad.grad(lambda a: np.sum(np.linalg.eigh(a)[1] ** 3))(np.eye(3))
    assert np.all(np.isfinite(g))


def test_svd_full_matrices():
    tall = rng.normal(size=(3, 2))
    u = np.linalg.svd(tall)[0]

    # full_matrices=True (the default) gives NumPy's values...
    def full_u(a, w=(0.0, 1.0, 2.0)):
        return np.sum(np.linalg.svd(a)[0] ** 2 * w)

    w = rng.normal(size=3)
    value, gw = symgrad.value_and_grad(full_u, argnums=1)(tall, w)
    assert value == pytest.approx(full_u(tall, w), rel=1e-12)
    assert_close(gw, np.sum(u**2, axis=0), rtol=1e-12)
    # ...and so do gradients through the parts that full_matrices does not
    # change; the extra singular vectors have no gradient.
    g = symgrad.grad(lambda a: np.sum(np.linalg.svd(a)[2] ** 3))(tall)
    fd = numeric_grad(lambda a: np.sum(np.linalg.svd(a)[2] ** 3), [tall], (0,))[0]
    assert_close(g, fd)
    with pytest.raises(SymgradError, match="full_matrices=False"):
        symgrad.grad(full_u)(tall)


def test_matrix_power_zero_is_the_identity_without_gradient():
    a = rng.normal(size=(2, 3, 3))
    value, g = symgrad.value_and_grad(
        lambda a: np.sum(np.linalg.matrix_power(a, 0) * a)
    )(a)
    assert value == pytest.approx(np.trace(a, axis1=1, axis2=2).sum(), rel=1e-12)
    assert_close(g, np.broadcast_to(np.eye(3), a.shape))


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "fn,name",
    [
        (lambda a: np.sum(np.linalg.eigh(a)[1]), "np.linalg.eigh"),
        (lambda a: np.sum(np.linalg.eigvalsh(a)), "np.linalg.eigh"),
        (lambda a: np.sum(np.linalg.svd(a)[1]), "np.linalg.svd"),
        (lambda a: np.sum(np.linalg.qr(a)[0]), "np.linalg.qr"),
        (lambda a: np.sum(np.linalg.pinv(a)), "np.linalg.pinv"),
        (lambda a: np.linalg.norm(a, 2), "np.linalg.svd"),
        (lambda a: np.sum(np.linalg.eig(a)[0]), "np.linalg.eig"),
        (lambda a: np.sum(np.linalg.eigvals(a)), "np.linalg.eigvals"),
    ],
)
def test_python_target_refuses_decompositions_when_generating(fn, name):
    a = _spd(3)
    with pytest.raises(SymgradError, match=f'{name}.*target="numpy"'):
        symgrad.compile(fn, a, target="python")
    symgrad.compile(fn, a, target="numpy")  # fine there


def test_unsupported_and_bad_calls_name_the_function():
    a = _spd(3)
    with pytest.raises(TraceError, match="np.linalg.matrix_rank is not supported"):
        symgrad.grad(lambda a: np.linalg.matrix_rank(a) * np.sum(a))(a)
    # An attribute np.linalg does not have is named as such (an
    # AttributeError, so hasattr keeps working).
    with pytest.raises(AttributeError, match="np.linalg has no attribute 'eigg'"):
        symgrad.grad(lambda a: np.sum(np.linalg.eigg(a)))(a)
    assert symgrad.grad(lambda a: np.sum(a) * hasattr(np.linalg, "eigg"))(a)[0, 0] == 0
    with pytest.raises(TraceError, match="einsum: output subscript 'k'"):
        symgrad.grad(lambda a: np.sum(np.einsum("ij->k", a)))(a)
    with pytest.raises(TraceError, match="test_linalg.py"):
        symgrad.grad(lambda a: np.sum(np.einsum("ij,jk", a, a[:2])))(a)
    with pytest.raises(TraceError, match="Invalid norm order"):
        symgrad.grad(lambda a: np.linalg.norm(a, "nuc", axis=0))(a)


# ------------------------------------------------------------------ helpers


def test_linalg_helpers_match_numpy():
    for n, batch in ((1, ()), (3, ()), (4, (2,))):
        a = rng.normal(size=batch + (n, n))
        b = rng.normal(size=batch + (n, 2))
        count = int(np.prod(batch))
        assert_close(hl._inv(_flat(a), n, count), np.linalg.inv(a).ravel(), 1e-12)
        got = hl._solve(_flat(a), _flat(b), n, 2, count)
        assert_close(got, np.linalg.solve(a, b).ravel(), 1e-12)
        assert_close(hl._det(_flat(a), n, count), np.linalg.det(a).ravel(), 1e-12)
        signs, logs = hl._slogdet(_flat(a), n, count)
        sign, logdet = np.linalg.slogdet(a)
        assert signs == np.ravel(sign).tolist()
        assert_close(logs, np.ravel(logdet), 1e-12)
        spd = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
        got = hl._cholesky(_flat(spd), n, count)
        assert_close(got, np.linalg.cholesky(spd).ravel(), 1e-12, 1e-14)
    assert hl._det([], 0) == [1.0] == [np.linalg.det(np.zeros((0, 0)))]
    assert hl._norm2([3.0, -4.0]) == 5.0


def test_products_helpers_match_numpy():
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(3, 3))
    for spec, ops in (
        ("ij,jk->ik", (x, y)),
        ("ii->i", (y,)),
        ("ii->", (y,)),
        ("ij,ij->", (x, x)),
        ("ij,jk,kl->li", (x, y, y)),
        ("ijk->kji", (rng.normal(size=(2, 3, 4)),)),
    ):
        shapes = tuple(o.shape for o in ops)
        got = hp._einsum(spec, shapes, *(_flat(o) for o in ops))
        assert_close(got, np.ravel(np.einsum(spec, *ops)), 1e-12)
    a, v = rng.normal(size=5), rng.normal(size=3)
    assert_close(hp._convolve(_flat(a), _flat(v), 0, 7), np.convolve(a, v), 1e-12)
    assert_close(hp._convolve(_flat(v), _flat(a), 2, 5), np.convolve(a, v, "valid"))


# ------------------------------------------------------------------ a model


def _gp_nll(log_ell, x, y):
    # A Gaussian-process negative log marginal likelihood: cholesky, solve,
    # slogdet (the acceptance example of issue 12, in miniature).
    d = x[:, None] - x[None, :]
    k = np.exp(-0.5 * d**2 / np.exp(2.0 * log_ell)) + 0.1 * np.eye(x.shape[0])
    low = np.linalg.cholesky(k)
    alpha = np.linalg.solve(low.T, np.linalg.solve(low, y))
    return 0.5 * y @ alpha + 0.5 * np.linalg.slogdet(k)[1]


@pytest.mark.parametrize("target", TARGETS)
def test_gaussian_process_likelihood_first_and_second_order(target):
    x, y = rng.normal(size=4), rng.normal(size=4)
    g = symgrad.grad(_gp_nll, argnums=(0, 2), target=target)(0.3, x, y)
    fd = numeric_grad(_gp_nll, [0.3, x, y], (0, 2))
    for ours, theirs in zip(g, fd, strict=True):
        assert_close(ours, theirs)

    def dy(log_ell, x, y):
        return np.sum(symgrad.grad(_gp_nll, argnums=2, target=target)(log_ell, x, y))

    second = symgrad.grad(dy, argnums=(0, 2), target=target)(0.3, x, y)
    fd = numeric_grad(dy, [0.3, x, y], (0, 2))
    for ours, theirs in zip(second, fd, strict=True):
        assert_close(ours, theirs, rtol=1e-5, atol=1e-7)
