"""One file that is not NWB → its summary, from a local path, an http(s) URL or an archive
asset; errors are data.

`summarize_media(source)` (the ``summarize`` command) and `summarize_media_asset(asset, ...)`
(the crawl's workers) never raise for a bad file: the summary's ``error`` says why and
``transient`` whether a later crawl should try again (a read that failed over HTTP may pass
later; a file whose bytes were read and are damaged will not). Each summary counts the bytes
and requests it cost and the seconds it took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dandindex.errors import RemoteReadError
from dandindex.formats import MAX_TEXT_BYTES, FormatError, kind_of
from dandindex.formats.source import LocalKeys, RemoteKeys, is_url, open_bytes
from dandindex.remote.asset import ArchiveAsset
from dandindex.remote.session import TransferStats


@dataclass(frozen=True)
class MediaAsset(ArchiveAsset):
    """An archive asset a crawl reads the headers of: an `ArchiveAsset`'s fields (the API's view
    of an asset) and what else says what it is and where its bytes are."""

    zarr_checksum: str | None
    encoding_format: str | None
    s3_url: str | None

    @property
    def key(self) -> str:
        """What its summary is cached under: the content's digest, else its blob/Zarr id."""
        return (
            self.sha256 or self.etag or self.zarr_checksum or self.blob_id or self.zarr_id
            or self.asset_id
        )  # fmt: skip

    @property
    def kind(self) -> str | None:
        return kind_of(self.path, self.encoding_format, self.zarr_id is not None)


