"""Faults a test or benchmark switches on in the local archive, and what it counts.

`Faults` holds `FaultRule`s (status codes with ``Retry-After``, connection resets, slow
bodies, stalls, bodies cut short) and an added latency; `Counters` records requests,
statuses and body bytes per endpoint, and when requests arrived (for round trips).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any


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
        self.authorized: Counter[str] = Counter()  # requests that carried an Authorization header
        self.bytes: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.partial_bytes = 0  # body bytes of 206 (range) responses
        # arrival times, for round trips; bounded so a long-running server does not grow
        self.arrivals: dict[str, deque[float]] = {}

    def add_request(self, endpoint: str, authorized: bool = False) -> None:
        with self._lock:
            self.requests[endpoint] += 1
            if authorized:
                self.authorized[endpoint] += 1
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
            self.authorized.clear()
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
