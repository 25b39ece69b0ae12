"""Branches and loops on the C target (issue 24): real `if` / `else if` /
`while` in C, loop stacks for the reverse sweep (stacks of stacks for
nested loops), against the NumPy target (1e-12 relative), first and second
order, on points that take different paths and trip counts.

Skipped, with the reason, where no C compiler or no Python headers exist
(`tests.test_c_target.needs_cc`); each test builds in a private cache.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad import api
from symgrad.codegen import c as c_target
from symgrad.codegen.c import module as c_module
from symgrad.frontend import staging
from tests import corpus_control_flow as corpus
from tests import test_c_trainer as trainers
from tests import test_control_flow as staged
from tests import test_frontend_fuzz as fuzz
from tests.test_c_target import _close, moons, needs_cc, private_cache  # noqa: F401
from tests.test_elif_chains import _chain, _depth, _points

pytestmark = needs_cc

SCALAR = {name: (fn, points) for name, (fn, _, points) in staged.CASES.items()}
SCALAR.update({f"corpus_{name}": case for name, case in corpus.CASES.items()})
SCALAR["nested_staged_loops"] = (staged.nested_loops, [0.7, 1.1])


@pytest.mark.parametrize("name", list(SCALAR))
def test_scalar_programs_first_and_second_order(name):
    fn, points = SCALAR[name]
    ours = symgrad.value_and_grad(fn, target="c")
    theirs = symgrad.value_and_grad(fn, target="numpy")
    second = symgrad.grad(symgrad.grad(fn), target="c")
    second_numpy = symgrad.grad(symgrad.grad(fn), target="numpy")
    for x in points:
        (v, g), (vn, gn) = ours(x), theirs(x)
        _close(v, vn)
        _close(g, gn)
        _close(second(x), second_numpy(x), rtol=1e-11)


def test_the_module_has_real_branches_loops_and_stacks():
    compiled = symgrad.compile(staged.nested_loops, 0.7, target="c")
    source = compiled.source
    assert "while (" in source and "sg_push_stack(&" in source
    assert "sg_stack_free(&" in source and "_end:" in source
    branchy = symgrad.compile(corpus.nested_elif, 0.3, target="c").source
    assert "} else if (" in branchy or "} else {" in branchy


# ------------------------------------------------------------------ arrays


def rnn_while(W, x):
    h = np.zeros(3)
    i = 0
    while i < 4:
        h = np.tanh(W @ h + x * (i + 1.0))
        i += 1
    return np.sum(h * h)


def branch_arrays(x):
    if np.sum(x) > 0.0:
        y = x * 2.0 + np.sin(x)
    else:
        y = np.exp(x) - x
    return np.sum(y * y)


def swap(a, b):
    # Each loop value takes the other's: the update goes through temporaries.
    def body(c):
        p, q, k = c
        return (q, p + 0.5 * q, k + 1.0)

    p, q, _ = staging.while_loop(lambda c: c[2] < 5.0, body, (a, b, 0.0))
    return np.sum(p * q)


def pure_swap(a, b):
    # The second copy reads what the first replaced: it goes through a
    # temporary.
    def body(c):
        p, q, k = c
        return (q, p, k + 1.0)

    p, q, _ = staging.while_loop(lambda c: c[2] < 5.0, body, (a, b, 0.0))
    return np.sum(p * np.sin(q))


def until_norm(x):
    y = x
    while np.sum(y * y) > 0.5:
        y = y * 0.7 + 0.01 * np.sin(y)
    return np.sum(y) + np.sum(x * y)


def loop_in_branch_arrays(W, x):
    if np.sum(x) > 0.0:
        h = x
        while np.max(np.abs(h)) > 0.2:
            h = np.tanh(W @ h) * 0.5
        return np.sum(h * x)
    return np.sum(np.sin(x) * x)


def _point():
    rng = np.random.default_rng(7)
    return rng.normal(size=(3, 3)) * 0.5, np.array([0.9, -0.4, 0.7])


ARRAYS = {
    "rnn_while": (rnn_while, [_point()]),
    "branch_arrays": (
        branch_arrays,
        [(np.array([0.3, 0.5, -0.1]),), (np.array([-0.3, 0.5, -0.9]),)],
    ),
    "swap": (swap, [(np.array([0.3, -1.2, 0.5]), np.array([0.7, 0.2, -0.4]))]),
    "pure_swap": (
        pure_swap,
        [(np.array([0.1, 0.2, 0.3]), np.array([0.7, -0.2, 0.5]))],
    ),
    "until_norm": (until_norm, [(np.array([0.9, -0.8, 1.1]),)]),
    "loop_in_branch_arrays": (
        loop_in_branch_arrays,
        [_point(), (_point()[0], -_point()[1] - 1.0)],
    ),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_array_programs_first_order(name):
    fn, points = ARRAYS[name]
    argnums = tuple(range(len(points[0])))
    ours = symgrad.value_and_grad(fn, argnums=argnums, target="c")
    theirs = symgrad.value_and_grad(fn, argnums=argnums, target="numpy")
    for args in points:
        (v, g), (vn, gn) = ours(*args), theirs(*args)
        _close(v, vn)
        for a, b in zip(g, gn, strict=True):
            _close(a, b)


def test_array_loop_second_order_by_hvp():
    W, x = _point()
    tangents = (np.full((3, 3), 0.1), np.array([0.3, -0.2, 0.5]))
    ours = symgrad.hvp(rnn_while, (W, x), tangents, target="c")
    theirs = symgrad.hvp(rnn_while, (W, x), tangents, target="numpy")
    for a, b in zip(ours, theirs, strict=True):
        _close(a, b, rtol=1e-11)


def test_a_loop_runs_again_with_fresh_stacks():
    """Calls share nothing: the stacks of one call are freed at its end, and
    the next call (another trip count) starts empty."""
    vg = symgrad.value_and_grad(until_norm, target="c")
    reference = symgrad.value_and_grad(until_norm, target="numpy")
    for scale in (1.0, 3.0, 0.2, 1.0):
        x = np.array([0.9, -0.8, 1.1]) * scale
        (v, g), (vn, gn) = vg(x), reference(x)
        _close(v, vn)
        _close(g, gn)


def test_an_elif_chain_stays_flat_in_c(tmp_path):
    """A 300-branch if/elif chain is one `else if` chain in C: the code is as
    deep as for 10 branches, with the NumPy target's values and gradients."""
    long, short = _chain(tmp_path, 300), _chain(tmp_path, 10)
    ours = symgrad.compile(long, 0.3, 1.5, target="c")
    theirs = symgrad.compile(long, 0.3, 1.5)
    assert _depth(ours.source) == _depth(
        symgrad.compile(short, 0.3, 1.5, target="c").source
    )
    for x in _points(300):
        _close(ours.forward(x, 1.5), theirs.forward(x, 1.5))
        _close(ours.gradient(x, 1.5), theirs.gradient(x, 1.5))


