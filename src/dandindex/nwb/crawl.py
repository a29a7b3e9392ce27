"""The NWB part of a crawl: summarise every NWB asset once per blob, in parallel processes.

Summaries are cached in the index folder under ``nwb/<key[:2]>/<key>.json``, keyed on the
blob's sha256 (else its etag, else its blob/zarr id), and written as each file finishes: an
unchanged blob is never read again, and an interrupted crawl resumes where it stopped.
Errors that a later crawl may not meet again (HTTP 404/5xx after retries, lost connections)
are not cached; the rest (not HDF5, truncated) are, so a bad blob is not re-read either.

Files are read in worker *processes*: h5py holds one global lock for every HDF5 call, and the
network reads happen inside those calls, so threads would read one file at a time.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from dandindex.store import IndexStore, now_utc, write_json_atomic

NWB_FORMAT = "application/x-nwb"
ZARR_FORMAT = "application/x-zarr"
ASSET_COLUMNS = [
    "asset_id",
    "dandiset_id",
    "path",
    "size",
    "blob_id",
    "zarr_id",
    "sha256",
    "etag",
    "encoding_format",
    "api_url",
]


@dataclass(frozen=True)
class NWBAsset:
    asset_id: str
    dandiset_id: str
    path: str
    size: int | None
    blob_id: str | None
    zarr_id: str | None
    sha256: str | None
    etag: str | None
    api_url: str | None

    @property
    def key(self) -> str:
        return self.sha256 or self.etag or self.blob_id or self.zarr_id or self.asset_id

    @property
    def is_zarr(self) -> bool:
        return self.zarr_id is not None


def is_nwb(row: dict[str, Any]) -> bool:
    path = (row.get("path") or "").lower()
    fmt = row.get("encoding_format")
    return (
        fmt == NWB_FORMAT
        or path.endswith(".nwb")
        or (fmt == ZARR_FORMAT and path.endswith(".nwb.zarr"))
    )


def nwb_assets(store: IndexStore, parts: dict[str, str]) -> list[NWBAsset]:
    """Every NWB asset of the given parts, one per asset_id."""
    seen: dict[str, NWBAsset] = {}
    for ds in sorted(parts):
        path = store.part_dir(ds, parts[ds]) / "assets.parquet"
        table = pq.read_table(str(path), columns=ASSET_COLUMNS)
        fmt = pc.equal(table["encoding_format"], NWB_FORMAT)
        suffix = pc.or_(
            pc.ends_with(pc.utf8_lower(table["path"]), ".nwb"),
            pc.ends_with(pc.utf8_lower(table["path"]), ".nwb.zarr"),
        )
        table = table.filter(pc.or_(pc.fill_null(fmt, False), suffix))
        for row in table.to_pylist():
            if row["asset_id"] in seen or not is_nwb(row):
                continue
            seen[row["asset_id"]] = NWBAsset(**{k: row[k] for k in NWBAsset.__dataclass_fields__})
    return list(seen.values())


class SummaryCache:
    """Per-blob summaries as JSON files in ``<index>/nwb/``."""

    def __init__(self, root: Path) -> None:
        self.root = root / "nwb"

    def path(self, key: str) -> Path:
        safe = "".join(c for c in key if c.isalnum() or c in "-_.")
        return self.root / safe[:2] / f"{safe}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self.path(key), encoding="utf-8") as f:
                data: dict[str, Any] = json.load(f)
            return data
        except (OSError, ValueError):
            return None

    def put(self, key: str, summary: dict[str, Any]) -> None:
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(p, summary)


# ----------------------------------------------------------------------------- workers

_SESSION: Any = None


def _session() -> Any:
    global _SESSION
    if _SESSION is None:
        import requests

        _SESSION = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        _SESSION.mount("http://", adapter)
        _SESSION.mount("https://", adapter)
    return _SESSION


def summarize_asset(
    asset: NWBAsset, api_url: str, timeout: float, token: str | None
) -> dict[str, Any]:
    """Worker: read one asset's file through the API and summarise it."""
    from dandindex.nwb.summary import summarize

    headers = {"Authorization": f"token {token}"} if token else None
    if asset.is_zarr:
        return summarize_zarr_asset(asset, api_url, timeout, headers)
    url = asset.api_url or f"{api_url}/assets/{asset.asset_id}/download/"
    return summarize(
        url, session=_session(), timeout=timeout, headers=headers, size=asset.size or None
    )


