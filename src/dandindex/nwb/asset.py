"""One NWB asset of an archive, summarised through the archive's API.

`summarize_asset(asset, api_url, ...)` reads an HDF5 asset through
``{api_url}/assets/{id}/download/`` (a range-read stream, see `dandindex.nwb.summary`) and an
NWB-Zarr asset through the API's Zarr file listing (`dandindex.remote.zarr`). It never raises
for a bad file: the summary's ``error`` says why and ``transient`` whether to retry later.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from dandindex.errors import RemoteReadError
from dandindex.remote.asset import ArchiveAsset


def error_summary(message: str, *, transient: bool) -> dict[str, Any]:
    return {"file": {"error": message}, "objects": [], "locations": [], "transient": transient}


def summarize_asset(
    asset: ArchiveAsset,
    api_url: str,
    timeout: float,
    session: requests.Session,
) -> dict[str, Any]:
    """Read one asset's file through the API and summarise it."""
    from dandindex.nwb.summary import summarize

    if asset.is_zarr:
        return summarize_zarr_asset(asset, api_url, timeout, session)
    url = asset.api_url or f"{api_url}/assets/{asset.asset_id}/download/"
    return summarize(url, session=session, timeout=timeout, size=asset.size or None)


def summarize_zarr_asset(
    asset: ArchiveAsset, api_url: str, timeout: float, session: requests.Session
) -> dict[str, Any]:
    """NWB-Zarr: the store's .zgroup/.zattrs/.zarray through the API's Zarr file listing."""
    from dandindex.nwb.summary import summarize_zarr_tree
    from dandindex.remote.session import TransferStats
    from dandindex.remote.zarr import zarr_metadata

    t0 = time.perf_counter()
    stats = TransferStats()
    assert asset.zarr_id is not None
    try:
        files = zarr_metadata(session, api_url, asset.zarr_id, timeout=timeout, stats=stats)
        out = summarize_zarr_tree(files)
    except RemoteReadError as e:  # a missing or unreadable store is data: record why
        out = error_summary(
            f"NWB-Zarr store not readable through {api_url}/zarr/{asset.zarr_id}/files/: {e}",
            transient=e.transient,
        )
    out["file"]["bytes_read"] = stats.bytes
    out["file"]["requests"] = stats.requests
    out["file"]["seconds"] = round(time.perf_counter() - t0, 4)
    return out
