"""Faults on the wire end in the same index as a clean crawl, with no traceback.

Every scenario crawls the generated archive (with NWB summaries) through the fault-injecting
proxy; once the faults stop, a rerun must give exactly the tables of a clean crawl through
the same proxy."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from dandindex.crawl import Crawler, CrawlOptions
from dandindex.testing.proxy import FaultProxy

from helpers import differences, index_content


@pytest.fixture(scope="module")
def small(tmp_path_factory, nwb_files):
    """A small archive with the real NWB files (faults cost time: keep the rest small)."""
    from dandindex.testing.generate import attachments_from, generate_archive

    root = tmp_path_factory.mktemp("fault-archive")
    return generate_archive(
        root, n_dandisets=9, n_assets=60, seed=5, nwb_files=attachments_from(nwb_files), malformed=2
    )


@pytest.fixture(scope="module")
def proxy(small):
    from dandindex.testing.archive import ArchiveServer

    with ArchiveServer(small.root, content_urls="local") as srv, FaultProxy(srv.url) as p:
        yield p


def crawl(proxy, index, *, timeout: float = 3.0, nwb: bool = True):
    return Crawler(
        CrawlOptions(
            api_url=proxy.api_url,
            index_dir=str(index),
            nwb=nwb,
            nwb_workers=2,
            timeout=timeout,
            workers=2,
            nwb_file_timeout=60,
        )
    ).run()


@pytest.fixture(scope="module")
def clean(proxy, tmp_path_factory):
    index = tmp_path_factory.mktemp("clean")
    proxy.clear()
    crawl(proxy, index)
    return index_content(index)


SCENARIOS = {
    # API pages: each must be retried within the crawl itself
    "stalled asset page": dict(kind="stall", path=r"/assets/\?", seconds=5, count=2),
    "dripping version metadata": dict(kind="drip", path=r"/versions/draft/$", seconds=8, count=1),
    "asset page cut short": dict(kind="cut", path=r"/assets/\?", count=2),
    "truncated JSON that looks whole": dict(kind="short", path=r"/assets/\?", count=2),
    "version metadata cut short": dict(kind="cut", path=r"/versions/draft/$", count=2),
    "503 storm on pages": dict(kind="status", status=503, path=r"/assets/\?", count=3),
    "429 with Retry-After 1": dict(
        kind="status", status=429, retry_after="1", path=r"/versions/", count=2
    ),
    "stalled listing": dict(kind="stall", path=r"/api/dandisets/\?", seconds=5, count=1),
    "reset connections": dict(kind="reset", path=r"/api/dandisets/0", count=3),
    # blobs during --nwb
    "500s on blob reads": dict(kind="status", status=500, path=r"/s3/blobs/", count=3),
    "503s on the download redirect": dict(kind="status", status=503, path=r"/download/", count=3),
    "429 Retry-After 1 on blobs": dict(
        kind="status", status=429, retry_after="1", path=r"/s3/blobs/", count=4
    ),
    "a blob body cut short": dict(kind="cut", path=r"/s3/blobs/", count=1),
    "a blob range shorter than asked": dict(kind="short", path=r"/s3/blobs/", count=2),
    "stalled blob reads": dict(kind="stall", path=r"/s3/blobs/", seconds=5, count=2),
    # a file's opening read (the first bytes, which every later read relies on)
    "opening reads shorter than asked": dict(
        kind="short", path=r"/s3/blobs/", range=r"^bytes=0-", count=6, fraction=0.37
    ),
    "opening reads cut short": dict(
        kind="cut", path=r"/s3/blobs/", range=r"^bytes=0-", count=6, fraction=0.37
    ),
    "every third read of a blob short": dict(
        kind="short", path=r"/s3/blobs/", every=3, count=8, fraction=0.61
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_fault_ends_in_the_clean_tables(proxy, clean, tmp_path, name):
    proxy.clear()
    rule = proxy.add(**SCENARIOS[name])
    try:
        crawl(proxy, tmp_path / "index")
    finally:
        proxy.clear()
    assert rule.fired, "the fault never fired: the scenario tests nothing"
    crawl(proxy, tmp_path / "index")  # faults gone: what failed transiently is read again
    assert differences(index_content(tmp_path / "index"), clean) == {}


@pytest.mark.slow
def test_a_fifth_of_blob_reads_failing_in_mixed_ways(proxy, clean, tmp_path):
    proxy.clear()
    rules = [
        proxy.add(kind="status", status=500, path=r"/s3/blobs/", every=10, count=None),
        proxy.add(
            kind="status", status=429, retry_after="1", path=r"/s3/blobs/", every=15, count=None
        ),
        proxy.add(kind="cut", path=r"/s3/blobs/", every=17, count=None),
        proxy.add(kind="reset", path=r"/s3/blobs/", every=19, count=None),
    ]
    try:
        crawl(proxy, tmp_path / "index")
    finally:
        proxy.clear()
    assert sum(r.fired for r in rules) > 0
    crawl(proxy, tmp_path / "index")
    assert differences(index_content(tmp_path / "index"), clean) == {}


@pytest.mark.slow
def test_a_long_retry_after_fails_the_dandiset_fast_and_says_why(proxy, clean, tmp_path, small):
    """Retry-After: 3600 is not honoured (the crawl would sit an hour without a word): the
    dandiset fails at once with a sentence, no traceback; the next crawl gets it."""
    target = small.dandisets[0]
    proxy.clear()
    proxy.add(
        kind="status",
        status=429,
        retry_after="3600",
        path=rf"/dandisets/{target}/versions/",
        count=1,
    )
    t0 = time.monotonic()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "dandindex",
            "crawl",
            "--api-url",
            proxy.api_url,
            "--index",
            str(tmp_path / "index"),
            "--timeout",
            "3",
            "--nwb",
            "--nwb-workers",
            "2",
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DANDI_API_KEY": ""},
        timeout=600,
    )
    proxy.clear()
    assert time.monotonic() - t0 < 120
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert "asked to wait 3600 s" in r.stderr and target in r.stderr
    crawl(proxy, tmp_path / "index")
    assert differences(index_content(tmp_path / "index"), clean) == {}