@pytest.mark.parametrize("name", list(ARRAYS))
def test_array_programs_hessian(name):
    """Hessians are a loop over the basis (`rows[i] = ...` at a run-time
    index) around the branches and loops of the program."""
    fn, points = ARRAYS[name]
    k = len(points[0]) - 1
    ours = symgrad.hessian(fn, argnums=k, target="c")
    theirs = symgrad.hessian(fn, argnums=k, target="numpy")
    grad = symgrad.grad(fn, argnums=k)
    for args in points:
        H = theirs(*args)
        _close(ours(*args), H, rtol=1e-11)
        # The NumPy target's against central differences of the gradient
        # (a loop in the branch not taken leaves its stacks undefined).
        for j in range(args[k].size):
            step = np.zeros_like(args[k])
            step[j] = 1e-6
            up = grad(*args[:k], args[k] + step)
            down = grad(*args[:k], args[k] - step)
            np.testing.assert_allclose(H[:, j], (up - down) / 2e-6, atol=1e-7)


def test_a_loop_over_symbolic_rows_reads_row_i():
    rows_loop = staged._rows_loop
    ours = symgrad.compile(rows_loop, 0.7, np.arange(4.0), batch={"X": 0}, target="c")
    theirs = symgrad.compile(rows_loop, 0.7, np.arange(4.0), batch={"X": 0})
    assert "while (" in ours.source
    for rows in (0, 1, 6):
        X = np.linspace(0.1, 1.0, rows)
        _close(ours.forward(0.7, X), theirs.forward(0.7, X))
        _close(ours.gradient(0.7, X), theirs.gradient(0.7, X))


def past_the_end(x):
    # A traced test: the loop and its counter run in the module.
    s = x[0] * 0.0
    i = 0
    while s < 100.0:
        s = s + x[i]
        i += 1
    return s


def test_an_index_past_the_end_raises_as_numpy_does():
    x = np.arange(1.0, 4.0)
    with pytest.raises(IndexError):
        symgrad.compile(past_the_end, x).forward(x)
    with pytest.raises(IndexError, match="outside an axis"):
        symgrad.compile(past_the_end, x, target="c").forward(x)


