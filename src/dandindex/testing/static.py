"""A static web server for a published index folder: GET and HEAD with single ranges, as
nginx or S3's website hosting answer, with request and byte counters and added latency for
tests and benchmarks (standard library only)."""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class StaticServer:
    """Serve `root` on loopback until `stop()`; ``url`` is its base URL."""

    def __init__(self, root: str | Path, *, latency: float = 0.0, port: int = 0) -> None:
        self.root = Path(root)
        self.latency = latency
        self.requests: Counter[str] = Counter()  # by method
        self.bytes = 0
        self.log: list[tuple[str, str, str, int]] = []  # method, path, range, bytes
        self._lock = threading.Lock()
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(server.root), **kwargs)

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                server._count("HEAD", 0)
                self._serve(body=False)

            def do_GET(self) -> None:
                self._serve(body=True)

            def _serve(self, body: bool) -> None:
                if server.latency:
                    time.sleep(server.latency)
                path = Path(self.translate_path(self.path.split("?", 1)[0]))
                if not path.is_file():
                    if body:
                        server._count("GET", 0)
                    self.send_error(404)
                    return
                size = path.stat().st_size
                start, end = 0, size - 1
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "") or "")
                if m and (m[1] or m[2]):
                    if m[1]:
                        start, end = int(m[1]), min(int(m[2]) if m[2] else size - 1, size - 1)
                    else:
                        start, end = max(0, size - int(m[2])), size - 1
                    if start >= size:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{size}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                else:
                    self.send_response(200)
                n = end - start + 1
                self.send_header("Content-Length", str(n))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if body:
                    with open(path, "rb") as f:
                        data = os.pread(f.fileno(), n, start)
                    server._count("GET", len(data), self.path, self.headers.get("Range", ""))
                    self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda *a: None  # type: ignore[method-assign]  # hung-up reader
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _count(self, method: str, n: int, path: str = "", ranges: str = "") -> None:
        with self._lock:
            self.requests[method] += 1
            self.bytes += n
            if len(self.log) < 100_000:
                self.log.append((method, path, ranges, n))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.bytes = 0
            self.log.clear()

    def start(self) -> StaticServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> StaticServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
