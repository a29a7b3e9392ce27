"""Raw DANDI metadata → index rows, tolerant of everything real metadata does.

Every function returns the row it could build plus a list of problems; a problem never
drops the row. Fields of the wrong type are kept when a sensible reading exists (a string
where a list belongs becomes a one-item list) and reported either way.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from dandindex.vocab.taxon import normalize_taxon

Problems = list[str]

_DURATION_RX = re.compile(
    r"^(?P<sign>-)?P(?!$)(?:(?P<y>[-\d.]+)Y)?(?:(?P<mo>[-\d.]+)M)?(?:(?P<w>[-\d.]+)W)?(?:(?P<d>[-\d.]+)D)?"
    r"(?:T(?=[-\d.])(?:(?P<h>[-\d.]+)H)?(?:(?P<mi>[-\d.]+)M)?(?:(?P<s>[-\d.]+)S)?)?$",
    re.I,
)
_BIDS_SUB = re.compile(r"(?:^|[/_])sub-([^_/]+)")
_BIDS_SES = re.compile(r"(?:^|[/_])ses-([^_/]+)")


def known_schema_versions() -> set[str]:
    """Schema versions dandischema knows (allowed inputs plus the current one)."""
    try:
        from dandischema import consts
    except ImportError:  # pragma: no cover - dandischema comes with dandi
        return set()
    known = set(getattr(consts, "ALLOWED_INPUT_SCHEMAS", []))
    known.add(consts.DANDI_SCHEMA_VERSION)
    known.update(getattr(consts, "ALLOWED_TARGET_SCHEMAS", []))
    return known


_KNOWN_SCHEMAS = known_schema_versions()


def parse_datetime(value: Any, field: str, problems: Problems) -> datetime | None:
    """ISO 8601 → aware UTC datetime; naive values (old metadata) are taken as UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        problems.append(
            f"{field}: expected an ISO 8601 date-time string, got {type(value).__name__}"
        )
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        problems.append(f"{field}: {value!r} is not an ISO 8601 date-time")
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # e.g. year 1 with a positive offset
        problems.append(f"{field}: {value!r} cannot be converted to UTC")
        return None


def duration_days(value: str) -> float | None:
    """Days in an ISO 8601 duration (``P90D``, ``P2Y``, ``P1DT12H``); None when unparseable.

    Years count 365.25 days and months 30.4375. A range ``P8M/P10M`` gives its midpoint; an
    open range ``P60D/`` gives its one end. Negative durations (``P-1D``) parse as negative.
    """
    text = value.strip()
    if "/" in text:
        ends = [duration_days(p) for p in text.split("/", 1) if p.strip()]
        vals = [e for e in ends if e is not None]
        return sum(vals) / len(vals) if vals else None
    m = _DURATION_RX.match(text)
    if not m:
        return None
    factors = {
        "y": 365.25,
        "mo": 30.4375,
        "w": 7.0,
        "d": 1.0,
        "h": 1 / 24,
        "mi": 1 / 1440,
        "s": 1 / 86400,
    }
    total = 0.0
    try:
        for key, factor in factors.items():
            if m.group(key):
                total += float(m.group(key)) * factor
    except ValueError:
        return None
    return -total if m.group("sign") else total


def as_list(value: Any, field: str, problems: Problems) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    problems.append(f"{field}: expected a list, got {type(value).__name__}")
    return [value]


def names(value: Any, field: str, problems: Problems, key: str = "name") -> list[str]:
    """Names from a list of objects (``[{"name": ...}]``) or plain strings."""
    out: list[str] = []
    for item in as_list(value, field, problems):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get(key), str):
            out.append(item[key])
        elif isinstance(item, dict) and item.get(key) is None and isinstance(item.get("name"), str):
            out.append(item["name"])
        else:
            problems.append(f"{field}: item {item!r:.60} has no {key!r} string")
    return out


def texts(value: Any, field: str, problems: Problems) -> list[str]:
    """A list of strings; other items are read as text (and reported), nulls dropped."""
    out = []
    for i, item in enumerate(as_list(value, field, problems)):
        text = as_str(item, f"{field}[{i}]", problems)
        if text is not None:
            out.append(text)
    return out


def as_str(value: Any, field: str, problems: Problems) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        problems.append(f"{field}: expected a string, got {type(value).__name__}")
        return str(value)
    problems.append(f"{field}: expected a string, got {type(value).__name__}")
    return json.dumps(value, sort_keys=True)


