"""symgrad: a source-to-source symbolic differentiation compiler for Python.

Trace a Python/NumPy function, differentiate the graph symbolically in reverse
mode, simplify it, and generate a standalone module with its gradient.
"""

from symgrad._version import __version__  # noqa: E402
from symgrad.api import (  # noqa: E402
    Compiled,
    compile,
    from_sympy,
    grad,
    value_and_grad,
)
from symgrad.errors import (  # noqa: E402
    ArgumentError,
    ShapeError,
    SymgradError,
    TraceError,
)
from symgrad.frontend.custom import (  # noqa: E402
    custom_jvp,
    custom_vjp,
    stop_gradient,
    tie_rule,
)
from symgrad.frontend.export import export  # noqa: E402
from symgrad.frontend.staging import cond, fori_loop, while_loop  # noqa: E402
from symgrad.frontend.tracing import relu, sigmoid  # noqa: E402
from symgrad.transforms_api import (  # noqa: E402
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    vjp,
)

__all__ = [
    "ArgumentError",
    "Compiled",
    "ShapeError",
    "SymgradError",
    "TraceError",
    "__version__",
    "compile",
    "cond",
    "custom_jvp",
    "custom_vjp",
    "export",
    "fori_loop",
    "from_sympy",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "linearize",
    "relu",
    "sigmoid",
    "stop_gradient",
    "tie_rule",
    "value_and_grad",
    "vjp",
    "while_loop",
]
