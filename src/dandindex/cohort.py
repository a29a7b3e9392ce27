"""Cohort manifests: a search's matches as a file that can be downloaded and cited later.

``dandindex search ... --manifest cohort.tsv`` (or `write_manifest`) writes a tab-separated
file: ``#`` lines with the query (in the words of the command line), the index's snapshot,
the archive it was crawled from and when, then one row per asset with its ``dandi_url``
(what ``dandi download`` takes), asset id, dandiset, version, path, size and sha256: an
asset once, in its most recent published version (else the draft). The sha256 pins each
file's content: a later download can be checked against it.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

COLUMNS = ("dandi_url", "asset_id", "dandiset_id", "version", "path", "size", "sha256")


def manifest_header(idx: Any, query: Any, total: int) -> list[str]:
    """The ``#`` lines of a manifest (without the ``#``)."""
    from dandindex import __version__

    m = idx.manifest
    said = query.describe() or "(every asset)"
    return [
        "dandindex cohort manifest",
        f"query: dandindex search {said}",
        f"assets: {total}",
        f"index: {idx.path if '://' in str(idx.path) else Path(idx.path).resolve()}",
        f"snapshot: {str(m.get('snapshot', '')).rsplit('/', 1)[-1]}",
        f"archive: {m.get('api_url', '')}",
        f"crawled: {m.get('crawl_started', '')} to {m.get('crawl_finished', '')}",
        f"dandindex: {__version__}",
        "download: grep -v '^#' THIS_FILE | cut -f1 | tail -n +2 | xargs dandi download",
    ]


def write_manifest(idx: Any, query: Any, target: str | os.PathLike[str]) -> int:
    """Write the manifest of every asset `query` matches (its limit applies when given)
    to `target`; returns how many assets it lists. Written whole or not at all."""
    from dandindex.errors import UsageError

    if query.level != "asset":
        raise UsageError("A manifest lists assets: leave out --level dandiset.")
    # once per asset (its most recent published version, else the draft), whatever `versions`
    rows = idx.run_search(query.replace(versions="latest")).rows()
    target = Path(target)
    tmp = target.with_name(f".{target.name}.part")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        for line in manifest_header(idx, query, len(rows)):
            f.write(f"# {line}\n")
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in COLUMNS])
    os.replace(tmp, target)
    return len(rows)


def read_manifest(path: str | os.PathLike[str]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(header fields, rows) of a manifest written by `write_manifest`."""
    header: dict[str, str] = {}
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# "):
                key, _, value = line[2:].rstrip("\n").partition(": ")
                header[key] = value
            else:
                lines.append(line)
    return header, list(csv.DictReader(lines, delimiter="\t"))
