"""Benchmark: `dandindex ui` page latency on the 1,000,000-asset index of `benchmarks/query.py`.

Starts the web app on the index (its real WSGI server on loopback) and requests every kind of
page several times over HTTP, as a browser would: search pages with and without facets (and a
later page), their `.json` twin, dandiset pages, asset pages (object tree from the index), the
SQL page with a query and with a named query. Plots are left out: they stream the file. Prints
p50/p95 per kind and over all pages; the floor is 300 ms p95 per page.

    python benchmarks/ui.py [--index DIR] [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from remote import big_index  # noqa: E402


def pages(url: str, idx: Any) -> dict[str, list[str]]:
    assets = [r["asset_id"] for r in idx.search(area="CA1", limit=5).rows()]
    dandisets = [r["dandiset_id"] for r in idx.search(level="dandiset", limit=5).rows()]
    return {
        "search, no facet": [f"{url}/"],
        "search, one facet": [f"{url}/?species=mouse", f"{url}/?modality=ophys", f"{url}/?area=VISp"],
        "search, three facets": [f"{url}/?species=mouse&modality=ecephys&area=CA1"],
        "search, page 5": [f"{url}/?species=mouse&page=4"],
        "search, ranges": [f"{url}/?min_units=100&max_units=300&size_max=5GB&rate_min=1000"],
        "search, dandisets": [f"{url}/?level=dandiset&species=rat"],
        "search .json": [f"{url}/search.json?species=rat&area=CA1&limit=100"],
        "search, other formats": [f"{url}/?file_format=video&fps_min=60", f"{url}/?channel=GFP&voxel_max=1um"],
        "dandiset": [f"{url}/dandiset/{d}" for d in dandisets],
        "asset": [f"{url}/asset/{a}" for a in assets],
        "sql": [f"{url}/sql?q=SELECT+dandiset_id,+count(*)+AS+n+FROM+assets+GROUP+BY+1+ORDER+BY+n+DESC"],
        "named query": [f"{url}/sql?query=largest_nwb_files"],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from dandindex.ui import create_app, serve

    index = big_index(args.index)
    t0 = time.perf_counter()
    app = create_app(index)
    server = serve(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.port}"
    urllib.request.urlopen(url + "/").read()  # the first page derives the sidebars' counts
    print(f"app ready and first page in {time.perf_counter() - t0:.2f} s")
    kinds = pages(url, app.config["INDEX"])
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(args.rounds):
        for kind, urls in kinds.items():
            for u in urls:
                t = time.perf_counter()
                with urllib.request.urlopen(u) as r:
                    r.read()
                    assert r.status == 200, u
                times[kind].append(time.perf_counter() - t)
    every = [t for ts in times.values() for t in ts]

    def p(ts: list[float], q: float) -> float:
        return statistics.quantiles(ts, n=100)[q - 1] * 1000 if len(ts) > 1 else ts[0] * 1000

    out = {k: {"p50_ms": p(ts, 50), "p95_ms": p(ts, 95), "n": len(ts)} for k, ts in times.items()}
    out["all pages"] = {"p50_ms": p(every, 50), "p95_ms": p(every, 95), "n": len(every)}
    for k, v in out.items():
        print(
            f"  {k:<22} p50 {v['p50_ms']:7.1f} ms   p95 {v['p95_ms']:7.1f} ms   ({v['n']} requests)"
        )
    server.shutdown()
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
