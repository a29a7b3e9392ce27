"""A read-only file-like object over HTTP range requests, tuned for HDF5 metadata.

h5py reads HDF5 metadata in many small, scattered reads. `RangeFile` keeps a bounded cache of
small aligned blocks, fetches only the blocks a read is missing (adjacent ones coalesced into
one request, separate runs fetched concurrently), reads ahead a little, and lets a caller
*prefetch* many ranges in one concurrent burst (used to fetch every child object header of a
group at once). One pooled keep-alive session from `dandindex.remote.session` (the API key,
if given, goes to the API's host only), its bounded retries of connection errors, timeouts,
cut bodies and 429/5xx (honouring ``Retry-After``), and one redirect followed once (the DANDI
API's ``/download/`` 302 to the blob URL). It records which blocks were used, so a later open can
fetch exactly those up front.
"""

from __future__ import annotations

import gc
import io
import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from dandindex.errors import RemoteReadError
from dandindex.remote.session import TransferStats, make_session
from dandindex.remote.session import get as session_get

SMALL_FILE = 256 * 1024  # with the size known, a file under this opens with a larger read
SMALL_FIRST_READ = 24 * 1024
SMALL_TAIL = 8 * 1024  # ... and its last bytes in the same burst


def coalesce(blocks: Iterable[int], gap: int = 0) -> list[tuple[int, int]]:
    """Sorted block numbers → ``[(first, last)]`` runs, merging runs `gap` blocks apart."""
    runs: list[tuple[int, int]] = []
    for b in sorted(set(blocks)):
        if runs and b <= runs[-1][1] + 1 + gap:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((b, b))
    return runs


