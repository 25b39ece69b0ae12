"""The passes in the order they run, and `optimize`, which runs them.

Contract: `optimize(outputs, forward=1)` returns new output nodes computing
bit-for-bit the same values (the first `forward` outputs are forward values,
the rest their gradients). `PASSES` lists the default passes in order; a pass
is either a local rule (`node -> replacement or None`) or a whole-graph
function (`outputs -> outputs`). Consecutive local rules share one rewrite
walk, in which each node is offered to the rules in order until none
applies, so folding and simplifying feed each other without extra walks.
`FAST` holds the rewrites that are not IEEE-exact or that reassociate; they
run only when asked for (`optimize(..., fast=True)`,
`symgrad.compile(..., optimize="fast")`). `GRADIENTS` runs the reassociations
that keep inf and NaN on the nodes the forward outputs do not read
(`optimize(..., gradients=True)`, the default mode of gradient compilation):
the forward values stay bit for bit, the gradients may round differently.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from symgrad.passes.batch import batch_row_products
from symgrad.passes.cse import eliminate_common_subexpressions
from symgrad.passes.dce import eliminate_dead_code
from symgrad.passes.fold import fold_rule
from symgrad.passes.gradients import reassociate_gradients
from symgrad.passes.prune import prune_regions
from symgrad.passes.reuse import reuse_forward_values
from symgrad.passes.rewrite import in_regions, rewrite
from symgrad.passes.simplify import fast_rule, simplify_rule


@dataclass(frozen=True)
class Pass:
    name: str
    rule: Callable | None = None  # local: node -> equivalent node or None
    run: Callable | None = None  # whole graph: outputs -> outputs


FOLD = Pass("fold_constants", rule=fold_rule)
SIMPLIFY = Pass("simplify", rule=simplify_rule)
REUSE = Pass("reuse_forward_values", run=reuse_forward_values)
CSE = Pass(
    "eliminate_common_subexpressions",
    run=in_regions(eliminate_common_subexpressions),
)
DCE = Pass("eliminate_dead_code", run=eliminate_dead_code)
PRUNE = Pass("prune_regions", run=prune_regions)
FAST = Pass("simplify_fast", rule=fast_rule)
BATCH = Pass("batch_row_products", run=batch_row_products)
GRADIENTS = Pass("reassociate_gradients", run=reassociate_gradients)

PASSES = (FOLD, SIMPLIFY, REUSE, BATCH, CSE, PRUNE, DCE)


def _first_of(rules):
    def rule(node):
        for r in rules:
            out = r(node)
            if out is not None and out is not node:
                return out
        return None

    return rule


def _run(p: Pass, outputs, forward):
    if "forward" in inspect.signature(p.run).parameters:
        return p.run(outputs, forward=forward)
    return p.run(outputs)


def optimize(
    outputs, forward: int = 1, passes=PASSES, fast=False, gradients=False
) -> list:
    """Run `passes` (the defaults, plus `FAST` if `fast`, else `GRADIENTS`
    if `gradients`) over `outputs`."""
    passes = list(passes)
    if fast and FAST not in passes:
        at = passes.index(SIMPLIFY) + 1 if SIMPLIFY in passes else 0
        passes.insert(at, FAST)
    elif gradients and GRADIENTS not in passes:
        at = passes.index(REUSE) + 1 if REUSE in passes else 0
        passes.insert(at, GRADIENTS)
    outputs = list(outputs)
    i = 0
    while i < len(passes):
        if passes[i].rule is None:
            outputs = _run(passes[i], outputs, forward)
            i += 1
            continue
        j = i
        while j < len(passes) and passes[j].rule is not None:
            j += 1
        outputs = rewrite(outputs, _first_of([p.rule for p in passes[i:j]]))
        i = j
    return outputs
