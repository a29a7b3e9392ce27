"""The NWB phase of a crawl: every NWB asset of the crawled parts, summarised once per blob.

Summaries are cached in the index folder (`dandindex.nwb.cache`), keyed on the blob's sha256
(else its etag, else its blob/zarr id), and written as each file finishes: an unchanged blob
is never read again, and an interrupted crawl resumes where it stopped. Transient errors (see
`dandindex.nwb.summary`) are not cached, so a later crawl reads those files again; the rest
(not HDF5, damaged) are, so a bad blob is not re-read either. Files are read by
`dandindex.nwb.pool.WorkerPool` processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from dandindex.nwb.cache import nwb_cache
from dandindex.nwb.shape import Summary
from dandindex.remote.asset import ArchiveAsset
from dandindex.schemas import NWBFileRow
from dandindex.store import IndexStore

NWB_FORMAT = "application/x-nwb"
ZARR_FORMAT = "application/x-zarr"
# nwb_files columns that come from the summary's "file" part as they are (lists: [] for none)
_FILE_FIELDS = tuple(NWBFileRow.model_fields)
_FILE_LISTS = tuple(
    n for n, f in NWBFileRow.model_fields.items() if str(f.annotation).startswith("list")
)
ASSET_COLUMNS = [
    "asset_id",
    "dandiset_id",
    "path",
    "size",
    "blob_id",
    "zarr_id",
    "sha256",
    "etag",
    "encoding_format",
    "api_url",
]


def is_nwb(row: dict[str, Any]) -> bool:
    path = (row.get("path") or "").lower()
    fmt = row.get("encoding_format")
    return (
        fmt == NWB_FORMAT
        or path.endswith(".nwb")
        or (fmt == ZARR_FORMAT and path.endswith(".nwb.zarr"))
    )


def nwb_assets(store: IndexStore, parts: dict[str, str]) -> list[ArchiveAsset]:
    """Every NWB asset of the given parts, one per asset_id."""
    seen: dict[str, ArchiveAsset] = {}
    for ds in sorted(parts):
        path = store.part_dir(ds, parts[ds]) / "assets.parquet"
        table = pq.read_table(str(path), columns=ASSET_COLUMNS)
        fmt = pc.equal(table["encoding_format"], NWB_FORMAT)
        suffix = pc.or_(
            pc.ends_with(pc.utf8_lower(table["path"]), ".nwb"),
            pc.ends_with(pc.utf8_lower(table["path"]), ".nwb.zarr"),
        )
        table = table.filter(pc.or_(pc.fill_null(fmt, False), suffix))
        for row in table.to_pylist():
            if row["asset_id"] in seen or not is_nwb(row):
                continue
            seen[row["asset_id"]] = ArchiveAsset(
                **{k: row[k] for k in ArchiveAsset.__dataclass_fields__}
            )
    return list(seen.values())


CACHED = Summary.error("in the cache", transient=False)  # marker: read it from the cache


@dataclass
class NWBOptions:
    workers: int = 8
    max_size: int | None = None
    timeout: float = 30.0
    summarize: bool = True  # False: only reuse cached summaries (no network)
    file_timeout: float | None = 600.0  # seconds a file may take (its worker is then replaced)
    only_dandisets: frozenset[str] = frozenset()  # read new files only of these (empty: all)
    dask: Any = None  # a distributed.Client or scheduler address: files are Dask tasks


def run_summaries(
    store: IndexStore,
    assets: list[ArchiveAsset],
    api_url: str,
    options: NWBOptions,
    token: str | None,
    progress: Callable[[int, int], None] | None = None,
    read_stats: dict[str, int] | None = None,
) -> dict[str, Summary]:
    """Summaries for `assets` by key: cached ones of this version reused, missing ones and
    older ones read (if allowed; an older one is kept if not), files over
    ``--nwb-max-size`` refused (a transient row). `read_stats` counts what
    `dandindex.crawl.reading.read_summaries` counts.

    Transient failures are returned (so this snapshot records them) but not cached.
    """
    from dandindex.crawl.reading import read_summaries

    def refuse(a: ArchiveAsset) -> Summary | None:
        if options.max_size is not None and (a.size or 0) > options.max_size:
            return Summary.error(
                f"not read: {a.size} bytes is over --nwb-max-size {options.max_size}",
                transient=True,
            )
        return None

    return read_summaries(
        assets, cache=nwb_cache(store.root), made=Summary.made, cached=CACHED, task="asset",
        api_url=api_url, options=options, token=token, progress=progress, stats=read_stats,
        refuse=refuse,
    )  # fmt: skip


def nwb_rows(
    store: IndexStore,
    assets: list[ArchiveAsset],
    summaries: dict[str, Summary],
    named: list[dict[str, Any]] | None = None,
) -> tuple[Iterator[dict[str, Any]], Iterator[dict[str, Any]], Iterator[dict[str, Any]]]:
    """Rows of nwb_files, nwb_objects and nwb_locations for the assets that have summaries.

    Cached summaries are read from disk one at a time (memory stays bounded). As the objects
    are made, those naming files outside the NWB file are added to `named` (for the
    ``file_links`` made after them).
    """
    cache = nwb_cache(store.root)
    have = [a for a in assets if a.key in summaries]

    def load(a: ArchiveAsset) -> Summary:
        s = summaries[a.key]
        if s is CACHED:
            s = cache.get(a.key) or Summary.error("cached summary unreadable", transient=True)
        return s

    def files() -> Iterator[dict[str, Any]]:
        for a in have:
            summary = load(a)
            f = summary.file.model_dump()
            yield {
                **f,
                "summary_version": summary.version,
                "asset_id": a.asset_id,
                "dandiset_id": a.dandiset_id,
                "blob_id": a.blob_id,
                "sha256": a.sha256,
                "summary_key": a.key,
                "size": f["size"] if f["size"] is not None else a.size,
            }

    def objects() -> Iterator[dict[str, Any]]:
        for a in have:
            for o in load(a).objects:
                row = {"asset_id": a.asset_id, **o.model_dump()}
                if named is not None and row.get("external_files"):
                    named.append({"asset_id": a.asset_id, "dandiset_id": a.dandiset_id,
                                  "path": a.path, "object_path": row["path"],
                                  "external_files": row["external_files"]})  # fmt: skip
                yield row

    def locations() -> Iterator[dict[str, Any]]:
        for a in have:
            for loc in load(a).locations:
                yield {"asset_id": a.asset_id, **loc.model_dump()}

    return files(), objects(), locations()
