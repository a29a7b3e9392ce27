"""A local HTTP server that speaks the DANDI REST API over a snapshot folder.

The unmodified ``dandi.dandiapi.DandiAPIClient`` works against it::

    with ArchiveServer("archive/") as srv:
        client = DandiAPIClient(api_url=srv.api_url)

What it reproduces from the real archive (``dandi/dandi-archive``; see ../shared/DANDI-API.md):
page-number pagination with ``{count, next, previous, results}`` (page_size default 100,
clamped to 1000, an unparsable page_size falls back to the default as DRF does, a bad page
is 404), *lazy* pagination on asset lists (``count`` only on page 1), ``metadata=true`` bulk
listings, ``order``/``ordering`` with ``-``, ``path`` prefix (exact-match special case),
``glob``, ``zarr``, the ``/download/`` 302 to a blob URL (400 for Zarr), Range requests on
blobs (206/416), embargo (401 anonymous, 403 wrong key), Django's slash-appending 301.

Faults for tests and benchmarks are switchable per instance (`Faults`): added latency,
429 with Retry-After, 5xx bursts, connection resets and slow bodies; `Counters` records
requests, statuses and body bytes per endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from dandindex._version import __version__
from dandindex.testing.endpoints import ApiEndpoints
from dandindex.testing.faults import Counters, FaultRule, Faults
from dandindex.testing.shapes import (
    HTTPError,
    _parse_range,
    not_found,
    parse_bool,
    s3_blob_key,
)
from dandindex.testing.snapshot import Snapshot

__all__ = ["ArchiveServer", "Counters", "FaultRule", "Faults", "serve_files"]


# ----------------------------------------------------------------------------- server


class ArchiveServer:
    """A threaded loopback HTTP server for one snapshot folder.

    `content_urls`: ``"stored"`` serves ``contentUrl`` exactly as stored (production URLs,
    as in the real corpus); ``"local"`` rewrites the production API prefix to this server's
    API URL, so ``get_content_url()`` resolves here. Downloads through
    ``{api_url}/assets/{id}/download/`` work either way.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        faults: Faults | None = None,
        content_urls: str = "stored",
        blob_host: str | None = None,
        counters_route: bool = False,
    ) -> None:
        if content_urls not in ("stored", "local"):
            raise ValueError("content_urls must be 'stored' or 'local'")
        self.snapshot = Snapshot(root)
        self.blob_host = blob_host  # another name for this server, as S3 is another host
        self.counters_route = counters_route  # serve /_dandindex/counters (benchmarks)
        self.secret = secrets.token_bytes(16)  # signs the blob URLs of embargoed assets
        self.api_key = api_key
        self.faults = faults or Faults()
        self.counters = Counters()
        self.content_urls = content_urls
        handler = type("Handler", (_Handler,), {"archive": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def blob_url(self) -> str:
        """Where blobs are served: this server, under `blob_host` if one was given."""
        if self.blob_host is None:
            return self.url
        return f"http://{self.blob_host}:{self.httpd.server_address[1]}"

    def sign(self, blob_id: str, expires: int) -> str:
        """The signature a presigned URL for `blob_id` carries (HMAC, like S3's)."""
        msg = f"{blob_id}:{expires}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def start(self) -> ArchiveServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="dandi-archive", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ArchiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_DS = r"(?P<ds>[^/]+)"
_V = r"(?P<v>[^/]+)"
_A = r"(?P<a>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern + r"\Z"))
    for name, pattern in [
        ("info", r"/api/info/"),
        ("auth_token", r"/api/auth/token/?"),
        ("dandisets", r"/api/dandisets/"),
        ("dandiset", rf"/api/dandisets/{_DS}/"),
        ("versions", rf"/api/dandisets/{_DS}/versions/"),
        ("version", rf"/api/dandisets/{_DS}/versions/{_V}/"),
        ("version_info", rf"/api/dandisets/{_DS}/versions/{_V}/info/"),
        ("assets", rf"/api/dandisets/{_DS}/versions/{_V}/assets/"),
        ("asset", rf"/api/dandisets/{_DS}/versions/{_V}/assets/{_A}/"),
        ("asset_info", rf"/api/dandisets/{_DS}/versions/{_V}/assets/{_A}/info/"),
        ("download", rf"/api/dandisets/{_DS}/versions/{_V}/assets/{_A}/download/"),
        ("asset", rf"/api/assets/{_A}/"),
        ("asset_info", rf"/api/assets/{_A}/info/"),
        ("download", rf"/api/assets/{_A}/download/"),
        ("blob", r"/s3/blobs/[0-9a-f-]{3}/[0-9a-f-]{3}/(?P<blob>[^/]+)"),
        ("zarr_file", r"/s3/zarr/(?P<zarr>[^/]+)/(?P<key>.+)"),
        ("counters", r"/_dandindex/counters"),
        ("zarr_files", r"/api/zarr/(?P<zarr>[^/]+)/files/"),
    ]
]


class _Handler(ApiEndpoints, BaseHTTPRequestHandler):
    archive: ArchiveServer
    protocol_version = "HTTP/1.1"
    server_version = f"dandindex-archive/{__version__}"
    timeout = 60

    def setup(self) -> None:
        super().setup()
        # Like production servers: no Nagle delay between the header and body writes.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # Quiet: tests and benchmarks read counters, not logs.
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionResetError, BrokenPipeError):  # the client went away: not an error
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    # -- plumbing ----------------------------------------------------------------

    def _serve(self, *, head: bool) -> None:
        arch = self.archive
        split = urlsplit(self.path)
        path = split.path
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        endpoint, match = self._route(path)
        arch.counters.add_request(endpoint, authorized="Authorization" in self.headers)
        if arch.faults.latency:
            time.sleep(arch.faults.latency)
        rule = arch.faults.pick(path)
        if rule is not None and rule.kind == "reset":
            arch.counters.add_status(0)
            self._reset()
            return
        if rule is not None and rule.kind == "status":
            headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
            detail = "Request was throttled." if rule.status == 429 else "Server Error"
            self._send_json(endpoint, rule.status, {"detail": detail}, head=head, headers=headers)
            return
        slow = rule.bytes_per_second if rule is not None and rule.kind == "slow" else None
        try:
            if match is None:
                if path.startswith("/api/") and not path.endswith("/"):
                    # Django's APPEND_SLASH
                    loc = path + "/" + (f"?{split.query}" if split.query else "")
                    self._send_raw(endpoint, 301, b"", {"Location": loc}, head=head)
                    return
                raise not_found()
            if endpoint == "blob":
                self._send_blob(match.group("blob"), params, head=head, slow=slow)
                return
            if endpoint == "zarr_file":
                self._send_zarr(
                    match.group("zarr"), match.group("key"), params, head=head, slow=slow
                )
                return
            if endpoint == "counters" and not arch.counters_route:
                raise not_found()
            if endpoint == "counters":  # for benchmarks that run the server in another process
                body = arch.counters.snapshot()
                if params.get("reset"):
                    arch.counters.reset()
                self._send_json(endpoint, 200, body, head=head)
                return
            if endpoint == "zarr_files" and parse_bool(params, "download", False):
                key = params.get("prefix", "")
                zarr = match["zarr"]
                if self.archive.snapshot.zarr_path(zarr, key) is None:
                    raise not_found()
                self._zarr_visible(zarr)
                expires = int(time.time()) + 21600
                query = urlencode(
                    {
                        "X-Amz-Expires-At": str(expires),
                        "X-Amz-Signature": arch.sign(f"{zarr}/{key}", expires),
                    }
                )
                loc = f"{self.archive.blob_url}/s3/zarr/{zarr}/{key}?{query}"
                self._send_raw(endpoint, 302, b"", {"Location": loc}, head=head)
                return
            if endpoint == "download":
                status, headers = self._download(match, params)
                self._send_raw(endpoint, status, b"", headers, head=head)
                return
            body = getattr(self, f"_api_{endpoint}")(match, params)
            self._send_json(endpoint, 200, body, head=head, slow=slow)
        except HTTPError as e:
            self._send_json(endpoint, e.status, e.body, head=head, headers=e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _route(self, path: str) -> tuple[str, re.Match[str] | None]:
        for name, pattern in ROUTES:
            m = pattern.match(path)
            if m:
                return name, m
        return "other", None

    def send_response(self, code: int, message: str | None = None) -> None:
        self.archive.counters.add_status(code)
        super().send_response(code, message)

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _send_json(
        self,
        endpoint: str,
        status: int,
        body: Any,
        *,
        head: bool,
        headers: dict[str, str] | None = None,
        slow: int | None = None,
    ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        h = {"Content-Type": "application/json", "Vary": "Accept, Authorization"}
        h.update(headers or {})
        self._send_raw(endpoint, status, data, h, head=head, slow=slow)

    def _send_raw(
        self,
        endpoint: str,
        status: int,
        data: bytes,
        headers: dict[str, str],
        *,
        head: bool,
        slow: int | None = None,
        content_length: int | None = None,
    ) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header(
            "Content-Length", str(len(data) if content_length is None else content_length)
        )
        self.end_headers()
        if not head and data:
            self._write_body(endpoint, data, slow)

    def _write_body(self, endpoint: str, data: bytes, slow: int | None) -> None:
        view = memoryview(data)
        chunk = 65536 if slow is None else max(1024, slow // 10)
        sent = 0
        try:
            while sent < len(view):
                piece = view[sent : sent + chunk]
                self.archive.counters.add_bytes(endpoint, len(piece))
                self.wfile.write(piece)
                sent += len(piece)
                if slow is not None:
                    time.sleep(len(piece) / slow)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_blob(
        self, blob_id: str, params: dict[str, str], *, head: bool, slow: int | None
    ) -> None:
        path = self.archive.snapshot.blob_path(blob_id)
        if path is None:
            self._send_s3_missing("blob", head)
            return
        if self.archive.snapshot.blob_embargoed(blob_id) and not self._presigned(blob_id, params):
            self._send_access_denied("blob", head)
            return
        self._send_file("blob", path, head=head, slow=slow)

    def _presigned(self, blob_id: str, params: dict[str, str]) -> bool:
        """An embargoed blob is served only at a URL the API signed, until it expires."""
        try:
            expires = int(params.get("X-Amz-Expires-At", ""))
        except ValueError:
            return False
        good = self.archive.sign(blob_id, expires)
        given = params.get("X-Amz-Signature", "")
        return expires > time.time() and hmac.compare_digest(good, given)

    def _send_zarr(
        self, zarr_id: str, key: str, params: dict[str, str], *, head: bool, slow: int | None
    ) -> None:
        path = self.archive.snapshot.zarr_path(zarr_id, key)
        if path is None:
            self._send_s3_missing("zarr_file", head)
            return
        if self.archive.snapshot.blob_embargoed(zarr_id) and not self._presigned(
            f"{zarr_id}/{key}", params
        ):
            self._send_access_denied("zarr_file", head)
            return
        self._send_file("zarr_file", path, head=head, slow=slow)

    def _send_access_denied(self, endpoint: str, head: bool) -> None:
        body = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code></Error>"
        self._send_raw(endpoint, 403, body, {"Content-Type": "application/xml"}, head=head)

    def _send_s3_missing(self, endpoint: str, head: bool) -> None:
        body = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code></Error>"
        self._send_raw(endpoint, 404, body, {"Content-Type": "application/xml"}, head=head)

    def _send_file(self, endpoint: str, path: Path, *, head: bool, slow: int | None) -> None:
        size = path.stat().st_size
        etag = f'"{int(path.stat().st_mtime)}-{size}"'
        base = {"Accept-Ranges": "bytes", "ETag": etag, "Content-Type": "application/octet-stream"}
        rng = self.headers.get("Range")
        start, end = 0, size - 1
        status = 200
        if rng:
            parsed = _parse_range(rng, size)
            if parsed == "invalid":
                self._send_raw(
                    endpoint, 416, b"", {**base, "Content-Range": f"bytes */{size}"}, head=head
                )
                return
            if isinstance(parsed, tuple):
                start, end = parsed
                status = 206
                base["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        self.send_response(status)
        for k, v in base.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if not head and length:
            with open(path, "rb") as f:
                f.seek(start)
                remaining = length
                chunk = 65536 if slow is None else max(1024, slow // 10)
                try:
                    while remaining:
                        piece = f.read(min(chunk, remaining))
                        if not piece:
                            break
                        self.archive.counters.add_bytes(endpoint, len(piece), partial=status == 206)
                        self.wfile.write(piece)
                        remaining -= len(piece)
                        if slow is not None:
                            time.sleep(len(piece) / slow)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True


def serve_files(
    paths: list[Path], folder: Path, **kwargs: Any
) -> tuple[ArchiveServer, dict[Path, str]]:
    """A server (not started) whose blob URLs serve `paths`; returns it and {path: URL}.

    `folder` receives a minimal snapshot (no dandisets, a ``blobs/index.json``).
    """
    import uuid

    (folder / "dandisets").mkdir(parents=True, exist_ok=True)
    (folder / "blobs").mkdir(exist_ok=True)
    mapping = {str(uuid.uuid5(uuid.NAMESPACE_URL, str(p.resolve()))): p.resolve() for p in paths}
    with open(folder / "blobs" / "index.json", "w", encoding="utf-8") as f:
        json.dump({k: str(v) for k, v in mapping.items()}, f)
    server = ArchiveServer(folder, **kwargs)
    urls = {p: f"{server.url}/s3/{s3_blob_key(k)}" for k, p in mapping.items()}
    return server, {p: urls[p.resolve()] for p in paths}
