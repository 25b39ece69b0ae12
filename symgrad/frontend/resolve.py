"""Known callables, resolved through the user's globals and closures.

Contract:
- `convert(fun)` returns a copy of a user function whose global names and
  closure cells that hold a known module (numpy, numpy.linalg, scipy.special,
  math, ... and `jax.numpy` / `autograd.numpy`, which read as numpy) see a
  `Namespace` proxy, and whose names that hold a known callable (one with an
  entry in the op table's `API`) see a `wrapper`; user functions it
  references are converted the same way (recursion and mutual references are
  handled by a memo). Everything else is left as it is.
- A wrapper calls the table's handler when a traced value is among its
  arguments, and the original callable otherwise, so code on plain values
  behaves exactly as before.
- Library code (NumPy, SciPy, the standard library, site-packages, symgrad)
  is never converted.
- An object that table entries are methods of (`scipy.stats.norm`, an
  instance, with the entry "scipy.stats.norm.logpdf") is seen through an
  `ObjectView`, reached as an attribute of a proxy or as a global (`from
  scipy.stats import norm`). In SciPy's namespaces, a Python function or
  method without an entry becomes a wrapper that names it (`scipy.stats.t.cdf
  is not supported`) when called on traced values, instead of failing deep
  inside SciPy.
- The user functions it converts also get their statements rewritten
  (`symgrad.frontend.syntax`: control flow, calls, writes) where their
  source is available; the rebuilt function keeps the original closure
  cells (by free-variable name) and reaches the runtime through one more.
- `imported(value, path)` is the same substitution for what an import in a
  function's body binds; an attribute a proxied module lacks is a
  `TracedAttributeError` naming it at the user's line.
- `unconverted_reason(frame)` says why the code of a frame testing a traced
  value in plain Python was not converted (no source, library code, called
  back from a library, a conversion failure), naming its function.
- A NumPy `Generator` or `RandomState` in the globals or closure is seen
  through a `GeneratorView` (its draws become ops of the graph), and the
  `np.random.*` functions draw while tracing even with plain arguments.
"""

from __future__ import annotations

import functools
import inspect
import os
import site
import sys
import sysconfig
import types

import numpy as np

from symgrad import ops
from symgrad.errors import TracedAttributeError
from symgrad.frontend import syntax as _ast
from symgrad.frontend import tracing
from symgrad.frontend.draws import GeneratorView
from symgrad.frontend.tracing import SUPPORTED, Tracer, length
from symgrad.ir.dims import Dim
from symgrad.ir.source import fail
from symgrad.numpy_api.args import display

# Module names the front end maps onto a proxy of the real module it names.
ALIASES = {
    "jax.numpy": "numpy",
    "autograd.numpy": "numpy",
    "jax.scipy.special": "scipy.special",
    "autograd.scipy.special": "scipy.special",
    "jax.scipy.stats": "scipy.stats",
    "autograd.scipy.stats": "scipy.stats",
}
# JAX and autograd have a module per distribution where SciPy has an object.
for _dist in ("norm", "t", "gamma", "beta", "poisson", "bernoulli"):
    for _lib in ("jax", "autograd"):
        ALIASES[f"{_lib}.scipy.stats.{_dist}"] = f"scipy.stats.{_dist}"
ALIASES["jax.scipy.stats.multivariate_normal"] = "scipy.stats.multivariate_normal"
ALIASES["autograd.scipy.stats.multivariate_normal"] = "scipy.stats.multivariate_normal"


def _library_dirs() -> tuple:
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    paths.update(p for p in sysconfig.get_paths().values() if "site-packages" in p)
    try:
        paths.update(site.getsitepackages())
    except AttributeError:  # some virtualenvs
        pass
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return tuple(os.path.abspath(p) + os.sep for p in paths if p)


_LIBRARY = _library_dirs()


def is_user_function(obj) -> bool:
    """A plain Python function whose code is not in a library folder."""
    if not isinstance(obj, types.FunctionType):
        return False
    return _user_file(obj.__code__.co_filename)


def _user_file(filename: str) -> bool:
    if filename.startswith("<") and filename != "<stdin>":
        # exec'd or generated code (a REPL cell, a lambda from eval) counts
        # as the user's own unless it says it is a library.
        return "site-packages" not in filename
    return not os.path.abspath(filename).startswith(_LIBRARY)


