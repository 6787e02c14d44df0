"""nurture: a self-hosted lead-nurturing engine whose funnel is code."""

__version__ = "0.1.0"
__all__ = ["__version__"]
