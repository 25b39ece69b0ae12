"""The version of symgrad (imports nothing, so anything may import it)."""

__version__ = "0.1.0"
