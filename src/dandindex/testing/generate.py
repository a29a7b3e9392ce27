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

import hashlib
import json
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

PRODUCTION_API = "https://api.dandiarchive.org/api"
S3 = "https://dandiarchive.s3.amazonaws.com"

# (taxon id, name since schema ~0.6.4, name in older metadata)
SPECIES = [
    ("10090", "Mus musculus - House mouse", "House mouse"),
    ("9606", "Homo sapiens - Human", "Human"),
    ("10116", "Rattus norvegicus - Norway rat", "Norway rat"),
    ("9544", "Macaca mulatta - Rhesus monkey", "Rhesus monkey"),
    ("7227", "Drosophila melanogaster - Fruit fly", "Fruit fly"),
    ("6239", "Caenorhabditis elegans", "Caenorhabditis elegans"),
    ("7955", "Danio rerio - Zebra fish", "Zebra fish"),
    ("59729", "Taeniopygia guttata - Zebra finch", "Zebra finch"),
    ("9483", "Callithrix jacchus - Common marmoset", "Common marmoset"),
    ("9685", "Felis catus - Cat", "Cat"),
]
SCHEMAS = ["0.4.4", "0.6.0", "0.6.3", "0.6.4", "0.6.7"]

# What an NWB asset of each modality carries (as dandi-cli extracts it)
MODALITIES: dict[str, dict[str, Any]] = {
    "ecephys": {
        "approach": ["electrophysiological approach"],
        "technique": [
            "multi electrode extracellular electrophysiology recording technique",
            "spike sorting technique",
        ],
        "variables": ["ElectricalSeries", "ElectrodeGroup", "Units"],
        "suffix": "ecephys",
        "areas": ["CA1", "VISp", "DG", "MOp", "LGd", "area: VISp, depth: 175"],
    },
    "ophys": {
        "approach": ["microscopy approach; cell population imaging"],
        "technique": ["two-photon microscopy technique", "analytical technique"],
        "variables": ["ImagingPlane", "PlaneSegmentation", "RoiResponseSeries", "TwoPhotonSeries"],
        "suffix": "ophys",
        "areas": ["VISp", "V1", "VISl", "AL", "PM"],
    },
    "icephys": {
        "approach": ["electrophysiological approach"],
        "technique": ["patch clamp technique", "current clamp technique"],
        "variables": ["CurrentClampSeries", "CurrentClampStimulusSeries", "VoltageClampSeries"],
        "suffix": "icephys",
        "areas": ["MOp", "SSp", "CA3"],
    },
    "behavior": {
        "approach": ["behavioral approach"],
        "technique": ["behavioral technique"],
        "variables": ["Position", "SpatialSeries", "BehavioralEvents"],
        "suffix": "behavior",
        "areas": [],
    },
}
EXTRA_KINDS = ["video", "bids-microscopy", "bids-mri"]
SEXES = [
    ("http://purl.obolibrary.org/obo/PATO_0000384", "Male"),
    ("http://purl.obolibrary.org/obo/PATO_0000383", "Female"),
    ("http://purl.obolibrary.org/obo/PATO_0000461", "Unknown"),
]
AGES = ["P90D", "P105.0D", "P90DT0H0M0S", "P2Y", "P8M/P10M", "P60D/", "P3W"]
UBERON = [
    ("UBERON:0001384", "Primary motor cortex"),
    ("UBERON:0002436", "Primary visual cortex"),
    ("UBERON:0003881", "CA1 field of hippocampus"),
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


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z") if t.tzinfo else t.isoformat()


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _species(taxon: str, schema: str) -> dict[str, Any]:
    for tid, new, old in SPECIES:
        if tid == taxon:
            name = old if schema < "0.6.4" else new
            return {
                "identifier": f"http://purl.obolibrary.org/obo/NCBITaxon_{tid}",
                "name": name,
                "schemaKey": "SpeciesType",
            }
    raise KeyError(taxon)


class _Writer:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.t0 = datetime(2021, 3, 1, tzinfo=timezone.utc)

    def when(self, days: float) -> datetime:
        return self.t0 + timedelta(days=days, seconds=self.rng.randint(0, 86000))

    # -- assets ---------------------------------------------------------------

    def asset(
        self,
        *,
        path: str,
        size: int,
        encoding: str,
        schema: str,
        created: datetime,
        modality: str | None,
        taxon: str | None,
        subject: str | None,
        embargoed: bool,
        sha256: str | None = None,
        zarr: bool = False,
        session_start: datetime | None = None,
    ) -> tuple[dict[str, Any], str]:
        rng = self.rng
        asset_id = _uuid(rng)
        blob_or_zarr = _uuid(rng)
        meta: dict[str, Any] = {
            "@context": f"https://raw.githubusercontent.com/dandi/schema/master/releases/{schema}/context.json",
            "access": [
                {
                    "schemaKey": "AccessRequirements",
                    "status": "dandi:EmbargoedAccess" if embargoed else "dandi:OpenAccess",
                }
            ],
            "blobDateModified": _iso(created - timedelta(hours=3)),
            "contentSize": size,
            "contentUrl": [
                f"{PRODUCTION_API}/assets/{asset_id}/download/",
                f"{S3}/zarr/{blob_or_zarr}/"
                if zarr
                else f"{S3}/blobs/{blob_or_zarr[:3]}/{blob_or_zarr[3:6]}/{blob_or_zarr}",
            ],
            "dateModified": _iso(created - timedelta(minutes=5)),
            "digest": (
                {
                    "dandi:dandi-zarr-checksum": f"{rng.getrandbits(128):032x}-{rng.randint(10, 900)}--{size}"
                }
                if zarr
                else {
                    "dandi:dandi-etag": f"{rng.getrandbits(128):032x}-{max(1, size // 67108864 + 1)}",
                    "dandi:sha2-256": sha256 or f"{rng.getrandbits(256):064x}",
                }
            ),
            "encodingFormat": "application/x-zarr" if zarr else encoding,
            "id": f"dandiasset:{asset_id}",
            "identifier": asset_id,
            "path": path,
            "schemaKey": "Asset",
            "schemaVersion": schema,
            "wasGeneratedBy": [],
        }
        if modality in MODALITIES and taxon is not None:
            mod = MODALITIES[modality]
            meta["approach"] = [{"name": n, "schemaKey": "ApproachType"} for n in mod["approach"]]
            meta["measurementTechnique"] = [
                {"name": n, "schemaKey": "MeasurementTechniqueType"} for n in mod["technique"]
            ]
            meta["variableMeasured"] = [
                {"schemaKey": "PropertyValue", "value": v} for v in mod["variables"]
            ]
            sex = rng.choice(SEXES)
            participant: dict[str, Any] = {
                "identifier": subject,
                "schemaKey": "Participant",
                "species": _species(taxon, schema),
                "sex": {"identifier": sex[0], "name": sex[1], "schemaKey": "SexType"},
                "age": {
                    "schemaKey": "PropertyValue",
                    "unitText": "ISO-8601 duration",
                    "value": rng.choice(AGES),
                    "valueReference": {
                        "schemaKey": "PropertyValue",
                        "value": "dandi:BirthReference",
                    },
                },
            }
            if taxon == "10090":
                participant["genotype"] = rng.choice(
                    ["wild type", "Cux2-CreERT2/wt;Ai93(TITL-GCaMP6f)/wt", "Pvalb-IRES-Cre/wt"]
                )
                participant["strain"] = {"name": "C57BL/6J", "schemaKey": "StrainType"}
            meta["wasAttributedTo"] = [participant]
            start = session_start or created - timedelta(days=rng.randint(30, 400))
            meta["wasGeneratedBy"].append(
                {
                    "description": f"{modality} session",
                    "identifier": path.rsplit("_ses-", 1)[-1].split("_")[0]
                    if "_ses-" in path
                    else None,
                    "name": "Acquisition session",
                    "schemaKey": "Session",
                    "startDate": _iso(start),
                }
            )
            if meta["wasGeneratedBy"][-1]["identifier"] is None:
                del meta["wasGeneratedBy"][-1]["identifier"]
        meta["wasGeneratedBy"].append(
            {
                "description": "Metadata generated by DANDI cli",
                "id": f"urn:uuid:{_uuid(rng)}",
                "name": "Metadata generation",
                "schemaKey": "Activity",
                "wasAssociatedWith": [
                    {
                        "identifier": "RRID:SCR_019009",
                        "name": "DANDI Command Line Interface",
                        "schemaKey": "Software",
                        "url": "https://github.com/dandi/dandi-cli",
                        "version": "0.66.7",
                    }
                ],
            }
        )
        item: dict[str, Any] = {
            "asset_id": asset_id,
            "blob" if not zarr else "zarr": blob_or_zarr,
            "created": _iso(created),
            "modified": _iso(created + timedelta(seconds=1)),
            "path": path,
            "size": size,
            "metadata": meta,
        }
        return item, blob_or_zarr


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
    w = _Writer(root, seed)
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
        summary = _Summary()
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
                    _break(item, i)
                    result.malformed_assets.append(item["asset_id"])
                out.write(json.dumps(item, separators=(",", ":")) + "\n")
                summary.add(item)
                if len(items) < 50:
                    items.append(item)
                result.n_assets += 1
        meta = _dandiset_meta(
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
                        pub["metadata"]["datePublished"] = _iso(pub_time)
                        pub["metadata"]["publishedBy"] = {
                            "id": f"urn:uuid:{_uuid(rng)}",
                            "name": "DANDI publish",
                            "schemaKey": "PublishActivity",
                            "startDate": _iso(pub_time),
                            "endDate": _iso(pub_time),
                        }
                        out.write(json.dumps(pub, separators=(",", ":")) + "\n")
                vs = _Summary()
                for it in subset:
                    vs.add(it)
                vmeta = _dandiset_meta(w, ds_id, kind, schema, created, vs, embargoed=False)
                vmeta.update(
                    {
                        "version": vid,
                        "id": f"DANDI:{ds_id}/{vid}",
                        "doi": f"10.80507/dandi.{ds_id}/{vid}",
                        "datePublished": _iso(pub_time),
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
    w: _Writer,
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
                sha, size = _sha256_file(att.path)
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


def _break(item: dict[str, Any], i: int) -> None:
    """Damage one asset's metadata the ways real metadata is damaged."""
    meta = item["metadata"]
    damage = i % 6
    if damage == 0:
        meta["wasAttributedTo"] = {"species": "mouse", "age": "three weeks"}  # not a list
    elif damage == 1:
        meta["approach"] = "electrophysiology"  # string, not a list
        meta["dateModified"] = "yesterday"
    elif damage == 2:
        meta["schemaVersion"] = "9.9.9"
        meta["digest"] = ["not", "a", "dict"]
    elif damage == 3:
        meta["wasAttributedTo"] = [
            {"identifier": 17, "species": {"identifier": 10090}, "age": {"value": 12}}
        ]
    elif damage == 4:
        meta["wasGeneratedBy"] = [{"schemaKey": "Session", "startDate": "2020-13-45T99:00:00"}]
        meta["contentSize"] = "big"
    else:
        meta["variableMeasured"] = [None, 3, {"value": None}]
        meta["encodingFormat"] = None


class _Summary:
    def __init__(self) -> None:
        self.bytes = 0
        self.files = 0
        self.subjects: set[str] = set()
        self.species: dict[str, dict[str, Any]] = {}
        self.approach: set[str] = set()
        self.technique: set[str] = set()
        self.variables: set[str] = set()
        self.nwb = False

    def add(self, item: dict[str, Any]) -> None:
        meta = item["metadata"]
        self.bytes += int(item["size"])
        self.files += 1
        self.nwb |= meta.get("encodingFormat") == "application/x-nwb"
        for p in meta.get("wasAttributedTo") or []:
            if isinstance(p, dict):
                self.subjects.add(str(p.get("identifier")))
                sp = p.get("species")
                if isinstance(sp, dict) and isinstance(sp.get("identifier"), str):
                    self.species[sp["identifier"]] = sp
        for key, target in (("approach", self.approach), ("measurementTechnique", self.technique)):
            for a in meta.get(key) or []:
                if isinstance(a, dict) and a.get("name"):
                    target.add(a["name"])
        for v in meta.get("variableMeasured") or []:
            if isinstance(v, dict) and isinstance(v.get("value"), str):
                self.variables.add(v["value"])

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "numberOfBytes": self.bytes,
            "numberOfFiles": self.files,
            "schemaKey": "AssetsSummary",
        }
        if self.subjects:
            out["numberOfSubjects"] = len(self.subjects)
        if self.nwb:
            out["dataStandard"] = [
                {
                    "identifier": "RRID:SCR_015242",
                    "name": "Neurodata Without Borders (NWB)",
                    "schemaKey": "StandardsType",
                }
            ]
        if self.species:
            out["species"] = [self.species[k] for k in sorted(self.species)]
        if self.approach:
            out["approach"] = [
                {"name": n, "schemaKey": "ApproachType"} for n in sorted(self.approach)
            ]
        if self.technique:
            out["measurementTechnique"] = [
                {"name": n, "schemaKey": "MeasurementTechniqueType"} for n in sorted(self.technique)
            ]
        if self.variables:
            out["variableMeasured"] = sorted(self.variables)
        return out


TITLES = {
    "ecephys": "Hippocampal and visual cortex units during navigation",
    "ophys": "Two-photon calcium imaging in mouse visual cortex",
    "icephys": "Patch-clamp recordings of motor cortex neurons",
    "behavior": "Head-fixed behavior and position tracking",
    "video": "Tracking of Drosophila during egg-laying decisions",
    "bids-microscopy": "Light sheet imaging of cleared brain tissue",
    "bids-mri": "MRI of ex vivo brainstem",
}


def _dandiset_meta(
    w: _Writer,
    ds_id: str,
    kind: str,
    schema: str,
    created: datetime,
    summary: _Summary,
    *,
    embargoed: bool,
) -> dict[str, Any]:
    rng = random.Random(int(ds_id))  # stable across draft and published versions
    last = f"Lab{int(ds_id)}"
    name = f"{TITLES[kind]} ({ds_id})"
    meta: dict[str, Any] = {
        "@context": f"https://raw.githubusercontent.com/dandi/schema/master/releases/{schema}/context.json",
        "about": [
            dict(zip(("identifier", "name"), UBERON[int(ds_id) % len(UBERON)], strict=True))
            | {"schemaKey": "Anatomy"}
        ],
        "access": [
            {
                "contactPoint": {"schemaKey": "ContactPoint"},
                "schemaKey": "AccessRequirements",
                "status": "dandi:EmbargoedAccess" if embargoed else "dandi:OpenAccess",
            }
        ],
        "assetsSummary": summary.as_json(),
        "citation": f"{last}, Ada ({created.year}) {name}. DANDI archive. https://dandiarchive.org/dandiset/{ds_id}/draft",
        "contributor": [
            {
                "affiliation": [
                    {
                        "identifier": "https://ror.org/00f54p054",
                        "name": "Stanford University",
                        "schemaKey": "Affiliation",
                    }
                ],
                "email": f"ada@lab{ds_id}.example.org",
                "identifier": f"0000-0002-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                "includeInCitation": True,
                "name": f"{last}, Ada",
                "roleName": ["dcite:Author", "dcite:ContactPerson"],
                "schemaKey": "Person",
            },
            {
                "affiliation": [],
                "includeInCitation": True,
                "name": f"Grace, Hopper{int(ds_id)}",
                "roleName": ["dcite:DataCollector"],
                "schemaKey": "Person",
            },
            {
                "awardNumber": f"R01NS{rng.randint(100000, 999999)}",
                "identifier": "https://ror.org/01cwqze88",
                "includeInCitation": False,
                "name": "National Institutes of Health",
                "roleName": ["dcite:Funder"],
                "schemaKey": "Organization",
            },
        ],
        "dateCreated": _iso(created),
        "description": f"Synthetic {kind} dandiset {ds_id} generated by dandindex for testing. "
        + " ".join(
            rng.choice(["neurons", "cortex", "mice", "recordings", "imaging", "task"])
            for _ in range(12)
        ),
        "id": f"DANDI:{ds_id}/draft",
        "identifier": f"DANDI:{ds_id}",
        "keywords": sorted(
            {kind, rng.choice(["navigation", "vision", "memory", "motor"]), "synthetic"}
        ),
        "license": ["spdx:CC-BY-4.0"],
        "manifestLocation": [f"{PRODUCTION_API}/dandisets/{ds_id}/versions/draft/assets/"],
        "name": name,
        "repository": "https://dandiarchive.org",
        "schemaKey": "Dandiset",
        "schemaVersion": schema,
        "url": f"https://dandiarchive.org/dandiset/{ds_id}/draft",
        "version": "draft",
    }
    return meta


def _dump(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)


def attachments_from(files: Mapping[str, Path]) -> list[NWBAttachment]:
    """NWB attachments from ``{modality: path}`` with one subject/session each."""
    return [
        NWBAttachment(path=Path(p), modality=m, subject_id=f"{m}01", session_id=f"{m}ses1")
        for m, p in files.items()
    ]
