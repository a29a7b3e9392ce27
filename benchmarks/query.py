"""Benchmark: search and named-query latency on a large generated index.

Writes an index with pyarrow directly (no server): 1,000,000 assets, 10,000,000 nwb_objects
and 2,000,000 nwb_locations by default, in 5,000 dandisets. In one run it measures: cold open
(open + the first search, which derives the facet tables), p50/p95 latency of 20
representative searches and 5 named queries, index size on disk, peak RSS, and the same
searches done the naive way (load the Parquet files into pandas, filter).

    python benchmarks/query.py [--assets 1000000] [--objects 10000000] [--locations 2000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from dandindex.testing.bigindex import write_index

SEARCHES: list[dict[str, Any]] = [
    {"species": "mouse"},
    {"species": "human"},
    {"modality": "ecephys"},
    {"modality": "ophys"},
    {"area": "VISp"},
    {"area": "VIS"},
    {"area": "hippocampus"},
    {"type": "ElectricalSeries"},
    {"type": "TimeSeries"},
    {"type": "PatchClampSeries"},
    {"species": "mouse", "modality": "ophys", "area": "VIS"},
    {"species": "rat", "area": "CA1"},
    {"min_units": 400},
    {"min_electrodes": 300, "species": "mouse"},
    {"rate_min": 20000},
    {"rate_min": 25, "rate_max": 35, "modality": "ophys"},
    {"size_min": 9 * 10**9},
    {"text": "about CA1"},
    {"dandiset": ["000042", "000043"]},
    {"area": "head ganglia"},
]


NAMED = [
    "species_modality",
    "neurodata_types",
    "areas_most_units",
    "largest_nwb_files",
    "assets_per_dandiset",
]


def naive(root: Path, s: dict[str, Any]) -> int:
    """What a user does today: load the Parquet files into pandas, then filter."""
    import pandas as pd

    snap = root / "snapshots" / "bench"
    assets = pd.read_parquet(
        snap / "assets.parquet", columns=["asset_id", "dandiset_id", "path", "size", "species_id"]
    )
    keep = pd.Series(True, index=assets.index)
    if "species" in s:
        taxon = {"mouse": "10090", "human": "9606", "rat": "10116"}[s["species"]]
        keep &= assets.species_id.str.endswith("_" + taxon)
    if "type" in s or "rate_min" in s:
        objs = pd.read_parquet(
            snap / "nwb_objects.parquet", columns=["asset_id", "neurodata_type", "rate"]
        )
        if "type" in s:
            objs = objs[objs.neurodata_type == s["type"]]
        if "rate_min" in s:
            objs = objs[objs.rate >= s["rate_min"]]
        keep &= assets.asset_id.isin(objs.asset_id.unique())
    if "area" in s:
        locs = pd.read_parquet(snap / "nwb_locations.parquet", columns=["asset_id", "location"])
        keep &= assets.asset_id.isin(
            locs[locs.location.str.contains(s["area"], case=False)].asset_id.unique()
        )
    if "min_units" in s:
        files = pd.read_parquet(snap / "nwb_files.parquet", columns=["asset_id", "n_units"])
        keep &= assets.asset_id.isin(files[files.n_units >= s["min_units"]].asset_id)
    if "size_min" in s:
        keep &= assets["size"] >= s["size_min"]
    return int(keep.sum())


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--assets", type=int, default=1_000_000)
    ap.add_argument("--objects", type=int, default=10_000_000)
    ap.add_argument("--locations", type=int, default=2_000_000)
    ap.add_argument("--dandisets", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from dandindex import queries
    from dandindex.index import Index

    root = args.workdir or Path(tempfile.mkdtemp(prefix="dandindex-qbench-"))
    if not (root / "manifest.json").exists():
        t0 = time.perf_counter()
        write_index(root, args.assets, args.objects, args.locations, args.dandisets)
        print(f"wrote the index in {time.perf_counter() - t0:.0f} s at {root}")
    if not (root / "snapshots" / "bench" / "asset_facets.parquet").exists():
        from dandindex.facets import write_facets

        t0 = time.perf_counter()
        write_facets(root / "snapshots" / "bench")
        print(f"derived the facet tables (as a crawl does) in {time.perf_counter() - t0:.0f} s")
    size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    base_rss = rss_mb()
    t0 = time.perf_counter()
    idx = Index(root)
    opened = time.perf_counter() - t0
    idx.search(species="mouse", limit=1)
    cold = time.perf_counter() - t0
    after_open_rss = rss_mb()
    lat: dict[str, list[float]] = {}
    counts = {}
    for _ in range(args.repeat):
        for s in SEARCHES:
            key = json.dumps(s, sort_keys=True)
            t = time.perf_counter()
            r = idx.search(**s, limit=100)
            lat.setdefault(key, []).append(time.perf_counter() - t)
            counts[key] = len(r)
    search_rss = rss_mb()  # peak while searching (before the named queries)
    for _ in range(args.repeat):
        for name in NAMED:
            t = time.perf_counter()
            queries.run(idx, name, {})
            lat.setdefault("query:" + name, []).append(time.perf_counter() - t)
    query_rss = rss_mb()
    search_times = sorted(t for k, v in lat.items() if not k.startswith("query:") for t in v)
    query_times = sorted(t for k, v in lat.items() if k.startswith("query:") for t in v)

    def pct(xs: list[float], p: float) -> float:
        return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]

    speedups = []
    naive_times = []
    by_search: dict[str, float] = {}
    for s in SEARCHES:
        if (
            set(s) <= {"species", "type", "rate_min", "area", "min_units", "size_min"}
            and "rate_max" not in s
        ):
            t = time.perf_counter()
            naive(root, s)
            naive_times.append(time.perf_counter() - t)
            speedups.append(naive_times[-1] / statistics.median(lat[json.dumps(s, sort_keys=True)]))
            by_search[json.dumps(s, sort_keys=True)] = round(speedups[-1], 1)
    naive_rss = rss_mb()
    out = {
        "assets": args.assets,
        "nwb_objects": args.objects,
        "nwb_locations": args.locations,
        "index_size_mb": size / 1e6,
        "open_s": opened,
        "cold_open_first_search_s": cold,
        "search_p50_ms": 1000 * pct(search_times, 0.5),
        "search_p95_ms": 1000 * pct(search_times, 0.95),
        "named_query_p50_ms": 1000 * pct(query_times, 0.5),
        "named_query_p95_ms": 1000 * pct(query_times, 0.95),
        "naive_search_median_ms": 1000 * statistics.median(naive_times),
        "naive_searches": len(naive_times),
        "speedup_p50_vs_naive": statistics.median(naive_times) / pct(search_times, 0.5),
        "speedup_p95_vs_naive": statistics.median(naive_times) / pct(search_times, 0.95),
        "rss_mb_before_open": base_rss,
        "rss_mb_after_cold_open": after_open_rss,
        "rss_mb_peak_searches": search_rss,
        "rss_mb_peak_named_queries": query_rss,
        "rss_mb_peak_naive": naive_rss,
        "speedup_vs_naive_same_search_min": min(speedups),
        "speedup_vs_naive_same_search_median": statistics.median(speedups),
        "per_search_speedup_vs_naive": by_search,
        "per_search_ms": {k: 1000 * statistics.median(v) for k, v in lat.items()},
        "per_search_rows": counts,
    }
    print(json.dumps({k: v for k, v in out.items() if not k.startswith("per_")}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    idx.close()
    if args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    os.environ.pop("_", None)


if __name__ == "__main__":
    main()
