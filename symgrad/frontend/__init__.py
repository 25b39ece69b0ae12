"""The front end: the user's function as symgrad traces it.

Contract: `convert(fun)` returns a function that behaves like `fun` on plain
values and that symgrad can trace when its control flow depends on traced
values:
- names bound to known callables and modules resolve to symgrad's versions
  (`np.array([a, b])`, `scipy.special.logsumexp(x)`, `from math import exp`,
  `np.random.normal`), in `fun` and in the user functions it reaches through
  its globals and closure (`symgrad.frontend.resolve`);
- the statements of those functions are rewritten so that `if`, `while`,
  `for`, `break`, `continue`, `return`, `and`/`or`/`not`, ternaries, calls,
  subscript writes and augmented assignments ask the runtime what to do
  (`symgrad.frontend.syntax`, `symgrad.frontend.runtime`): plain values run
  as Python, traced conditions become staged branches and loops.
Conversion follows calls: `fun` itself and every call from converted code
go through one dispatcher (`runtime.call`), which finds the user function
behind a lambda, a partial, a bound method, a staticmethod, a callable
object or a library decorator and converts it when first called (once per
code object). Library code is left alone; code without source is traced as
it is, and `resolve.unconverted_reason` says which function that was.
"""

from symgrad import ir
from symgrad.frontend import draws, resolve, runtime
from symgrad.ops import random


def convert(fun):
    """`fun` as symgrad traces it (see the module doc)."""
    memo: dict = {}
    converted = resolve.convert(fun, memo)

    def traced(*args, **kwargs):
        start, made = ir.current_scope().counter, random.made[0]
        with runtime.tracing_memo(memo):
            out = runtime.call(converted, *args, **kwargs)
        draws.check_unused(start, made, out)
        return runtime.returned(out)

    traced.__wrapped__ = fun
    return traced


__all__ = ["convert"]
