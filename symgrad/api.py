"""Public entry points: `grad`, `value_and_grad`, `compile`, `from_sympy`, `Compiled`.

Contract: thin calls of the compiler stage (`symgrad.compiler`) and of code
generation; no pipeline glue of its own.
- `compile(fun, *example_args)` traces `fun` once, differentiates it
  symbolically, optimizes the graph, generates a module and loads it.
- `from_sympy(expr, wrt)` is the same for a SymPy expression (see
  `symgrad.sympy_bridge`).
- `grad` / `value_and_grad` wrap a function (as decorators or calls): the first
  call with a given argument signature (structure, shapes, dtypes, static
  values) compiles, later calls with the same signature reuse the module. The
  cache keeps the `cache_size` most recently used specializations.
- `batch=` / `shapes=` (on all three; see `symgrad.frontend.specs`) make axes of the
  arguments symbolic sizes: one module serves every size there (it checks
  that arguments sharing a size agree), and the cache key of `grad` holds the
  symbol, not the size.
- Compiling is thread-safe: each compilation has its own scope, and the lazy
  imports and process-wide state it touches are guarded by locks.
- Inside a trace (nested `grad`, or `grad` used by a function being compiled)
  they do not run code: they differentiate symbolically and return tracers, so
  higher-order derivatives compose.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import gc
import itertools
import linecache
import os
import sys
import threading
import time
import types
import weakref

import numpy as np

from symgrad import compiler, distributed, ir, sympy_bridge
from symgrad.codegen import TARGETS as _CODEGEN_TARGETS
from symgrad.codegen import generate
from symgrad.codegen.constants import Constants
from symgrad.codegen.naming import comment_safe
from symgrad.codegen.trainer import generate_trainer
from symgrad.compiler import build_program
from symgrad.errors import ArgumentError
from symgrad.files import write_atomic
from symgrad.frontend import specs
from symgrad.frontend.export import function_name
from symgrad.ir.pytree import flatten
from symgrad.passes.separable import Verdict, of_program
from symgrad.program import Program

TARGETS = tuple(_CODEGEN_TARGETS)
# Every loaded module gets its own linecache file name (next() on a count is
# atomic under the GIL, so threads never share one).
_module_serials = itertools.count(1)
DEFAULT_CACHE_SIZE = 64


class Compiled:
    """A compiled function: generated source, its graph, and callables.

    `forward(*args)`, `gradient(*args)` and `value_and_grad(*args)` run the
    generated module; `source` is its text; `graph` the optimized graph of
    the value and its gradients; `write(path)` saves the module; `stats` holds
    the time per stage and the operation counts of the generated functions;
    `release()` frees the buffers the module keeps between calls.

    The module is loaded (Python-compiled) on first use of one of the three
    functions: for very large graphs that is a large share of the work, and
    writing the source out does not need it. `stats["load_s"]` appears then.

    `separable` says whether the value is a sum or mean over the rows of the
    batched arguments plus terms of the parameters alone (decided from the
    graph, see `symgrad.passes.separable`): then `value_and_grad` and
    `gradient` also take Dask arrays for those arguments and run each row
    block on a worker (see `symgrad.distributed`).
    """

    def __init__(self, program: Program, target: str = "numpy"):
        if target not in TARGETS:
            raise ArgumentError(f"unknown target {target!r}; choose one of {TARGETS}")
        self.program = program
        self.target = target
        t0 = time.perf_counter()
        # Large constant arrays: stored compactly in `source`, bound directly
        # into the module loaded here (never decoded in-process).
        self._constants = Constants(target)
        self.source = generate(program, target, constants=self._constants)
        # Formatting happens inside generate and reports its own time.
        program.stats["codegen_s"] = (
            time.perf_counter() - t0 - program.stats.get("format_s", 0.0)
        )
        self.stats = program.stats
        self._module = None
        self._separable = None

    @property
    def module(self) -> types.ModuleType:
        """The generated module, loaded on first use."""
        if self._module is None:
            t0 = time.perf_counter()
            own = getattr(_CODEGEN_TARGETS[self.target], "load_module", None)
            with _gc_paused():
                if own is not None:  # a compiled target (C) loads its own
                    self._module = own(self.source, self.program)
                else:
                    self._module = _load(self.source, self.program, self._constants)
            self.stats["load_s"] = time.perf_counter() - t0
        return self._module

    @property
    def forward(self):
        return self.module.forward

    @property
    def gradient(self):
        return self._entry("gradient")

    @property
    def value_and_grad(self):
        return self._entry("value_and_grad")

    @property
    def separable(self) -> Verdict:
        """Whether the value splits over row blocks: a `Verdict` (true when
        it does; `kind` "mean" or "sum", else `reason` with the user's
        file:line of the operation that mixes rows)."""
        if self._separable is None:
            self._separable = of_program(self.program)
        return self._separable

    def _entry(self, what: str):
        """The module's function `what`; once Dask is imported, wrapped so
        that Dask arrays for the batched arguments run over row blocks."""
        fn = getattr(self.module, what)
        if "dask" not in sys.modules:
            return fn  # no Dask array can exist: no wrapper, no overhead

        @functools.wraps(fn)
        def entry(*args, **kwargs):
            if any(distributed.is_dask(a) for a in args):
                return distributed.run(self, what, args, kwargs)
            return fn(*args, **kwargs)

        return entry

    def __getattr__(self, name):
        # The other functions the module holds (hessian, hvp, jvp, ...).
        if name.startswith("_") or self.__dict__.get("program") is None:
            raise AttributeError(name)
        if self.program.function(name) is None:
            raise AttributeError(
                f"the module has no function {name!r}; it holds "
                + ", ".join(fn.name for fn in self.program.functions)
            )
        return getattr(self.module, name)

    @property
    def graph(self) -> ir.Graph:
        return self.program.grad_graph()

    def to_sympy(self, real: bool = False):
        """`(value_expr, grad_exprs)` as SymPy expressions (scalar arguments).

        Symbols are named after the parameters; `grad_exprs` has the
        gradient's structure. See `symgrad.sympy_bridge`.
        """
        return sympy_bridge.to_sympy(self, real)

    def latex(self, simplify: bool = False) -> str:
        """The value and its partial derivatives as LaTeX (scalar arguments)."""
        return sympy_bridge.latex(self, simplify)

    def write(self, path) -> str:
        """Write the module to `path` atomically (temp file, then rename)."""
        return write_atomic(path, self.source)

    def release(self) -> None:
        """Free the buffers the generated module keeps between calls (NumPy
        target, big temporaries; in every thread). Later calls make them
        again. Nothing to do for a module that keeps none."""
        if self._module is not None:
            getattr(self._module, "release", lambda: None)()

    def __repr__(self) -> str:
        return f"<Compiled {self.program.fun_name} target={self.target}>"


def _load(source: str, program: Program, constants: Constants | None = None):
    base = os.path.basename(program.filename)
    serial = next(_module_serials)
    # One linecache entry per loaded module: two specializations (or two
    # lambdas of one file) must not show each other's lines in tracebacks.
    where = comment_safe(f"{base}:{program.fun_name}").replace(">", ")")
    filename = f"<symgrad #{serial} {where}>"
    module = types.ModuleType("symgrad_generated")
    module.__file__ = filename
    text = source
    if constants is not None and constants.entries:
        # Same line numbers, but the stored arrays are bound, not decoded.
        text = constants.exec_source(source)
        module.__dict__.update(constants.bindings())
    # Registering the text lets tracebacks show the generated lines. The
    # entry goes when the module does (its functions keep it alive through
    # `__symgrad_module__` in their globals), so evicted specializations do
    # not pile up in linecache.
    # (The text registered is the one executed: stored constants are blank
    # lines in it, so it stays small and every line number matches.)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    module.__dict__["__symgrad_module__"] = module
    weakref.finalize(module, linecache.cache.pop, filename, None)
    exec(builtins.compile(text, filename, "exec"), module.__dict__)
    return module


def compile(
    fun,
    *example_args,
    argnums=0,
    target="numpy",
    optimize=True,
    static_argnums=(),
    functions=None,
    batch=None,
    shapes=None,
) -> Compiled:  # noqa: A001
    """Compile `fun` for arguments shaped like `example_args`.

    `optimize`: True runs the IEEE-exact passes (`symgrad.passes.PASSES`),
    False none, "fast" also the rewrites that are wrong for inf, NaN or
    signed zeros (`0*x -> 0`, `x/x -> 1`, `x + 0.0 -> x`, a masked gradient
    as a product) and reassociations that round differently (`c1*x + c2*x`,
    a sum of products as a dot product). Int scalars are
    inputs of the module unless the function needs them as Python ints;
    arguments at `static_argnums` are always fixed at their example values.
    `functions` chooses what the module holds, from `compiler.FUNCTIONS`
    (default: forward, gradient, value_and_grad), e.g.
    `functions=("value_and_grad", "hessian", "hvp")`.

    Sizes are those of the examples unless `batch` or `shapes` make some
    symbolic, as `jax.export` does: `batch={"X": 0, "y": 0}` (argument name
    or position -> axis; all share the size `n`) or `shapes={"X": "n, 2",
    "y": "n"}` (shape specs: names are sizes shared by name, numbers fixed).
    The module then works for every size there, checks that arguments
    sharing a size agree (`X has 150 rows but y has 149`), and computes what
    depends on the size (the 1/n of a mean) when it runs.
    """
    if target not in TARGETS:
        raise ArgumentError(f"unknown target {target!r}; choose one of {TARGETS}")
    if isinstance(functions, str):
        functions = (functions,)
    with _gc_paused(), ir.scope():
        program = build_program(
            fun,
            example_args,
            argnums,
            optimize,
            static_argnums=static_argnums,
            batch=batch,
            shapes=shapes,
            functions=None if functions is None else tuple(functions),
        )
        return Compiled(program, target)


_gc_lock = threading.Lock()
_gc_state = {"depth": 0, "was_enabled": False}


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while compiling.

    Compilation allocates millions of acyclic objects (nodes, tuples, source
    lines); every collection re-scans all of them, which made a 100,000-op
    chain spend about a fifth of its time in the collector and grow faster
    than linearly. Nothing here creates cycles that need collecting, and the
    collector's previous state is restored afterwards.

    The collector is process-wide: with threads compiling at once, the first
    to enter records its state and the last to leave restores it (a plain
    save/restore per thread could leave it disabled for good).
    """
    with _gc_lock:
        if _gc_state["depth"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["depth"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["depth"] -= 1
            if _gc_state["depth"] == 0 and _gc_state["was_enabled"]:
                gc.enable()


# ------------------------------------------------------------------ grad


class _Transformed:
    """The callable `grad(fun)` / `value_and_grad(fun)` returns."""

    def __init__(
        self,
        fun,
        argnums,
        with_value,
        target,
        optimize,
        cache_size,
        static_argnums,
        batch=None,
        shapes=None,
    ):
        if not callable(fun):
            raise ArgumentError(f"grad needs a function, got {type(fun).__name__}")
        if (
            not isinstance(cache_size, (int, np.integer))
            or isinstance(cache_size, bool)
            or cache_size < 0
        ):
            raise ArgumentError(
                f"cache_size={cache_size!r}: use an int >= 0 (how many "
                "specializations to keep; 0 compiles on every call)"
            )
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.argnums = argnums
        self.with_value = with_value
        self.target = target
        self.optimize = optimize
        self.cache_size = int(cache_size)
        self.static_argnums = static_argnums
        # Symbolic sizes (normalized once; None: every size compiles anew).
        self.batch, self.shapes = specs.normalize(batch, shapes)
        # Argument signature -> Compiled (int arguments are inputs until one
        # compilation needs them as Python ints).
        self._cache = compiler.Cache(self.cache_size)
        self.compiled: Compiled | None = None

    @property
    def source(self) -> str | None:
        """The generated module of the latest specialization (None before a call)."""
        return self.compiled.source if self.compiled is not None else None

    def __call__(self, *args, **kwargs):
        rng = kwargs.pop("rng", None)
        if kwargs:
            raise ArgumentError(
                f"{function_name(self.fun)} got keyword arguments {sorted(kwargs)}; "
                "pass arguments positionally (or bind them with functools.partial); "
                "the only keyword is rng, the generator of a function's random draws"
            )
        if compiler.in_trace(args):
            kind = "value_and_grad" if self.with_value else "gradient"
            return compiler.inline(kind, self.fun, args, self.argnums)
        static = compiler.static_positions(self.static_argnums, len(args))
        shown = args  # what the module is compiled (and looked up) for
        if any(distributed.is_dask(a) for a in args):
            args, shown = self._dask_examples(args)
        compiled = self._cache.get(
            (),
            self.fun,
            shown,
            static,
            (self.batch, self.shapes),
            lambda: self._compile(shown),
        )
        self.compiled = compiled
        extra = {"rng": rng} if rng is not None else {}
        if self.with_value:
            return compiled.value_and_grad(*args, **extra)
        return compiled.gradient(*args, **extra)

    def _dask_examples(self, args):
        """(arguments, examples to compile with) for a call with Dask
        collections: dataframes become arrays, and the examples hold no data
        (see `distributed.examples`), so compiling reads none; the call then
        goes over row blocks (`Compiled` routes Dask arrays there)."""
        if self.batch is None and self.shapes is None:
            raise ArgumentError(
                f"{function_name(self.fun)}: Dask arrays need the rows symbolic, "
                "so that one module serves every row block; pass batch= (e.g. "
                "batch={'X': 0, 'y': 0}) to grad / value_and_grad"
            )
        args = distributed.arrays(args)
        return args, distributed.examples(args)

    def _compile(self, args) -> Compiled:
        return compile(
            self.fun,
            *args,
            argnums=self.argnums,
            target=self.target,
            optimize=self.optimize,
            static_argnums=self.static_argnums,
            batch=None if self.batch is None else dict(self.batch),
            shapes=None if self.shapes is None else dict(self.shapes),
        )


def flat_leaves(args) -> list:
    """The leaves of an argument tuple, in the order programs number them."""
    return flatten(tuple(args))[0]


def trainer_source(
    loss,
    predict,
    example,
    optimizer="sgd",
    target="numpy",
    batch="data",
    shapes=None,
) -> str:
    """The trainer module for `loss(params, X, y)` and `predict(params, X)`.

    By default (`batch="data"`) the data's first axis is a symbolic size:
    the first axis of X and y for `loss`, of X for `predict`, so the module
    trains on and predicts for any number of rows. `batch`/`shapes` as for
    `compile` say otherwise (naming `loss`'s arguments; what they say about
    X holds for `predict` too); `batch=None` fixes every size.
    """
    if target not in TARGETS:
        raise ArgumentError(f"unknown target {target!r}; choose one of {TARGETS}")
    if len(example) != 3:
        raise ArgumentError("a trainer's example must be (params, X, y)")
    params, X, _ = example
    if isinstance(batch, str) and batch == "data":
        batch = None if shapes else _data_batch(example)
    batch, shapes = specs.normalize(batch, shapes)
    names = compiler.param_names(loss, 3)
    loss_specs = dict(batch=_as_dict(batch), shapes=_as_dict(shapes))
    predict_specs = dict(
        batch=_for_predict(batch, names), shapes=_for_predict(shapes, names)
    )
    with ir.scope():
        functions = None
        if optimizer == "newton":
            functions = ("forward", "gradient", "value_and_grad", "hessian")
        loss_program = build_program(
            loss, example, argnums=0, functions=functions, **loss_specs
        )
        predict_program = build_program(
            predict, (params, X), argnums=None, **predict_specs
        )
        initial = flat_leaves((params,))
        return generate_trainer(
            loss_program,
            predict_program,
            optimizer,
            _CODEGEN_TARGETS[target],
            initial,
            of_program(loss_program),
        )


def _data_batch(example) -> dict:
    """The default symbolic axes of a trainer: the first of X and of y
    (where they are arrays with axes)."""
    return {k: 0 for k in (1, 2) if np.ndim(example[k]) > 0}


def _as_dict(pairs):
    return None if pairs is None else dict(pairs)


def _for_predict(pairs, names):
    """What `batch`/`shapes` (normalized, naming loss's arguments) say about
    X, for `predict(params, X)`."""
    if pairs is None:
        return None
    found = [value for key, value in pairs if key in (1, names[1])]
    return {1: found[0]} if found else {}


def from_sympy(expr, wrt, target: str = "numpy", optimize=True) -> Compiled:
    """Compile the value and gradient of SymPy `expr` with respect to `wrt`
    (see `symgrad.sympy_bridge`): `value_and_grad(*values)` takes the values
    of `wrt` in order and returns `(value, tuple_of_gradients)`."""
    expr, wrt = sympy_bridge.checked(expr, wrt)
    compiler.check_optimize(optimize)
    if target not in TARGETS:
        raise ArgumentError(f"unknown target {target!r}; choose one of {TARGETS}")
    with _gc_paused(), ir.scope():
        compiled = Compiled(sympy_bridge.sympy_program(expr, wrt, optimize), target)
    compiled.sympy_symbols = list(wrt)
    return compiled


def _transform(fun, argnums, with_value, options):
    """`grad`'s and `value_and_grad`'s callable, or the decorator making it
    when `fun` is None (`@grad(argnums=1)`)."""

    def make(f):
        return _Transformed(f, argnums, with_value, *options)

    return make if fun is None else make(fun)


def grad(
    fun=None,
    argnums=0,
    *,
    target="numpy",
    optimize=True,
    cache_size=DEFAULT_CACHE_SIZE,
    static_argnums=(),
    batch=None,
    shapes=None,
):
    """The gradient of scalar-valued `fun` with respect to argument(s) `argnums`.

    Use as `grad(f)`, `@grad` or `@grad(argnums=(0, 1))`. The gradient has the
    structure of the differentiated argument (a tuple of them for a tuple).
    `optimize` and `static_argnums` are as for `compile`. Each new argument
    signature compiles once; the `cache_size` most recently used compilations
    are kept (0: none). An int argument (an iteration counter) is an input of
    the compiled code, so new values do not recompile, unless the function
    needs it as a Python int (a size, an index, a `range` bound): then each
    value compiles once, as for static_argnums.

    Like JAX, each new shape compiles once; `batch=` or `shapes=` (as for
    `compile`) instead compile once for every size of those axes. With
    `batch=`, the batched arguments may be Dask arrays or dataframes: the
    call then runs over their row blocks on the cluster (see
    `Compiled.separable` and `symgrad.distributed`).
    """
    options = (target, optimize, cache_size, static_argnums, batch, shapes)
    return _transform(fun, argnums, False, options)


def value_and_grad(
    fun=None,
    argnums=0,
    *,
    target="numpy",
    optimize=True,
    cache_size=DEFAULT_CACHE_SIZE,
    static_argnums=(),
    batch=None,
    shapes=None,
):
    """Like `grad`, but the call returns `(value, gradient)`."""
    options = (target, optimize, cache_size, static_argnums, batch, shapes)
    return _transform(fun, argnums, True, options)


__all__ = [
    "Compiled",
    "build_program",
    "compile",
    "from_sympy",
    "grad",
    "value_and_grad",
]
