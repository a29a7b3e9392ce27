"""Errors a user can act on, and errors that carry what was observed.

Only `DandindexError` and its subclasses are turned into short messages by the CLI;
anything else is a bug and surfaces as a traceback. Errors that code must tell apart carry
fields, never wording to match: `RemoteReadError.transient` says whether a later try may
succeed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DandindexError(Exception):
    """An error the user can fix; the message says how."""


class UsageError(DandindexError):
    """A command or call was given values it cannot use (the CLI exits with 2)."""


class ArchiveLayoutError(DandindexError):
    """An archive snapshot folder does not have the expected layout."""


class IndexNotFoundError(DandindexError):
    """There is no index at the given path."""


class IndexDamagedError(DandindexError):
    """The index's manifest is damaged and no complete snapshot can stand in for it."""


class IndexOutdatedError(DandindexError):
    """The index was made by an older dandindex: its search tables must be derived again."""


class CrawlError(DandindexError):
    """A crawl could not start or finished with failures."""


class QueryError(DandindexError):
    """A query was refused or failed; the message says why."""


class RemoteReadError(OSError):
    """Reading a file or an API page over HTTP failed (after retries where they apply).

    `transient`: whether a later try may succeed (connection errors, timeouts, 429/5xx,
    bodies cut short, 404 of a blob that may come back); `status`: the HTTP status, if any.
    `unreachable`: no connection could be made to the host at all (refused, unknown name).
    A subclass of `OSError` so h5py passes it through a read unchanged.
    """

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        url: str | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.url = url
        self.unreachable = unreachable


def closest(word: str, choices: Iterable[str], n: int = 5) -> list[str]:
    """The known values closest to `word`, for "did you mean" messages."""
    pool = list(choices)
    hits = difflib.get_close_matches(word, pool, n=n, cutoff=0.5)
    if not hits:
        lowered = word.lower()
        hits = [c for c in pool if lowered and lowered in c.lower()][:n]
    return hits


def hint(word: str, choices: Iterable[str], n: int = 5) -> str:
    """`` Closest: a, b.`` for a message, or nothing when no choice is close."""
    near = closest(word, choices, n)
    return f" Closest: {', '.join(near)}." if near else ""


def describe_read_error(e: BaseException) -> str:
    """A sentence for a file that could not be read (gone, embargoed, unreachable)."""
    if isinstance(e, RemoteReadError):
        if e.status == 404:
            return "the file is no longer on the server (HTTP 404)."
        if e.status in (401, 403):
            return (
                f"the file is embargoed or private (HTTP {e.status}): set DANDI_API_KEY to a key "
                "that may read it."
            )
        if e.unreachable and e.url:
            from urllib.parse import urlsplit

            host = urlsplit(e.url).netloc
            return (
                f"no connection could be made to {host}: is the server running and the "
                "address right? (a local archive: `dandindex serve-archive FOLDER --port PORT` "
                "on the port the index was crawled from)"
            )
        return f"the file could not be read ({e})."
    return str(e)