class RangeFile(io.RawIOBase):
    """Random access to a remote file by HTTP range requests, with a block cache.

    `block_size`: cache granularity (bytes). `readahead`: extra blocks fetched after a read
    that missed the cache. `first_read`: bytes fetched by the request that opens the file (it
    also learns the size and the final URL). With `size` known, a file of at most
    `whole_below` bytes is read whole by that request and one under `SMALL_FILE` opens with
    `SMALL_FIRST_READ` and, concurrently, its last `SMALL_TAIL` bytes; `first_read=0` with `size` and a blob URL makes no opening request.
    `gap`: missing runs at most this many blocks apart are fetched as one request.
    `max_cache`: bytes kept (least recently used dropped).
    """

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        block_size: int = 4096,
        readahead: int = 2,
        max_readahead: int = 16,
        readbehind: bool = True,
        budget: float = 1.9,
        whole_below: int = 49152,
        first_read: int = 8192,
        gap: int = 1,
        max_cache: int = 64 << 20,
        timeout: float = 30.0,
        retries: int = 6,
        workers: int = 16,
        size: int | None = None,
        token: str | None = None,
    ) -> None:
        super().__init__()
        self.url = url
        self._own_session = session is None
        if session is None:  # the key, if any, for the host of `url` (the API's) only
            session = make_session(pool=workers, timeout=timeout, token=token, api_url=url)
        self.session = session
        self.block_size = block_size
        self.readahead = readahead
        self.min_readahead = readahead
        self.max_readahead = max_readahead
        self.readbehind = readbehind
        self.budget = budget
        self._fetched = 0  # blocks fetched so far
        self._speculative: set[int] = set()  # fetched ahead, not yet used
        self._last_speculative: set[int] = set()
        self.gap = gap
        self.max_cache = max_cache
        self.timeout = timeout
        self.retries = retries
        self.stats = TransferStats()
        self.failed: RemoteReadError | None = None  # the first read a caller needed that failed
        self.used: set[int] = set()  # blocks a read actually needed
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._pos = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="range")
        self.size = size if size is not None else -1
        try:
            self._first_reads(first_read, whole_below)
        except BaseException:
            self.close()  # no pool threads or connections left behind by a failed open
            raise

    # -- io.RawIOBase -------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        elif whence == io.SEEK_END:
            self._pos = self.size + offset
        else:  # pragma: no cover - io contract
            raise ValueError(f"bad whence {whence}")
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), max(0, self.size - self._pos))
        if n <= 0:
            return 0
        data = self.pread(self._pos, n)
        view[:n] = data
        self._pos += n
        return n

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self._pos
        n = min(size, max(0, self.size - self._pos))
        if n <= 0:
            return b""
        data = self.pread(self._pos, n)
        self._pos += n
        return data

    def close(self) -> None:
        if not self.closed:
            self._pool.shutdown(wait=False, cancel_futures=True)
            if self._own_session:
                self.session.close()
        super().close()

    def _first_reads(self, first_read: int, whole_below: int) -> None:
        """The opening request(s): learn the size and final URL, keep the first bytes."""
        bs = self.block_size
        if 0 < self.size <= whole_below and first_read > 0:
            self._open(self.size)  # a tiny file is mostly metadata: take it all at once
            return
        if first_read <= 0 and self.size >= 0:
            return
        tail = None
        if 0 < self.size < SMALL_FILE:
            # in a small file the metadata fills the first blocks (cached specs follow), and
            # libhdf5 moved what grew after it was written (heaps, object header
            # continuations) to the end: read both ends in the opening burst
            first_read = max(first_read, SMALL_FIRST_READ)
            last = (self.size - 1) // bs
            first = max(-(-first_read // bs), last + 1 - SMALL_TAIL // bs)
            if first <= last:
                tail = self._pool.submit(self._fetch_run, first, last, True)
        expected = self.size
        self._open(max(first_read, bs))
        if tail is not None:
            try:
                tail.result()
            except RemoteReadError:
                pass  # only a guess: the walk reads what it needs anyway
            if self.size != expected:  # the given size was wrong: drop the guess
                with self._lock:
                    self._blocks = OrderedDict((b, d) for b, d in self._blocks.items() if b < first)
        if 0 < self.size <= whole_below:
            self.prefetch([(0, self.size)])

    # -- reading -------------------------------------------------------------------

    def pread(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset`, fetching the missing blocks (plus read-ahead)."""
        bs = self.block_size
        first, last = offset // bs, (offset + length - 1) // bs
        wanted = range(first, last + 1)
        self.used.update(wanted)
        if self._speculative.intersection(wanted):
            # read-ahead paid off: metadata is clustered here, read further next time
            self._speculative.difference_update(wanted)
            self.readahead = min(self.max_readahead, self.readahead * 2)
        missing = [b for b in wanted if b not in self._blocks]
        if missing:
            if self._last_speculative and not (self._last_speculative & self.used):
                self.readahead = max(self.min_readahead, self.readahead // 2)
            top = (self.size - 1) // bs
            behind = self.readahead // 2 if self.readbehind else 0
            ahead = [
                b
                for b in range(last + 1, min(top, last + self.readahead) + 1)
                if b not in self._blocks
            ]
            back = [b for b in range(max(0, first - behind), first) if b not in self._blocks]
            extra = _interleave(ahead, back)
            # budget: speculative blocks never take the total past `budget` x the blocks used,
            # so a walk never fetches more than about that multiple of what it needs
            room = int(self.budget * len(self.used)) - (self._fetched + len(missing))
            extra = extra[: max(0, room)]
            self._last_speculative = set(extra)
            self._speculative.update(extra)
            try:
                self._fetch_blocks(missing + extra)
            except RemoteReadError as e:
                self.failed = e  # a reader that swallows the error cannot hide it
                raise
        with self._lock:
            parts = []
            for b in wanted:
                block = self._blocks[b]
                self._blocks.move_to_end(b)
                parts.append(block)
        data = b"".join(parts)
        start = offset - first * bs
        return data[start : start + length]

    def prefetch(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Fetch every block of ``[(offset, length)]`` now, in one concurrent burst."""
        self.fetch_blocks(self.blocks_of(ranges))

    def blocks_of(self, ranges: Iterable[tuple[int, int]]) -> set[int]:
        """The block numbers that ``[(offset, length)]`` cover (inside the file)."""
        bs = self.block_size
        blocks: set[int] = set()
        for offset, length in ranges:
            if offset < 0 or offset >= self.size or length <= 0:
                continue
            end = min(self.size, offset + length) - 1
            blocks.update(range(offset // bs, end // bs + 1))
        return blocks

    def has_block(self, block: int) -> bool:
        return block in self._blocks

    def fetch_blocks(self, blocks: Iterable[int]) -> None:
        """Fetch the given blocks that are not cached, in one concurrent burst."""
        self._fetch_blocks([b for b in blocks if b not in self._blocks])

    @property
    def blocks_fetched(self) -> int:
        return self._fetched

    def cached(self, offset: int, length: int) -> bytes | None:
        """`length` bytes at `offset` if every block is cached, else None (no request)."""
        bs = self.block_size
        first, last = offset // bs, (offset + length - 1) // bs
        with self._lock:
            try:
                data = b"".join(self._blocks[b] for b in range(first, last + 1))
            except KeyError:
                return None
        start = offset - first * bs
        return data[start : start + length]

    def used_ranges(self) -> list[tuple[int, int]]:
        """The byte ranges reads needed, as ``[(offset, length)]`` (coalesced)."""
        bs = self.block_size
        return [
            (a * bs, min(self.size, (b + 1) * bs) - a * bs) for a, b in coalesce(self.used, gap=0)
        ]

    def _fetch_blocks(self, blocks: list[int]) -> None:
        runs: list[tuple[int, int]] = []
        for a, b in coalesce(blocks, gap=0):
            # bridge a small gap only when none of its blocks is cached (never fetch twice)
            if (
                runs
                and a - runs[-1][1] - 1 <= self.gap
                and not any(g in self._blocks for g in range(runs[-1][1] + 1, a))
            ):
                runs[-1] = (runs[-1][0], b)
            else:
                runs.append((a, b))
        if not runs:
            return
        if len(runs) == 1:
            self._fetch_run(*runs[0])
            return
        # This runs inside an h5py call, which holds h5py's global lock. A cyclic garbage
        # collection in a pool thread could finalise some h5py object there and wait for
        # that lock forever, so no collection while the pool works.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for fut in [self._pool.submit(self._fetch_run, a, b) for a, b in runs]:
                fut.result()
        finally:
            if was_enabled:
                gc.enable()

    def _fetch_run(self, first: int, last: int, redirect: bool = False) -> None:
        bs = self.block_size
        start = first * bs
        end = min(self.size, (last + 1) * bs) - 1
        data = self._get(start, end, redirect)
        with self._lock:
            self._fetched += last - first + 1
            for i, b in enumerate(range(first, last + 1)):
                self._blocks[b] = data[i * bs : (i + 1) * bs]
                self._blocks.move_to_end(b)
            while len(self._blocks) * bs > self.max_cache:
                self._blocks.popitem(last=False)

    # -- HTTP ------------------------------------------------------------------------

    def _open(self, nbytes: int) -> None:
        """First request: follow the redirect once, learn the size, keep the first bytes."""
        bs = self.block_size
        want = ((nbytes + bs - 1) // bs) * bs
        response = self._request(0, want - 1, allow_redirects=True)
        self.url = response.url  # the final (blob) URL: later reads skip the redirect
        total = _total_size(response)
        data = response.content
        if total is None:
            if response.status_code == 200:
                total = len(data)
            else:
                raise RemoteReadError(
                    f"{self.url}: the server did not say how large the file is",
                    transient=True,
                    url=self.url,
                )
        if len(data) < min(want, total):  # never keep a short opening read as the file's
            raise RemoteReadError(
                f"{self.url}: the opening read got {len(data)} of {min(want, total)} bytes",
                transient=True,
                url=self.url,
            )
        self.size = total
        data = data[:want]
        with self._lock:
            for i in range(0, len(data), bs):
                self._blocks[i // bs] = data[i : i + bs]
            self._fetched += (len(data) + bs - 1) // bs

    def _get(self, start: int, end: int, redirect: bool = False) -> bytes:
        response = self._request(start, end, allow_redirects=redirect, length=end - start + 1)
        data = response.content
        if response.status_code == 200:  # server ignored the range: take our slice
            data = data[start : end + 1]
        if len(data) != end - start + 1:
            raise RemoteReadError(
                f"{self.url}: asked for bytes {start}-{end}, got {len(data)} bytes",
                transient=True,
                url=self.url,
            )
        return data

    def _request(
        self, start: int, end: int, *, allow_redirects: bool, length: int | None = None
    ) -> requests.Response:
        try:
            return session_get(
                self.session,
                self.url,
                headers={"Range": f"bytes={start}-{end}"},
                timeout=self.timeout,
                retries=self.retries,
                allow_redirects=allow_redirects,
                expect_length=length,
                stats=self.stats,
                what=f"{self.url} bytes {start}-{end}",
            )
        except RemoteReadError as e:
            if e.status == 416:
                raise RemoteReadError(
                    f"{self.url}: bytes {start}-{end} are beyond the end of the file (416)",
                    transient=False,
                    status=416,
                    url=self.url,
                ) from None
            raise


def _interleave(a: list[int], b: list[int]) -> list[int]:
    out: list[int] = []
    for i in range(max(len(a), len(b))):
        out += a[i : i + 1] + b[i : i + 1]
    return out


def _total_size(response: requests.Response) -> int | None:
    cr = response.headers.get("Content-Range")
    if cr and "/" in cr:
        total = cr.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    if response.status_code == 200 and response.headers.get("Content-Length", "").isdigit():
        return int(response.headers["Content-Length"])
    return None
