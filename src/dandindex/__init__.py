"""dandindex: a local metadata index and search engine for the DANDI Archive.

`dandindex.Index` opens an index for SQL and search; building one is `dandindex crawl`.
Heavy modules load on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Index", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Index":
        from dandindex.index import Index

        return Index
    raise AttributeError(f"module 'dandindex' has no attribute {name!r}")
