"""NWB-Zarr stores through the DANDI API: the store's JSON metadata files, never its chunks.

`zarr_metadata(session, api_url, zarr_id)` lists the store with the API's cursor-style file
listing (``/api/zarr/{id}/files/``, following ``next``) and fetches every ``.zgroup``,
``.zattrs`` and ``.zarray`` through ``?prefix=KEY&download=true`` (a redirect to the bytes),
concurrently.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from dandindex.errors import RemoteReadError
from dandindex.remote.session import TransferStats, get

METADATA_NAMES = (".zgroup", ".zattrs", ".zarray")


def zarr_metadata(
    session: requests.Session,
    api_url: str,
    zarr_id: str,
    *,
    timeout: float = 30.0,
    stats: TransferStats | None = None,
    workers: int = 16,
) -> dict[str, Any]:
    """``{"a/b/.zattrs": {...}, ...}`` for every metadata file of the store.

    Raises `RemoteReadError` (``transient`` set as for any read) when the listing or a file
    cannot be read, or a metadata file is not JSON (permanent: the bytes were read whole).
    """
    stats = stats if stats is not None else TransferStats()
    listing = f"{api_url.rstrip('/')}/zarr/{zarr_id}/files/"
    keys: list[str] = []
    url: str | None = listing
    params: dict[str, Any] | None = {"prefix": ""}
    while url:
        body = get(session, url, params=params, timeout=timeout, stats=stats, what=listing)
        try:
            page = body.json()
        except ValueError:
            raise RemoteReadError(
                f"{listing}: the Zarr file listing is not JSON", transient=True, url=listing
            ) from None
        keys += [item["Key"] for item in page.get("results") or [] if isinstance(item, dict)]
        url, params = page.get("next"), None
    wanted = [k for k in keys if k.rsplit("/", 1)[-1] in METADATA_NAMES]

    def fetch(key: str) -> tuple[str, Any]:
        r = get(
            session,
            listing,
            params={"prefix": key, "download": "true"},
            timeout=timeout,
            stats=stats,
            what=f"{listing} {key}",
        )
        try:
            return key, json.loads(r.content)
        except ValueError:
            raise RemoteReadError(
                f"{listing}: {key} is not JSON", transient=False, url=listing
            ) from None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(fetch, wanted))
