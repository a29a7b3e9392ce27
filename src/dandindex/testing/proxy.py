"""A fault-injecting HTTP proxy, for testing what clients do when the network misbehaves.

It forwards every request to an upstream server (the local archive) and, where a rule
matches, answers badly instead: a stall before the answer or in the middle of the body, a
body cut short (the declared length not met), a body shorter than its real length but
declared so (truncated JSON that looks whole), a status (429/5xx, with any ``Retry-After``),
a connection reset, or a JSON body rewritten by a function (mutated metadata). Redirects and
links that name the upstream are rewritten to go through the proxy, so blob reads after the
API's ``/download/`` redirect meet the faults too.

    with ArchiveServer(root) as up, FaultProxy(up.url) as proxy:
        proxy.add(kind="stall", path="/assets/", seconds=5, count=2)
        crawl(api_url=proxy.api_url)
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

KINDS = ("stall", "drip", "cut", "short", "status", "reset", "mutate")


@dataclass
class ProxyRule:
    """One fault: `kind` (see `KINDS`) on requests whose path matches `path` (a regex searched
    in path and query), `count` times (None: always), on every `every`-th match."""

    kind: str
    path: str = ""
    count: int | None = 1
    every: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 5.0  # stall: before the answer; drip: for the whole body
    fraction: float = 0.5  # cut/short: how much of the body is sent
    mutate: Callable[[Any], Any] | None = None
    range: str = ""  # a regex the request's Range header must match ("^bytes=0-": opening reads)
    fired: int = 0
    _seen: int = field(default=0, repr=False)

    def matches(self, target: str, range_header: str = "") -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.path and not re.search(self.path, target):
            return False
        if self.range and not re.search(self.range, range_header):
            return False
        self._seen += 1
        if self._seen % self.every:
            return False
        if self.count is not None:
            self.count -= 1
        self.fired += 1
        return True


class FaultProxy:
    """A threaded loopback proxy in front of `upstream` (``http://host:port``)."""

    def __init__(self, upstream: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[ProxyRule] = []
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        handler = type("ProxyHandler", (_ProxyHandler,), {"proxy": self})
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

    def add(self, **kwargs: Any) -> ProxyRule:
        rule = ProxyRule(**kwargs)
        if rule.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def pick(self, target: str, kinds: tuple[str, ...], range_header: str = "") -> ProxyRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.kind in kinds and rule.matches(target, range_header):
                    return rule
        return None

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _ProxyHandler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        target = self.path
        self.proxy.requests[urlsplit(target).path.split("/")[2] if "/api/" in target else "s3"] += 1
        try:
            early = self.proxy.pick(
                target, ("status", "reset", "stall"), self.headers.get("Range", "")
            )
            if early is not None and early.kind == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                return
            if early is not None and early.kind == "status":
                headers = {"Content-Type": "application/json"}
                if early.retry_after is not None:
                    headers["Retry-After"] = early.retry_after
                self._send(early.status, headers, b'{"detail": "injected fault"}', method)
                return
            if early is not None and early.kind == "stall":
                time.sleep(early.seconds)
            status, headers, body = self._forward(method, target)
            mutate = self.proxy.pick(target, ("mutate",))
            if mutate is not None and mutate.mutate is not None and body:
                data = mutate.mutate(json.loads(body))
                body = json.dumps(data).encode()
            late = self.proxy.pick(target, ("cut", "short", "drip"), self.headers.get("Range", ""))
            if late is None or method == "HEAD" or not body:
                self._send(status, headers, body, method)
            elif late.kind == "cut":  # declares the whole length, sends part, hangs up
                self._send(
                    status,
                    headers,
                    body[: int(len(body) * late.fraction)],
                    method,
                    length=len(body),
                )
                self.close_connection = True
            elif late.kind == "short":  # a shorter body, declared so: looks whole
                self._send(status, headers, body[: int(len(body) * late.fraction)], method)
            else:  # drip: the whole body, slowly, over `seconds`
                self._send(status, headers, body, method, drip=late.seconds)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _forward(self, method: str, target: str) -> tuple[int, dict[str, str], bytes]:
        up = urlsplit(self.proxy.upstream)
        conn = http.client.HTTPConnection(up.hostname or "127.0.0.1", up.port, timeout=60)
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() in ("range", "authorization", "accept")
        }
        headers["Host"] = self.headers.get("Host") or urlsplit(self.proxy.url).netloc
        try:
            conn.request(method, target, headers=headers)
            r = conn.getresponse()
            body = r.read()
            out = {
                k: v
                for k, v in r.getheaders()
                if k.lower() not in ("content-length", "connection", "transfer-encoding")
            }
            status = r.status
        finally:
            conn.close()
        mine = self.proxy.url
        for name in list(out):
            if name.lower() == "location":
                out[name] = _rewrite(out[name], self.proxy.upstream, mine)
        if out.get("Content-Type", "").startswith("application/json"):
            body = _rewrite(body.decode("utf-8"), self.proxy.upstream, mine).encode("utf-8")
        return status, out, body

    def _send(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        method: str,
        *,
        length: int | None = None,
        drip: float | None = None,
    ) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if method == "HEAD" or not body:
            return
        if drip is None:
            self.wfile.write(body)
            return
        pieces = max(1, min(len(body), 50))
        step = -(-len(body) // pieces)
        for i in range(0, len(body), step):
            self.wfile.write(body[i : i + step])
            self.wfile.flush()
            time.sleep(drip / pieces)


def _rewrite(text: str, upstream: str, mine: str) -> str:
    """Links to the upstream (any host name for its port) go through the proxy instead."""
    port = urlsplit(upstream).port
    return re.sub(rf"http://[^/\s\"']+:{port}(?=/)", mine, text)
