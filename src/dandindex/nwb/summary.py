"""Summarise one NWB file (local path or URL) into the rows of the nwb_* tables.

`summarize(source)` never raises for a bad file: unreadable, truncated, non-HDF5, missing
(404) or unreachable files give a summary whose ``error`` says why. ``transient`` marks
errors worth retrying on a later crawl: it is the `RemoteReadError.transient` of a read that
failed (HTTP 404/5xx after retries, connection failures, bodies cut short); an error found in
bytes that were read whole (not HDF5, damaged) is permanent, so an unchanged bad blob is not
read again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dandindex.errors import RemoteReadError
from dandindex.nwb.walk import MAX_VALUE_BYTES, summarize_h5


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def summarize(
    source: str | os.PathLike[str],
    *,
    session: Any | None = None,
    timeout: float = 30.0,
    max_value_bytes: int = MAX_VALUE_BYTES,
    token: str | None = None,
    size: int | None = None,
) -> dict[str, Any]:
    """``{"file": {...}, "objects": [...], "locations": [...], "transient": bool}``.

    `size`: the file's size when known (the asset's, from the API): the opening request is
    then sized for the file (a tiny one read whole, a small one's two ends in one burst).
    """
    t0 = time.perf_counter()
    src = str(source)
    rf = None
    out: dict[str, Any] = {"file": {}, "objects": [], "locations": [], "transient": False}
    try:
        if _is_url(src):
            from dandindex.remote.rangefile import RangeFile

            rf = RangeFile(src, session=session, timeout=timeout, token=token, size=size)
            result = summarize_h5(rf, rangefile=rf, max_value_bytes=max_value_bytes)
            if rf.failed is not None:  # h5py (or the walk) swallowed a failed read
                raise rf.failed
            out["file"]["size"] = rf.size
        elif Path(src).is_dir():
            return summarize_zarr_dir(Path(src))
        else:
            result = summarize_h5(src, max_value_bytes=max_value_bytes)
            out["file"]["size"] = Path(src).stat().st_size
        out["file"].update(result.file)
        out["objects"] = result.objects
        out["locations"] = result.locations
        out["warnings"] = result.warnings[:50]
    except Exception as e:  # a bad file is data, not a crash: record why
        # a read that failed makes the error what it was, whatever h5py made of it
        cause = rf.failed if rf is not None and rf.failed is not None else e
        out["file"]["error"], out["transient"] = describe_error(cause)
        out["status"] = getattr(cause, "status", None)  # 404: not on the server
    finally:
        if rf is not None:
            out["file"]["bytes_read"] = rf.stats.bytes
            out["file"]["requests"] = rf.stats.requests
            out["file"]["metadata_ranges"] = [[a, n] for a, n in rf.used_ranges()]
            # the blob URL after the API's redirect, without the presign query (like
            # dandi-cli's get_content_url(strip_query=True)): it serves open data directly
            out["file"]["read_url"] = rf.url.split("?", 1)[0]
            rf.close()
        out["file"]["seconds"] = round(time.perf_counter() - t0, 4)
    return out


def describe_error(e: BaseException) -> tuple[str, bool]:
    """(a sentence for the error column, whether a later crawl should retry)."""
    msg = str(e) or type(e).__name__
    if isinstance(e, RemoteReadError):
        return f"could not read the file over HTTP: {msg}", e.transient
    if isinstance(e, OSError):
        lowered = msg.lower()
        if "signature" in lowered or "not an hdf5" in lowered:
            return f"not an HDF5 file ({msg})", False
        if "truncated" in lowered or "eof" in lowered or "addr overflow" in lowered:
            return f"truncated or damaged HDF5 file ({msg})", False
        return f"HDF5 could not read the file: {msg}", False
    return f"{type(e).__name__}: {msg}", False


# ----------------------------------------------------------------------------- Zarr


def summarize_zarr_tree(files: dict[str, Any]) -> dict[str, Any]:
    """A summary from an NWB-Zarr store's metadata JSON: ``{"a/b/.zattrs": {...}, ...}``.

    Types, namespaces, shapes, dtypes and chunks come from ``.zattrs``/``.zarray``; values
    stored in chunks (strings such as locations) are not read for Zarr.
    """
    from dandindex.nwb.hierarchy import TypeHierarchy

    hierarchy = TypeHierarchy()
    nodes: dict[str, dict[str, Any]] = {}
    for key, content in files.items():
        folder, _, name = key.rpartition("/")
        path = "/" + folder if folder else "/"
        if path.startswith("/specifications"):
            continue
        node = nodes.setdefault(path, {})
        node[name] = content
    objects = []
    for path in sorted(nodes):
        attrs = nodes[path].get(".zattrs") or {}
        ndtype = attrs.get("neurodata_type")
        if not isinstance(ndtype, str):
            continue
        array = nodes[path].get(".zarray")
        data = array or (nodes.get(path.rstrip("/") + "/data") or {}).get(".zarray")
        unit_attrs = (nodes.get(path.rstrip("/") + "/data") or {}).get(".zattrs") or {}
        desc = attrs.get("description")
        objects.append(
            {
                "path": path,
                "neurodata_type": ndtype,
                "namespace": attrs.get("namespace"),
                "base_types": hierarchy.ancestors(ndtype),
                "parent_path": None if path == "/" else (path.rsplit("/", 1)[0] or "/"),
                "object_id": attrs.get("object_id"),
                "is_dataset": array is not None,
                "shape": list(data["shape"]) if data and "shape" in data else None,
                "dtype": str(data.get("dtype")) if data else None,
                "chunks": list(data["chunks"]) if data and data.get("chunks") else None,
                "compression": (data.get("compressor") or {}).get("id") if data else None,
                "unit": unit_attrs.get("unit"),
                "conversion": unit_attrs.get("conversion"),
                "rate": None,
                "starting_time": None,
                "n_timestamps": None,
                "n_rows": None,
                "description": desc[:300] if isinstance(desc, str) else None,
                "columns": _colnames(attrs.get("colnames")),
            }
        )
    root = (nodes.get("/") or {}).get(".zattrs") or {}
    types = sorted({str(o["neurodata_type"]) for o in objects})
    file = {
        "nwb_version": root.get("nwb_version"),
        "n_objects": len(objects),
        "neurodata_types": types,
        "n_imaging_planes": sum(1 for o in objects if o["neurodata_type"] == "ImagingPlane"),
        "error": None if objects else "no NWB types found in the Zarr metadata",
    }
    return {"file": file, "objects": objects, "locations": [], "transient": False}


def _colnames(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def summarize_zarr_dir(folder: Path) -> dict[str, Any]:
    import json

    t0 = time.perf_counter()
    files = {}
    for p in folder.rglob("*"):
        if p.name in (".zattrs", ".zarray", ".zgroup") and p.is_file():
            try:
                files[p.relative_to(folder).as_posix()] = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
    out = summarize_zarr_tree(files)
    out["file"]["seconds"] = round(time.perf_counter() - t0, 4)
    return out
