"""Benchmark: the memory and time of `dandindex sql ... --limit N` on the 1,000,000-asset
index (10,000,000 objects) of `benchmarks/query.py`, against the same statement read whole
(what the command did before the limit reached the query: every row loaded, as Arrow, to
show 5).

Each run is a fresh process (its peak RSS is its own), the CLI's output to /dev/null:

    python benchmarks/sql_memory.py [--index DIR] [--json out.json]

Prints, per statement, wall time and peak RSS of (a) the whole statement through
`Index.sql` and (b) `dandindex sql STATEMENT --limit 5`, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from remote import big_index  # noqa: E402

STATEMENTS = [
    "SELECT * FROM nwb_objects",
    "SELECT * FROM assets",
    "SELECT asset_id, path, neurodata_type FROM nwb_objects WHERE rate > 1000",
]

WHOLE = """
import resource, sys
from dandindex.index import Index
with Index(sys.argv[1]) as idx:
    n = idx.sql(sys.argv[2]).to_arrow().num_rows  # every row in memory, as Arrow
print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

LIMITED = """
import contextlib, io, os, resource, sys
from dandindex.cli import cli
with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
    cli.main(["sql", sys.argv[2], "--limit", "5", "--format", "json", "--index", sys.argv[1]],
             standalone_mode=False)
print(5, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(code: str, index: Path, statement: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(index), statement],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - t0
    rows, rss_kb = out.stdout.split()[-2:]
    return {"rows": int(rows), "seconds": round(seconds, 2), "peak_rss_mb": int(rss_kb) / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, default=None, help="a 1M-asset index (made if absent)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    index = big_index(args.index)
    report = []
    print(f"{'statement':<75} {'whole':>18} {'--limit 5':>18} {'RSS ratio':>9}")
    for statement in STATEMENTS:
        whole = measure(WHOLE, index, statement)
        limited = measure(LIMITED, index, statement)
        ratio = limited["peak_rss_mb"] / whole["peak_rss_mb"]
        report.append({"statement": statement, "whole": whole, "limit_5": limited})
        print(
            f"{statement:<75} "
            f"{whole['seconds']:>6.1f} s {whole['peak_rss_mb']:>6.0f} MB "
            f"{limited['seconds']:>6.1f} s {limited['peak_rss_mb']:>6.0f} MB {ratio:>8.2f}x",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
