"""Expectations computed straight from snapshot files (independent of the server's code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_folder(root: Path) -> dict[str, dict[str, Any]]:
    """{dandiset_id: {"draft": meta, "assets": [...], "versions": {v: {"meta", "assets"}}}}"""
    out: dict[str, dict[str, Any]] = {}
    for d in sorted((root / "dandisets").iterdir()):
        if not (d / "dandiset.json").exists():
            continue
        draft_assets = load_lines(d / "assets.jsonl")
        versions = {}
        if (d / "versions").is_dir():
            for v in sorted((d / "versions").iterdir()):
                assets = (
                    load_lines(v / "assets.jsonl")
                    if (v / "assets.jsonl").exists()
                    else draft_assets
                )
                versions[v.name] = {
                    "meta": json.loads((v / "dandiset.json").read_text()),
                    "assets": assets,
                }
        out[d.name] = {
            "draft": json.loads((d / "dandiset.json").read_text()),
            "assets": draft_assets,
            "versions": versions,
        }
    return out


def is_embargoed(meta: dict[str, Any]) -> bool:
    return any(
        isinstance(a, dict) and a.get("status") == "dandi:EmbargoedAccess"
        for a in meta.get("access") or []
    )


def taxon(meta: dict[str, Any]) -> str | None:
    """The NCBITaxon URI of an asset's first participant, computed from the raw JSON.

    An int or CURIE identifier (broken or old metadata) still names a taxon.
    """
    parts = meta.get("wasAttributedTo")
    if not isinstance(parts, list):
        return None
    for p in parts:
        if isinstance(p, dict):
            sp = p.get("species")
            if isinstance(sp, dict) and sp.get("identifier") is not None:
                tail = str(sp["identifier"]).rsplit("_", 1)[-1].rsplit(":", 1)[-1]
                digits = "".join(ch for ch in tail if ch.isdigit())
                return f"http://purl.obolibrary.org/obo/NCBITaxon_{int(digits)}" if digits else None
            return None
    return None


# columns that say how a crawl went, not what it found
VOLATILE = {
    "crawl_errors": {"at"},
    "nwb_files": {"summarized_at", "seconds", "bytes_read", "requests"},
    "file_summaries": {"summarized_at", "seconds", "bytes_read", "requests"},
}


def index_content(index: Path) -> dict[str, list[tuple]]:
    """Every table of an index as sorted rows (volatile columns left out), to compare crawls."""
    from dandindex.index import Index
    from dandindex.schemas import TABLES

    out: dict[str, list[tuple]] = {}
    with Index(index) as idx:
        for table in TABLES:
            cols = [
                c
                for c in idx.sql(f"SELECT * FROM {table} LIMIT 0").columns
                if c not in VOLATILE.get(table, set())
            ]
            rows = idx.sql(f"SELECT {', '.join(cols)} FROM {table}").rows()
            out[table] = sorted(
                tuple(json.dumps(r[c], sort_keys=True, default=str) for c in cols) for r in rows
            )
    return out


def differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> dict[str, tuple[int, int]]:
    """{table: (rows only in a, rows only in b)} for the tables that differ."""
    out = {}
    for t in sorted(set(a) | set(b)):
        sa, sb = set(a.get(t, [])), set(b.get(t, []))
        if sa != sb or len(a.get(t, [])) != len(b.get(t, [])):
            out[t] = (len(sa - sb), len(sb - sa))
    return out


def asset_dict(url: str) -> dict[str, Any]:
    """An `ArchiveAsset` as a worker task carries it, for a file served at `url`."""
    return {
        "asset_id": "a",
        "dandiset_id": "000001",
        "path": "x.nwb",
        "size": None,
        "blob_id": "b",
        "zarr_id": None,
        "sha256": None,
        "etag": None,
        "api_url": url,
    }


def modality_assets(generated: Any) -> dict[str, str]:
    """{modality: asset id} of the one pynwb file per modality (`write_all`, subject
    ``<modality>01``) among a generated archive's NWB assets (the cohort's sessions left out)."""
    return {
        a.modality: aid
        for aid, a in generated.nwb_assets.items()
        if a.subject_id == f"{a.modality}01"
    }


def cohort_assets(generated: Any) -> dict[str, str]:
    """{session name: asset id} of the cohort's sessions (`dandindex.testing.cohort`)."""
    from dandindex.testing.cohort import SESSIONS

    names = {s.name for s in SESSIONS}
    return {a.session_id: aid for aid, a in generated.nwb_assets.items() if a.session_id in names}


def media_assets(root: Path) -> dict[str, set[str]]:
    """Asset ids of the archive's files that are not NWB and that a crawl with --nwb reads
    (open dandisets), from the snapshot's metadata: ``blob`` (TIFF, video; JSON/TSV of BIDS versions: one
    blob request each, answered or 404) and ``zarr`` (Zarr stores that are not NWB)."""
    from dandindex.formats import MAX_TEXT_BYTES, bids, kind_of

    out: dict[str, set[str]] = {"blob": set(), "zarr": set()}
    for ds in read_folder(root).values():
        if is_embargoed(ds["draft"]):  # not crawled without --include-embargoed
            continue
        lists = [ds["assets"]] + [v["assets"] for v in ds["versions"].values()]
        for assets in lists:
            is_bids = bids.is_dataset(a["path"] for a in assets)
            for a in assets:
                meta = a.get("metadata") or {}
                if not isinstance(meta, dict):
                    continue
                kind = kind_of(a["path"], meta.get("encodingFormat"), bool(a.get("zarr")))
                if kind == "zarr":
                    out["zarr"].add(a["asset_id"])
                elif kind in ("tiff", "video") or (
                    kind in ("json", "tsv")
                    and is_bids
                    and bids.is_text_file(a["path"])
                    and (a.get("size") or 0) <= MAX_TEXT_BYTES  # larger: not read at all
                ):
                    out["blob"].add(a["asset_id"])
    return out
