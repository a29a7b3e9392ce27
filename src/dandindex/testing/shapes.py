"""The DANDI API's response shapes, parameter parsing and search, as the real archive has them.

Pure functions over `dandindex.testing.snapshot` records: pagination parameters (DRF's
PageNumberPagination), booleans (DRF's BooleanField), Dandiset/version/asset JSON, the
``search`` operators and orderings, S3-style single byte ranges.
"""

from __future__ import annotations

import re
from typing import Any

from dandindex.testing.snapshot import AssetRecord, DandisetData, VersionData

PRODUCTION_API = "https://api.dandiarchive.org/api"
PRODUCTION_S3 = "https://dandiarchive.s3.amazonaws.com/"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
SCHEMA_VERSION = "0.7.0"


class HTTPError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found(detail: str = "Not found.") -> HTTPError:
    return HTTPError(404, {"detail": detail})


_TRUE = {"true", "True", "TRUE", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "False", "FALSE", "0", "no", "off", "n", "f", ""}


def parse_bool(params: dict[str, str], name: str, default: bool) -> bool:
    """DRF BooleanField parsing: unknown values are a 400, as on the real API."""
    if name not in params:
        return default
    value = params[name]
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise HTTPError(400, {name: ["Must be a valid boolean."]})


def page_params(params: dict[str, str]) -> tuple[int, int]:
    """DRF PageNumberPagination: bad page_size → default; bad page → 404 'Invalid page.'."""
    try:
        size = int(params.get("page_size", DEFAULT_PAGE_SIZE))
        if size <= 0:
            raise ValueError
        size = min(size, MAX_PAGE_SIZE)
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    raw_page = params.get("page", "1")
    try:
        page = int(raw_page)
        if page < 1:
            raise ValueError
    except ValueError:
        raise not_found("Invalid page.") from None
    return page, size


def iso_z(text: str) -> str:
    """A stored date-time as the API writes it: UTC with a ``Z`` (DRF's DateTimeField)."""
    from datetime import datetime, timezone

    if not text:
        return text
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError):
        return text


def version_summary(v: VersionData, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": v.version,
        "name": v.name,
        "asset_count": len(v.assets),
        "size": v.size,
        "status": v.status,
        "created": iso_z(v.created),
        "modified": iso_z(v.modified),
    }
    if detail:
        out["active_uploads"] = 0
        out["release_notes"] = v.metadata.get("releaseNotes") if v.version != "draft" else None
    return out


def dandiset_summary(ds: DandisetData, *, detail: bool = False) -> dict[str, Any]:
    mrp = ds.most_recent_published
    return {
        "identifier": ds.identifier,
        "created": iso_z(ds.created),
        "modified": iso_z(ds.modified),
        "contact_person": ds.contact_person,
        "embargo_status": ds.embargo_status,
        "star_count": ds.star_count,
        "is_starred": False,
        "most_recent_published_version": version_summary(mrp, detail=detail) if mrp else None,
        "draft_version": version_summary(ds.draft, detail=detail),
    }


def asset_item(rec: AssetRecord, *, metadata: bool, rewrite: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "asset_id": rec.asset_id,
        "blob": rec.blob,
        "zarr": rec.zarr,
        "path": rec.path,
        "size": rec.size,
        "created": iso_z(rec.created),
        "modified": iso_z(rec.modified),
    }
    if metadata:
        out["metadata"] = rewrite_urls(rec.read_metadata(), rewrite)
    return out


def rewrite_urls(meta: dict[str, Any], api_url: str | None) -> dict[str, Any]:
    """With `api_url`, point production ``contentUrl`` entries at this server: the API's
    download URL, and the S3 one (a blob's or a Zarr's prefix) at its ``/s3/`` routes."""
    if not api_url:
        return meta
    s3 = api_url.rsplit("/api", 1)[0] + "/s3/"
    urls = meta.get("contentUrl")
    if isinstance(urls, list):
        meta = dict(meta)
        meta["contentUrl"] = [
            api_url + u[len(PRODUCTION_API) :]
            if isinstance(u, str) and u.startswith(PRODUCTION_API)
            else s3 + u[len(PRODUCTION_S3) :]
            if isinstance(u, str) and u.startswith(PRODUCTION_S3)
            else u
            for u in urls
        ]
    return meta


def s3_blob_key(blob_id: str) -> str:
    return f"blobs/{blob_id[0:3]}/{blob_id[3:6]}/{blob_id}"


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """One byte range like S3: ``None`` = ignore (serve whole), ``"invalid"`` = 416."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not m:
        return None  # multiple or malformed ranges: S3 serves the whole object
    first, last = m.groups()
    if first == "" and last == "":
        return None
    if first == "":
        n = int(last)
        if n == 0:
            return "invalid"
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or (last and end < start):
        return "invalid"
    return start, min(end, size - 1)


_OPERATORS = {
    "created_before",
    "created_after",
    "modified_before",
    "modified_after",
    "published_before",
    "published_after",
    "species",
    "approach",
    "technique",
    "file_type",
    "owner",
}


def _summary_names(meta: dict[str, Any], key: str) -> list[str]:
    summary = meta.get("assetsSummary") or {}
    out = []
    for item in summary.get(key) or []:
        if isinstance(item, dict):
            out.append(str(item.get("name") or ""))
        else:
            out.append(str(item))
    return [o.lower() for o in out]


def _search(found: list[DandisetData], query: str) -> list[DandisetData]:
    """The API's ``search``: ``key:value`` operators, then words that must all appear."""
    words: list[str] = []
    ops: list[tuple[str, str]] = []
    for token in query.split():
        m = re.fullmatch(r"([a-z_]+):(.+)", token)
        if m and m.group(1) in _OPERATORS:
            ops.append((m.group(1), m.group(2).lower()))
        elif m and not token.startswith(("http:", "https:")):
            raise HTTPError(400, {"search": [f"Unknown search operator: {m.group(1)}"]})
        else:
            words.append(token.lower())
    out = []
    for ds in found:
        text = ds.metadata_text()
        if not all(w in text for w in words):
            continue
        meta = ds.most_recent.metadata
        ok = True
        for key, value in ops:
            if key in ("species", "approach"):
                ok = any(value in n for n in _summary_names(meta, key))
            elif key == "technique":
                ok = any(value in n for n in _summary_names(meta, "measurementTechnique"))
            elif key.startswith(("created", "modified", "published")):
                field_name, side = key.split("_")
                stamp = {
                    "created": ds.created,
                    "modified": ds.modified,
                    "published": ds.most_recent_published.created
                    if ds.most_recent_published
                    else "",
                }[field_name][:10]
                ok = bool(stamp) and (stamp < value if side == "before" else stamp > value)
            elif key == "file_type":
                formats = {
                    str(a) for a in (meta.get("assetsSummary") or {}).get("dataStandard") or []
                }
                ok = value in " ".join(formats).lower() or value in text
            elif key == "owner":
                ok = value in ds.contact_person.lower()
            if not ok:
                break
        if ok:
            out.append(ds)
    return out


def _order_dandisets(found: list[DandisetData], ordering: str) -> list[DandisetData]:
    key = ordering.lstrip("-")
    keyfuncs = {
        "id": lambda d: d.identifier,
        "name": lambda d: d.most_recent.name.lower(),
        "modified": lambda d: d.modified,
        "size": lambda d: d.most_recent.size,
        "stars": lambda d: d.star_count,
    }
    if key not in keyfuncs:
        return sorted(found, key=lambda d: (d.created, d.identifier))
    return sorted(
        found, key=lambda d: (keyfuncs[key](d), d.identifier), reverse=ordering.startswith("-")
    )