def summarize_media(
    source: str | Path,
    *,
    kind: str | None = None,
    session: Any = None,
    size: int | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """``{"file": {...}, "transient": bool}`` of a local file or folder, or an http(s) URL
    (a Zarr store's base URL: one ending in ``.zarr``); `kind` when the name does not say."""
    src = str(source)
    local_dir = not is_url(src) and Path(src).is_dir()
    kind = kind or kind_of(src, zarr=local_dir)
    if kind is None:
        return _error_summary(f"{src}: not a file dandindex reads the headers of "
                              "(OME-Zarr, TIFF, video, BIDS JSON/TSV; NWB: the NWB reader)", False)  # fmt: skip
    if kind == "zarr":
        if local_dir:
            return _run(lambda stats: _zarr(LocalKeys(src), stats))
        if is_url(src):
            own = session is None
            session = session or _session(src)
            try:
                keys = RemoteKeys(session, base_url=src, timeout=timeout)
                return _run(lambda stats: _zarr(keys, stats))
            finally:
                if own:
                    session.close()
        return _error_summary(f"No such Zarr folder: {src}", False)
    if kind in ("json", "tsv"):
        return _run(lambda stats: _text(src, session, size, timeout, stats))
    return _run(lambda stats: _file(src, kind, session, size, timeout, stats))


def summarize_media_asset(
    asset: MediaAsset, api_url: str, timeout: float, session: Any
) -> dict[str, Any]:
    """One archive asset through its API (a Zarr: its S3 prefix, else the API's download
    of each key), summarised."""
    kind = asset.kind
    if kind is None:
        return _error_summary(f"{asset.path}: nothing to read", False)
    if kind == "zarr":
        if asset.zarr_id is None and not asset.s3_url:
            return _error_summary("a Zarr asset without a Zarr id", False)
        keys = RemoteKeys(
            session,
            base_url=asset.s3_url if asset.s3_url and "/zarr/" in asset.s3_url else None,
            api_url=api_url,
            zarr_id=asset.zarr_id,
            timeout=timeout,
        )
        out = _run(lambda stats: _zarr(keys, stats))
        out["file"]["size"] = asset.size
        return out
    url = asset.api_url or f"{api_url.rstrip('/')}/assets/{asset.asset_id}/download/"
    if kind in ("json", "tsv"):
        return _run(lambda stats: _text(url, session, asset.size, timeout, stats, asset.path))
    return _run(lambda stats: _file(url, kind, session, asset.size, timeout, stats))


def _session(url: str) -> Any:
    from dandindex.remote.session import api_token, make_session

    return make_session(pool=16, token=api_token(), api_url=url)


def _run(read: Any) -> dict[str, Any]:
    """Run a reader with a stats counter; errors become the summary's ``error``."""
    t0 = time.perf_counter()
    stats = TransferStats()
    out: dict[str, Any] = {"file": {}, "transient": False}
    try:
        out["file"].update(read(stats))
    except Exception as e:  # noqa: BLE001 - a bad file is data, not a crash: record why
        out["file"]["error"], out["transient"] = describe_error(e)
        out["status"] = getattr(e, "status", None)  # 404: not on the server
    if out["file"].get("requests", 0) is not None:  # None: a local file, nothing fetched
        out["file"]["bytes_read"] = stats.bytes
        out["file"]["requests"] = stats.requests
    out["file"]["seconds"] = round(time.perf_counter() - t0, 4)
    return out


def describe_error(e: BaseException) -> tuple[str, bool]:
    """(a sentence for the error column, whether a later crawl should retry)."""
    if isinstance(e, RemoteReadError):
        return f"could not read the file over HTTP: {e}", e.transient
    if isinstance(e, FormatError):
        return str(e), False
    if isinstance(e, EOFError):
        return f"the file ends early (truncated): {e}", False
    return f"could not be read: {type(e).__name__}: {e}", False


def _error_summary(message: str, transient: bool) -> dict[str, Any]:
    return {"file": {"error": message}, "transient": transient}


def _zarr(keys: Any, stats: TransferStats) -> dict[str, Any]:
    from dandindex.formats.omezarr import NoStore, summarize_ngff

    try:
        return summarize_ngff(keys)
    except NoStore:
        if isinstance(keys, RemoteKeys):  # every root key answered 404: it is not there
            raise RemoteReadError(
                "the Zarr store is not on the server (no metadata at its root: HTTP 404)",
                transient=True,
                status=404,
            ) from None
        raise
    finally:
        _add(stats, keys.stats)


def _file(
    source: str, kind: str, session: Any, size: int | None, timeout: float, stats: TransferStats
) -> dict[str, Any]:
    if not is_url(source) and not Path(source).is_file():
        raise FormatError(f"No such file: {source}")
    with open_bytes(source, session=session, size=size, timeout=timeout) as fh:
        try:
            if kind == "tiff":
                from dandindex.formats.tiff import summarize_tiff

                facts = summarize_tiff(fh, getattr(fh, "size", None) or size or _local_size(source))  # fmt: skip
            else:
                from dandindex.formats.video import summarize_video

                facts = summarize_video(fh)
        finally:
            if hasattr(fh, "stats"):
                _add(stats, fh.stats)
        failed = getattr(fh, "failed", None)
        if failed is not None:  # a reader swallowed a read that failed
            raise failed
        if is_url(source):
            facts["size"] = getattr(fh, "size", None)
        else:
            facts.update(size=_local_size(source), bytes_read=None, requests=None)
        return facts


def _text(
    source: str,
    session: Any,
    size: int | None,
    timeout: float,
    stats: TransferStats,
    path: str | None = None,
) -> dict[str, Any]:
    from dandindex.formats.bids import read_text

    if size is not None and size > MAX_TEXT_BYTES:
        raise FormatError(f"{size:,} bytes: larger than a BIDS text file is read ({MAX_TEXT_BYTES:,})")  # fmt: skip
    if is_url(source):
        from dandindex.remote.session import get

        own = session is None
        session = session or _session(source)
        try:
            data = get(session, source, timeout=timeout, stats=stats, retries=3).content
        finally:
            if own:
                session.close()
    else:
        data = Path(source).read_bytes()
        stats.add(len(data))
    if len(data) > MAX_TEXT_BYTES:
        raise FormatError(f"{len(data):,} bytes: larger than a BIDS text file is read")
    facts = read_text(data, path or source)
    facts["size"] = len(data)
    return facts


def _local_size(source: str) -> int | None:
    try:
        return Path(source).stat().st_size
    except OSError:
        return None


def _add(total: TransferStats, part: TransferStats) -> None:
    total.requests += part.requests
    total.bytes += part.bytes
