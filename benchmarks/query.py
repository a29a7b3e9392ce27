"""Benchmark: search and named-query latency on large generated indexes, at several sizes.

For each size (assets; 10 nwb_objects and 2 nwb_locations per asset, 200 assets a dandiset)
it writes an index with pyarrow directly (no server), derives the search tables as a crawl
does (in a process of its own: time and peak RSS), then in a fresh process measures: cold
open (open + the first search), p50/p95 latency of 20 representative searches (3 rounds) and
5 named queries, index size on disk, peak RSS, and (up to 1M assets, `--naive-max`) the same
searches done the naive way (load the Parquet files into pandas, filter); above that size the
named queries (full scans, minutes at 10M) are left out too. At the end, per search shape, the
p50/p95 at each size and the growth from the smallest to the others.

    python benchmarks/query.py [--sizes 100000,1000000,10000000] [--workdir DIR] [--json F]
"""

from __future__ import annotations

import argparse
import json
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
    {"has": "running_speed3"},
    {"has": ["units", "natural_scenes_presentations"]},
    {"has": "running_speed*", "species": "mouse"},
    {"column": "units.quality"},
    {"duration_min": 600},
    {"area_all": ["VISp", "CA1"]},
    {"file_format": "video"},
    {"file_format": "ome-zarr", "voxel_max": "1um"},
    {"channel": "GFP"},
    {"fps_min": 60, "duration_min": 600},
    {"bids": "SamplingFrequency=1000"},
]
#: searches whose value counts (`search --facets`, the web sidebars) are timed
FACET_COUNTS: list[dict[str, Any]] = [
    {},
    {"species": "mouse"},
    {"species": "mouse", "modality": "ophys", "area": "VIS"},
    {"file_format": "video"},
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
    if "has" in s:
        objs = pd.read_parquet(snap / "nwb_objects.parquet", columns=["asset_id", "path"])
        names = objs.path.str.rsplit("/", n=1).str[-1].str.lower()
        for name in [s["has"]] if isinstance(s["has"], str) else s["has"]:
            keep &= assets.asset_id.isin(objs.asset_id[names == name].unique())
    if "min_units" in s:
        files = pd.read_parquet(snap / "nwb_files.parquet", columns=["asset_id", "n_units"])
        keep &= assets.asset_id.isin(files[files.n_units >= s["min_units"]].asset_id)
    if "duration_min" in s:
        files = pd.read_parquet(snap / "nwb_files.parquet", columns=["asset_id", "duration"])
        keep &= assets.asset_id.isin(files[files.duration >= s["duration_min"]].asset_id)
    if "size_min" in s:
        keep &= assets["size"] >= s["size_min"]
    return int(keep.sum())


def rss_mb() -> float:
    """Peak RSS of this process (VmHWM: unlike ru_maxrss, not inherited from a parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(root: Path, assets: int) -> dict[str, Any]:
    """The index of `assets` assets at `root` with its search tables (made if missing), and
    how long and how much memory deriving them took."""
    import subprocess
    import sys

    record = root / "derive.json"
    if record.exists():
        return dict(json.loads(record.read_text()))
    if not (root / "manifest.json").exists():
        t0 = time.perf_counter()
        write_index(root, assets, 10 * assets, 2 * assets, max(1, assets // 200))
        print(f"wrote {assets:,} assets in {time.perf_counter() - t0:.0f} s at {root}", flush=True)
    code = (
        "import sys, time; from pathlib import Path; from dandindex.facets import "
        "write_facets; t = time.perf_counter(); write_facets(Path(sys.argv[1])); "
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')][0].split()[1]; "
        "print(time.perf_counter() - t, hwm)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(root / "snapshots" / "bench")],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"deriving the search tables of {root} failed:\n{done.stderr[-3000:]}")
    out = done.stdout.split()
    info = {"derive_s": float(out[-2]), "derive_peak_rss_mb": int(out[-1]) / 1024}
    record.write_text(json.dumps(info))
    print(f"derived the search tables in {info['derive_s']:.0f} s", flush=True)
    return info


def main() -> None:
    import subprocess
    import sys

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-max", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--one", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:  # one size, in a process of its own
        print(json.dumps(measure(args.one, args.repeat, args.naive_max)))
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dandindex-qbench-"))
    results = {}
    for n in (int(x) for x in args.sizes.split(",")):
        root = work / f"{n}"
        info = prepare(root, n)
        run = subprocess.run(
            [sys.executable, __file__, "--one", str(root), "--repeat", str(args.repeat),
             "--naive-max", str(args.naive_max)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        results[n] = {**info, **json.loads(run.stdout.splitlines()[-1])}
        short = {k: v for k, v in results[n].items() if not k.startswith("per_")}
        print(f"{n:,} assets:", json.dumps(short, indent=1), flush=True)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[int, dict[str, Any]]) -> None:
    """Per search shape: p50/p95 at each size, and the growth from the smallest size."""
    sizes = sorted(results)
    print("\n| search | " + " | ".join(f"{n:,}: p50 / p95 ms" for n in sizes)
          + " | p95 growth |")  # fmt: skip
    print("|---|" + "---:|" * (len(sizes) + 1))
    for s in [*SEARCHES, None]:
        key = "all searches" if s is None else json.dumps(s, sort_keys=True)
        cells, p95s = [], []
        for n in sizes:
            r = results[n]
            p50, p95 = (
                (r["search_p50_ms"], r["search_p95_ms"])
                if s is None
                else r["per_search_p50_p95_ms"][key]
            )
            cells.append(f"{p50:.1f} / {p95:.1f}")
            p95s.append(p95)
        growth = ", ".join(f"{p / p95s[0]:.2f}x" for p in p95s[1:])
        print(f"| {key} | " + " | ".join(cells) + f" | {growth} |")


def measure(root: Path, repeat: int, naive_max: int) -> dict[str, Any]:
    """Every measurement of one index (run in a fresh process)."""
    from dandindex import queries
    from dandindex.index import Index

    n_assets = json.loads((root / "manifest.json").read_text())["row_counts"]["assets"]
    size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    base_rss = rss_mb()
    t0 = time.perf_counter()
    idx = Index(root)
    opened = time.perf_counter() - t0
    idx.search(species="mouse", limit=1)
    cold = time.perf_counter() - t0
    after_open_rss = rss_mb()
    first_use = []  # each search shape once: its vocabulary is loaded on first use
    for s in SEARCHES:
        t = time.perf_counter()
        idx.search(**s, limit=100)
        first_use.append(time.perf_counter() - t)
    first_use.sort()
    lat: dict[str, list[float]] = {}
    counts = {}
    for _ in range(repeat):
        for s in SEARCHES:
            key = json.dumps(s, sort_keys=True)
            t = time.perf_counter()
            r = idx.search(**s, limit=100)
            lat.setdefault(key, []).append(time.perf_counter() - t)
            counts[key] = len(r)
    from dandindex.query import SearchQuery

    for _ in range(repeat):  # how the matches split (species, modality, area, ...): --facets
        for s in FACET_COUNTS:
            key = "facets:" + json.dumps(s, sort_keys=True)
            t = time.perf_counter()
            idx.result_counts(SearchQuery.from_keywords(**s))
            lat.setdefault(key, []).append(time.perf_counter() - t)
    search_rss = rss_mb()  # peak while searching (before the named queries)
    for _ in range(repeat if n_assets <= naive_max else 0):  # named queries scan: big is slow
        for name in NAMED:
            t = time.perf_counter()
            queries.run(idx, name, {})
            lat.setdefault("query:" + name, []).append(time.perf_counter() - t)
    query_rss = rss_mb()
    search_times = sorted(t for k, v in lat.items() if not k.startswith(("query:", "facets:"))
                          for t in v)  # fmt: skip
    facet_times = sorted(t for k, v in lat.items() if k.startswith("facets:") for t in v)
    query_times = sorted(t for k, v in lat.items() if k.startswith("query:") for t in v) or [0.0]

    def pct(xs: list[float], p: float) -> float:
        return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]

    speedups = []
    naive_times = []
    by_search: dict[str, float] = {}
    for s in SEARCHES if n_assets <= naive_max else []:
        if (
            set(s)
            <= {
                "species",
                "type",
                "rate_min",
                "area",
                "min_units",
                "size_min",
                "has",
                "duration_min",
            }
            and "rate_max" not in s
            and "*" not in str(s.get("has", ""))
        ):
            t = time.perf_counter()
            naive(root, s)
            naive_times.append(time.perf_counter() - t)
            speedups.append(naive_times[-1] / statistics.median(lat[json.dumps(s, sort_keys=True)]))
            by_search[json.dumps(s, sort_keys=True)] = round(speedups[-1], 1)
    naive_rss = rss_mb()

    def shape(xs: list[float]) -> list[float]:
        xs = sorted(xs)
        return [1000 * pct(xs, 0.5), 1000 * pct(xs, 0.95)]

    out = {
        "assets": n_assets,
        "index_size_mb": size / 1e6,
        "open_s": opened,
        "cold_open_first_search_s": cold,
        "first_use_p50_ms": 1000 * pct(first_use, 0.5),
        "first_use_max_ms": 1000 * first_use[-1],
        "search_p50_ms": 1000 * pct(search_times, 0.5),
        "search_p95_ms": 1000 * pct(search_times, 0.95),
        "facet_counts_p50_ms": 1000 * pct(facet_times, 0.5),
        "facet_counts_p95_ms": 1000 * pct(facet_times, 0.95),
        "named_query_p50_ms": 1000 * pct(query_times, 0.5),
        "named_query_p95_ms": 1000 * pct(query_times, 0.95),
        "naive_searches": len(naive_times),
        "rss_mb_before_open": base_rss,
        "rss_mb_after_cold_open": after_open_rss,
        "rss_mb_peak_searches": search_rss,
        "rss_mb_peak_named_queries": query_rss,
        "rss_mb_peak_naive": naive_rss,
        "per_search_speedup_vs_naive": by_search,
        "per_search_ms": {k: 1000 * statistics.median(v) for k, v in lat.items()},
        "per_search_p50_p95_ms": {k: shape(v) for k, v in lat.items()},
        "per_search_rows": counts,
    }
    if naive_times:
        out.update(
            naive_search_median_ms=1000 * statistics.median(naive_times),
            speedup_p50_vs_naive=statistics.median(naive_times) / pct(search_times, 0.5),
            speedup_p95_vs_naive=statistics.median(naive_times) / pct(search_times, 0.95),
            speedup_vs_naive_same_search_min=min(speedups),
            speedup_vs_naive_same_search_median=statistics.median(speedups),
        )
    idx.close()
    return out


if __name__ == "__main__":
    main()
