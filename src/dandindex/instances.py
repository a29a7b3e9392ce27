"""The DANDI instances dandindex knows, and the identifiers users already use for an asset:
``dandi://`` URLs (what ``dandi download`` takes) and the archive's web pages."""

from __future__ import annotations

from urllib.parse import quote

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
