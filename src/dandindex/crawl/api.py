"""Crawl a DANDI API into the index: dandisets, versions, contributors and assets.

Cost: the Dandiset listing (``page_size=1000``), then for each *changed* dandiset one
request per indexed version for its raw metadata and ``ceil(n/1000)`` for its assets through
the bulk listing ``.../assets/?metadata=true&page_size=1000`` (pages of one dandiset in
series; dandisets in parallel). Unchanged dandisets (same listing stamp) cost nothing more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dandindex.crawl import listing as L
from dandindex.crawl import rows as R
from dandindex.crawl.client import make_client, scrub, url_hint
from dandindex.crawl.stats import CrawlStats
from dandindex.errors import CrawlError, IndexDamagedError
from dandindex.facets import write_facets_in_subprocess
from dandindex.fsutil import now_utc
from dandindex.schemas import TABLES_VERSION
from dandindex.store import IndexStore, error_row, manifest_base, stamp_key

if TYPE_CHECKING:
    from dandi.dandiapi import DandiAPIClient

PAGE_SIZE = 1000
VERSION_MODES = ("draft", "latest", "all")


@dataclass
class CrawlOptions:
    api_url: str
    index_dir: str
    dandisets: list[str] = field(default_factory=list)
    versions: str = "latest"
    include_embargoed: bool = False
    workers: int = 4
    full: bool = False
    timeout: float = 60.0
    api_key: str | None = None
    nwb: bool = False
    nwb_workers: int = 8
    nwb_max_size: int | None = None
    nwb_file_timeout: float | None = 600.0
    nwb_dandisets: list[str] = field(default_factory=list)  # read NWB files only of these
    dask: Any = None  # distributed.Client or scheduler address: NWB files as Dask tasks

    def public(self) -> dict[str, Any]:
        """What goes into the manifest (never the key)."""
        return {
            "dandisets": self.dandisets,
            "versions": self.versions,
            "include_embargoed": self.include_embargoed,
            "workers": self.workers,
            "full": self.full,
            "nwb": self.nwb,
            "nwb_workers": self.nwb_workers,
            "nwb_max_size": self.nwb_max_size,
            "nwb_file_timeout": self.nwb_file_timeout,
            "nwb_dandisets": self.nwb_dandisets,
            "dask": None if self.dask is None else str(getattr(self.dask, "scheduler", self.dask)),
        }


ProgressHook = Callable[[CrawlStats], None]


class Crawler:
    """One crawl of one API into one index folder (see module docstring for the costs)."""

    def __init__(self, options: CrawlOptions, progress: ProgressHook | None = None) -> None:
        if options.versions not in VERSION_MODES:
            raise CrawlError(f"--versions must be one of {', '.join(VERSION_MODES)}")
        if options.include_embargoed and not options.api_key:
            raise CrawlError("--include-embargoed needs an API key: set DANDI_API_KEY.")
        self.opts = options
        self.store = IndexStore(options.index_dir)
        self.stats = CrawlStats()
        self.progress = progress or (lambda s: None)
        self.api_url = options.api_url.rstrip("/")
        self._stop = threading.Event()

    # -- entry point ----------------------------------------------------------------

    def run(self) -> CrawlStats:
        started = now_utc()
        t0 = time.monotonic()
        with self.store.lock():
            client = make_client(
                self.api_url,
                self.opts.api_key,
                pool=self.opts.workers + 4,
                timeout=self.opts.timeout,
            )
            client.session.hooks["response"].append(self._count_response)
            try:
                self._crawl(client, started)
            finally:
                client.session.close()
        self.stats.seconds = time.monotonic() - t0
        self.progress(self.stats)
        return self.stats

    def _count_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.stats.bump(requests=1)

    def _error(
        self,
        stage: str,
        error: str,
        dandiset_id: str | None = None,
        version: str | None = None,
        asset_id: str | None = None,
    ) -> dict[str, Any]:
        return error_row(
            stage,
            scrub(error, self.opts.api_key),
            dandiset_id=dandiset_id,
            version=version,
            asset_id=asset_id,
        )

    # -- the walk ---------------------------------------------------------------------

    def _listing(self, client: DandiAPIClient) -> list[dict[str, Any]]:
        if self.opts.dandisets:
            out = []
            for ident in self.opts.dandisets:
                try:
                    out.append(self._get(client, f"/dandisets/{ident}/"))
                except Exception as e:
                    if _status(e) == 404:
                        raise CrawlError(
                            f"Dandiset {ident} does not exist on {self.api_url} (or is not visible without a key)."
                        ) from None
                    raise
            return out
        params = {"embargoed": "true"} if self.opts.include_embargoed else {}
        return self._retrying(
            lambda: list(client.paginate("/dandisets/", page_size=PAGE_SIZE, params=params))
        )

    def _get(self, client: DandiAPIClient, path: str, **kwargs: Any) -> Any:
        """One API GET through the client (it retries connection errors, stalls, cut bodies
        and 429/5xx), with the crawl's timeout, retrying a body that does not parse."""
        return self._retrying(lambda: client.get(path, timeout=self.opts.timeout, **kwargs))

    def _retrying(self, call: Callable[[], Any]) -> Any:
        import requests

        for attempt in range(JSON_RETRIES):
            try:
                return call()
            except requests.exceptions.JSONDecodeError:
                if attempt == JSON_RETRIES - 1:
                    raise
                time.sleep(min(8.0, 0.5 * 2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _stamp(self, entry: dict[str, Any]) -> dict[str, Any]:
        def vstamp(v: Any) -> dict[str, Any] | None:
            if not isinstance(v, dict) or not v:
                return None
            return {k: v.get(k) for k in ("version", "modified", "asset_count", "size", "status")}

        return {
            "api": self.api_url,
            "tables_version": TABLES_VERSION,
            "versions": self.opts.versions,
            "modified": entry.get("modified"),
            "embargo_status": entry.get("embargo_status"),
            "draft": vstamp(entry.get("draft_version")),
            "published": vstamp(entry.get("most_recent_published_version")),
        }

    def _crawl(self, client: DandiAPIClient, started: datetime) -> None:
        try:
            listing = self._listing(client)
        except CrawlError:
            raise
        except Exception as e:  # what the client raises after its retries
            status = getattr(getattr(e, "response", None), "status_code", None)
            raise CrawlError(
                f"Listing dandisets on {self.api_url} failed: {scrub(str(e), self.opts.api_key)}"
                + (f".{url_hint(self.api_url)}" if status == 404 else "")
            ) from None
        try:
            previous = self.store.manifest() if self.store.exists() else {}
        except IndexDamagedError:  # nothing to build on: crawl everything, write a new manifest
            previous = {}
        prev_ds: dict[str, Any] = (
            previous.get("dandisets", {}) if previous.get("api_url") == self.api_url else {}
        )
        entries, listing_problems = L.listing_entries(listing)
        failed_errors: list[dict[str, Any]] = [
            self._error("dandiset_listing", message, ident) for ident, message in listing_problems
        ]
        self.stats.bump(errors=len(failed_errors))
        self.stats.dandisets_total = len(entries)
        todo: dict[str, tuple[dict[str, Any], str]] = {}
        parts: dict[str, str] = {}
        for ident, entry in entries.items():
            key = stamp_key(self._stamp(entry))
            if not self.opts.full and self.store.has_part(ident, key):
                parts[ident] = key
                self.stats.bump(dandisets_unchanged=1, dandisets_done=1)
            else:
                todo[ident] = (entry, key)
        self.progress(self.stats)
        with ThreadPoolExecutor(
            max_workers=max(1, self.opts.workers), thread_name_prefix="crawl"
        ) as pool:
            futures: dict[Future[None], str] = {
                pool.submit(self._crawl_dandiset, client, ident, entry, key): ident
                for ident, (entry, key) in sorted(todo.items())
            }
            pending = set(futures)
            while pending:
                try:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                except (
                    BaseException
                ):  # Ctrl-C: stop workers at their next page, keep finished parts
                    self._stop.set()
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
                for fut in done:
                    ident = futures[fut]
                    exc = fut.exception()
                    if exc is None:
                        parts[ident] = todo[ident][1]
                        self.stats.bump(dandisets_fetched=1)
                    elif isinstance(exc, (KeyboardInterrupt, SystemExit, _Stopped)):
                        raise exc
                    else:
                        self.stats.bump(dandisets_failed=1, errors=1)
                        self.stats.failed.append(ident)
                        reason = scrub(describe_failure(exc), self.opts.api_key)
                        self.stats.reasons[ident] = reason
                        failed_errors.append(self._error("dandiset", reason, ident))
                        old = prev_ds.get(ident, {}).get("part")
                        if old and self.store.has_part(ident, old):
                            parts[ident] = old  # keep what we had: lose nothing
                    self.stats.bump(dandisets_done=1)
                self.progress(self.stats)
        if self.opts.dandisets:  # a partial crawl keeps every other dandiset as it was
            for ident, info in prev_ds.items():
                if (
                    ident not in parts
                    and info.get("part")
                    and self.store.has_part(ident, info["part"])
                ):
                    parts[ident] = info["part"]
                    if ident not in entries and info.get("entry"):
                        entries[ident] = info["entry"]
        removed = [d for d in prev_ds if d not in entries]
        self.stats.dandisets_removed = len(removed)
        dandiset_rows = []
        for d in sorted(entries):
            problems: R.Problems = []
            versions = self.store.part_info(d, parts[d]).get("versions", []) if d in parts else []
            dandiset_rows.append(L.dandiset_row(entries[d], versions, problems))
            failed_errors += [self._error("dandiset_listing", p, d) for p in problems]
        manifest = manifest_base(self.api_url, self.opts.public(), started)
        manifest["dandisets"] = {
            d: {
                "part": parts.get(d),
                "stamp": self._stamp(entries[d]) if d in entries else None,
                "entry": entries[d],
                "failed": d in self.stats.failed,
                "rows": self.store.part_info(d, parts[d])["rows"] if d in parts else {},
            }
            for d in sorted(entries)
        }
        named: list[dict[str, Any]] = []  # NWB objects naming files outside their file
        extra = self._nwb_phase(parts, named)
        extra.update(self._files_phase(parts, named))
        manifest["stats"] = {k: v for k, v in vars(self.stats).items() if not k.startswith("_")}
        self.store.publish(
            crawl_id=started.strftime("%Y%m%dT%H%M%S%fZ"),
            dandiset_rows=dandiset_rows,
            parts=parts,
            extra_errors=failed_errors,
            manifest=manifest,
            extra_tables=extra,
            finalize=write_facets_in_subprocess,
        )

    def _files_phase(self, parts: dict[str, str], named: list[dict[str, Any]]) -> dict[str, Any]:
        """Files that are not NWB (OME-Zarr, TIFF, video, BIDS): cached summaries always, new
        ones only with --nwb; and the links NWB files make to them (`named`, filled while
        the NWB objects are written, before these)."""
        from dandindex.crawl import files_phase as F

        links = F.link_rows(self.store, parts, named)
        if not self.opts.nwb and not (self.store.root / "files").is_dir():
            return {"file_summaries": [], "file_links": links}
        found = F.scan(self.store, parts)

        def progress(done: int, total: int) -> None:
            self.stats.files_done, self.stats.files_total = done, total
            self.progress(self.stats)

        read: dict[str, int] = {}
        summaries = F.run_media(
            self.store, found.media, self.api_url, self._nwb_options(), self.opts.api_key,
            progress, read,
        )  # fmt: skip
        self.stats.files_bytes, self.stats.files_failed = read["bytes"], read["failed"]
        self.stats.files_missing, self.stats.files_outdated = read["missing"], read["outdated"]
        return {
            "file_summaries": F.file_rows(self.store, parts, found, summaries),
            "file_links": links,
        }

    def _nwb_options(self) -> Any:
        from dandindex.crawl.nwb_phase import NWBOptions

        return NWBOptions(
            workers=self.opts.nwb_workers,
            max_size=self.opts.nwb_max_size,
            timeout=min(self.opts.timeout, 60.0),
            summarize=self.opts.nwb,
            file_timeout=self.opts.nwb_file_timeout,
            only_dandisets=frozenset(self.opts.nwb_dandisets),
            dask=self.opts.dask,
        )

    def _nwb_phase(self, parts: dict[str, str], named: list[dict[str, Any]]) -> dict[str, Any]:
        """NWB summaries: cached ones always (no network), new ones only with --nwb."""
        from dandindex.crawl.nwb_phase import nwb_assets, nwb_rows, run_summaries

        if not self.opts.nwb and not (self.store.root / "nwb").is_dir():
            return {"nwb_files": [], "nwb_objects": [], "nwb_locations": []}  # nothing to add
        assets = nwb_assets(self.store, parts)
        options = self._nwb_options()

        def progress(done: int, total: int) -> None:
            self.stats.nwb_done, self.stats.nwb_total = done, total
            self.progress(self.stats)

        read: dict[str, int] = {}
        summaries = run_summaries(
            self.store, assets, self.api_url, options, self.opts.api_key, progress, read
        )
        self.stats.nwb_bytes, self.stats.nwb_failed = read["bytes"], read["failed"]
        self.stats.nwb_not_read, self.stats.nwb_missing = read["not_read"], read["missing"]
        self.stats.nwb_outdated, self.stats.nwb_outdated_kept = (
            read["outdated"],
            read["outdated_kept"],
        )
        files, objects, locations = nwb_rows(self.store, assets, summaries, named)
        return {"nwb_files": files, "nwb_objects": objects, "nwb_locations": locations}

    def _versions_to_index(
        self, client: DandiAPIClient, ident: str, entry: dict[str, Any]
    ) -> list[dict[str, Any]]:
        draft = {**(entry.get("draft_version") or {}), "version": "draft"}
        if self.opts.versions == "draft":
            return [draft]
        if self.opts.versions == "latest":
            mrp = entry.get("most_recent_published_version")
            return [mrp, draft] if mrp and isinstance(mrp.get("version"), str) else [draft]
        found = self._retrying(
            lambda: list(client.paginate(f"/dandisets/{ident}/versions/", page_size=PAGE_SIZE))
        )
        published = [v for v in found if isinstance(v, dict) and isinstance(v.get("version"), str)]
        return [v for v in published if v["version"] != "draft"] + [draft]

    def _crawl_dandiset(
        self, client: DandiAPIClient, ident: str, entry: dict[str, Any], key: str
    ) -> None:
        part = self.store.new_part(ident, key)
        try:
            versions = self._versions_to_index(client, ident, entry)
            indexed = []
            for vinfo in versions:
                version = str(vinfo.get("version"))
                meta = self._get(client, f"/dandisets/{ident}/versions/{version}/")
                vrow, contributors, problems = R.version_rows(ident, version, meta, vinfo)
                part.add("versions", vrow)
                for c in contributors:
                    part.add("contributors", c)
                for p in problems:
                    part.add("crawl_errors", self._error("version_metadata", p, ident, version))
                self.stats.bump(errors=len(problems))
                if vinfo.get("asset_count", 1) != 0:
                    seen: set[str] = set()
                    for item in self._asset_pages(client, ident, version):
                        if not isinstance(item, dict):
                            item = {"metadata": item}
                        row, problems = R.asset_row(item, ident, version, self.api_url)
                        aid = row["asset_id"]
                        if aid is None:
                            problems.append(f"the asset at {row['path']!r} was not indexed")
                        elif aid in seen:
                            problems.append(
                                "asset_id: listed twice in this version; the first is kept"
                            )
                        else:
                            seen.add(aid)
                            part.add("assets", row)
                            self.stats.bump(assets=1)
                        for p in problems:
                            part.add(
                                "crawl_errors",
                                self._error("asset_metadata", p, ident, version, aid),
                            )
                        self.stats.bump(errors=len(problems))
                indexed.append(version)
            part.commit(
                {"dandiset_id": ident, "key": key, "versions": indexed, "stamp": self._stamp(entry)}
            )
        except BaseException:
            part.abort()
            raise

    def _asset_pages(
        self, client: DandiAPIClient, ident: str, version: str
    ) -> Iterator[dict[str, Any]]:
        """The bulk listing, one page after another (the server slows under parallel pages)."""
        url: str | None = f"/dandisets/{ident}/versions/{version}/assets/"
        params: dict[str, Any] | None = {
            "metadata": "true",
            "page_size": PAGE_SIZE,
            "order": "created",
        }
        while url:
            if self._stop.is_set():
                raise _Stopped(ident)
            page = self._get(client, url, params=params)
            yield from page.get("results") or []
            url, params = page.get("next"), None


JSON_RETRIES = 5  # a body that is not JSON although whole by its length (a server bug)


class _Stopped(Exception):
    """A worker noticed the crawl was interrupted."""


def describe_failure(exc: BaseException) -> str:
    """A sentence for why a dandiset could not be read (after the client's retries)."""
    import requests

    status = _status(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, requests.HTTPError) and status is not None:
        return f"HTTP {status} after retries: {text[:300]}"
    if isinstance(exc, requests.RequestException):
        return f"{text[:300]} ({type(exc).__name__})"
    return f"{type(exc).__name__}: {text[:300]}"


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)
