"""Benchmark: bytes, requests and wall time to walk an NWB file's metadata over HTTP.

For each file, in one run, the same h5py metadata walk (dandindex's summariser) over
(a) ``remfile.File`` with its defaults, (b) fsspec's HTTP file with its defaults, (c) our
``RangeFile`` (block cache, coalescing, concurrent bursts) with the HDF5-aware prefetch, and
(d) the lower bound: the distinct 4 KiB blocks the same walk reads from the local file. Ours
is given the file's size, as the crawl gives it from the asset's metadata.
The server runs in this process with 20 ms added to every request and counts requests and
bytes (wall time: the best of 3 runs for remfile and ours, 1 for fsspec); only bytes a client really takes are counted (range responses: remfile and fsspec
open a file with a GET of the whole file that they abort after the headers).

Files: generated ecephys and ophys files (written by pynwb, data before metadata) of about
50 MB, 500 MB and 2 GB (``--sizes``), a generated file whose metadata sits between the data
of 90 series (written from in-memory arrays), plus every HDF5 file of ../shared/nwb when
present.

    python benchmarks/nwb_stream.py [--sizes 50,500,2000] [--latency 0.02] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2] / "shared" / "nwb"
# bytes of bulk data per unit of `scale` in dandindex.testing.nwbfiles
PER_SCALE = {"ecephys": 3000 * 16 * 2 * 1.03, "ophys": 1200 * 32 * 32 * 2 * 1.0}


def make_files(workdir: Path, sizes_mb: list[int]) -> list[Path]:
    from dandindex.testing.nwbfiles import write_ecephys, write_ophys

    out = []
    for mb in sizes_mb:
        for kind, writer in (("ecephys", write_ecephys), ("ophys", write_ophys)):
            path = workdir / f"{kind}_{mb}MB.nwb"
            if not path.exists():
                scale = max(1, int(mb * 1e6 / PER_SCALE[kind]))
                t0 = time.perf_counter()
                writer(path, scale=scale)
                print(
                    f"wrote {path.name}: {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s"
                )
            out.append(path)
    return out


def make_interleaved(workdir: Path) -> Path:
    """90 TimeSeries written from in-memory arrays (pynwb writes each one's data when it
    creates the dataset), so the metadata sits in small pieces between the data: ~35 MB."""
    from datetime import datetime, timezone

    import numpy as np
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    path = workdir / "timeseries_interleaved_35MB.nwb"
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    nwb = NWBFile("interleaved", "interleaved-1", datetime(2024, 1, 2, tzinfo=timezone.utc))
    for i in range(60):
        data = rng.random(50_000 + i)
        nwb.add_acquisition(TimeSeries(name=f"ts{i:02d}", data=data, unit="V", rate=1000.0))
    module = nwb.create_processing_module("behavior", "behaviour")
    for i in range(30):
        t = np.arange(20_000) / 30.0
        module.add(TimeSeries(name=f"b{i:02d}", data=rng.random(20_000), unit="m", timestamps=t))
    with NWBHDF5IO(path, "w") as io:
        io.write(nwb)
    return path


def walk(fileobj: Any, rangefile: Any = None) -> int:
    from dandindex.nwb.walk import summarize_h5

    return len(summarize_h5(fileobj, rangefile=rangefile).objects)


def run_remfile(url: str, size: int) -> None:
    import remfile

    f = remfile.File(url)
    try:
        walk(f)
    finally:
        f.close()


def run_fsspec(url: str, size: int) -> None:
    import fsspec

    fs = fsspec.filesystem("http")
    with fs.open(url, "rb") as f:
        walk(f)


def run_ours(url: str, size: int) -> None:
    from dandindex.remote.rangefile import RangeFile

    rf = RangeFile(url, size=size)  # as the crawl does, with the asset's size from the API
    try:
        walk(rf, rf)
    finally:
        rf.close()


def measure(srv: Any, fn: Any, url: str, size: int, runs: int = 1) -> dict[str, float]:
    """Bytes and requests of one run (they repeat exactly); the best wall time of `runs`."""
    seconds = float("inf")
    for _ in range(runs):
        srv.counters.reset()
        t0 = time.perf_counter()
        fn(url, size)
        seconds = min(seconds, time.perf_counter() - t0)
    snap = srv.counters.snapshot()
    return {
        "bytes": snap["partial_bytes"],
        "requests": snap["requests"].get("blob", 0),
        "round_trips": srv.counters.round_trips("blob", srv.faults.latency),
        "seconds": seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="50,500,2000", help="generated file sizes in MB")
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-shared", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from dandindex.nwb.hierarchy import installed_parents
    from dandindex.nwb.lowerbound import lower_bound
    from dandindex.testing.archive import serve_files

    installed_parents()  # load the schema once, outside the timings
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dandindex-nwbbench-"))
    work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    files = make_files(work, sizes) + [make_interleaved(work)]
    if not args.no_shared and (SHARED / "manifest.json").exists():
        manifest = json.loads((SHARED / "manifest.json").read_text())
        files += [SHARED / e["file"] for e in manifest if e.get("format") == "HDF5"]
    srv, urls = serve_files(files, work / "server")
    rows = []
    with srv:
        srv.faults.latency = args.latency
        for path in files:
            url = urls[path]
            row: dict[str, Any] = {
                "file": path.name,
                "size": path.stat().st_size,
                "lower_bound": lower_bound(path),
            }
            for name, fn, runs in (
                ("remfile", run_remfile, 3),
                ("fsspec", run_fsspec, 1),
                ("ours", run_ours, 3),
            ):
                row[name] = measure(srv, fn, url, row["size"], runs)
            rows.append(row)
            o, r, f = row["ours"], row["remfile"], row["fsspec"]
            print(
                f"{path.name[:44]:44} {row['size'] / 1e6:8.1f} MB | LB {row['lower_bound'] / 1e3:7.1f} kB | "
                f"ours {o['bytes'] / 1e3:7.1f} kB {o['requests']:3.0f} req {o['round_trips']:2.0f} rt {o['seconds']:.2f} s | "
                f"remfile {r['bytes'] / 1e3:8.1f} kB {r['requests']:3.0f} req {r['round_trips']:2.0f} rt {r['seconds']:.2f} s | "
                f"fsspec {f['bytes'] / 1e6:7.2f} MB {f['requests']:3.0f} req {f['seconds']:.2f} s"
            )
    ratio = [r["ours"]["bytes"] / r["lower_bound"] for r in rows]
    time_ratio = [r["ours"]["seconds"] / r["remfile"]["seconds"] for r in rows]
    worst = max(range(len(rows)), key=lambda i: ratio[i])
    worst_t = max(range(len(rows)), key=lambda i: time_ratio[i])
    summary = {
        "files": len(rows),
        "latency_ms": args.latency * 1000,
        "median_bytes_over_lower_bound": statistics.median(ratio),
        "worst_bytes_over_lower_bound": ratio[worst],
        "worst_bytes_file": rows[worst]["file"],
        "files_over_2x_lower_bound": sum(x > 2 for x in ratio),
        "median_wall_ours_over_remfile": statistics.median(time_ratio),
        "worst_wall_ours_over_remfile": time_ratio[worst_t],
        "worst_wall_file": rows[worst_t]["file"],
        "files_slower_than_remfile": sum(x > 1 for x in time_ratio),
        "median_bytes_remfile_over_ours": statistics.median(
            r["remfile"]["bytes"] / r["ours"]["bytes"] for r in rows
        ),
        "median_bytes_fsspec_over_ours": statistics.median(
            r["fsspec"]["bytes"] / r["ours"]["bytes"] for r in rows
        ),
        "median_seconds": {
            k: statistics.median(r[k]["seconds"] for r in rows)
            for k in ("ours", "remfile", "fsspec")
        },
        "median_requests": {
            k: statistics.median(r[k]["requests"] for r in rows)
            for k in ("ours", "remfile", "fsspec")
        },
        "median_round_trips": {
            k: statistics.median(r[k]["round_trips"] for r in rows)
            for k in ("ours", "remfile", "fsspec")
        },
        "files_more_round_trips_than_remfile": sum(
            r["ours"]["round_trips"] > r["remfile"]["round_trips"] for r in rows
        ),
        "files_fewer_round_trips_than_remfile": sum(
            r["ours"]["round_trips"] < r["remfile"]["round_trips"] for r in rows
        ),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
