"""Benchmark: metadata crawl cost, the naive dandi-cli loop versus `dandindex crawl`.

In one run, against the local archive server (its own process, 20 ms added per request) on a
synthetic archive (default 200,000 assets in 300 dandisets):

(a) the loop users write today: ``for a in ds.get_assets(): a.get_raw_metadata()`` on a
    5,000-asset subset, extrapolated per asset to the whole archive;
(b) ``dandindex crawl`` of the whole archive;
(c) an incremental re-crawl with no change, and with 1% of dandisets changed.

Each job runs in a child process that reports its own wall time and peak RSS; requests and
bytes are counted by the server. Prints a table and the ratios; ``--json`` writes them too.

    python benchmarks/crawl.py [--assets 200000] [--dandisets 300] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve()


# ----------------------------------------------------------------------------- jobs (children)


def job_naive(api_url: str, limit: int) -> dict[str, Any]:
    from dandi.dandiapi import DandiAPIClient

    client = DandiAPIClient(api_url=api_url)
    n = 0
    for ds in client.get_dandisets():
        for asset in ds.for_version("draft").get_assets():
            asset.get_raw_metadata()
            n += 1
            if n >= limit:
                return {"assets": n}
    return {"assets": n}


def job_crawl(api_url: str, index: str, workers: int) -> dict[str, Any]:
    from dandindex.crawl import Crawler, CrawlOptions

    stats = Crawler(CrawlOptions(api_url=api_url, index_dir=index, workers=workers)).run()
    return {
        "assets": stats.assets,
        "fetched": stats.dandisets_fetched,
        "unchanged": stats.dandisets_unchanged,
        "client_requests": stats.requests,
    }


def run_child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", *args], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_main(argv: list[str]) -> None:
    os.environ.setdefault("DANDI_NO_ET", "1")
    kind, *rest = argv
    t0 = time.perf_counter()
    if kind == "naive":
        result = job_naive(rest[0], int(rest[1]))
    else:
        result = job_crawl(rest[0], rest[1], int(rest[2]))
    result["seconds"] = time.perf_counter() - t0
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


# ----------------------------------------------------------------------------- driver


class Server:
    def __init__(self, root: Path, latency: float) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dandindex",
                "serve-archive",
                str(root),
                "--latency",
                str(latency),
                "--counters",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.api_url = self.proc.stdout.readline().strip()
        self.base = self.api_url.rsplit("/api", 1)[0]

    def counters(self, reset: bool = True) -> dict[str, Any]:
        r = requests.get(
            f"{self.base}/_dandindex/counters", params={"reset": "1"} if reset else {}, timeout=30
        )
        data: dict[str, Any] = r.json()
        for key in ("requests", "bytes"):
            data[key].pop("counters", None)
        return data

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def measure(server: Server, args: list[str]) -> dict[str, Any]:
    server.counters(reset=True)
    result = run_child(args)
    c = server.counters(reset=True)
    result["requests"] = sum(c["requests"].values())
    result["bytes"] = sum(c["bytes"].values())
    result["by_endpoint"] = c["requests"]
    return result


def change_dandisets(root: Path, fraction: float) -> list[str]:
    """Append one new asset to `fraction` of the non-empty dandisets."""
    folders = [
        d for d in sorted((root / "dandisets").iterdir()) if (d / "assets.jsonl").stat().st_size
    ]
    step = max(1, round(1 / fraction))
    changed = []
    for i, d in enumerate(folders[::step]):
        with open(d / "assets.jsonl") as f:
            item = json.loads(f.readline())
        item["asset_id"] = f"00000000-0000-4000-8000-{i:012d}"
        item["path"] = f"sub-bench/sub-bench_ses-{i}_ecephys.nwb"
        item["modified"] = "2031-01-01T00:00:00.000000Z"
        with open(d / "assets.jsonl", "a") as f:
            f.write(json.dumps(item) + "\n")
        changed.append(d.name)
    return changed


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--assets", type=int, default=200_000)
    ap.add_argument("--dandisets", type=int, default=300)
    ap.add_argument("--naive-assets", type=int, default=5_000)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    from dandindex.testing.generate import generate_archive

    work = Path(args.workdir or tempfile.mkdtemp(prefix="dandindex-bench-"))
    root, index = work / "archive", work / "index"
    t0 = time.perf_counter()
    gen = generate_archive(
        root, n_dandisets=args.dandisets, n_assets=args.assets, seed=2026, embargoed=False
    )
    print(
        f"generated {gen.n_assets} assets in {len(gen.dandisets)} dandisets in {time.perf_counter() - t0:.1f} s ({work})"
    )
    server = Server(root, args.latency)
    try:
        naive = measure(server, ["naive", server.api_url, str(args.naive_assets)])
        full = measure(server, ["crawl", server.api_url, str(index), str(args.workers)])
        same = measure(server, ["crawl", server.api_url, str(index), str(args.workers)])
        changed = change_dandisets(root, 0.01)
        inc = measure(server, ["crawl", server.api_url, str(index), str(args.workers)])
    finally:
        server.stop()

    n = gen.n_assets
    per_asset = {k: naive[k] / naive["assets"] for k in ("requests", "bytes", "seconds")}
    naive_full = {k: v * n for k, v in per_asset.items()}
    lower_bound = sum(1 + math.ceil(c / 1000) for c in _version_asset_counts(root))
    rows = [
        (
            "(a) naive, measured",
            naive["assets"],
            naive["requests"],
            naive["bytes"],
            naive["seconds"],
            naive["peak_rss_mb"],
        ),
        (
            "(a) naive, extrapolated",
            n,
            naive_full["requests"],
            naive_full["bytes"],
            naive_full["seconds"],
            float("nan"),
        ),
        (
            "(b) dandindex crawl",
            full["assets"],
            full["requests"],
            full["bytes"],
            full["seconds"],
            full["peak_rss_mb"],
        ),
        (
            "(c) re-crawl, no change",
            same["assets"],
            same["requests"],
            same["bytes"],
            same["seconds"],
            same["peak_rss_mb"],
        ),
        (
            f"(c) re-crawl, {len(changed)} changed",
            inc["assets"],
            inc["requests"],
            inc["bytes"],
            inc["seconds"],
            inc["peak_rss_mb"],
        ),
    ]
    print(
        f"\nlatency {args.latency * 1000:.0f} ms/request, {args.workers} workers, {n} assets, {len(gen.dandisets)} dandisets"
    )
    print(
        f"{'job':28} {'assets':>8} {'requests':>10} {'MB sent':>9} {'wall s':>9} {'peak RSS MB':>12}"
    )
    for name, assets, req, nbytes, secs, rss in rows:
        print(f"{name:28} {assets:>8} {req:>10.0f} {nbytes / 1e6:>9.1f} {secs:>9.1f} {rss:>12.0f}")
    ratios = {
        "assets_per_request_crawl": full["assets"] / full["requests"],
        "requests_naive_over_crawl": naive_full["requests"] / full["requests"],
        "wall_naive_over_crawl": naive_full["seconds"] / full["seconds"],
        "crawl_requests_over_lower_bound": full["requests"] / (lower_bound + 1),
        "nochange_requests": same["requests"],
        "nochange_endpoints": same["by_endpoint"],
        "changed_requests": inc["requests"],
        "changed_endpoints": inc["by_endpoint"],
        "crawl_peak_rss_mb": full["peak_rss_mb"],
    }
    print(
        f"\nratios: {ratios['assets_per_request_crawl']:.0f} assets per request (crawl); "
        f"naive/crawl requests {ratios['requests_naive_over_crawl']:.0f}x, wall time {ratios['wall_naive_over_crawl']:.0f}x; "
        f"crawl requests / (1 listing + 1 metadata and ceil(n/1000) pages per version) = "
        f"{ratios['crawl_requests_over_lower_bound']:.2f}"
    )
    print(f"no-change re-crawl: {same['requests']} requests {same['by_endpoint']}")
    print(f"1% changed re-crawl: {inc['requests']} requests {inc['by_endpoint']}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": rows,
                    "ratios": ratios,
                    "naive": naive,
                    "crawl": full,
                    "nochange": same,
                    "changed": inc,
                },
                indent=1,
                default=str,
            )
        )


def _version_asset_counts(root: Path) -> list[int]:
    """Assets per indexed version (draft and most recent published), read from the files."""
    counts = []
    for d in sorted((root / "dandisets").iterdir()):
        with open(d / "assets.jsonl", "rb") as f:
            counts.append(sum(1 for _ in f))
        versions = sorted((d / "versions").iterdir()) if (d / "versions").is_dir() else []
        if versions:
            vfile = versions[-1] / "assets.jsonl"
            with open(vfile if vfile.exists() else d / "assets.jsonl", "rb") as f:
                counts.append(sum(1 for _ in f))
    return counts


if __name__ == "__main__":
    main()