INT64 = (-(2**63), 2**63 - 1)


def as_int(value: Any, field: str, problems: Problems) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        problems.append(f"{field}: expected an integer, got bool")
        return None
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            problems.append(f"{field}: {value} does not fit in 64 bits")
            return None
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        problems.append(f"{field}: integer stored as a string")
        return as_int(int(value), field, problems)
    problems.append(f"{field}: expected an integer, got {value!r:.40}")
    return None


def as_dict(value: Any, field: str, problems: Problems) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    problems.append(f"{field}: expected an object, got {type(value).__name__}")
    return {}


def check_schema(meta: dict[str, Any], problems: Problems) -> str | None:
    version = meta.get("schemaVersion")
    if version is None:
        problems.append("schemaVersion: missing")
        return None
    text = str(version)
    if _KNOWN_SCHEMAS and text not in _KNOWN_SCHEMAS:
        problems.append(
            f"schemaVersion: unknown schema version {text!r}; read as the nearest known shape"
        )
    return text


def bids_entity(path: str, rx: re.Pattern[str]) -> str | None:
    m = rx.search(path)
    return m.group(1) if m else None


# ----------------------------------------------------------------------------- versions


def version_rows(
    dandiset_id: str, version: str, meta: Any, info: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]], Problems]:
    """(versions row, contributor rows, problems) from a version's raw metadata.

    `info` is the version's entry from the API (status, modified, asset_count).
    """
    problems: Problems = []
    raw = meta
    if not isinstance(meta, dict):
        problems.append(f"metadata: expected an object, got {type(meta).__name__}")
        meta = {}
    summary = as_dict(meta.get("assetsSummary"), "assetsSummary", problems)
    species_objs = as_list(summary.get("species"), "assetsSummary.species", problems)
    species_ids = []
    for s in species_objs:
        if isinstance(s, dict):
            tid = normalize_taxon(s.get("identifier"))
            if tid:
                species_ids.append(tid)
    name = as_str(meta.get("name"), "name", problems)
    about = [a for a in as_list(meta.get("about"), "about", problems) if isinstance(a, dict)]
    anatomy = names(
        # Anatomy, and the GenericType entries labs use for regions (Disorders are not places)
        [
            a
            for a in about
            if a.get("schemaKey") in (None, "Anatomy", "GenericType") and a.get("name") is not None
        ],  # fmt: skip
        "about",
        problems,
    )
    doi = as_str(meta.get("doi"), "doi", problems) if version != "draft" else None
    row = {
        "dandiset_id": dandiset_id,
        "version": version,
        "name": name,
        "description": as_str(meta.get("description"), "description", problems),
        "status": info.get("status"),
        "schema_version": check_schema(meta, problems),
        "license": texts(meta.get("license"), "license", problems),
        "keywords": texts(meta.get("keywords"), "keywords", problems),
        "doi": doi,
        "citation": as_str(meta.get("citation"), "citation", problems),
        "date_created": parse_datetime(meta.get("dateCreated"), "dateCreated", problems),
        "date_published": parse_datetime(meta.get("datePublished"), "datePublished", problems)
        if version != "draft"
        else None,
        "modified": parse_datetime(info.get("modified"), "modified", problems),
        "species": names(species_objs, "assetsSummary.species", problems),
        "species_id": species_ids,
        "approach": names(summary.get("approach"), "assetsSummary.approach", problems),
        "measurement_technique": names(
            summary.get("measurementTechnique"), "assetsSummary.measurementTechnique", problems
        ),
        "variable_measured": names(
            summary.get("variableMeasured"), "assetsSummary.variableMeasured", problems, key="value"
        ),
        "data_standard": names(summary.get("dataStandard"), "assetsSummary.dataStandard", problems),
        "anatomy": anatomy,
        "number_of_bytes": as_int(
            summary.get("numberOfBytes"), "assetsSummary.numberOfBytes", problems
        ),
        "number_of_files": as_int(
            summary.get("numberOfFiles"), "assetsSummary.numberOfFiles", problems
        ),
        "number_of_subjects": as_int(
            summary.get("numberOfSubjects"), "assetsSummary.numberOfSubjects", problems
        ),
        "asset_count": info.get("asset_count"),
        "metadata_json": json.dumps(raw, ensure_ascii=False, separators=(",", ":")),
    }
    contributors = []
    for i, c in enumerate(as_list(meta.get("contributor"), "contributor", problems)):
        if not isinstance(c, dict):
            problems.append(f"contributor[{i}]: expected an object, got {type(c).__name__}")
            continue
        ident = as_str(c.get("identifier"), f"contributor[{i}].identifier", problems)
        is_person = c.get("schemaKey") == "Person" if c.get("schemaKey") else None
        orcid = None
        if ident and is_person:
            m = re.search(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])", ident)
            orcid = m.group(1) if m else None
        contributors.append(
            {
                "dandiset_id": dandiset_id,
                "version": version,
                "position": i,
                "name": as_str(c.get("name"), f"contributor[{i}].name", problems),
                "roles": [
                    str(r)
                    for r in as_list(c.get("roleName"), f"contributor[{i}].roleName", problems)
                ],
                "orcid": orcid,
                "identifier": ident,
                "affiliation": names(
                    c.get("affiliation"), f"contributor[{i}].affiliation", problems
                ),
                "is_person": is_person,
                "include_in_citation": c.get("includeInCitation")
                if isinstance(c.get("includeInCitation"), bool)
                else None,
            }
        )
    if why := name_problem(name):
        problems.append(why)
    return row, contributors, problems


