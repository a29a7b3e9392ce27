"""The DANDI instances dandindex knows, and the identifiers users already use for an asset:
``dandi://`` URLs (what ``dandi download`` takes) and the archive's web pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

# name: (API URL, web site)
KNOWN: dict[str, tuple[str, str]] = {
    "dandi": ("https://api.dandiarchive.org/api", "https://dandiarchive.org"),
    "dandi-sandbox": (
        "https://api.sandbox.dandiarchive.org/api",
        "https://sandbox.dandiarchive.org",
    ),
    "linc": ("https://api.lincbrain.org/api", "https://lincbrain.org"),
    "ember-dandi": ("https://api-dandi.emberarchive.org/api", "https://dandi.emberarchive.org"),
}


def instance_of(api_url: str | None) -> str | None:
    """The instance name of an API URL, if it is a known one."""
    if not api_url:
        return None
    base = api_url.rstrip("/")
    return next((name for name, (api, _) in KNOWN.items() if api == base), None)


def api_base(url: str) -> str:
    """``https://host/api`` from any URL of that API (``.../api/assets/<id>/download/``)."""
    return url.split("/api/", 1)[0] + "/api" if "/api/" in url else url.rstrip("/")


def dandi_url(api_url: str, dandiset_id: str, version: str, path: str) -> str:
    """What ``dandi download`` takes for one asset: ``dandi://<instance>/<id>@<version>/<path>``
    for a known instance, else the API's own URL of the asset by path."""
    name = instance_of(api_url)
    if name is not None:
        return f"dandi://{name}/{dandiset_id}@{version}/{path}"
    base = api_url.rstrip("/")
    return f"{base}/dandisets/{dandiset_id}/versions/{version}/assets/?path={quote(path)}"


def web_url(api_url: str, dandiset_id: str, version: str | None = None) -> str:
    """The archive's web page of a dandiset (a version of it)."""
    name = instance_of(api_url)
    site = KNOWN[name][1] if name else api_url.rstrip("/").rsplit("/api", 1)[0]
    return f"{site}/dandiset/{dandiset_id}" + (f"/{version}" if version else "")


@dataclass(frozen=True)
class AssetRef:
    """What a user's reference to one asset says: an asset id, or a dandiset and a path
    (with a version when the reference names one)."""

    asset_id: str | None = None
    dandiset_id: str | None = None
    path: str | None = None
    version: str | None = None


def parse_asset_ref(ref: str) -> AssetRef:
    """Every way people write one asset: its UUID; ``DANDISET/PATH`` or
    ``DANDISET@VERSION/PATH``; ``dandi://INSTANCE/DANDISET[@VERSION]/PATH``;
    ``DANDI:DANDISET/VERSION/PATH``; an API URL of the asset (``.../assets/<id>/``,
    ``.../download/``) or of its path (``.../versions/<v>/assets/?path=...``)."""
    ref = ref.strip()
    if ref.startswith(("http://", "https://")):
        parts = urlsplit(ref)
        query = parse_qs(parts.query)
        m = re.search(r"/dandisets/(\d{6})/versions/([^/]+)/assets/?$", parts.path)
        if m and query.get("path"):
            return AssetRef(dandiset_id=m[1], version=m[2], path=query["path"][0])
        m = re.search(r"/assets/([0-9a-f-]{36})(/|$)", parts.path)
        return AssetRef(asset_id=m[1] if m else ref)
    if ref.startswith("dandi://"):
        rest = ref.removeprefix("dandi://").split("/", 1)[-1]  # drop the instance name
        ds, _, path = rest.partition("/")
        ident, _, version = ds.partition("@")
        return AssetRef(dandiset_id=ident, path=unquote(path), version=version or None)
    if ref.upper().startswith("DANDI:"):
        ident, _, rest = ref[6:].partition("/")
        version, _, path = rest.partition("/")
        if version != "draft" and not re.fullmatch(r"\d+\.\d+\.\d+", version):
            return AssetRef(dandiset_id=ident, path=rest)  # DANDI:000003/PATH
        return AssetRef(dandiset_id=ident, version=version, path=path)
    if "/" in ref:
        ds, _, path = ref.partition("/")
        ident, _, version = ds.partition("@")
        return AssetRef(dandiset_id=ident, path=path, version=version or None)
    return AssetRef(asset_id=ref)


def with_links(table: Any, level: str, api: str) -> Any:
    """Result rows (an Arrow table) with the identifiers users already know appended:
    ``dandi_url`` (what ``dandi download`` takes) for assets, ``web_url`` (the archive's page
    of the dandiset version) at both levels."""
    import pyarrow as pa

    keep = [
        c for c in ("dandiset_id", "version", "path", "latest_version") if c in table.column_names
    ]
    rows = table.select(keep).to_pylist()
    if level == "dandiset":
        web = [web_url(api, r["dandiset_id"], r.get("latest_version") or "draft") for r in rows]
        return table.append_column("web_url", pa.array(web, pa.string()))
    urls = [dandi_url(api, r["dandiset_id"], r["version"], r["path"]) for r in rows]
    web = [web_url(api, r["dandiset_id"], r["version"]) for r in rows]
    table = table.append_column("dandi_url", pa.array(urls, pa.string()))
    return table.append_column("web_url", pa.array(web, pa.string()))
