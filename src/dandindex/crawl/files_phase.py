"""The file phase of a crawl: the assets that are not NWB, described from their headers.

OME-Zarr stores, TIFF files, videos, and the JSON/TSV files of BIDS datasets are read by the
NWB phase's worker processes (`dandindex.nwb.pool.WorkerPool`: a time bound per file, a
crashed reader costs one file) and cached per blob or Zarr checksum in
``<index>/files/`` (`FileSummary`), like NWB summaries: an unchanged file is never read
again, a transient failure is retried by the next crawl, a damaged file is an error row.

Rows of ``file_summaries``: one per asset read, and one per data file of a BIDS dataset
(a dandiset version with a root ``dataset_description.json``) carrying the key/values of its
inherited sidecars and its participants/sessions/scans rows (`dandindex.formats.bids`); an
asset that is both (an OME-Zarr in a BIDS tree) is one row with both. Rows of ``file_links``:
the files NWB files name outside themselves, resolved to assets of the same dandiset.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from dandindex.formats import bids
from dandindex.formats import formats as formats_of
from dandindex.formats.shape import FileSummary
from dandindex.formats.summary import MediaAsset
from dandindex.nwb.cache import SummaryCache
from dandindex.store import IndexStore

COLUMNS = ["asset_id", "dandiset_id", "version", "path", "size", "blob_id", "zarr_id", "sha256",
           "etag", "zarr_checksum", "encoding_format", "api_url", "s3_url"]  # fmt: skip
CACHED = FileSummary.error("in the cache", transient=False)  # marker: read it from the cache


def file_cache(index_root: Any) -> SummaryCache[FileSummary]:
    """File summaries keyed like NWB ones, in ``<index>/files/``."""
    return SummaryCache(index_root, "files", FileSummary)


@dataclass
class Scan:
    """What the parts hold for this phase: the assets to read, and which dandiset versions
    are BIDS datasets."""

    media: list[MediaAsset] = field(default_factory=list)
    bids_versions: set[tuple[str, str]] = field(default_factory=set)


def _part_rows(store: IndexStore, ds: str, key: str) -> list[dict[str, Any]]:
    path = store.part_dir(ds, key) / "assets.parquet"
    schema = pq.read_schema(str(path))
    cols = [c for c in COLUMNS if c in schema.names]
    rows = pq.read_table(str(path), columns=cols).to_pylist()
    for r in rows:
        for c in COLUMNS:
            r.setdefault(c, None)
    return rows


def _asset(row: dict[str, Any]) -> MediaAsset:
    return MediaAsset(**{k: row[k] for k in MediaAsset.__dataclass_fields__})


def scan(store: IndexStore, parts: dict[str, str]) -> Scan:
    """The assets to read, one per asset id: OME-Zarr/Zarr stores (not NWB), TIFF files,
    videos, and the JSON/TSV files of BIDS dandiset versions."""
    out = Scan()
    seen: set[str] = set()
    for ds in sorted(parts):
        rows = _part_rows(store, ds, parts[ds])
        by_version: dict[str, list[str]] = {}
        for r in rows:
            by_version.setdefault(r["version"], []).append(r["path"] or "")
        out.bids_versions |= {(ds, v) for v, paths in by_version.items() if bids.is_dataset(paths)}
        for r in rows:
            if r["asset_id"] in seen or not r["path"]:
                continue
            asset = _asset(r)
            kind = asset.kind
            if kind in ("json", "tsv") and not (
                (ds, r["version"]) in out.bids_versions and bids.is_text_file(r["path"])
            ):
                continue
            if kind is not None:
                seen.add(r["asset_id"])
                out.media.append(asset)
    return out


def run_media(
    store: IndexStore,
    assets: list[MediaAsset],
    api_url: str,
    options: Any,
    token: str | None,
    progress: Callable[[int, int], None] | None = None,
    read_stats: dict[str, int] | None = None,
) -> dict[str, FileSummary]:
    """Summaries by key (cached ones of this version reused, the others read when allowed),
    as NWB files are read (`dandindex.crawl.reading.read_summaries`); `options`: the crawl's
    `NWBOptions`. Sizes are not limited: only headers are read."""
    from dandindex.crawl.reading import read_summaries

    return read_summaries(
        assets, cache=file_cache(store.root), made=FileSummary.made, cached=CACHED,
        task="media", api_url=api_url, options=options, token=token, progress=progress,
        stats=read_stats,
    )  # fmt: skip


def file_rows(
    store: IndexStore, parts: dict[str, str], found: Scan, summaries: dict[str, FileSummary]
) -> Iterator[dict[str, Any]]:
    """Rows of ``file_summaries``, a dandiset at a time: each asset read, each BIDS data
    file (with its sidecars' values), once per asset id (its most recent version's view)."""
    cache = file_cache(store.root)
    done: set[str] = set()

    def load(a: MediaAsset) -> FileSummary | None:
        s = summaries.get(a.key)
        if s is CACHED:
            s = cache.get(a.key) or FileSummary.error("cached summary unreadable", transient=True)
        return s

    for ds in sorted(parts):
        rows = _part_rows(store, ds, parts[ds])
        held = {r["version"] for r in rows}  # the most recent published version first
        order = sorted(held - {"draft"}, reverse=True) + (["draft"] if "draft" in held else [])
        for version in order:
            mine = [r for r in rows if r["version"] == version]
            dataset = None
            if (ds, version) in found.bids_versions:
                dataset = _dataset(mine, load)
            for r in mine:
                if r["asset_id"] in done or not r["path"]:
                    continue
                asset = _asset(r)
                summary = load(asset) if asset.kind else None
                facts: dict[str, Any] = summary.file.model_dump() if summary is not None else {}
                is_data = dataset is not None and bids.is_data_file(r["path"])
                if summary is None and not is_data:
                    continue
                if is_data:
                    assert dataset is not None
                    more = _bids_facts(dataset, r["path"])
                    used = more.pop("bids_sidecars", None)
                    facts.update(more)
                    if used:
                        details = json.loads(facts["details"]) if facts.get("details") else {}
                        facts["details"] = json.dumps({**details, "bids_sidecars": used})
                    if not facts.get("format"):
                        kinds = formats_of(r["path"], r["encoding_format"], r["zarr_id"] is not None)  # fmt: skip
                        facts["format"] = kinds[-1] if kinds else None
                        facts["size"] = r["size"]
                done.add(r["asset_id"])
                yield {
                    **facts,
                    "summary_version": summary.version if summary is not None else None,
                    "asset_id": r["asset_id"],
                    "dandiset_id": ds,
                    "blob_id": r["blob_id"],
                    "zarr_id": r["zarr_id"],
                    "sha256": r["sha256"],
                    "summary_key": asset.key if summary is not None else None,
                    "size": facts.get("size") if facts.get("size") is not None else r["size"],
                }


def _dataset(
    rows: list[dict[str, Any]], load: Callable[[MediaAsset], FileSummary | None]
) -> bids.Dataset:
    """A BIDS dataset's JSON contents and tables, from the summaries of its text files."""
    jsons: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, Any]] = {}
    for r in rows:
        path = r["path"] or ""
        if not bids.is_text_file(path):
            continue
        s = load(_asset(r))
        if s is None or s.file.error or not s.file.details:
            continue
        try:
            content = json.loads(s.file.details)
        except ValueError:
            continue
        if path.lower().endswith(".json") and isinstance(content, dict):
            jsons[path.strip("/")] = content
        elif isinstance(content, dict) and "columns" in content:
            tables[path.strip("/")] = content
    return bids.Dataset(jsons, tables)


