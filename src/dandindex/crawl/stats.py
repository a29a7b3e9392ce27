"""What a crawl did, counted as it goes: `CrawlStats` (the progress bar and the summary line
read it; the manifest keeps it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class CrawlStats:
    dandisets_total: int = 0
    dandisets_done: int = 0
    dandisets_fetched: int = 0
    dandisets_unchanged: int = 0
    dandisets_failed: int = 0
    dandisets_removed: int = 0
    assets: int = 0
    requests: int = 0
    errors: int = 0
    nwb_total: int = 0
    nwb_done: int = 0
    nwb_failed: int = 0
    nwb_bytes: int = 0
    nwb_not_read: int = 0  # NWB assets kept as metadata only (not summarised, none cached)
    nwb_outdated: int = 0  # cached summaries of an older walk, read again
    nwb_outdated_kept: int = 0  # ... kept as they are (no --nwb, or not in --nwb-dandiset)
    nwb_missing: int = 0  # NWB files the server does not have (HTTP 404): metadata only
    files_total: int = 0  # files that are not NWB to read (OME-Zarr, TIFF, video, BIDS)
    files_done: int = 0
    files_failed: int = 0
    files_missing: int = 0
    files_bytes: int = 0
    files_outdated: int = 0
    seconds: float = 0.0
    failed: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # failed dandiset → why
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, **kw: int) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def summary(self) -> str:
        said = _read_counts(
            "NWB files", self.nwb_done, self.nwb_failed, self.nwb_missing, self.nwb_bytes
        )
        if self.nwb_not_read and self.nwb_total:
            said += f", {self.nwb_not_read:,} NWB assets metadata only"
        if self.nwb_outdated:
            said += f", {self.nwb_outdated:,} of them summaries from an older dandindex read again"
        if self.nwb_outdated_kept:
            said += (
                f", {self.nwb_outdated_kept:,} NWB summaries from an older dandindex kept "
                "(crawl --nwb reads them again with what this version records)"
            )
        said += _read_counts(
            "other files (OME-Zarr, TIFF, video, BIDS)",
            self.files_done,
            self.files_failed,
            self.files_missing,
            self.files_bytes,
        )
        return (
            f"{self.dandisets_total} dandisets ({self.dandisets_fetched} fetched, "
            f"{self.dandisets_unchanged} unchanged, {self.dandisets_failed} failed, "
            f"{self.dandisets_removed} removed), {self.assets:,} assets read{said}, "
            f"{self.requests} API requests, {self.errors} error rows, {self.seconds:.1f} s"
        )


def _read_counts(what: str, done: int, failed: int, missing: int, nbytes: int) -> str:
    """``, 12 NWB files read (3.1 MB), 2 could not be read (error rows), 40 not on the
    server (HTTP 404): metadata only`` (parts that are zero left out)."""
    ok = done - failed - missing

    def named(n: int) -> str:  # "NWB file" for one, else "NWB files"
        return what.replace("files", "file", 1) if n == 1 else what

    out = f", {ok:,} {named(ok)} read ({nbytes / 1e6:.1f} MB)" if ok else ""
    if failed:
        out += f", {failed:,} {'' if ok else named(failed) + ' '}could not be read (error rows say why)"  # fmt: skip
    if missing:
        out += (f", {missing:,} {'' if ok or failed else named(missing) + ' '}not on the server "
                "(HTTP 404): metadata only")  # fmt: skip
    return out
