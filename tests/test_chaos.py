"""kill -9 at any moment loses nothing: a crawl with NWB summaries is killed (its whole
process tree) at seeded moments from the listing to the final publish, then run again; every
table must equal a clean crawl's, and a reader polling the index meanwhile never fails."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from dandindex.errors import IndexNotFoundError
from dandindex.index import Index
from dandindex.testing.archive import ArchiveServer

from helpers import differences, index_content


def crawl_cmd(api_url: str, index) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dandindex",
        "crawl",
        "--api-url",
        api_url,
        "--index",
        str(index),
        "--nwb",
        "--nwb-workers",
        "2",
        "--workers",
        "2",
        "--quiet",
    ]


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


class Poller(threading.Thread):
    """Reads the index over and over; records anything but 'not there yet'."""

    def __init__(self, index) -> None:
        super().__init__(daemon=True)
        self.index, self.errors, self.reads, self.stop = index, [], 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with Index(self.index) as idx:
                    idx.sql("SELECT count(*) AS n FROM assets").rows()
                    idx.search(modality="ecephys", limit=5)
                    self.reads += 1
            except IndexNotFoundError:
                if self.reads:  # once readable, an index never goes away
                    self.errors.append("the index was readable, then not found")
            except Exception as e:  # noqa: BLE001 - anything else is what we look for
                self.errors.append(repr(e))
            time.sleep(0.02)


@pytest.mark.slow
def test_kill_9_at_any_moment_then_rerun_equals_a_clean_crawl(tmp_path, nwb_files):
    from dandindex.testing.generate import attachments_from, generate_archive

    gen = generate_archive(
        tmp_path / "archive",
        n_dandisets=9,
        n_assets=80,
        seed=9,
        nwb_files=attachments_from(nwb_files),
        malformed=2,
    )
    with ArchiveServer(gen.root, content_urls="local") as srv:
        srv.faults.latency = 0.03  # spread a crawl over a few seconds
        t0 = time.monotonic()
        clean = run(crawl_cmd(srv.api_url, tmp_path / "clean"))
        duration = time.monotonic() - t0
        assert clean.returncode == 0, clean.stderr
        want = index_content(tmp_path / "clean")
        rng = random.Random(2026)
        moments = [f + rng.uniform(-0.04, 0.04) for f in (0.15, 0.35, 0.55, 0.7, 0.8, 0.9, 0.97)]
        report = []
        for n, frac in enumerate(moments):
            index = tmp_path / f"killed-{n}"
            poller = Poller(index)
            poller.start()
            proc = subprocess.Popen(
                crawl_cmd(srv.api_url, index),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            time.sleep(max(0.05, frac * duration))
            os.killpg(proc.pid, signal.SIGKILL)  # the crawl and its NWB workers
            proc.wait()
            phase = (
                f"{len(list(index.glob('parts/*/*')))} parts, "
                f"{len(list(index.glob('nwb/*/*.json')))} summaries, "
                f"{'published' if (index / 'manifest.json').exists() else 'not published'}"
            )
            again = run(crawl_cmd(srv.api_url, index))
            poller.stop.set()
            poller.join()
            assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
            diff = differences(index_content(index), want)
            report.append((round(frac, 2), phase, poller.reads))
            assert diff == {}, f"killed at {frac:.0%} of a crawl: {diff}"
            assert poller.errors == [], poller.errors[:3]
            assert poller.reads > 0, "the poller never read the index: the test saw nothing"
    print(f"\nkill -9 during a {duration:.1f} s crawl, then rerun (all equal to a clean crawl):")
    for frac, phase, reads in report:
        print(f"  at {frac:.0%}: left {phase}; {reads} reads by a poller, none failed")
