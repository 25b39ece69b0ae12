"""reassociate_gradients: the default mode's cheaper sums, in gradients only.

Contract: `reassociate_gradients(outputs, forward)` returns outputs where
every node that the first `forward` outputs (the forward values) do not read
may be rewritten by `simplify.reassociate_rule` (sums and products in another
order, equal in exact arithmetic, inf and NaN where they were).
The forward values themselves, and everything they read, are never touched,
so the value stays bit for bit the user's function: it is the only result
with a reference order of operations. A gradient has none (reverse mode
chose its order), so its sums may take the cheapest exact form. Region
bodies (branches, loops) are left as they are.
"""

from __future__ import annotations

from symgrad import ir
from symgrad.passes.rewrite import rewrite
from symgrad.passes.simplify import reassociate_rule, simplify_rule


def reassociate_gradients(outputs, forward: int = 1) -> list:
    outputs = list(outputs)
    if forward >= len(outputs):
        return outputs
    keep = set(ir.toposort(outputs[:forward]))

    def rule(node):
        return None if node in keep else reassociate_rule(node)

    outputs = rewrite(outputs, rule, bodies=lambda results: results)
    # The exact rules once more, for what the rewrites built (the rows of a
    # stack joined in step order are a view of the stack).
    return rewrite(outputs, simplify_rule)
