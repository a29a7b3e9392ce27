"""The one way dandindex talks HTTP: pooled sessions, scoped auth, timeouts, retries.

- `make_session()`: a `requests.Session` with a connection pool sized for its users, a
  default timeout on every request, and ``Authorization: token KEY`` sent **only** to the
  API's own host (never to the blob store a ``/download/`` redirect leads to).
- `get()`: one GET with bounded retries of connection errors, timeouts, bodies cut short and
  429/5xx, honouring ``Retry-After`` up to a cap; failures raise `RemoteReadError` whose
  ``transient`` field says whether a later try may succeed.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.auth

from dandindex.errors import RemoteReadError

RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
#: statuses after which a later crawl may succeed (auth fixed, file back, server well again)
TRANSIENT_STATUSES = RETRY_STATUSES | {401, 403, 404, 408}
DEFAULT_TIMEOUT = 60.0
#: the longest ``Retry-After`` honoured; a server asking for more fails the request
MAX_RETRY_AFTER = 120.0
UNREACHABLE_TRIES = 3  # tries when no connection can be made at all (refused, unknown host)


def api_token() -> str | None:
    """The DANDI API key from the environment (``DANDI_API_KEY``), if any."""
    return os.environ.get("DANDI_API_KEY") or None


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


class HostTokenAuth(requests.auth.AuthBase):
    """``Authorization: token KEY`` on requests to one host (the API's), nowhere else."""

    def __init__(self, token: str, api_url: str) -> None:
        self.token = token
        self.host = host_of(api_url)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if r.url and host_of(r.url) == self.host:
            r.headers["Authorization"] = f"token {self.token}"
        else:
            r.headers.pop("Authorization", None)
        return r


class TransferError(requests.ConnectionError):
    """A response that stalled, took longer than its deadline or was cut short.

    A `requests.ConnectionError`, so every retry loop that retries lost connections (dandi-cli's
    client's included) retries it too.
    """


class RetryAfterTooLong(requests.RequestException):
    """The server asked to wait longer than dandindex waits (`MAX_RETRY_AFTER`).

    Not a `ConnectionError` or `HTTPError`: retry loops let it through at once.
    """

    def __init__(self, seconds: float, url: str, status: int) -> None:
        super().__init__(
            f"{url}: the server asked to wait {seconds:.0f} s before trying again (HTTP {status}), "
            f"longer than dandindex waits ({MAX_RETRY_AFTER:.0f} s); try again later"
        )
        self.seconds = seconds
        self.status = status


class _TimeoutAdapter(requests.adapters.HTTPAdapter):
    """Every request gets a timeout (when the caller gave none) and a deadline for the whole
    response, body included: a server that stalls, drips bytes or cuts the body short raises
    `TransferError`; one that asks to wait longer than `MAX_RETRY_AFTER` raises
    `RetryAfterTooLong`."""

    def __init__(self, timeout: float, **kwargs: Any) -> None:
        self.default_timeout = timeout
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        timeout = kwargs["timeout"]
        limit = float(timeout if not isinstance(timeout, tuple) else sum(t or 0 for t in timeout))
        started = time.monotonic()
        try:
            response = super().send(request, **kwargs)
        except requests.exceptions.ReadTimeout as e:
            raise TransferError(f"no answer within {limit:g} s: {e}", request=request) from None
        if response.status_code in RETRY_STATUSES:
            asked = retry_after(response)
            if asked is not None and asked > MAX_RETRY_AFTER:
                response.close()
                raise RetryAfterTooLong(asked, str(request.url), response.status_code)
        if not kwargs.get("stream"):
            self._read_body(response, started, limit, request)
        return response

    @staticmethod
    def _read_body(
        response: requests.Response, started: float, limit: float, request: requests.PreparedRequest
    ) -> None:
        """Read the whole body now, within `limit` seconds of the request's start."""
        import urllib3.exceptions

        deadline = started + limit
        chunks: list[bytes] = []
        try:
            while True:
                chunk = response.raw.read(65536, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    response.close()
                    raise TransferError(
                        f"the response took longer than {limit:g} s, body included",
                        request=request,
                    )
        except (urllib3.exceptions.HTTPError, OSError) as e:
            response.close()
            raise TransferError(
                f"the body was cut short or stalled ({e})", request=request
            ) from None
        response._content = b"".join(chunks)
        setattr(response, "_content_consumed", True)  # noqa: B010 - requests' own flag


def mount_pool(session: requests.Session, *, pool: int, timeout: float = DEFAULT_TIMEOUT) -> None:
    """A connection pool of `pool` connections per host, and a default timeout."""
    adapter = _TimeoutAdapter(timeout, pool_connections=max(4, pool), pool_maxsize=max(4, pool))
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def make_session(
    *,
    pool: int = 8,
    timeout: float = DEFAULT_TIMEOUT,
    token: str | None = None,
    api_url: str | None = None,
) -> requests.Session:
    """A session for dandindex's HTTP reads; `token` goes to `api_url`'s host only."""
    session = requests.Session()
    mount_pool(session, pool=pool, timeout=timeout)
    if token and api_url:
        session.auth = HostTokenAuth(token, api_url)
    from dandindex._version import __version__

    session.headers["User-Agent"] = (
        f"dandindex/{__version__} ({requests.utils.default_user_agent()})"
    )
    return session


def retry_after(response: requests.Response) -> float | None:
    """Seconds a response asks to wait (``Retry-After`` in seconds or as an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class TransferStats:
    """Requests, body bytes, retries and time spent waiting, counted thread-safely."""

    requests: int = 0
    bytes: int = 0
    retries: int = 0
    seconds_waiting: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, nbytes: int) -> None:
        with self._lock:
            self.requests += 1
            self.bytes += nbytes

    def waited(self, seconds: float) -> None:
        with self._lock:
            self.retries += 1
            self.seconds_waiting += seconds


def get(
    session: requests.Session,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = 6,
    allow_redirects: bool = True,
    ok: Callable[[requests.Response], bool] = lambda r: r.status_code in (200, 206),
    expect_length: int | None = None,
    stats: TransferStats | None = None,
    max_retry_after: float = MAX_RETRY_AFTER,
    what: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """GET `url`, retrying what may pass: connection errors, timeouts, cut bodies, 429/5xx.

    `ok(response)` says which answers are results (others raise at once, unless retryable);
    `expect_length`: a 206 answer (to a range read) must have exactly this many bytes, else
    the read is retried as cut short. Waits back off exponentially from 0.25 s (at most 8 s),
    or as long as ``Retry-After`` asks when that is longer, up to `max_retry_after`: a
    server asking for more fails the read at once (transient). Raises `RemoteReadError`.
    """
    delay = 0.25
    last = ""
    label = what or url
    unreachable = False
    for attempt in range(retries + 1):
        wait = delay
        unreachable = False
        try:
            response = session.get(
                url,
                headers=headers,
                params=params,
                timeout=timeout,
                allow_redirects=allow_redirects,
            )
            body = response.content  # read by the adapter within the request's deadline
        except RetryAfterTooLong as e:
            raise RemoteReadError(str(e), transient=True, status=e.status, url=url) from None
        except (requests.ConnectionError, requests.Timeout) as e:
            last = f"{type(e).__name__}: {e}"
            unreachable = _no_connection(e)
        except requests.exceptions.ChunkedEncodingError as e:
            last = f"the body was cut short ({e})"
        else:
            if stats is not None:
                stats.add(len(body))
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) != len(body):
                last = f"the body was cut short ({len(body)} of {declared} bytes)"
            elif ok(response):
                span = _range_length(response) if response.status_code == 206 else None
                if span is not None and len(body) != span:  # a body short of its own range
                    last = f"got {len(body)} bytes of a {span}-byte range"
                elif (
                    expect_length is not None
                    and response.status_code == 206
                    and len(body) != expect_length
                ):
                    last = f"got {len(body)} bytes of a range of {expect_length}"
                else:
                    return response
            elif response.status_code in RETRY_STATUSES:
                last = f"HTTP {response.status_code}"
                asked = retry_after(response)
                if asked is not None and asked > max_retry_after:
                    raise RemoteReadError(
                        f"{label}: the server asked to wait {asked:.0f} s before trying again "
                        f"(HTTP {response.status_code}), longer than dandindex waits "
                        f"({max_retry_after:.0f} s); try again later",
                        transient=True,
                        status=response.status_code,
                        url=url,
                    )
                if asked is not None:
                    wait = max(wait, asked)
            else:
                status = response.status_code
                raise RemoteReadError(
                    f"{label}: HTTP {status}",
                    transient=status in TRANSIENT_STATUSES,
                    status=status,
                    url=url,
                )
        if unreachable and attempt >= UNREACHABLE_TRIES - 1:
            break  # nobody listens there: a few quick tries, not the full backoff
        if attempt < retries:
            if stats is not None:
                stats.waited(wait)
            sleep(wait)
            delay = min(delay * 2, 8.0)
    raise RemoteReadError(
        f"{label}: giving up after {attempt + 1} tries ({last})",
        transient=True,
        url=url,
        unreachable=unreachable,
    )


def _no_connection(e: Exception) -> bool:
    """Whether no connection could be made at all (refused, name not found), as opposed to
    one that failed or timed out once made."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason = getattr(e.args[0], "reason", None) if e.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)


def _range_length(response: requests.Response) -> int | None:
    """How many bytes a 206 answer's ``Content-Range: bytes A-B/N`` says it holds."""
    m = re.match(r"\s*bytes\s+(\d+)-(\d+)/", response.headers.get("Content-Range", ""))
    return int(m.group(2)) - int(m.group(1)) + 1 if m else None