def test_control_flow_c_is_warning_free(tmp_path):
    """The C of branches, loops and stacks (every stack helper included)
    compiles with -Wall -Wextra -Werror, as the trainer program must."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    W, x = _point()
    sources = [
        symgrad.compile(staged.nested_loops, 0.7, target="c").source,
        symgrad.compile(
            symgrad.grad(symgrad.grad(staged.nested_loops)), 0.7, target="c"
        ).source,
        symgrad.compile(past_the_end, x, target="c").source,
    ]
    hessian = symgrad.hessian(loop_in_branch_arrays, argnums=1, target="c")
    hessian(W, x)
    sources.append(hessian.source)
    for k, source in enumerate(sources):
        path = tmp_path / f"module{k}.c"
        path.write_text(source)
        flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
        run = subprocess.run(
            [*cc.split(), *flags, "-c", str(path), "-o", str(tmp_path / "m.o")],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr


@symgrad.custom_vjp
def clipped(x):
    return x


clipped.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1.0, 1.0),))


def test_custom_gradient_rules():
    def f(x):
        return np.sum(clipped(x) * 5.0) + np.sum(np.sin(x))

    x = np.array([1000.0, 0.5, -3.0])
    (v, g), (vn, gn) = (
        symgrad.value_and_grad(f, target="c")(x),
        symgrad.value_and_grad(f)(x),
    )
    _close(v, vn)
    _close(g, gn)


def _check_random(source, second):
    real, _, x, y = source
    module = fuzz._load(*source[:2])
    with np.errstate(all="ignore"):
        reference = module.f(x, y)
    assume(np.isfinite(reference) and abs(reference) < 1e6)
    ours = symgrad.value_and_grad(module.f, argnums=(0, 1), target="c")(x, y)
    theirs = symgrad.value_and_grad(module.f, argnums=(0, 1))(x, y)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12, abs=1e-12), real
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12, err_msg=real)
    if second:
        dd = symgrad.grad(symgrad.grad(module.f))
        np.testing.assert_allclose(
            symgrad.grad(symgrad.grad(module.f), target="c")(x, y),
            dd(x, y),
            rtol=1e-10,
            atol=1e-10,
            err_msg=real,
        )


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(fuzz.sources(), st.booleans())
def test_random_control_flow_programs_in_c(source, second):
    """The front end's random programs (branches, loops with break and
    continue, early returns) give the NumPy target's values and gradients."""
    _check_random(source, second)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(fuzz.sources(), st.booleans())
def test_random_control_flow_programs_in_c_long_run(source, second):
    _check_random(source, second)


def _branchy_loss(params, X, y):
    """micrograd's moons loss with a traced branch (a hinge or its square,
    by the mean margin) and a loop (the regularization's weight halves
    while it exceeds the data loss)."""
    margins = symgrad.relu(1 + -y * moons.scores(params, X))
    data_loss = margins.sum() * (1.0 / len(margins))
    if data_loss > 0.5:
        data = data_loss
    else:
        data = data_loss * data_loss * 2.0
    reg = sum((W * W).sum() + (b * b).sum() for W, b in params)
    weight = 1e-2
    while weight * reg > data:
        weight = weight * 0.5
    return data + weight * reg


