"""Where a reader's bytes come from: a local file or folder, or HTTP through the one HTTP
home (`dandindex.remote`): `RangeFile` for a file, `ZarrKeys` for the named keys of a Zarr
store (never a listing: an OME-Zarr's metadata keys are known from its own JSON).

A Zarr store is read by key from a local folder, from a base URL (the S3 prefix DANDI gives
as a Zarr asset's ``contentUrl``), or through the API's ``/zarr/{id}/files/?prefix=KEY&
download=true`` (a redirect to the bytes; embargoed stores need the API key): the base URL
first, the API when the store refuses (403).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from dandindex.errors import RemoteReadError
from dandindex.remote.session import TransferStats, get

#: a single metadata document larger than this is refused (NGFF JSON is a few kB)
MAX_JSON_BYTES = 16 << 20


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


class Keys(Protocol):
    """A Zarr store read by key."""

    stats: TransferStats

    def get(self, key: str) -> bytes | None: ...

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]: ...


class LocalKeys:
    """A Zarr store in a local folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.stats = TransferStats()

    def get(self, key: str) -> bytes | None:
        path = self.folder / key
        if not path.is_file():
            return None
        data = path.read_bytes()
        self.stats.add(len(data))
        return data

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        return {k: self.get(k) for k in keys}


class RemoteKeys:
    """A Zarr store over HTTP: ``base_url + key``, else the API's download of the key."""

    def __init__(
        self,
        session: Any,
        *,
        base_url: str | None = None,
        api_url: str | None = None,
        zarr_id: str | None = None,
        timeout: float = 30.0,
        workers: int = 8,
    ) -> None:
        if not base_url and not (api_url and zarr_id):
            raise ValueError("a Zarr store needs a base URL or the API's URL and its id")
        self.session = session
        self.base = base_url.rstrip("/") + "/" if base_url else None
        self.listing = (
            f"{api_url.rstrip('/')}/zarr/{zarr_id}/files/" if api_url and zarr_id else None
        )
        self.timeout = timeout
        self.workers = workers
        self.stats = TransferStats()

    def get(self, key: str) -> bytes | None:
        """The key's bytes; None when the store does not hold it (404). Other failures
        raise `RemoteReadError`."""
        if self.base is not None:
            try:
                return self._fetch(self.base + key, None, key)
            except RemoteReadError as e:
                if self.listing is None or not (e.status in (401, 403) or e.unreachable):
                    raise
                self.base = None  # refused (embargoed) or unreachable: the API from now on
        assert self.listing is not None
        return self._fetch(self.listing, {"prefix": key, "download": "true"}, key)

    def _fetch(self, url: str, params: dict[str, str] | None, key: str) -> bytes | None:
        try:
            r = get(
                self.session,
                url,
                params=params,
                timeout=self.timeout,
                stats=self.stats,
                retries=3,
                what=f"{(self.base or self.listing or '')}{key}",
            )
        except RemoteReadError as e:
            if e.status == 404:
                return None
            raise
        return r.content

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        keys = list(dict.fromkeys(keys))
        if len(keys) <= 1:
            return {k: self.get(k) for k in keys}
        with ThreadPoolExecutor(max_workers=min(self.workers, len(keys))) as pool:
            return dict(zip(keys, pool.map(self.get, keys), strict=True))


def read_json(data: bytes | None, what: str) -> Any:
    """JSON from a key's bytes (None stays None); damaged JSON is a `FormatError`."""
    from dandindex.formats import FormatError

    if data is None:
        return None
    if len(data) > MAX_JSON_BYTES:
        raise FormatError(f"{what} is {len(data):,} bytes: too large for metadata")
    try:
        return json.loads(data)
    except ValueError as e:
        raise FormatError(f"{what} is not JSON ({e})") from None


@contextlib.contextmanager
def open_bytes(
    source: str, *, session: Any = None, size: int | None = None, timeout: float = 30.0
) -> Iterator[Any]:
    """A seekable binary file over a local path or an http(s) URL (a `RangeFile`: small
    blocks, modest read-ahead; the bytes and requests it cost are its ``stats``)."""
    if is_url(source):
        from dandindex.remote.rangefile import RangeFile

        rf = RangeFile(
            source,
            session=session,
            size=size,
            timeout=timeout,
            block_size=16384,
            readahead=1,
            max_readahead=8,
            first_read=65536,
            whole_below=65536,
        )
        try:
            yield rf
        finally:
            rf.close()
    else:
        with open(source, "rb") as f:
            yield f
