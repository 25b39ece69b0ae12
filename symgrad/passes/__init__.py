"""Graph-to-graph passes, one module each (fold, simplify, reuse, cse, dce).
Each keeps the values it computes bit for bit; `pipeline.optimize` runs them in
the order `pipeline.PASSES` lists."""

from symgrad.passes.pipeline import FAST, PASSES, Pass, optimize

__all__ = ["FAST", "PASSES", "Pass", "optimize"]
