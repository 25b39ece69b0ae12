"""The op table is the one source: dispatch, SymPy and the docs derive from it.

Adding a record (or a composite) must be enough for the tracer, the front end
(names reached through the user's globals), the SymPy bridge and the
supported-functions page, with no list elsewhere to update; a primitive's code
is one lowering per target package (here one NumPy expression and one scalar
formula of the pure-Python target).
"""

import importlib
import importlib.util

import numpy as np
import pytest
import sympy

import symgrad
from symgrad import ops
from symgrad.codegen.numpy import lowering as numpy_lowering
from symgrad.codegen.python import scalar as python_scalar
from symgrad.numpy_api import supported
from symgrad.ops.elementwise import elementwise

# Packages the op table answers for that a user (and the [test] extra) may lack.
OPTIONAL = ("scipy", "jax")


def cube_function(x):
    """A stand-in library function (this module is importable, like numpy)."""
    return x**3


def plain_scale(x, factor=2.0):
    return x * factor


@pytest.fixture
def registered():
    elementwise(
        "test_cube",
        1,
        eval=lambda a: a**3,
        vjp=lambda g, out, a: (ops.mul(g, ops.mul(3.0, ops.mul(a, a))),),
        sympy_function="Heaviside",  # any SymPy class: only the mapping is tested
        answers=(f"{__name__}.cube_function",),
        methods=("cube",),
    )
    numpy_lowering.lower("test_cube", lambda a: f"{a} ** 3")
    python_scalar.FORMULAS["test_cube"] = python_scalar.Formula(lambda a: f"{a} ** 3")
    ops.implements(f"{__name__}.plain_scale", methods=("scale",))(
        lambda x, factor=2.0: ops.mul(x, factor)
    )
    try:
        yield
    finally:
        ops.OPS.pop("test_cube")
        numpy_lowering.LOWERINGS.pop("test_cube")
        python_scalar.FORMULAS.pop("test_cube")
        for table in (ops.API, ops.METHODS):
            for key in [k for k, e in table.items() if "cube" in k or "scale" in k]:
                table.pop(key)


def test_a_record_is_enough_for_the_tracer(registered):
    def f(x):
        return cube_function(x).sum() + x.cube().sum() + plain_scale(x, 3.0).sum()

    x = np.array([0.5, -1.5])
    for target in ("numpy", "python"):
        g = symgrad.grad(f, target=target)(x)
        np.testing.assert_allclose(g, 6 * x**2 + 3.0, rtol=1e-12)


def test_a_record_is_enough_for_the_page_and_sympy(registered):
    page = supported.page()
    assert f"{__name__}.cube_function" not in page  # not a NumPy/SciPy name
    assert "`.cube()`" in page and "`.scale()`" in page
    from symgrad.sympy_bridge import _function_builders

    assert _function_builders()[sympy.Heaviside].name == "test_cube"


def test_readme_supported_section_is_current():
    with open(supported.readme_path(), encoding="utf-8") as f:
        text = f.read()
    assert (
        supported.section(text) == supported.page()
    ), "run: python -m symgrad.numpy_api.supported"


def test_every_entry_resolves_to_a_real_callable():
    # A typo in `answers` would silently never dispatch.

    for name in ops.API:
        module, _, attr = name.rpartition(".")
        if module.startswith("tests."):
            continue
        # Names of optional peers (scipy, jax) are checked where the peer is installed;
        # the others are checked everywhere.
        top = module.partition(".")[0]
        if top in OPTIONAL and importlib.util.find_spec(top) is None:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError:
            # A method of an object in a module: scipy.stats.norm.logpdf.
            parent, _, obj = module.rpartition(".")
            mod = getattr(importlib.import_module(parent), obj)
        assert callable(getattr(mod, attr, None)), name


def test_readme_target_refusals_are_current():
    from symgrad.codegen import refusals

    with open(supported.readme_path(), encoding="utf-8") as f:
        text = f.read()
    got = supported.section(text, refusals.BEGIN, refusals.END)
    assert got == refusals.page(), "run: python -m symgrad.codegen.refusals"
    # What a target refuses is what its refusal says when generating.
    assert "`np.linalg.pinv`" in got and "`scipy.special.i0`" in got
