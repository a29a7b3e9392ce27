"""The Dandiset listing → index rows: which entries can be indexed, and their rows."""

from __future__ import annotations

import re
from typing import Any

from dandindex.crawl.rows import Problems, as_int, as_str, parse_datetime

_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def listing_entries(listing: Any) -> tuple[dict[str, dict[str, Any]], list[tuple[str | None, str]]]:
    """({identifier: entry}, [(identifier or None, problem)]) from the Dandiset listing.

    An entry without a usable identifier (it names folders and URLs) is skipped; a repeated
    identifier keeps the first entry; version entries that are not objects are dropped.
    """
    entries: dict[str, dict[str, Any]] = {}
    problems: list[tuple[str | None, str]] = []
    items = listing if isinstance(listing, list) else []
    for n, e in enumerate(items):
        if not isinstance(e, dict):
            problems.append((None, f"listing[{n}]: expected an object, got {type(e).__name__}"))
            continue
        ident = e.get("identifier")
        if not isinstance(ident, str) or not _IDENTIFIER.fullmatch(ident):
            problems.append(
                (
                    None,
                    f"listing[{n}].identifier: {ident!r:.60} is not a Dandiset identifier; skipped",
                )
            )
            continue
        if ident in entries:
            problems.append((ident, "identifier: listed twice; the first entry is used"))
            continue
        entry = dict(e)
        for key in ("draft_version", "most_recent_published_version"):
            v = entry.get(key)
            if v is not None and not isinstance(v, dict):
                problems.append((ident, f"{key}: expected an object, got {type(v).__name__}"))
                entry[key] = None
        entries[ident] = entry
    return entries, problems


def dandiset_row(entry: dict[str, Any], versions: list[str], problems: Problems) -> dict[str, Any]:
    """One dandisets row from a listing entry (see `listing_entries`)."""
    mrp = entry.get("most_recent_published_version") or None
    draft = entry.get("draft_version") or {}
    newest = mrp or draft
    return {
        "dandiset_id": entry["identifier"],
        "name": as_str(newest.get("name"), "name", problems),
        "created": parse_datetime(entry.get("created"), "created", problems),
        "modified": parse_datetime(entry.get("modified"), "modified", problems),
        "embargo_status": as_str(entry.get("embargo_status"), "embargo_status", problems),
        "contact_person": as_str(entry.get("contact_person"), "contact_person", problems) or None,
        "draft_version": as_str(draft.get("version"), "draft_version.version", problems),
        "latest_version": as_str(
            mrp.get("version"), "most_recent_published_version.version", problems
        )
        if mrp
        else None,
        "star_count": as_int(entry.get("star_count"), "star_count", problems),
        "asset_count": as_int(newest.get("asset_count"), "asset_count", problems),
        "size": as_int(newest.get("size"), "size", problems),
        "versions_indexed": versions,
    }