class Namespace:
    """A module as a traced function sees it: known callables are wrapped,
    submodules are proxies too, and every other attribute is the real one."""

    __slots__ = ("_module", "_name", "_cache")

    def __init__(self, module, name: str):
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_cache", {})

    def __getattr__(self, attr):
        cache = self._cache
        if attr in cache:
            return cache[attr]
        try:
            value = getattr(self._module, attr)
        except AttributeError:
            _missing(self._name, attr)
        out = _substitute(value, self._name + "." + attr)
        cache[attr] = out
        return out

    def __setattr__(self, attr, value):
        setattr(self._module, attr, value)

    def __dir__(self):
        return dir(self._module)

    def __repr__(self):
        return f"<symgrad view of module {self._name!r}>"


def _missing(owner: str, attr: str):
    """An attribute the module does not have: said about the user's line
    (still an AttributeError, so `hasattr` and `getattr(m, a, d)` work)."""
    if attr.startswith("__"):
        raise AttributeError(attr)
    fail(
        f"{display(owner)} has no attribute {attr!r}",
        "Check the name (see the README's 'Supported functions' section for what "
        "symgrad differentiates)",
        TracedAttributeError,
    )


def _known_module_name(module) -> str | None:
    """The (aliased) name of a module some table entry lives in, or None."""
    name = getattr(module, "__name__", None)
    if not isinstance(name, str):
        return None
    name = ALIASES.get(name, name)
    return name if name + "." in _prefixes(len(ops.API)) else None


@functools.lru_cache(maxsize=4)
def _prefixes(count: int) -> frozenset:
    """Every module path ("numpy.", "numpy.linalg.") holding an entry; keyed
    by the table's size so that entries registered later are seen."""
    names = set()
    for name in ops.API:
        parts = name.split(".")[:-1]
        for i in range(1, len(parts) + 1):
            names.add(".".join(parts[:i]) + ".")
    return frozenset(names)


class ObjectView(Namespace):
    """An object whose methods are table entries (`scipy.stats.norm`), as a
    traced function sees it. Calling it (freezing a distribution) is left to
    the object, except on traced values."""

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        if _has_tracer(args) or (kwargs and _has_tracer(tuple(kwargs.values()))):

            fail(
                f"{self._name}(...) with traced parameters (a frozen distribution) "
                "is not supported",
                f"Call the method with the parameters instead, as "
                f"{self._name}.logpdf(x, loc, scale); {SUPPORTED}",
            )
        return self._module(*args, **kwargs)

    def __repr__(self):
        return f"<symgrad view of {self._name!r}>"


def _proxy(module) -> Namespace | None:
    name = _known_module_name(module)
    if name is None:
        return None
    real = sys.modules.get(name)
    if real is None:
        try:
            real = __import__(name, fromlist=["_"])
        except ImportError:
            # An alias of an object (jax.scipy.stats.norm is SciPy's norm).
            parent, _, attr = name.rpartition(".")
            try:
                real = getattr(__import__(parent, fromlist=["_"]), attr)
            except (ImportError, AttributeError):
                return None
            return _view(real, name)
    return _NAMESPACES.setdefault(name, Namespace(real, name))


def _view(obj, name: str) -> ObjectView:
    view = _NAMESPACES.get(name)
    if view is None or view._module is not obj:
        view = _NAMESPACES[name] = ObjectView(obj, name)
    return view


_NAMESPACES: dict = {}


def _object_name(value) -> str | None:
    """The path ("scipy.stats.norm") of an object that holds table entries,
    if `value` is that object (looked up in modules already imported)."""
    for prefix in _prefixes(len(ops.API)):
        parent, _, attr = prefix[:-1].rpartition(".")
        module = sys.modules.get(parent)
        if module is not None and getattr(module, attr, None) is value:
            return prefix[:-1]
    return None


def _substitute(value, qualname: str | None = None):
    """symgrad's version of one global value, or the value itself."""
    if isinstance(value, types.ModuleType):
        return _proxy(value) or value
    if value is np.r_ or value is np.c_:
        return _JOINERS[value is np.c_]
    if isinstance(value, (np.random.Generator, np.random.RandomState)):

        return GeneratorView(value)
    entry = _entry(value, qualname)
    if entry is not None:
        return _wrapper(value, entry)
    if isinstance(value, type) or not callable(value):
        return value
    if qualname is not None:
        if qualname + "." in _prefixes(len(ops.API)) or _scipy_distribution(value):
            # (A distribution without entries too: its methods then name
            # themselves as unsupported instead of failing inside SciPy.)
            return _view(value, qualname)
        if qualname.startswith("scipy.") and isinstance(
            value, (types.FunctionType, types.MethodType)
        ):
            return _refusing(value, qualname)
        return value
    name = _object_name(value)
    if name is None and _scipy_distribution(value):
        kind = getattr(value, "name", None) or type(value).__name__.removesuffix("_gen")
        name = "scipy.stats." + kind
    return value if name is None else _view(value, name)


