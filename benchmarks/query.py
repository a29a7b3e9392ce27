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

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TAXA = ["10090", "9606", "10116", "9544", "7227", "6239", "7955"]
SPECIES = [
    "Mus musculus - House mouse",
    "Homo sapiens - Human",
    "Rattus norvegicus - Norway rat",
    "Macaca mulatta - Rhesus monkey",
    "Drosophila melanogaster - Fruit fly",
    "Caenorhabditis elegans",
    "Danio rerio - Zebra fish",
]
AREAS = [
    "CA1",
    "VISp",
    "DG",
    "MOp",
    "VISl",
    "LGd",
    "CA3",
    "SSp",
    "area: VISp, depth: 175",
    "V1",
    "unknown",
    "hippocampus",
    "TH",
    "VISal",
    "ACA",
    "head ganglia",
    "PL",
    "ENTm",
    "MOs",
    "STR",
]
TYPES = [
    ("ElectricalSeries", ["TimeSeries", "NWBDataInterface", "NWBContainer", "Container"]),
    ("Units", ["DynamicTable", "Container"]),
    (
        "TwoPhotonSeries",
        ["ImageSeries", "TimeSeries", "NWBDataInterface", "NWBContainer", "Container"],
    ),
    ("RoiResponseSeries", ["TimeSeries", "NWBDataInterface", "NWBContainer", "Container"]),
    ("PlaneSegmentation", ["DynamicTable", "Container"]),
    (
        "VoltageClampSeries",
        ["PatchClampSeries", "TimeSeries", "NWBDataInterface", "NWBContainer", "Container"],
    ),
    ("SpatialSeries", ["TimeSeries", "NWBDataInterface", "NWBContainer", "Container"]),
    ("VectorData", ["Data"]),
    ("ImagingPlane", ["NWBContainer", "Container"]),
    ("ProcessingModule", ["NWBContainer", "Container"]),
]
APPROACH = [
    ["electrophysiological approach"],
    ["microscopy approach; cell population imaging"],
    ["behavioral approach"],
    [],
]
RATES = [30000.0, 1000.0, 30.0, 20000.0, 50.0]


