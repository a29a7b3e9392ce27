"""dandindex: a local metadata index and search engine for the DANDI Archive.

`dandindex.Index` opens an index for SQL and search; building one is `dandindex crawl`.
`SearchQuery` and `Range` describe a search as a value; `DandindexError` is the base of every
error a user can act on. Heavy modules load on first use.
"""

from __future__ import annotations

from typing import Any

from dandindex._version import __version__
from dandindex.errors import DandindexError

__all__ = ["DandindexError", "Index", "Range", "SearchQuery", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Index":
        from dandindex.index import Index

        return Index
    if name in ("SearchQuery", "Range"):
        from dandindex import query

        return getattr(query, name)
    raise AttributeError(f"module 'dandindex' has no attribute {name!r}")
