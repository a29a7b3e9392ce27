"""Deterministic synthetic DANDI archives (snapshot folders) for tests and benchmarks.

`generate_archive(root, n_dandisets=..., n_assets=..., seed=...)` writes the snapshot layout
that `dandindex.testing.archive.ArchiveServer` serves, with raw metadata shaped like the real
archive's across schema versions 0.4.4-0.6.7: NCBI taxon species (old and new name styles),
approaches, measurement techniques, ``variableMeasured`` objects, BIDS ``sub-*/ses-*`` paths,
Zarr and non-NWB assets, published versions with their own asset lists, one embargoed and one
empty dandiset, and optionally malformed metadata. Real NWB files (see
`dandindex.testing.nwbfiles`) can be attached as blobs: their assets then carry the files'
true size and sha256. Assets are streamed to disk, so 200,000 assets need little memory.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dandindex.testing.catalogue import EXTRA_KINDS, MODALITIES, SCHEMAS, SPECIES
from dandindex.testing.metadata import (
    AssetsSummary,
    MetadataWriter,
    damage,
    dandiset_meta,
    iso,
    random_uuid,
    sha256_file,
)

__all__ = [
    "GeneratedArchive",
    "NWBAttachment",
    "archive_of_files",
    "attachments_from",
    "generate_archive",
]


@dataclass
class NWBAttachment:
    """A real NWB file to serve as the blob of one generated NWB asset."""

    path: Path
    modality: str
    subject_id: str = "sub-01"
    session_id: str = "ses-01"
    species_taxon: str = "10090"


@dataclass
class GeneratedArchive:
    """What `generate_archive` wrote: enough for tests to compute expectations."""

    root: Path
    dandisets: list[str]
    n_assets: int
    embargoed: str | None
    empty: str | None
    published: dict[str, list[str]] = field(default_factory=dict)
    nwb_assets: dict[str, NWBAttachment] = field(default_factory=dict)  # asset_id -> file
    malformed_assets: list[str] = field(default_factory=list)


def _nwb_layout(rng: random.Random, n: int, modality: str) -> Iterator[tuple[str, str, str]]:
    n_subjects = max(1, min(n, int(n**0.5) + 1))
    subjects = [f"{rng.randint(100000, 999999)}" for _ in range(n_subjects)]
    for i in range(n):
        sub = subjects[i % n_subjects]
        ses = f"{rng.randint(10**9, 10**10 - 1)}"
        suffix = MODALITIES[modality]["suffix"]
        yield sub, ses, f"sub-{sub}/sub-{sub}_ses-{ses}_{suffix}.nwb"


def generate_archive(
    root: str | Path,
    *,
    n_dandisets: int = 12,
    n_assets: int = 600,
    seed: int = 0,
    nwb_files: list[NWBAttachment] | None = None,
    malformed: int = 0,
    embargoed: bool = True,
    empty: bool = True,
    first_id: int = 1,
) -> GeneratedArchive:
    """Write a synthetic archive snapshot folder at `root` and describe it.

    `n_assets` are spread over the non-empty dandisets (uneven sizes, like the real archive).
    `nwb_files` are attached as blobs to NWB assets of a matching modality (a dandiset is
    created for a modality that has files but no dandiset). `malformed` assets with broken
    metadata (wrong types, bad dates, unknown schema) go into one dandiset.
    """
    root = Path(root)
    (root / "dandisets").mkdir(parents=True, exist_ok=True)
    w = MetadataWriter(root, seed)
    rng = w.rng
    attachments = list(nwb_files or [])
    ids = [f"{first_id + i:06d}" for i in range(n_dandisets)]
    empty_id = ids[-1] if empty and n_dandisets >= 3 else None
    embargoed_id = ids[-2] if embargoed and n_dandisets >= 3 else None
    kinds = list(MODALITIES) + EXTRA_KINDS
    plan_kinds = [kinds[i % len(kinds)] for i in range(n_dandisets)]
    eligible = {
        plan_kinds[i]
        for i, d in enumerate(ids)
        if d not in (empty_id, ids[-2] if embargoed else None)
    }
    missing = {a.modality for a in attachments} - eligible
    if missing:
        raise ValueError(
            f"no open, non-empty dandiset of modality {sorted(missing)}; use n_dandisets >= {len(kinds) + 2}"
        )
    filled = [d for d in ids if d != empty_id]
    weights = [rng.paretovariate(1.2) for _ in filled]
    total_w = sum(weights)
    counts = [max(1, int(n_assets * wt / total_w)) for wt in weights]
    counts[0] += n_assets - sum(counts)
    if counts[0] < 1:  # pragma: no cover - only for tiny n_assets
        counts[0] = 1
    per_ds = dict(zip(filled, counts, strict=True))
    if empty_id:
        per_ds[empty_id] = 0
    result = GeneratedArchive(
        root=root, dandisets=ids, n_assets=0, embargoed=embargoed_id, empty=empty_id
    )
    blob_index: dict[str, str] = {}
    malformed_target = filled[1] if len(filled) > 1 else filled[0]
    for idx, ds_id in enumerate(ids):
        kind = plan_kinds[idx]
        schema = SCHEMAS[idx % len(SCHEMAS)]
        taxon = SPECIES[idx % len(SPECIES)][0] if kind in MODALITIES else None
        created = w.when(idx * 9)
        folder = root / "dandisets" / ds_id
        folder.mkdir(parents=True, exist_ok=True)
        my_files = (
            []
            if ds_id in (empty_id, embargoed_id)
            else [a for a in attachments if a.modality == kind]
        )
        attachments = [a for a in attachments if a not in my_files]
        if ds_id != empty_id:
            per_ds[ds_id] = max(
                per_ds[ds_id], len(my_files) + (malformed if ds_id == malformed_target else 0)
            )
        summary = AssetsSummary()
        items: list[dict[str, Any]] = []
        with open(folder / "assets.jsonl", "w", encoding="utf-8") as out:
            n = per_ds[ds_id]
            for i, item in enumerate(
                _assets_for(
                    w,
                    kind,
                    n,
                    schema,
                    created,
                    taxon,
                    ds_id == embargoed_id,
                    my_files,
                    blob_index,
                    result,
                )
            ):
                if (
                    ds_id == malformed_target
                    and i >= n - malformed
                    and item["asset_id"] not in result.nwb_assets
                ):
                    damage(item, i)
                    result.malformed_assets.append(item["asset_id"])
                out.write(json.dumps(item, separators=(",", ":")) + "\n")
                summary.add(item)
                if len(items) < 50:
                    items.append(item)
                result.n_assets += 1
        meta = dandiset_meta(
            w, ds_id, kind, schema, created, summary, embargoed=ds_id == embargoed_id
        )
        _dump(folder / "dandiset.json", meta)
        if ds_id not in (embargoed_id, empty_id) and idx % 3 == 0 and items:
            result.published[ds_id] = []
            for k in range(1 + (idx % 2)):
                pub_time = created + timedelta(days=20 + 30 * k)
                vid = pub_time.strftime("0.%y%m%d.%H%M")
                vdir = folder / "versions" / vid
                vdir.mkdir(parents=True, exist_ok=True)
                subset = items[: max(1, len(items) // (2 - k))]
                with open(vdir / "assets.jsonl", "w", encoding="utf-8") as out:
                    for it in subset:
                        pub = json.loads(json.dumps(it))
                        pub["metadata"]["datePublished"] = iso(pub_time)
                        pub["metadata"]["publishedBy"] = {
                            "id": f"urn:uuid:{random_uuid(rng)}",
                            "name": "DANDI publish",
                            "schemaKey": "PublishActivity",
                            "startDate": iso(pub_time),
                            "endDate": iso(pub_time),
                        }
                        out.write(json.dumps(pub, separators=(",", ":")) + "\n")
                vs = AssetsSummary()
                for it in subset:
                    vs.add(it)
                vmeta = dandiset_meta(w, ds_id, kind, schema, created, vs, embargoed=False)
                vmeta.update(
                    {
                        "version": vid,
                        "id": f"DANDI:{ds_id}/{vid}",
                        "doi": f"10.80507/dandi.{ds_id}/{vid}",
                        "datePublished": iso(pub_time),
                        "url": f"https://dandiarchive.org/dandiset/{ds_id}/{vid}",
                    }
                )
                _dump(vdir / "dandiset.json", vmeta)
                result.published[ds_id].append(vid)
    if blob_index:
        (root / "blobs").mkdir(exist_ok=True)
        _dump(root / "blobs" / "index.json", blob_index)
    return result


def _assets_for(
    w: MetadataWriter,
    kind: str,
    n: int,
    schema: str,
    created: datetime,
    taxon: str | None,
    embargoed: bool,
    files: list[NWBAttachment],
    blob_index: dict[str, str],
    result: GeneratedArchive,
) -> Iterator[dict[str, Any]]:
    rng = w.rng
    if kind in MODALITIES:
        for i, (sub, _ses, path) in enumerate(_nwb_layout(rng, n, kind)):
            when = created + timedelta(hours=i)
            att = files[i] if i < len(files) else None
            if att is not None:
                sha, size = sha256_file(att.path)
                path = f"sub-{att.subject_id}/sub-{att.subject_id}_ses-{att.session_id}_{MODALITIES[kind]['suffix']}.nwb"
                item, blob = w.asset(
                    path=path,
                    size=size,
                    encoding="application/x-nwb",
                    schema=schema,
                    created=when,
                    modality=kind,
                    taxon=att.species_taxon,
                    subject=att.subject_id,
                    embargoed=embargoed,
                    sha256=sha,
                )
                blob_index[blob] = str(att.path.resolve())
                result.nwb_assets[item["asset_id"]] = att
            else:
                size = rng.randint(10**5, 5 * 10**9)
                item, _ = w.asset(
                    path=path,
                    size=size,
                    encoding="application/x-nwb",
                    schema=schema,
                    created=when,
                    modality=kind,
                    taxon=taxon,
                    subject=sub,
                    embargoed=embargoed,
                )
            yield item
    elif kind == "video":
        for i in range(n):
            sub = f"fly{i // 4:03d}"
            if i % 2:
                path, enc = f"sub-{sub}/sub-{sub}_ses-{i}_behavior+image.nwb", "application/x-nwb"
            else:
                path, enc = (
                    f"sub-{sub}/sub-{sub}_ses-{i}_behavior+image/video_{i}.avi",
                    "video/x-msvideo",
                )
            item, _ = w.asset(
                path=path,
                size=rng.randint(10**6, 10**9),
                encoding=enc,
                schema=schema,
                created=created + timedelta(minutes=i),
                modality="behavior" if enc.endswith("nwb") else None,
                taxon="7227" if enc.endswith("nwb") else None,
                subject=sub,
                embargoed=embargoed,
            )
            yield item
    else:
        bids_files = [
            ("dataset_description.json", "application/json"),
            ("participants.tsv", "text/tab-separated-values"),
        ]
        for i in range(n):
            sub = f"S{i // 3 + 1:02d}"
            zarr = False
            if i < len(bids_files):
                path, enc = bids_files[i]
            elif kind == "bids-mri":
                path, enc = (
                    f"sub-{sub}/ses-{i:02d}/anat/sub-{sub}_ses-{i:02d}_T2w.nii.gz",
                    "application/gzip",
                )
            else:
                zarr = i % 2 == 0
                path = f"sub-{sub}/ses-{i:02d}/micr/sub-{sub}_ses-{i:02d}_sample-{i}_SPIM." + (
                    "ome.zarr" if zarr else "ome.tif"
                )
                enc = "image/tiff"
            item, _ = w.asset(
                path=path,
                size=rng.randint(100, 10**10),
                encoding=enc,
                schema=schema,
                created=created + timedelta(minutes=i),
                modality=None,
                taxon=None,
                subject=None,
                embargoed=embargoed,
                zarr=zarr,
            )
            yield item


def _dump(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)


def attachments_from(files: Mapping[str, Path]) -> list[NWBAttachment]:
    """NWB attachments from ``{modality: path}`` with one subject/session each."""
    return [
        NWBAttachment(path=Path(p), modality=m, subject_id=f"{m}01", session_id=f"{m}ses1")
        for m, p in files.items()
    ]


def archive_of_files(
    root: str | Path,
    files: Mapping[str, Path],
    *,
    dandiset_id: str = "000001",
    seed: int = 0,
    species: Mapping[str, tuple[str, str]] | None = None,
    modalities: Mapping[str, str | None] | None = None,
    name: str | None = None,
) -> dict[str, Path]:
    """A one-dandiset archive whose NWB assets are exactly `files` (``{name: path}``), each
    served as its blob with its true size and sha256; returns ``{asset_id: path}``.
    `species`: ``{name: (NCBI taxon id, species name as stored)}`` for some files (others:
    mouse); `modalities`: ``{name: ecephys/ophys/icephys/behavior or None}`` (default
    ecephys); `name`: the dandiset's title. Blobs of an archive already at `root` are kept,
    so several calls build one archive."""
    root = Path(root)
    folder = root / "dandisets" / dandiset_id
    folder.mkdir(parents=True, exist_ok=True)
    w = MetadataWriter(root, seed)
    created = w.when(0)
    summary = AssetsSummary()
    blob_index = root / "blobs" / "index.json"
    blobs: dict[str, str] = json.loads(blob_index.read_text()) if blob_index.exists() else {}
    out: dict[str, Path] = {}
    modalities = modalities or {}
    with open(folder / "assets.jsonl", "w", encoding="utf-8") as f:
        for i, (key, path) in enumerate(sorted(files.items())):
            sha, size = sha256_file(path)
            item, blob = w.asset(
                path=f"sub-{i:04d}/sub-{i:04d}_{key}.nwb",
                size=size,
                encoding="application/x-nwb",
                schema="0.6.7",
                created=created + timedelta(minutes=i),
                modality=modalities.get(key, "ecephys"),
                taxon="10090",
                subject=f"{i:04d}",
                embargoed=False,
                sha256=sha,
            )
            if species and key in species:
                taxon, stored = species[key]
                meta = item["metadata"]
                meta.setdefault(
                    "wasAttributedTo",
                    [{"identifier": f"{i:04d}", "schemaKey": "Participant"}],
                )
                meta["wasAttributedTo"][0]["species"] = {
                    "identifier": f"http://purl.obolibrary.org/obo/NCBITaxon_{taxon}",
                    "name": stored,
                    "schemaKey": "SpeciesType",
                }
            blobs[blob] = str(Path(path).resolve())
            out[item["asset_id"]] = Path(path)
            summary.add(item)
            f.write(json.dumps(item, separators=(",", ":")) + "\n")
    meta = dandiset_meta(w, dandiset_id, "ecephys", "0.6.7", created, summary, embargoed=False)
    if name:
        meta["name"] = name
    _dump(folder / "dandiset.json", meta)
    (root / "blobs").mkdir(exist_ok=True)
    _dump(blob_index, blobs)
    return out
