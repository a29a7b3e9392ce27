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


def _sentences_in_ipython() -> None:
    """In IPython or Jupyter, a `DandindexError` shows as its sentence alone (the class and
    the message), not under a traceback of dandindex's internals, and a file that could not
    be read as what happened to it (gone, embargoed, no server); other errors keep their
    tracebacks. ``DANDINDEX_TRACEBACKS=1`` keeps the full tracebacks for these too."""
    import os
    import sys

    if "IPython" not in sys.modules or os.environ.get("DANDINDEX_TRACEBACKS") == "1":
        return
    try:
        shell = sys.modules["IPython"].get_ipython()
    except AttributeError:
        return
    if shell is None:
        return

    from dandindex.errors import RemoteReadError, describe_read_error

    def show(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> Any:
        if isinstance(value, RemoteReadError):  # what happened to the file, in words
            said = describe_read_error(value)
            value = RemoteReadError(said[0].upper() + said[1:], transient=value.transient)
        shell.showtraceback((etype, value, tb), exception_only=True)

    shell.set_custom_exc((DandindexError, RemoteReadError), show)


_sentences_in_ipython()


def __getattr__(name: str) -> Any:
    if name == "Index":
        from dandindex.index import Index

        return Index
    if name in ("SearchQuery", "Range"):
        from dandindex import query

        return getattr(query, name)
    raise AttributeError(f"module 'dandindex' has no attribute {name!r}")
