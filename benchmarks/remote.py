"""Benchmark: a published index queried in place, pulled, and crawled, with latency per request.

(A) The 1,000,000-asset index of `benchmarks/query.py`, published to a folder served by a
static web server with range requests (20 ms added to every request): for each search, the
requests, bytes and wall time of querying it in place (`Index(URL)`), against the baseline of
downloading the index whole first (`dandindex pull`), then searching locally.
(B) The same small index made two ways, each with 20 ms per request: crawled from the API
(../shared/corpus served by the local archive server) versus pulled from its published copy;
and a second pull with nothing new.

    python benchmarks/remote.py [--index DIR] [--latency 0.02] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

SEARCHES: list[dict[str, Any]] = [
    {"dandiset": "000042"},
    {"species": "rat", "area": "CA1"},
    {"type": "PatchClampSeries"},
    {"area": "head ganglia"},
    {"min_units": 400},
    {"size_min": 9 * 10**9},
    {"species": "mouse", "modality": "ophys", "area": "VIS"},
    {"modality": "ecephys"},
    {"species": "mouse"},
]
SHARED = Path(os.environ.get("DANDINDEX_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def label(s: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in s.items())


def big_index(path: Path | None) -> Path:
    if path is not None and (path / "manifest.json").exists():
        return path
    from dandindex.facets import write_facets
    from dandindex.testing.bigindex import write_index

    root = path or Path(tempfile.mkdtemp(prefix="dandindex-remote-"))
    t0 = time.perf_counter()
    write_index(root, 1_000_000, 10_000_000, 2_000_000, 5_000)
    write_facets(root / "snapshots" / "bench")
    print(f"wrote the 1M-asset index in {time.perf_counter() - t0:.0f} s at {root}", flush=True)
    return root


def part_a(index: Path, latency: float, work: Path) -> dict[str, Any]:
    from dandindex.index import Index
    from dandindex.published import publish, pull
    from dandindex.testing.static import StaticServer

    pub = work / "published"
    report = publish(index, str(pub))
    size = report.bytes_total
    out: dict[str, Any] = {"index_bytes": size, "searches": []}
    with StaticServer(pub, latency=latency) as web:
        web.reset()
        t0 = time.perf_counter()
        remote = Index(web.url)
        remote.search(species="mouse", limit=1)  # the first search loads the vocabularies
        out["open"] = {
            "seconds": time.perf_counter() - t0,
            "requests": sum(web.requests.values()),
            "bytes": web.bytes,
        }
        # baseline: the whole index first
        web.reset()
        t0 = time.perf_counter()
        pull(web.url, work / "mirror")
        out["download"] = {
            "seconds": time.perf_counter() - t0,
            "requests": sum(web.requests.values()),
            "bytes": web.bytes,
        }
        local = Index(work / "mirror")
        for s in SEARCHES:
            local.search(**s, limit=100)  # warm, as the remote connection is after its first
            t0 = time.perf_counter()
            n_local = len(local.search(**s, limit=100))
            t_local = time.perf_counter() - t0
            web.reset()
            t0 = time.perf_counter()
            hits = remote.search(**s, limit=100)
            t_remote = time.perf_counter() - t0
            assert len(hits) == n_local, s
            row = {
                "search": label(s),
                "hits": len(hits),
                "total": hits.total,
                "requests": sum(web.requests.values()),
                "bytes": web.bytes,
                "share": web.bytes / size,
                "seconds": t_remote,
                "local_seconds": t_local,
            }
            out["searches"].append(row)
            print(
                f"  {row['search']:<45} {row['requests']:>5} req {row['bytes'] / 1e6:>8.2f} MB "
                f"({row['share']:.1%} of the index) {t_remote:6.2f} s  (local {t_local:.3f} s)",
                flush=True,
            )
    return out


def part_b(latency: float, work: Path) -> dict[str, Any] | None:
    corpus = SHARED / "corpus"
    if not (corpus / "dandisets").is_dir():
        print(f"(B) skipped: {corpus} not found")
        return None
    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.published import publish, pull
    from dandindex.testing.archive import ArchiveServer, Faults
    from dandindex.testing.static import StaticServer

    with ArchiveServer(corpus, faults=Faults(latency=latency)) as api:
        t0 = time.perf_counter()
        stats = Crawler(CrawlOptions(api_url=api.api_url, index_dir=str(work / "crawled"))).run()
        crawl_s = time.perf_counter() - t0
    publish(work / "crawled", str(work / "corpus-pub"))
    with StaticServer(work / "corpus-pub", latency=latency) as web:
        t0 = time.perf_counter()
        first = pull(web.url, work / "corpus-pulled")
        pull_s = time.perf_counter() - t0
        pull_req, pull_bytes = sum(web.requests.values()), web.bytes
        web.reset()
        t0 = time.perf_counter()
        again = pull(web.url, work / "corpus-pulled")
        again_s = time.perf_counter() - t0
        assert again.unchanged
        again_req, again_bytes = sum(web.requests.values()), web.bytes
    return {
        "assets": stats.assets,
        "crawl": {"seconds": crawl_s, "requests": stats.requests},
        "pull": {"seconds": pull_s, "requests": pull_req, "bytes": pull_bytes,
                 "files": len(first.fetched)},
        "pull_again": {"seconds": again_s, "requests": again_req, "bytes": again_bytes},
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--index", type=Path, default=None, help="a 1M-asset index (made if absent)")
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dandindex-remote-work-"))
    try:
        index = big_index(args.index)
        print(f"(A) searches on the published 1M-asset index, {args.latency * 1000:.0f} ms/request")
        a = part_a(index, args.latency, work)
        d = a["download"]
        print(
            f"  index: {a['index_bytes'] / 1e6:.0f} MB; open + first search in place: "
            f"{a['open']['requests']} req, "
            f"{a['open']['bytes'] / 1e3:.0f} kB, {a['open']['seconds']:.2f} s; download whole: "
            f"{d['requests']} req, {d['bytes'] / 1e6:.0f} MB, {d['seconds']:.1f} s"
        )
        b = part_b(args.latency, work)
        if b:
            print(
                f"(B) {b['assets']:,} assets: crawl {b['crawl']['requests']} req "
                f"{b['crawl']['seconds']:.1f} s; pull {b['pull']['requests']} req "
                f"{b['pull']['bytes'] / 1e6:.1f} MB {b['pull']['seconds']:.2f} s "
                f"({b['crawl']['seconds'] / b['pull']['seconds']:.0f}x faster); pull again: "
                f"{b['pull_again']['requests']} req, {b['pull_again']['bytes']} bytes, "
                f"{b['pull_again']['seconds'] * 1000:.0f} ms"
            )
        if args.json:
            args.json.write_text(json.dumps({"a": a, "b": b}, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