class _Joiner:
    """`np.r_[...]` / `np.c_[...]` as a traced function sees them: with a
    traced item, the items are joined with `np.concatenate` (r_: along the
    first axis, scalars and vectors as they are; c_: vectors as columns,
    along the last axis); plain items go to NumPy's own object."""

    __slots__ = ("columns",)

    def __init__(self, columns: bool):
        self.columns = columns

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        real = np.c_ if self.columns else np.r_
        if not _has_tracer(items):
            return real[key]

        parts = []
        for item in items:
            if isinstance(item, str):
                fail(
                    f"np.{'c_' if self.columns else 'r_'} with the directive "
                    f"{item!r} on traced values",
                    "Use np.concatenate or np.stack",
                )
            if isinstance(item, slice):
                item = real[item]  # a range of numbers, as NumPy makes it
            parts.append(np.atleast_1d(item))
        if self.columns:
            parts = [
                np.reshape(p, (-1, 1)) if np.ndim(p) == 1 else np.atleast_2d(p)
                for p in parts
            ]
            return np.concatenate(parts, axis=-1)
        return np.concatenate(parts, axis=0)

    def __repr__(self):
        return f"<symgrad view of np.{'c_' if self.columns else 'r_'}>"


_JOINERS = {False: _Joiner(False), True: _Joiner(True)}


def _scipy_distribution(value) -> bool:
    """A scipy.stats distribution object (`chi2`, `dirichlet`)."""
    module = type(value).__module__ or ""
    return module.startswith("scipy.stats") and (
        hasattr(value, "logpdf") or hasattr(value, "logpmf")
    )


def _entry(value, qualname):

    if not callable(value):
        return None
    entry = tracing.entry_for(value)
    if entry is None and qualname is not None:
        entry = ops.API.get(qualname)
    return entry


def _wrapper(original, entry):

    draws = getattr(entry.handler, "draws", False)
    static = getattr(entry.handler, "static", None)

    def wrapper(*args, **kwargs):
        if _has_tracer(args) or (kwargs and _has_tracer(tuple(kwargs.values()))):
            return tracing.call(entry, args, kwargs)
        if draws and tracing.is_tracing():
            # A random draw is an op of the graph even with plain arguments.
            return tracing.call(entry, args, kwargs)
        out = original(*args, **kwargs)
        if static is not None and tracing.is_tracing() and static(out, args, kwargs):
            # np.eye(1000) and co.: built by the module when it runs, not
            # stored as numbers (see numpy_api.construct.SIZED).
            return tracing.call(entry, args, kwargs)
        return out

    wrapper.__name__ = getattr(original, "__name__", entry.name)
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__wrapped__ = original
    if isinstance(original, np.ufunc):
        # np.add.reduce(x), np.multiply.outer(a, b): the ufunc's own methods,
        # which reach Tracer.__array_ufunc__ for traced operands.
        for attr in _UFUNC_ATTRIBUTES:
            setattr(wrapper, attr, getattr(original, attr))
    return wrapper


_UFUNC_ATTRIBUTES = (
    "reduce",
    "accumulate",
    "outer",
    "reduceat",
    "at",
    "nin",
    "nout",
    "nargs",
    "identity",
    "ntypes",
    "types",
    "signature",
)


def _refusing(original, qualname: str):
    """A SciPy function without an entry: named in the error on traced values."""

    def wrapper(*args, **kwargs):
        if _has_tracer(args) or (kwargs and _has_tracer(tuple(kwargs.values()))):

            fail(f"{qualname} is not supported by symgrad", SUPPORTED)
        return original(*args, **kwargs)

    wrapper.__name__ = getattr(original, "__name__", qualname)
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__wrapped__ = original
    return wrapper


@functools.lru_cache(maxsize=1)
def _builtins() -> dict:
    """Builtins that traced functions see as symgrad's versions."""

    return {"len": length}


def _has_tracer(items) -> bool:
    """Whether the arguments hold a traced value or a symbolic size (which
    `np.zeros((n, 3))` and `np.arange(n)` need symgrad for)."""

    stack = list(items)
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is Tracer or kind is Dim:
            return True
        if kind is list or kind is tuple:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.values())
    return False


def _global_names(code) -> set:
    """Names a code object (and the code nested in it) may read as globals."""
    names = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