def summarize_zarr_asset(
    asset: NWBAsset, api_url: str, timeout: float, headers: dict[str, str] | None
) -> dict[str, Any]:
    """NWB-Zarr: the store's .zgroup/.zattrs/.zarray through the API's Zarr file listing."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from dandindex.nwb.summary import summarize_zarr_tree

    t0 = time.perf_counter()
    session = _session()
    listing = f"{api_url}/zarr/{asset.zarr_id}/files/"
    keys: list[str] = []
    requests_made = 0
    url: str | None = listing
    params: dict[str, Any] | None = {"prefix": ""}
    try:
        while url:
            r = session.get(url, params=params, headers=headers, timeout=timeout)
            requests_made += 1
            if r.status_code != 200:
                raise OSError(f"HTTP {r.status_code} listing the Zarr files at {listing}")
            body = r.json()
            keys += [item["Key"] for item in body.get("results") or []]
            url, params = body.get("next"), None
        wanted = [k for k in keys if k.rsplit("/", 1)[-1] in (".zgroup", ".zattrs", ".zarray")]

        def fetch(key: str) -> tuple[str, Any, int]:
            r = session.get(
                listing,
                params={"prefix": key, "download": "true"},
                headers=headers,
                timeout=timeout,
            )
            if r.status_code != 200:
                raise OSError(f"HTTP {r.status_code} reading {key}")
            return key, r.json(), len(r.content)

        with ThreadPoolExecutor(max_workers=16) as pool:
            fetched = list(pool.map(fetch, wanted))
        out = summarize_zarr_tree({k: v for k, v, _ in fetched})
        out["file"]["bytes_read"] = sum(n for _, _, n in fetched)
        out["file"]["requests"] = requests_made + 2 * len(fetched)
    except Exception as e:  # a missing or unreadable store is data: record why
        out = {
            "file": {"error": f"NWB-Zarr store not readable through {listing}: {e}"},
            "objects": [],
            "locations": [],
            "transient": True,
        }
    out["file"]["seconds"] = round(time.perf_counter() - t0, 4)
    return out


# ----------------------------------------------------------------------------- the pool


class WorkerPool:
    """`n` worker processes (``python -m dandindex.nwb.worker``), each fed by one thread."""

    def __init__(self, n: int, token: str | None) -> None:
        self.n = max(1, n)
        self.env = dict(os.environ)
        if token:
            self.env["DANDI_API_KEY"] = token
        self.env.setdefault("DANDI_NO_ET", "1")
        self._procs: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()
        self._closed = False

    def _spawn(self) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dandindex.nwb.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )
        with self._lock:
            self._procs.append(proc)
        return proc

    def map(self, tasks: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(key, summary)`` as workers finish, in completion order."""
        todo: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        done: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        for item in tasks.items():
            todo.put(item)

        def run() -> None:
            proc = self._spawn()
            while not self._closed:
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    break
                key, task = item
                try:
                    assert proc.stdin is not None and proc.stdout is not None
                    proc.stdin.write(json.dumps(task, default=str) + "\n")
                    proc.stdin.flush()
                    line = proc.stdout.readline()
                    if not line:
                        raise OSError(f"worker exited with code {proc.wait()}")
                    result = json.loads(line)
                except Exception as e:  # the worker died or answered garbage: one file lost
                    if self._closed:
                        return
                    result = {
                        "file": {"error": f"the summarising process died on this file: {e}"},
                        "objects": [],
                        "locations": [],
                        "transient": False,
                    }
                    self._stop(proc, kill=True)
                    proc = self._spawn()
                done.put((key, result))
            self._stop(proc)

        threads = [threading.Thread(target=run, daemon=True) for _ in range(self.n)]
        for t in threads:
            t.start()
        received = 0
        while received < len(tasks):
            try:
                item = done.get(timeout=1.0)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and done.empty():
                    raise RuntimeError(
                        "every NWB worker stopped before the work was done"
                    ) from None
                continue
            received += 1
            yield item
        for t in threads:
            t.join()

    def _stop(self, proc: subprocess.Popen[str], kill: bool = False) -> None:
        try:
            if kill:
                proc.kill()
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            if proc.stdout:
                proc.stdout.close()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            procs = list(self._procs)
        for p in procs:
            self._stop(p, kill=p.poll() is None)


# ----------------------------------------------------------------------------- the phase

CACHED: dict[str, Any] = {"cached": True}  # marker: the summary is in the cache


@dataclass
class NWBOptions:
    workers: int = 8
    max_size: int | None = None
    timeout: float = 30.0
    summarize: bool = True  # False: only reuse cached summaries (no network)


