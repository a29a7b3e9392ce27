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

import json
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from dandindex import __version__
from dandindex.testing.snapshot import AssetRecord, DandisetData, Snapshot, VersionData

PRODUCTION_API = "https://api.dandiarchive.org/api"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
SCHEMA_VERSION = "0.7.0"


# ----------------------------------------------------------------------------- faults


@dataclass
class FaultRule:
    """One injected fault.

    kind: ``"status"`` (answer `status`, with ``Retry-After`` when `retry_after` is set),
    ``"reset"`` (drop the connection with a TCP reset before answering) or ``"slow"``
    (send the body at `bytes_per_second`). It applies to requests whose path matches
    `path` (a regex searched in the URL path), on every `every`-th match, `count` times
    (``None``: forever).
    """

    kind: str = "status"
    status: int = 503
    retry_after: int | None = None
    path: str = ""
    count: int | None = 1
    every: int = 1
    bytes_per_second: int = 65536
    _seen: int = field(default=0, repr=False)

    def fire(self, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.path and not re.search(self.path, path):
            return False
        self._seen += 1
        if self._seen % self.every:
            return False
        if self.count is not None:
            self.count -= 1
        return True


@dataclass
class Faults:
    """Switchable faults of one server instance; safe to change while it runs."""

    latency: float = 0.0
    rules: list[FaultRule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **kwargs: Any) -> FaultRule:
        rule = FaultRule(**kwargs)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.latency = 0.0

    def pick(self, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.fire(path):
                    return rule
        return None


class Counters:
    """Requests, response statuses and body bytes sent, per endpoint name.

    A request is counted when it arrives, a status when its response starts and bytes before
    they are handed to the socket, so a client never sees data the counters have not.
    Status 0 is a connection reset by a fault.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.partial_bytes = 0  # body bytes of 206 (range) responses
        # arrival times, for round trips; bounded so a long-running server does not grow
        self.arrivals: dict[str, deque[float]] = {}

    def add_request(self, endpoint: str) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            self.arrivals.setdefault(endpoint, deque(maxlen=100_000)).append(time.perf_counter())

    def round_trips(self, endpoint: str, latency: float) -> int:
        """Requests to `endpoint` grouped into round trips: requests that arrive within half
        the added `latency` of the one before were sent together (a concurrent burst); a later
        one had to wait for an answer first."""
        with self._lock:
            times = sorted(self.arrivals.get(endpoint, []))
        gap = max(latency / 2, 0.002)
        return sum(1 for i, t in enumerate(times) if i == 0 or t - times[i - 1] > gap)

    def add_status(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def add_bytes(self, endpoint: str, nbytes: int, partial: bool = False) -> None:
        with self._lock:
            self.bytes[endpoint] += nbytes
            if partial:
                self.partial_bytes += nbytes

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.bytes.clear()
            self.statuses.clear()
            self.partial_bytes = 0
            self.arrivals.clear()

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(self.bytes.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "bytes": dict(self.bytes),
                "statuses": {str(k): v for k, v in self.statuses.items()},
                "partial_bytes": self.partial_bytes,
            }


# ----------------------------------------------------------------------------- errors


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


# ----------------------------------------------------------------------------- shapes


def version_summary(v: VersionData, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": v.version,
        "name": v.name,
        "asset_count": len(v.assets),
        "size": v.size,
        "status": v.status,
        "created": v.created,
        "modified": v.modified,
    }
    if detail:
        out["active_uploads"] = 0
        out["release_notes"] = v.metadata.get("releaseNotes") if v.version != "draft" else None
    return out


def dandiset_summary(ds: DandisetData, *, detail: bool = False) -> dict[str, Any]:
    mrp = ds.most_recent_published
    return {
        "identifier": ds.identifier,
        "created": ds.created,
        "modified": ds.modified,
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
        "created": rec.created,
        "modified": rec.modified,
    }
    if metadata:
        out["metadata"] = rewrite_urls(rec.read_metadata(), rewrite)
    return out


def rewrite_urls(meta: dict[str, Any], api_url: str | None) -> dict[str, Any]:
    """With `api_url`, point production ``contentUrl`` download entries at this server."""
    if not api_url:
        return meta
    urls = meta.get("contentUrl")
    if isinstance(urls, list):
        meta = dict(meta)
        meta["contentUrl"] = [
            api_url + u[len(PRODUCTION_API) :]
            if isinstance(u, str) and u.startswith(PRODUCTION_API)
            else u
            for u in urls
        ]
    return meta


def s3_blob_key(blob_id: str) -> str:
    return f"blobs/{blob_id[0:3]}/{blob_id[3:6]}/{blob_id}"


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
    ) -> None:
        if content_urls not in ("stored", "local"):
            raise ValueError("content_urls must be 'stored' or 'local'")
        self.snapshot = Snapshot(root)
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


class _Handler(BaseHTTPRequestHandler):
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
        arch.counters.add_request(endpoint)
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
                self._send_blob(match.group("blob"), head=head, slow=slow)
                return
            if endpoint == "zarr_file":
                self._send_zarr(match.group("zarr"), match.group("key"), head=head, slow=slow)
                return
            if endpoint == "counters":  # for benchmarks that run the server in another process
                body = arch.counters.snapshot()
                if params.get("reset"):
                    arch.counters.reset()
                self._send_json(endpoint, 200, body, head=head)
                return
            if endpoint == "zarr_files" and parse_bool(params, "download", False):
                key = params.get("prefix", "")
                if self.archive.snapshot.zarr_path(match["zarr"], key) is None:
                    raise not_found()
                loc = f"{self.archive.url}/s3/zarr/{match['zarr']}/{key}"
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

    # -- auth -------------------------------------------------------------------

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        parts = auth.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "token":
            raise HTTPError(401, {"detail": "Invalid token header. No credentials provided."})
        return parts[1].strip()

    def _authenticated(self) -> bool:
        token = self._token()
        if token is None:
            return False
        if self.archive.api_key is None or token != self.archive.api_key:
            raise HTTPError(401, {"detail": "Invalid token."})
        return True

    def _visible(self, ds: DandisetData) -> DandisetData:
        if ds.embargo_status == "OPEN":
            return ds
        if self._token() is None:
            raise HTTPError(401, {"detail": "Authentication credentials were not provided."})
        if not self._authenticated():  # pragma: no cover - _authenticated raises instead
            raise HTTPError(403, {"detail": "You do not have permission to perform this action."})
        return ds

    # -- lookups ----------------------------------------------------------------

    def _dandiset(self, ident: str) -> DandisetData:
        ds = self.archive.snapshot.dandiset(ident)
        if ds is None:
            raise not_found("No Dandiset matches the given query.")
        return self._visible(ds)

    def _version(self, ds: DandisetData, v: str) -> VersionData:
        ver = ds.version(v)
        if ver is None:
            raise not_found("No Version matches the given query.")
        return ver

    def _asset(self, match: re.Match[str]) -> tuple[DandisetData, AssetRecord]:
        groups = match.groupdict()
        if groups.get("ds"):
            ds = self._dandiset(groups["ds"])
            ver = self._version(ds, groups["v"])
            for a in ver.assets:
                if a.asset_id == groups["a"]:
                    return ds, a
            raise not_found("No Asset matches the given query.")
        hit = self.archive.snapshot.find_asset(groups["a"])
        if hit is None:
            raise not_found("No Asset matches the given query.")
        return self._visible(hit[0]), hit[1]

    def _absolute(self, path: str) -> str:
        host = self.headers.get("Host") or self.archive.url.split("//", 1)[1]
        return f"http://{host}{path}"

    def _page(
        self, items: list[Any], params: dict[str, str], *, lazy: bool
    ) -> tuple[list[Any], dict[str, Any]]:
        page, size = page_params(params)
        start = (page - 1) * size
        if start >= len(items) and page != 1:
            raise not_found("Invalid page.")
        chunk = items[start : start + size]
        base = urlsplit(self.path).path
        has_next = start + size < len(items)

        def link(n: int | None) -> str | None:
            if n is None:
                return None
            q = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            if n == 1:
                q.pop("page", None)
            else:
                q["page"] = str(n)
            return self._absolute(base + ("?" + urlencode(q) if q else ""))

        meta = {
            "count": len(items) if (page == 1 or not lazy) else None,
            "next": link(page + 1) if has_next else None,
            "previous": link(page - 1) if page > 1 else None,
        }
        return chunk, meta

    # -- endpoints ----------------------------------------------------------------

    def _api_info(self, match: re.Match[str], params: dict[str, str]) -> Any:
        api = self.archive.api_url
        return {
            "schema_version": SCHEMA_VERSION,
            "allowed_schema_versions": [
                "0.6.0",
                "0.6.4",
                "0.6.7",
                "0.6.8",
                "0.6.9",
                SCHEMA_VERSION,
            ],
            "schema_url": f"https://raw.githubusercontent.com/dandi/schema/master/releases/{SCHEMA_VERSION}/dandiset.json",
            "version": f"dandindex-local-{__version__}",
            "cli-minimal-version": "0.74.0",
            "cli-bad-versions": [],
            "cli-requires-python": ">=3.10",
            "services": {
                "api": {"url": api},
                "webui": {"url": self.archive.url},
                "jupyterhub": {"url": self.archive.url},
            },
        }

    def _api_auth_token(self, match: re.Match[str], params: dict[str, str]) -> Any:
        if not self._authenticated():
            raise HTTPError(401, {"detail": "Authentication credentials were not provided."})
        return self.archive.api_key

    def _api_dandisets(self, match: re.Match[str], params: dict[str, str]) -> Any:
        snap = self.archive.snapshot
        snap.refresh()
        draft = parse_bool(params, "draft", True)
        empty = parse_bool(params, "empty", True)
        embargoed = parse_bool(params, "embargoed", False)
        if embargoed and not self._authenticated():
            raise HTTPError(401, {"detail": "Authentication credentials were not provided."})
        found = snap.dandisets()
        if not embargoed:
            found = [d for d in found if d.embargo_status == "OPEN"]
        if not draft:
            found = [d for d in found if d.published]
        if not empty:
            found = [d for d in found if d.most_recent.assets]
        search = params.get("search", "").strip()
        if search:
            found = _search(found, search)
        found = _order_dandisets(found, params.get("ordering", ""))
        chunk, meta = self._page(found, params, lazy=False)
        return {**meta, "results": [dandiset_summary(d) for d in chunk]}

    def _api_dandiset(self, match: re.Match[str], params: dict[str, str]) -> Any:
        return dandiset_summary(self._dandiset(match["ds"]), detail=True)

    def _api_versions(self, match: re.Match[str], params: dict[str, str]) -> Any:
        ds = self._dandiset(match["ds"])
        order = params.get("order", "created")
        if order not in ("created", "-created"):
            raise HTTPError(
                400,
                {"order": [f"Select a valid choice. {order} is not one of the available choices."]},
            )
        versions = ds.all_versions()
        if order == "-created":
            versions = versions[::-1]
        chunk, meta = self._page(versions, params, lazy=False)
        short = {k: v for k, v in dandiset_summary(ds).items() if not k.endswith("_version")}
        return {
            **meta,
            "results": [{**version_summary(v, detail=True), "dandiset": short} for v in chunk],
        }

    def _api_version(self, match: re.Match[str], params: dict[str, str]) -> Any:
        ds = self._dandiset(match["ds"])
        return self._version(ds, match["v"]).metadata

    def _api_version_info(self, match: re.Match[str], params: dict[str, str]) -> Any:
        ds = self._dandiset(match["ds"])
        ver = self._version(ds, match["v"])
        short = {k: v for k, v in dandiset_summary(ds).items() if not k.endswith("_version")}
        return {
            **version_summary(ver, detail=True),
            "dandiset": short,
            "asset_validation_errors": [],
            "version_validation_errors": [],
            "metadata": ver.metadata,
            "contact_person": ds.contact_person,
        }

    def _api_assets(self, match: re.Match[str], params: dict[str, str]) -> Any:
        ds = self._dandiset(match["ds"])
        ver = self._version(ds, match["v"])
        metadata = parse_bool(params, "metadata", False)
        zarr_only = parse_bool(params, "zarr", False)
        order = params.get("order", "created")
        key = order.lstrip("-")
        if key not in ("created", "modified", "path") or order.count("-") > 1:
            raise HTTPError(
                400,
                {"order": [f"Select a valid choice. {order} is not one of the available choices."]},
            )
        assets = list(ver.assets)
        if "path" in params:
            prefix = params["path"]
            exact = [a for a in assets if a.path == prefix]
            assets = exact or [a for a in assets if a.path.lower().startswith(prefix.lower())]
        if "glob" in params:
            rx = re.compile(
                "^" + ".*".join(re.escape(p) for p in params["glob"].split("*")) + "$", re.I
            )
            assets = [a for a in assets if rx.match(a.path)]
        if zarr_only:
            assets = [a for a in assets if a.zarr]
        assets.sort(key=lambda a: (getattr(a, key), a.asset_id), reverse=order.startswith("-"))
        chunk, meta = self._page(assets, params, lazy=True)
        rewrite = self.archive.api_url if self.archive.content_urls == "local" else None
        return {
            **meta,
            "results": [asset_item(a, metadata=metadata, rewrite=rewrite) for a in chunk],
        }

    def _api_asset(self, match: re.Match[str], params: dict[str, str]) -> Any:
        _, rec = self._asset(match)
        rewrite = self.archive.api_url if self.archive.content_urls == "local" else None
        return rewrite_urls(rec.read_metadata(), rewrite)

    def _api_asset_info(self, match: re.Match[str], params: dict[str, str]) -> Any:
        _, rec = self._asset(match)
        rewrite = self.archive.api_url if self.archive.content_urls == "local" else None
        return asset_item(rec, metadata=True, rewrite=rewrite)

    def _api_zarr_files(self, match: re.Match[str], params: dict[str, str]) -> Any:
        """The Zarr file listing: S3-style keys after a cursor, no count (like the real API)."""
        base = self.archive.snapshot.root / "zarr" / match["zarr"]
        if not base.is_dir():
            raise not_found("No ZarrArchive matches the given query.")
        prefix = params.get("prefix", "")
        after = params.get("after", "")
        try:
            limit = max(0, min(1000, int(params.get("limit", 1000))))
        except ValueError:
            raise HTTPError(400, {"limit": ["A valid integer is required."]}) from None
        keys = sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
        keys = [k for k in keys if k.startswith(prefix) and k > after]
        page = keys[:limit]
        results = [
            {
                "Key": k,
                "LastModified": "2024-01-01T00:00:00Z",
                "ETag": "",
                "Size": (base / k).stat().st_size,
            }
            for k in page
        ]
        nxt = None
        if len(keys) > limit and page:
            q = urlencode({"prefix": prefix, "after": page[-1], "limit": limit})
            nxt = self._absolute(urlsplit(self.path).path + "?" + q)
        return {"next": nxt, "results": results}

    def _download(self, match: re.Match[str], params: dict[str, str]) -> tuple[int, dict[str, str]]:
        _, rec = self._asset(match)
        if rec.blob is None:
            raise HTTPError(400, ["Unable to provide download link for zarr assets"])
        name = rec.path.rsplit("/", 1)[-1]
        query = urlencode(
            {
                "response-content-disposition": f'attachment; filename="{name}"',
                "X-Amz-Expires": "21600",
                "X-Amz-Signature": "local",
            }
        )
        return 302, {"Location": f"{self.archive.url}/s3/{s3_blob_key(rec.blob)}?{query}"}

    def _send_blob(self, blob_id: str, *, head: bool, slow: int | None) -> None:
        path = self.archive.snapshot.blob_path(blob_id)
        if path is None:
            self._send_s3_missing("blob", head)
            return
        self._send_file("blob", path, head=head, slow=slow)

    def _send_zarr(self, zarr_id: str, key: str, *, head: bool, slow: int | None) -> None:
        path = self.archive.snapshot.zarr_path(zarr_id, key)
        if path is None:
            self._send_s3_missing("zarr_file", head)
            return
        self._send_file("zarr_file", path, head=head, slow=slow)

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
