"""Graph-to-graph passes. Each keeps the values it computes, bit for bit where
IEEE arithmetic allows; `pipeline.optimize` runs them in order."""

from symgrad.passes.pipeline import PASSES, optimize

__all__ = ["PASSES", "optimize"]
