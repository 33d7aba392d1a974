"""toolkit: annotate, classify and restructure Chinese trade-union work reports."""

__version__ = "0.1.0"

__all__ = ["__version__"]