def run_summaries(
    store: IndexStore,
    assets: list[NWBAsset],
    api_url: str,
    options: NWBOptions,
    token: str | None,
    progress: Callable[[int, int], None] | None = None,
    read_stats: dict[str, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """Summaries for `assets` by key: cached ones reused, missing ones read (if allowed).

    Transient failures are returned (so this snapshot records them) but not cached.
    """
    cache = SummaryCache(store.root)
    if read_stats is None:
        read_stats = {}
    read_stats.setdefault("bytes", 0)
    read_stats.setdefault("failed", 0)
    results: dict[str, dict[str, Any]] = {}
    todo: dict[str, NWBAsset] = {}
    for a in assets:
        if a.key in results or a.key in todo:
            continue
        if cache.has(a.key):
            results[a.key] = CACHED
        elif not options.summarize:
            continue
        elif options.max_size is not None and (a.size or 0) > options.max_size:
            results[a.key] = {
                "file": {
                    "error": f"not read: {a.size} bytes is over --nwb-max-size {options.max_size}"
                },
                "objects": [],
                "locations": [],
                "transient": True,
            }
        else:
            todo[a.key] = a
    total, done = len(todo), 0
    if progress:
        progress(done, total)
    if not todo:
        return results
    pool = WorkerPool(min(options.workers, len(todo)), token)
    try:
        for key, summary in pool.map(
            {
                key: {"asset": a.__dict__, "api_url": api_url, "timeout": options.timeout}
                for key, a in todo.items()
            }
        ):
            summary["file"]["summarized_at"] = now_utc().isoformat()
            read_stats["bytes"] += summary["file"].get("bytes_read") or 0
            read_stats["failed"] += 1 if summary["file"].get("error") else 0
            if summary.get("transient"):
                results[key] = summary
            else:
                cache.put(key, summary)
                results[key] = CACHED
            done += 1
            if progress:
                progress(done, total)
    finally:
        pool.close()
    return results


def nwb_rows(
    store: IndexStore, assets: list[NWBAsset], summaries: dict[str, dict[str, Any]]
) -> tuple[Iterator[dict[str, Any]], Iterator[dict[str, Any]], Iterator[dict[str, Any]]]:
    """Rows of nwb_files, nwb_objects and nwb_locations for the assets that have summaries.

    Cached summaries are read from disk one at a time (memory stays bounded).
    """
    from dandindex.crawl.rows import parse_datetime

    cache = SummaryCache(store.root)
    have = [a for a in assets if a.key in summaries]

    def load(a: NWBAsset) -> dict[str, Any]:
        s = summaries[a.key]
        if s is CACHED:
            s = cache.get(a.key) or {
                "file": {"error": "cached summary unreadable"},
                "objects": [],
                "locations": [],
            }
        return s

    def files() -> Iterator[dict[str, Any]]:
        for a in have:
            f = load(a)["file"]
            yield {
                "asset_id": a.asset_id,
                "dandiset_id": a.dandiset_id,
                "blob_id": a.blob_id,
                "sha256": a.sha256,
                "summary_key": a.key,
                "size": f.get("size", a.size),
                "nwb_version": f.get("nwb_version"),
                "identifier": f.get("identifier"),
                "session_description": f.get("session_description"),
                "session_start": f.get("session_start"),
                "institution": f.get("institution"),
                "lab": f.get("lab"),
                "experimenters": f.get("experimenters") or [],
                "keywords": f.get("keywords") or [],
                "subject_id": f.get("subject_id"),
                "species": f.get("species"),
                "sex": f.get("sex"),
                "age": f.get("age"),
                "genotype": f.get("genotype"),
                "n_objects": f.get("n_objects"),
                "n_electrodes": f.get("n_electrodes"),
                "n_units": f.get("n_units"),
                "n_rois": f.get("n_rois"),
                "n_imaging_planes": f.get("n_imaging_planes"),
                "neurodata_types": f.get("neurodata_types") or [],
                "metadata_ranges": f.get("metadata_ranges") or [],
                "read_url": f.get("read_url"),
                "links": f.get("links"),
                "bytes_read": f.get("bytes_read"),
                "requests": f.get("requests"),
                "seconds": f.get("seconds"),
                "error": f.get("error"),
                "summarized_at": parse_datetime(f.get("summarized_at"), "summarized_at", []),
            }

    def objects() -> Iterator[dict[str, Any]]:
        for a in have:
            for o in load(a)["objects"]:
                yield {
                    "asset_id": a.asset_id,
                    **{k: v for k, v in o.items() if k != "is_dataset"},
                    "is_dataset": o.get("is_dataset"),
                }

    def locations() -> Iterator[dict[str, Any]]:
        for a in have:
            for loc in load(a)["locations"]:
                yield {"asset_id": a.asset_id, **loc}

    return files(), objects(), locations()