def convert(fun, memo: dict | None = None):
    """`fun` with known callables and modules resolved (see the module doc)
    and its statements converted (`symgrad.frontend.syntax`)."""
    if isinstance(fun, types.MethodType):
        inner = convert(fun.__func__, memo)
        return fun if inner is fun.__func__ else types.MethodType(inner, fun.__self__)
    if not is_user_function(fun):
        return fun
    memo = {} if memo is None else memo
    if fun in memo:
        return memo[fun]
    # While `fun` is converted, functions it reaches that refer back to it
    # (recursion) keep the original; calls reach the converted one through
    # the runtime's `call`.
    memo[fun] = fun
    code = _ast.converted_code(fun)
    old_globals = fun.__globals__
    changes = {}
    for name in _global_names(fun.__code__):
        if name in old_globals:
            value = old_globals[name]
            new = _resolve(value, memo)
            if new is not value:
                changes[name] = new
        elif name in _builtins():
            # A builtin the function does not shadow: `len(x)` of a traced
            # array may be a symbolic size, which Python's len cannot return.
            changes[name] = _builtins()[name]
    cells = fun.__closure__
    new_cells = cells
    if cells:
        replaced = []
        for cell in cells:
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell (a name assigned later)
                replaced.append(cell)
                continue
            new = _resolve(value, memo)
            replaced.append(cell if new is value else types.CellType(new))
        if any(a is not b for a, b in zip(replaced, cells, strict=True)):
            new_cells = tuple(replaced)
    if code is None and not changes and new_cells is cells:
        return fun
    new_globals = old_globals
    if changes:
        new_globals = dict(old_globals)
        new_globals.update(changes)
    if code is not None:
        by_name = dict(zip(fun.__code__.co_freevars, new_cells or (), strict=True))
        out = _ast.build(fun, code, new_globals, by_name, _runtime_cell())
    else:
        out = types.FunctionType(
            fun.__code__, new_globals, fun.__name__, fun.__defaults__, new_cells
        )
        out.__kwdefaults__ = fun.__kwdefaults__
        out.__qualname__ = fun.__qualname__
        out.__dict__.update(fun.__dict__)
    out.__wrapped_by_symgrad__ = fun
    memo[fun] = out
    memo[out] = out
    return out


# The runtime module converted code calls, in a closure cell. `runtime`
# installs itself (`use_runtime`) when imported: it imports this module to
# convert the functions it calls, so this module cannot import it.
_RUNTIME_CELL: list = []


def use_runtime(module) -> None:
    _RUNTIME_CELL[:] = [types.CellType(module)]


def _runtime_cell():
    return _RUNTIME_CELL[0]


def _resolve(value, memo):
    if is_user_function(value):
        return convert(value, memo)
    try:
        return _substitute(value)
    except Exception:  # an exotic object whose callability or hash misbehaves
        return value


def imported(value, path: str | None):
    """symgrad's version of a value an import in a function's body binds
    (`path` is where it was imported from, "scipy.special.logsumexp"; None
    for a relative import)."""
    if is_user_function(value):
        return value  # converted when called
    try:
        return _substitute(value, path)
    except Exception:  # an exotic object whose callability or hash misbehaves
        return value


def unconverted_reason(frame) -> str | None:
    """Why the code of `frame`, which tested a traced value in plain Python,
    is not converted code (None when it is: then the test sits where the
    converter stages nothing). Names the function, as users write it."""
    if frame is None:
        return None
    code = frame.f_code
    if code in _ast.CONVERTED:
        return None
    name = getattr(code, "co_qualname", code.co_name)
    where = f"{name} ({code.co_filename}:{code.co_firstlineno})"
    if not _user_file(code.co_filename):
        module = frame.f_globals.get("__name__", "?")
        return (
            f"{where} is library code (module {module}), which symgrad does not "
            "convert; call it on plain values, or write the computation yourself"
        )
    try:
        inspect.findsource(code)
    except (OSError, TypeError):
        return (
            f"{where} has no source symgrad can read (made by exec or eval, or "
            "typed at the interactive prompt), so its if/while/and/or were not "
            "converted: define it in a file or a notebook cell"
        )
    failure = _ast.FAILURES.get(code)
    if failure is not None:
        return f"symgrad could not convert {where}: {failure}"
    return (
        f"{where} was called by library code or by Python itself (a callback "
        "of functools.reduce or a SciPy routine, an operator method such as "
        "__add__ or __getitem__), not by a call in converted code, so it was not "
        "converted: call it from your own function"
    )