def _bids_facts(dataset: bids.Dataset, path: str) -> dict[str, Any]:
    name = bids.parse_name(path)
    merged, used = dataset.sidecar(path)
    rows = dataset.rows_for(path)
    species, age, sex = bids.species_age_sex(rows)
    values = bids.key_values(merged) + bids.key_values(rows)
    out: dict[str, Any] = {
        "bids_datatype": name.datatype if name else None,
        "bids_suffix": name.suffix if name else None,
        "bids_entities": [f"{k}={v}" for k, v in name.entities] if name else [],
        "bids": sorted(values),
        "subject_species": species,
        "subject_age": age,
        "subject_sex": sex,
    }
    if used:
        out["bids_sidecars"] = used  # merged into the row's details
    return out


def link_rows(
    store: IndexStore, parts: dict[str, str], named: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Rows of ``file_links``: each file an NWB object names (`named`: asset_id,
    dandiset_id, path, object_path, external_files), resolved against its dandiset's paths
    (relative to the NWB file's folder, else by its name when that is unique)."""
    by_ds: dict[str, list[dict[str, Any]]] = {}
    for n in named:
        by_ds.setdefault(n["dandiset_id"], []).append(n)
    for ds in sorted(by_ds):
        if ds not in parts:
            continue
        paths: dict[str, str] = {}
        names: dict[str, list[str]] = {}
        for r in _part_rows(store, ds, parts[ds]):
            if r["path"]:
                paths.setdefault(r["path"], r["asset_id"])
                names.setdefault(posixpath.basename(r["path"]), []).append(r["path"])
        for n in by_ds[ds]:
            folder = posixpath.dirname(n["path"] or "")
            for ext in n["external_files"]:
                target = _resolve(folder, ext, paths, names)
                yield {
                    "asset_id": n["asset_id"],
                    "dandiset_id": ds,
                    "object_path": n["object_path"],
                    "external_file": ext,
                    "target_path": target,
                    "target_asset_id": paths.get(target) if target else None,
                }


def _resolve(
    folder: str, name: str, paths: dict[str, str], names: dict[str, list[str]]
) -> str | None:
    text = name.strip().replace("\\", "/")
    if not text or "://" in text:
        return None
    candidate = (
        posixpath.normpath(posixpath.join(folder, text)) if not text.startswith("/") else None
    )
    if candidate and candidate in paths:
        return candidate
    same = list(dict.fromkeys(names.get(posixpath.basename(text), [])))
    return same[0] if len(same) == 1 else None
