"""Raw DANDI metadata for generated archives: asset list items, dandiset metadata, summaries.

`MetadataWriter.asset(...)` makes one asset list item (with its ``metadata``) as the real
archive serves it; `dandiset_meta` a dandiset's raw metadata with its ``assetsSummary``
(`AssetsSummary` accumulates it); `damage` breaks an asset's metadata the ways real metadata
is broken.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dandindex.testing.catalogue import (
    AGES,
    MODALITIES,
    PRODUCTION_API,
    S3,
    SEXES,
    SPECIES,
    TITLES,
    UBERON,
)


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z") if t.tzinfo else t.isoformat()


def sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def species_json(taxon: str, schema: str) -> dict[str, Any]:
    for tid, new, old in SPECIES:
        if tid == taxon:
            name = old if schema < "0.6.4" else new
            return {
                "identifier": f"http://purl.obolibrary.org/obo/NCBITaxon_{tid}",
                "name": name,
                "schemaKey": "SpeciesType",
            }
    raise KeyError(taxon)


class MetadataWriter:
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
        asset_id = random_uuid(rng)
        blob_or_zarr = random_uuid(rng)
        meta: dict[str, Any] = {
            "@context": f"https://raw.githubusercontent.com/dandi/schema/master/releases/{schema}/context.json",
            "access": [
                {
                    "schemaKey": "AccessRequirements",
                    "status": "dandi:EmbargoedAccess" if embargoed else "dandi:OpenAccess",
                }
            ],
            "blobDateModified": iso(created - timedelta(hours=3)),
            "contentSize": size,
            "contentUrl": [
                f"{PRODUCTION_API}/assets/{asset_id}/download/",
                f"{S3}/zarr/{blob_or_zarr}/"
                if zarr
                else f"{S3}/blobs/{blob_or_zarr[:3]}/{blob_or_zarr[3:6]}/{blob_or_zarr}",
            ],
            "dateModified": iso(created - timedelta(minutes=5)),
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
                "species": species_json(taxon, schema),
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
                    "startDate": iso(start),
                }
            )
            if meta["wasGeneratedBy"][-1]["identifier"] is None:
                del meta["wasGeneratedBy"][-1]["identifier"]
        meta["wasGeneratedBy"].append(
            {
                "description": "Metadata generated by DANDI cli",
                "id": f"urn:uuid:{random_uuid(rng)}",
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
            "created": iso(created),
            "modified": iso(created + timedelta(seconds=1)),
            "path": path,
            "size": size,
            "metadata": meta,
        }
        return item, blob_or_zarr


def damage(item: dict[str, Any], i: int) -> None:
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


class AssetsSummary:
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


def dandiset_meta(
    w: MetadataWriter,
    ds_id: str,
    kind: str,
    schema: str,
    created: datetime,
    summary: AssetsSummary,
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
        "dateCreated": iso(created),
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