def write_index(
    root: Path, n_assets: int, n_objects: int, n_locations: int, n_dandisets: int, seed: int = 0
) -> None:
    from dandindex.schemas import SCHEMAS

    rng = np.random.default_rng(seed)
    snap = root / "snapshots" / "bench"
    snap.mkdir(parents=True, exist_ok=True)
    ds_ids = np.array([f"{i + 1:06d}" for i in range(n_dandisets)])
    asset_ds = np.sort(rng.integers(0, n_dandisets, n_assets))
    asset_ids = np.array([f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(n_assets)])
    sp = rng.integers(0, len(TAXA), n_assets)
    mod = asset_ds % len(APPROACH)
    sizes = rng.integers(10**5, 10**10, n_assets)
    batch = 200_000
    with pq.ParquetWriter(snap / "assets.parquet", SCHEMAS["assets"], compression="zstd") as w:
        for s in range(0, n_assets, batch):
            e = min(n_assets, s + batch)
            n = e - s
            w.write_table(
                pa.table(
                    {
                        "asset_id": asset_ids[s:e],
                        "dandiset_id": ds_ids[asset_ds[s:e]],
                        "version": ["draft"] * n,
                        "path": [
                            f"sub-{i % 997}/sub-{i % 997}_ses-{i}_ecephys.nwb" for i in range(s, e)
                        ],
                        "size": sizes[s:e],
                        "blob_id": asset_ids[s:e],
                        "zarr_id": [None] * n,
                        "encoding_format": ["application/x-nwb"] * n,
                        "created": [None] * n,
                        "modified": [None] * n,
                        "sha256": [None] * n,
                        "etag": [None] * n,
                        "zarr_checksum": [None] * n,
                        "api_url": [
                            f"http://127.0.0.1/api/assets/{a}/download/" for a in asset_ids[s:e]
                        ],
                        "s3_url": [None] * n,
                        "subject_id": [str(i % 997) for i in range(s, e)],
                        "session_id": [str(i) for i in range(s, e)],
                        "species": [SPECIES[k] for k in sp[s:e]],
                        "species_id": [
                            f"http://purl.obolibrary.org/obo/NCBITaxon_{TAXA[k]}" for k in sp[s:e]
                        ],
                        "sex": ["Male"] * n,
                        "age": ["P90D"] * n,
                        "age_days": [90.0] * n,
                        "genotype": [None] * n,
                        "strain": [None] * n,
                        "approach": [APPROACH[k] for k in mod[s:e]],
                        "measurement_technique": [[]] * n,
                        "variable_measured": [[]] * n,
                        "anatomy": [[]] * n,
                        "session_start": [None] * n,
                        "schema_version": ["0.6.4"] * n,
                        "metadata_json": ["{}"] * n,
                    },
                    schema=SCHEMAS["assets"],
                )
            )
    obj_asset = np.sort(rng.integers(0, n_assets, n_objects))
    obj_type = rng.integers(0, len(TYPES), n_objects)
    with pq.ParquetWriter(
        snap / "nwb_objects.parquet", SCHEMAS["nwb_objects"], compression="zstd"
    ) as w:
        for s in range(0, n_objects, 1_000_000):
            e = min(n_objects, s + 1_000_000)
            n = e - s
            t = obj_type[s:e]
            w.write_table(
                pa.table(
                    {
                        "asset_id": asset_ids[obj_asset[s:e]],
                        "path": [f"/acquisition/obj{i}" for i in range(n)],
                        "neurodata_type": [TYPES[k][0] for k in t],
                        "namespace": ["core"] * n,
                        "base_types": [TYPES[k][1] for k in t],
                        "parent_path": ["/acquisition"] * n,
                        "object_id": [None] * n,
                        "is_dataset": [False] * n,
                        "shape": [[1000, 32]] * n,
                        "dtype": ["int16"] * n,
                        "chunks": [None] * n,
                        "compression": [None] * n,
                        "unit": ["volts"] * n,
                        "conversion": [1.0] * n,
                        "rate": [
                            RATES[k % len(RATES)] if k in (0, 2, 3, 5, 6) else None for k in t
                        ],
                        "starting_time": [0.0] * n,
                        "n_timestamps": [None] * n,
                        "n_rows": [None] * n,
                        "description": [None] * n,
                    },
                    schema=SCHEMAS["nwb_objects"],
                )
            )
    loc_asset = np.sort(rng.integers(0, n_assets, n_locations))
    loc_area = rng.integers(0, len(AREAS), n_locations)
    pq.write_table(
        pa.table(
            {
                "asset_id": asset_ids[loc_asset],
                "source": ["electrodes"] * n_locations,
                "object_path": ["/general/extracellular_ephys/electrodes"] * n_locations,
                "location": [AREAS[k] for k in loc_area],
                "count": rng.integers(1, 64, n_locations),
            },
            schema=SCHEMAS["nwb_locations"],
        ),
        snap / "nwb_locations.parquet",
        compression="zstd",
    )
    units = rng.integers(0, 500, n_assets)
    cols = {f.name: pa.nulls(n_assets, f.type) for f in SCHEMAS["nwb_files"]}
    cols.update(
        {
            "asset_id": pa.array(asset_ids),
            "dandiset_id": pa.array(ds_ids[asset_ds]),
            "summary_key": pa.array(asset_ids),
            "n_units": pa.array(units),
            "n_electrodes": pa.array(rng.integers(0, 384, n_assets)),
            "experimenters": pa.array([[]] * n_assets, pa.list_(pa.string())),
            "keywords": pa.array([[]] * n_assets, pa.list_(pa.string())),
            "neurodata_types": pa.array([[]] * n_assets, pa.list_(pa.string())),
            "metadata_ranges": pa.array([[]] * n_assets, pa.list_(pa.list_(pa.int64()))),
        }
    )
    pq.write_table(
        pa.table(cols, schema=SCHEMAS["nwb_files"]), snap / "nwb_files.parquet", compression="zstd"
    )
    dsets = pa.table(
        {
            "dandiset_id": ds_ids,
            "name": [f"Dataset {d} about {AREAS[i % len(AREAS)]}" for i, d in enumerate(ds_ids)],
            "created": pa.nulls(n_dandisets, pa.timestamp("us", tz="UTC")),
            "modified": pa.nulls(n_dandisets, pa.timestamp("us", tz="UTC")),
            "embargo_status": ["OPEN"] * n_dandisets,
            "contact_person": ["X"] * n_dandisets,
            "draft_version": ["draft"] * n_dandisets,
            "latest_version": [None] * n_dandisets,
            "star_count": [0] * n_dandisets,
            "asset_count": [0] * n_dandisets,
            "size": [0] * n_dandisets,
            "versions_indexed": [["draft"]] * n_dandisets,
        },
        schema=SCHEMAS["dandisets"],
    )
    pq.write_table(dsets, snap / "dandisets.parquet")
    vcols = {f.name: pa.nulls(n_dandisets, f.type) for f in SCHEMAS["versions"]}
    for f in SCHEMAS["versions"]:
        if pa.types.is_list(f.type):
            vcols[f.name] = pa.array([[]] * n_dandisets, f.type)
    vcols.update(
        {
            "dandiset_id": pa.array(ds_ids),
            "version": pa.array(["draft"] * n_dandisets),
            "name": dsets["name"],
            "description": pa.array(["synthetic"] * n_dandisets),
            "metadata_json": pa.array(["{}"] * n_dandisets),
        }
    )
    pq.write_table(pa.table(vcols, schema=SCHEMAS["versions"]), snap / "versions.parquet")
    for t in ("contributors", "crawl_errors"):
        pq.write_table(SCHEMAS[t].empty_table(), snap / f"{t}.parquet")
    counts = {t: pq.ParquetFile(snap / f"{t}.parquet").metadata.num_rows for t in SCHEMAS}
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "format": "dandindex-index",
                "snapshot": "snapshots/bench",
                "api_url": "http://bench/api",
                "row_counts": counts,
                "dandisets": {},
            }
        )
    )


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