# ----------------------------------------------------------------------------- assets


#: a name longer than this is kept but recorded (a dandiset's name is a title)
LONG_NAME = 1000


def name_problem(name: str | None, field: str = "name") -> str | None:
    """Why a dandiset's name is suspicious (missing, huge, control characters), or None."""
    if not name or not name.strip():
        return f"{field}: missing or empty"
    if len(name) > LONG_NAME:
        return f"{field}: {len(name):,} characters long (kept; a title is under {LONG_NAME})"
    if any(ord(c) < 32 and c not in "\t\n\r" for c in name):
        return f"{field}: holds control characters (kept)"
    return None


def path_problem(path: str) -> str | None:
    """Why an asset path is unsafe to use as one (``..``, absolute, NUL or control
    characters), or None. Such a path is kept in the index as given, recorded, and never
    made into a file name (`dandindex.display.file_stem`)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return f"path: {path!r:.80} holds NUL or control characters (kept as given)"
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", path):
        return f"path: {path!r:.80} is absolute (kept as given)"
    if ".." in re.split(r"[\\/]", path):
        return f"path: {path!r:.80} climbs out of the dandiset with '..' (kept as given)"
    return None


def asset_row(
    item: dict[str, Any], dandiset_id: str, version: str, api_url: str
) -> tuple[dict[str, Any], Problems]:
    """One assets row from an asset list item (with ``metadata``), and its problems."""
    problems: Problems = []
    raw_meta = item.get("metadata")
    meta = as_dict(raw_meta, "metadata", problems)
    if raw_meta is None:
        problems.append("metadata: missing from the listing")
    asset_id = as_str(item.get("asset_id"), "asset_id", problems)
    if not asset_id:
        problems.append("asset_id: missing from the listing")
        asset_id = None
    listed_path = as_str(item.get("path"), "path", problems)
    meta_path = as_str(meta.get("path"), "metadata.path", problems)
    path = listed_path or meta_path
    if not path:
        problems.append("path: missing from the listing and the metadata")
        path = ""
    elif not listed_path:
        problems.append("path: missing from the listing; the metadata's path is used")
    elif meta_path and meta_path != listed_path:
        problems.append(
            f"metadata.path: {meta_path!r:.80} differs from the listed path (the listed one is used)"
        )
    if path and (why := path_problem(path)):
        problems.append(why)
    digest = as_dict(meta.get("digest"), "digest", problems)
    content_urls = as_list(meta.get("contentUrl"), "contentUrl", problems)
    s3_url = next(
        (u for u in content_urls if isinstance(u, str) and ("amazonaws.com" in u or "/s3/" in u)),
        None,
    )
    participants = as_list(meta.get("wasAttributedTo"), "wasAttributedTo", problems)
    subject: dict[str, Any] = {}
    for p in participants:
        if isinstance(p, dict):
            subject = p
            break
        problems.append(f"wasAttributedTo: item is {type(p).__name__}, not an object")
    species = subject.get("species")
    species_name = species_id = None
    if isinstance(species, dict):
        species_name = as_str(species.get("name"), "species.name", problems)
        species_id = normalize_taxon(species.get("identifier"))
        if species.get("identifier") is not None and species_id is None:
            problems.append(
                f"species.identifier: {species.get('identifier')!r} is not an NCBITaxon id"
            )
    elif species is not None:
        problems.append(f"species: expected an object, got {type(species).__name__}")
        species_name = str(species)
    sex = subject.get("sex")
    sex_name = (
        as_str(sex.get("name"), "sex.name", problems)
        if isinstance(sex, dict)
        else as_str(sex, "sex", problems)
    )
    age = subject.get("age")
    age_raw = None
    if isinstance(age, dict):
        age_raw = as_str(age.get("value"), "age.value", problems)
    elif age is not None:
        age_raw = as_str(age, "age", problems)
    age_days = duration_days(age_raw) if age_raw else None
    if age_days is not None and not -1000 <= age_days <= 200 * 365.25:
        problems.append(f"age: {age_raw!r:.40} is not a plausible age; age_days left empty")
        age_days = None
    elif age_raw and age_days is None:
        problems.append(f"age: {age_raw!r} is not an ISO 8601 duration")
    genotype = subject.get("genotype")
    if isinstance(genotype, list):
        genotype_str: str | None = "; ".join(
            g if isinstance(g, str) else json.dumps(g, sort_keys=True) for g in genotype
        )
    else:
        genotype_str = as_str(genotype, "genotype", problems)
    strain = subject.get("strain")
    strain_name = (
        as_str(strain.get("name"), "strain.name", problems)
        if isinstance(strain, dict)
        else as_str(strain, "strain", problems)
    )
    sessions = [
        s
        for s in as_list(meta.get("wasGeneratedBy"), "wasGeneratedBy", problems)
        if isinstance(s, dict) and s.get("schemaKey") == "Session"
    ]
    session = sessions[0] if sessions else {}
    about = [a for a in as_list(meta.get("about"), "about", problems) if isinstance(a, dict)]
    subject_id = as_str(subject.get("identifier"), "wasAttributedTo.identifier", problems)
    subject_id = bids_entity(path, _BIDS_SUB) or subject_id
    session_id = bids_entity(path, _BIDS_SES) or as_str(
        session.get("identifier"), "Session.identifier", problems
    )
    content_size = as_int(meta.get("contentSize"), "contentSize", problems)
    size = as_int(item.get("size"), "size", problems)
    if size is None and item.get("size") is not None:
        size = content_size
        problems.append("size: not usable; the metadata's contentSize is used")
    elif size is None:
        size = content_size
    if size is None:
        problems.append("size: missing from the listing and the metadata")
    elif size < 0:
        problems.append(f"size: {size} is negative (kept)")
    row = {
        "asset_id": asset_id,
        "dandiset_id": dandiset_id,
        "version": version,
        "path": path,
        "size": size,
        "blob_id": as_str(item.get("blob"), "blob", problems),
        "zarr_id": as_str(item.get("zarr"), "zarr", problems),
        "encoding_format": as_str(meta.get("encodingFormat"), "encodingFormat", problems),
        "created": parse_datetime(item.get("created"), "created", problems),
        "modified": parse_datetime(item.get("modified"), "modified", problems),
        "sha256": as_str(digest.get("dandi:sha2-256"), "digest.sha2-256", problems),
        "etag": as_str(digest.get("dandi:dandi-etag"), "digest.dandi-etag", problems),
        "zarr_checksum": as_str(
            digest.get("dandi:dandi-zarr-checksum"), "digest.zarr-checksum", problems
        ),
        "api_url": f"{api_url.rstrip('/')}/assets/{asset_id}/download/" if asset_id else None,
        "s3_url": s3_url,
        "subject_id": subject_id,
        "session_id": session_id,
        "species": species_name,
        "species_id": species_id,
        "sex": sex_name,
        "age": age_raw,
        "age_days": age_days,
        "genotype": genotype_str,
        "strain": strain_name,
        "approach": names(meta.get("approach"), "approach", problems),
        "measurement_technique": names(
            meta.get("measurementTechnique"), "measurementTechnique", problems
        ),
        "variable_measured": names(
            meta.get("variableMeasured"), "variableMeasured", problems, key="value"
        ),
        "anatomy": names(about, "about", problems),
        "session_start": parse_datetime(session.get("startDate"), "Session.startDate", problems),
        "schema_version": check_schema(meta, problems) if raw_meta is not None else None,
        "metadata_json": json.dumps(raw_meta, ensure_ascii=False, separators=(",", ":")),
    }
    parse_datetime(meta.get("dateModified"), "dateModified", problems)
    return row, problems


# ----------------------------------------------------------------------------- the listing
