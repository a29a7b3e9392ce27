"""A summarising worker process: JSON tasks on stdin, JSON summaries on stdout.

Run as ``python -m dandindex.nwb.worker``. One line in, one line out, until stdin closes. A
worker that dies (HDF5 can crash on damaged files) costs one task, which is recorded as an
error, and is replaced; the crawl goes on.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def handle(task: dict[str, Any]) -> dict[str, Any]:
    from dandindex.nwb.crawl import NWBAsset, summarize_asset

    asset = NWBAsset(**task["asset"])
    return summarize_asset(
        asset, task["api_url"], float(task["timeout"]), os.environ.get("DANDI_API_KEY") or None
    )


def main() -> None:
    import warnings

    warnings.simplefilter("ignore")  # pynwb/h5py warnings about old files are not results
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but results on the real stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        try:
            result = handle(task)
        except Exception as e:  # pragma: no cover - summarize() records errors itself
            result = {
                "file": {"error": f"{type(e).__name__}: {e}"},
                "objects": [],
                "locations": [],
                "transient": True,
            }
        out.write(json.dumps(result, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
