"""dandindex: a local metadata index and search engine for the DANDI Archive."""

__version__ = "0.1.0"

__all__ = ["__version__"]
