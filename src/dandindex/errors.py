"""Errors a user can act on.

Only `DandindexError` and its subclasses are turned into short messages by the CLI;
anything else is a bug and surfaces as a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DandindexError(Exception):
    """An error the user can fix; the message says how."""


class ArchiveLayoutError(DandindexError):
    """An archive snapshot folder does not have the expected layout."""


class IndexNotFoundError(DandindexError):
    """There is no index at the given path."""


class CrawlError(DandindexError):
    """A crawl could not start or finished with failures."""


def closest(word: str, choices: Iterable[str], n: int = 5) -> list[str]:
    """The known values closest to `word`, for "did you mean" messages."""
    pool = list(choices)
    hits = difflib.get_close_matches(word, pool, n=n, cutoff=0.5)
    if not hits:
        lowered = word.lower()
        hits = [c for c in pool if lowered in c.lower()][:n]
    return hits
