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

_SESSIONS: dict[str, Any] = {}


def _session(api_url: str, timeout: float) -> Any:
    """One pooled session per API for the life of the process; the key goes to its host."""
    if api_url not in _SESSIONS:
        from dandindex.remote.session import api_token, make_session

        _SESSIONS[api_url] = make_session(
            pool=32, timeout=timeout, token=api_token(), api_url=api_url
        )
    return _SESSIONS[api_url]


def handle(task: dict[str, Any]) -> dict[str, Any]:
    """``{"asset": ..., "api_url": ..., "timeout": ...}``: an archive asset through its API;
    ``{"media": ..., ...}``: the same for a file that is not NWB (`dandindex.formats`);
    ``{"path": ...}``: a local file or NWB-Zarr folder."""
    from dandindex.nwb.asset import summarize_asset
    from dandindex.remote.asset import ArchiveAsset

    if "media" in task:
        from dandindex.formats.summary import MediaAsset, summarize_media_asset

        media = MediaAsset(**task["media"])
        timeout = float(task["timeout"])
        session = _session(task["api_url"], timeout)
        return summarize_media_asset(media, task["api_url"], timeout, session)

    if "path" in task:
        from dandindex.nwb.summary import summarize

        return summarize(task["path"])

    asset = ArchiveAsset(**task["asset"])
    timeout = float(task["timeout"])
    return summarize_asset(asset, task["api_url"], timeout, _session(task["api_url"], timeout))


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
    os.environ.setdefault("DANDI_NO_ET", "1")
    main()
