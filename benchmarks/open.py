"""Benchmark: open a streamed NWB file and read one object's first 1000 rows.

(a) the recipe users copy today: ``remfile.File(url)`` + ``h5py.File`` + ``NWBHDF5IO.read()``;
(b) ``AssetHandle.open()``: our range reader, given what the index records (the byte ranges
the crawl's metadata walk needed, the blob URL it read them from, the size), so that opening is
one concurrent burst; the HDF5 prefetcher then fetches what else a pynwb read takes.
At 20 ms and 100 ms added per request, on generated ophys and ecephys files; requests counted
by the server.

    python benchmarks/open.py [--sizes 50] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

OBJECTS = {
    "ophys": ("processing", "ophys", "DfOverF", "DfOverF"),
    "ecephys": ("acquisition", "ElectricalSeries"),
}


def read_rows(nwb: Any, kind: str) -> Any:
    if kind == "ophys":
        return nwb.processing["ophys"]["DfOverF"]["DfOverF"].data[:1000]
    return nwb.acquisition["ElectricalSeries"].data[:1000]


def recipe(url: str, kind: str) -> Any:
    import h5py
    import remfile
    from pynwb import NWBHDF5IO

    rf = remfile.File(url)
    with h5py.File(rf, "r") as f, NWBHDF5IO(file=f, mode="r", load_namespaces=True) as io:
        return read_rows(io.read(), kind)


def ours(url: str, kind: str, ranges: tuple[tuple[int, int], ...], size: int) -> Any:
    from dandindex.handles import AssetHandle

    h = AssetHandle(
        asset_id="x",
        dandiset_id="000000",
        version="draft",
        path="x.nwb",
        api_url=url,
        size=size,
        metadata_ranges=ranges,
        read_url=url,  # what the crawl records: the blob URL after the API's redirect
    )
    with h.open() as nwb:
        return read_rows(nwb, kind)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="50")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import numpy as np

    from dandindex.nwb.summary import summarize
    from dandindex.testing.archive import serve_files

    sys_path = Path(__file__).resolve().parent
    import sys

    sys.path.insert(0, str(sys_path))
    from nwb_stream import make_files

    work = args.workdir or Path(tempfile.mkdtemp(prefix="dandindex-openbench-"))
    work.mkdir(parents=True, exist_ok=True)
    files = make_files(work, [int(s) for s in args.sizes.split(",")])
    srv, urls = serve_files(files, work / "server")
    rows = []
    with srv:
        for path in files:
            kind = "ophys" if "ophys" in path.name else "ecephys"
            url = urls[path]
            ranges = tuple((a, n) for a, n in summarize(url)["file"]["metadata_ranges"])
            size = path.stat().st_size
            recipe(url, kind)  # warm imports and the schema cache outside the timings
            for latency in (0.02, 0.1):
                srv.faults.latency = latency
                result: dict[str, Any] = {"file": path.name, "latency_ms": latency * 1000}
                for name, fn in (
                    ("recipe", lambda u=url, k=kind: recipe(u, k)),
                    ("ours", lambda u=url, k=kind, r=ranges, n=size: ours(u, k, r, n)),
                ):
                    srv.counters.reset()
                    t0 = time.perf_counter()
                    data = fn()
                    result[name] = {
                        "seconds": time.perf_counter() - t0,
                        "requests": srv.counters.requests.get("blob", 0),
                        "round_trips": srv.counters.round_trips("blob", latency),
                        "bytes": srv.counters.partial_bytes,
                        "shape": list(np.shape(data)),
                    }
                r, o = result["recipe"], result["ours"]
                result["request_ratio"] = o["requests"] / r["requests"]
                result["round_trip_ratio"] = o["round_trips"] / r["round_trips"]
                result["time_ratio"] = o["seconds"] / r["seconds"]
                rows.append(result)
                print(
                    f"{path.name:22} {latency * 1000:4.0f} ms | recipe {r['requests']:3} req {r['round_trips']:3} rt {r['seconds']:.2f} s | "
                    f"ours {o['requests']:3} req {o['round_trips']:3} rt {o['seconds']:.2f} s | "
                    f"ratio rt {result['round_trip_ratio']:.2f} time {result['time_ratio']:.2f}"
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