def test_a_trainer_with_branches_and_loops(tmp_path):
    """The C trainer program of a loss with a traced branch and loop trains
    as the NumPy trainer does (loss trajectory to 1e-9, same accuracies)."""
    params, X, y = moons.example()
    (tmp_path / "moons.csv").write_text(trainers._csv(X, y))
    source = api.trainer_source(
        _branchy_loss, moons.scores, (params, X, y), "adam", "c"
    )
    path = tmp_path / "train.c"
    path.write_text(source)
    exe = str(tmp_path / "train")
    done = subprocess.run(
        [
            *trainers.CC,
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            str(path),
            "-lm",
            "-o",
            exe,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    ours = trainers._run(exe, tmp_path / "moons.csv", "--steps", 40)
    assert ours.returncode == 0, ours.stderr
    python = api.trainer_source(
        _branchy_loss, moons.scores, (params, X, y), "adam", "numpy"
    )
    namespace: dict = {"__name__": "branchy_trainer"}
    exec(compile(python, "<branchy trainer>", "exec"), namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        namespace["main"]([str(tmp_path / "moons.csv"), "--steps", "40"])
    theirs = trainers._trajectory(out.getvalue())
    mine = trainers._trajectory(ours.stdout)
    assert len(mine) == len(theirs) == 40
    for (k, loss, acc), (k2, loss2, acc2) in zip(mine, theirs, strict=True):
        assert (k, acc) == (k2, acc2)
        assert loss == pytest.approx(loss2, rel=1e-9)


@pytest.mark.parametrize("name", ["until_norm", "branch_arrays", "pure_swap"])
def test_array_programs_with_symbolic_sizes(name):
    """Loop values and branch results of a symbolic length (`batch=`): one
    module for every length, 0 included."""
    fn, points = ARRAYS[name]
    args = points[0]
    batch = {p: 0 for p in fn.__code__.co_varnames[: len(args)]}
    ours = symgrad.compile(fn, *args, batch=batch, target="c")
    theirs = symgrad.compile(fn, *args, batch=batch)
    for rows in (0, 1, 5):
        xs = [np.linspace(-1.0, 1.3, rows) + 0.1 * k for k in range(len(args))]
        (v, g), (vn, gn) = ours.value_and_grad(*xs), theirs.value_and_grad(*xs)
        _close(v, vn)
        for a, b in zip(g, gn, strict=True):
            _close(a, b)


def _sanitizers(tmp_path):
    """The compiler command with AddressSanitizer (leaks too) and UBSan, or
    None where this compiler or machine cannot run them."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    flags = ["-std=c99", "-g", "-O1", "-fsanitize=address,undefined"]
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    exe = tmp_path / "probe"
    built = subprocess.run(
        [*cc.split(), *flags, str(probe), "-o", str(exe)], capture_output=True
    )
    if built.returncode != 0 or subprocess.run([str(exe)]).returncode != 0:
        return None
    return [*cc.split(), *flags, "-fno-sanitize-recover=all"]


def _leaves(tree) -> list:
    """The arrays and numbers of nested lists and tuples, in order."""
    out, todo = [], [tree]
    while todo:
        item = todo.pop()
        if isinstance(item, (list, tuple)):
            todo.extend(reversed(item))
        else:
            out.append(item)
    return out


def _c_main(kinds, name, point) -> str:
    """A C `main` calling generated function `name` (its kinds as
    `module.generate` gives them: fixed sizes only) on `point` (one value
    per input leaf), printing its outputs' first numbers and its status."""
    _, inputs, outputs, _, _ = kinds
    lines = ["#include <stdio.h>", "int main(void)", "{"]
    args = []
    for k, (size, value) in enumerate(zip(inputs, point, strict=True)):
        flat = np.ravel(value).tolist()
        if size is None:
            args.append(repr(float(flat[0])))
            continue
        numbers = ", ".join(repr(float(v)) for v in flat)
        lines.append(f"    static const double in{k}[{size}] = {{{numbers}}};")
        args.append(f"in{k}")
    for k, size in enumerate(outputs):
        lines.append(f"    static double out{k}[{size}];")
        args.append(f"out{k}")
    lines.append(f"    int status = {name}({', '.join(args)});")
    lines.append('    printf("status %d\\n", status);')
    for k, _ in enumerate(outputs):
        lines.append(f'    printf("%.17g\\n", out{k}[0]);')
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


def test_generated_c_is_memory_clean_under_sanitizers(tmp_path):
    """The generated C of loops with stacks (stacks of stacks, their zeros
    and sums for second derivatives), branches, run-time indices and an
    index past the end (the early exit frees every stack), run as a plain C
    program under AddressSanitizer, LeakSanitizer and UBSan: no leak, no
    out-of-bounds access, no undefined behaviour, and NumPy's numbers."""
    command = _sanitizers(tmp_path)
    if command is None:
        pytest.skip("this compiler cannot build with -fsanitize=address,undefined")
    W, x = _point()

    def compiled(fn, *point):
        return symgrad.compile(fn, *point, target="c"), "forward"

    def both(fn, *point):
        return symgrad.compile(fn, *point, target="c"), "value_and_grad"

    def hessian(fn, *point):
        made = symgrad.hessian(fn, argnums=len(point) - 1, target="c")
        made(*point)
        return made.compiled, "hessian"

    cases = [
        (compiled, symgrad.grad(symgrad.grad(staged.nested_loops)), (0.7,), 0),
        (compiled, symgrad.grad(staged.nested_loops), (1.1,), 0),
        (compiled, symgrad.grad(symgrad.grad(corpus.appended)), (0.3,), 0),
        (hessian, loop_in_branch_arrays, (W, x), 0),
        (hessian, until_norm, (np.array([0.9, -0.8, 1.1]),), 0),
        (compiled, past_the_end, (np.arange(1.0, 4.0),), -3),
        # Straight-line code too: fused loops, the workspace, the own
        # product loops (a plain C program has no SciPy BLAS).
        (both, moons.loss, moons.example(), 0),
    ]
    for k, (make, fn, point, status) in enumerate(cases):
        module, name = make(fn, *point)
        _, kinds, _ = c_module.generate(module.program, c_target)
        source = module.source + _c_main(kinds[name], name, _leaves(point))
        path = tmp_path / f"case{k}.c"
        path.write_text(source)
        exe = tmp_path / f"case{k}"
        built = subprocess.run(
            [*command, str(path), "-lm", "-o", str(exe)],
            capture_output=True,
            text=True,
        )
        assert built.returncode == 0, built.stderr
        ran = subprocess.run([str(exe)], capture_output=True, text=True)
        assert ran.returncode == 0, ran.stderr
        out = ran.stdout.split()
        assert out[:2] == ["status", str(status)], ran.stdout
        if status == 0:
            want = module.module.__dict__[name](*point)
            _close(float(out[2]), np.ravel(_leaves(want)[0])[0], rtol=1e-11)
