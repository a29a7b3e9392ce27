"""Benchmark: NWB summaries per second on a Dask cluster of 1, 2, 4, 8 workers, against the
crawl's own worker processes, on latency-bound files.

The 73 HDF5 files of ../shared/nwb (real files from many writers) served as one dandiset by
the local archive server with `--latency` added to every request; each run crawls a fresh
index with `--nwb` (no summary cache), the NWB phase either on a `distributed.LocalCluster`
of N single-threaded worker processes or on the crawl's N local worker processes.

    python benchmarks/dask_crawl.py [--latency 0.05] [--workers 1,2,4,8] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

SHARED = Path(os.environ.get("DANDINDEX_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def archive(root: Path) -> int:
    from dandindex.demo import real_files
    from dandindex.testing.generate import archive_of_files

    files, modality, species = real_files(SHARED / "nwb")
    archive_of_files(root, files, modalities=modality, species=species)
    return len(files)


def run(api_url: str, index: Path, workers: int, dask: Any) -> dict[str, Any]:
    from dandindex.crawl import Crawler, CrawlOptions

    shutil.rmtree(index, ignore_errors=True)
    t0 = time.perf_counter()
    stats = Crawler(
        CrawlOptions(
            api_url=api_url, index_dir=str(index), nwb=True, nwb_workers=workers, dask=dask
        )
    ).run()
    seconds = time.perf_counter() - t0
    assert stats.nwb_done == stats.nwb_total
    return {"files": stats.nwb_done, "failed": stats.nwb_failed, "seconds": seconds,
            "per_second": stats.nwb_done / seconds}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--workers", default="1,2,4,8")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if not (SHARED / "nwb" / "manifest.json").is_file():
        raise SystemExit(f"{SHARED / 'nwb'} not found: this benchmark reads its real files")
    from distributed import Client, LocalCluster

    from dandindex.testing.archive import ArchiveServer, Faults

    work = Path(tempfile.mkdtemp(prefix="dandindex-dask-"))
    results: list[dict[str, Any]] = []
    try:
        n_files = archive(work / "archive")
        print(f"{n_files} files, {args.latency * 1000:.0f} ms per request")
        with ArchiveServer(work / "archive", faults=Faults(latency=args.latency)) as srv:
            for n in [int(x) for x in args.workers.split(",")]:
                local = run(srv.api_url, work / "idx", n, None)
                with LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.ERROR,
                ) as cluster, Client(cluster) as client:  # fmt: skip
                    client.wait_for_workers(n)
                    on_dask = run(srv.api_url, work / "idx", n, client)
                results.append({"workers": n, "local": local, "dask": on_dask})
                print(
                    f"  {n} workers: local processes {local['per_second']:5.1f} files/s "
                    f"({local['seconds']:.1f} s), Dask {on_dask['per_second']:5.1f} files/s "
                    f"({on_dask['seconds']:.1f} s)",
                    flush=True,
                )
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
