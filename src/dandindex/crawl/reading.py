"""Reading files for their summaries, the same way for NWB files and for the others.

`read_summaries` keeps every cached summary of the current version (and an older one when
reading is not allowed: no ``--nwb``, or not in ``--nwb-dandiset``), reads the rest in the
worker processes (`dandindex.nwb.pool.WorkerPool`, a time bound per file) or as tasks on a
Dask cluster, caches each as it arrives unless its failure is transient (a later crawl reads
it again), and counts what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dandindex.fsutil import now_utc

#: what `read_summaries` counts
COUNTS = ("bytes", "done", "failed", "missing", "not_read", "outdated", "outdated_kept")


def read_summaries(
    assets: list[Any],
    *,
    cache: Any,
    made: Callable[[dict[str, Any]], Any],
    cached: Any,
    task: str,
    api_url: str,
    options: Any,
    token: str | None,
    progress: Callable[[int, int], None] | None = None,
    stats: dict[str, int] | None = None,
    refuse: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Summaries by asset key: `cached` (a marker: read it from `cache`) for those in the
    cache, a summary for those read now with a transient failure (recorded by this
    snapshot, not cached), or what `refuse(asset)` says instead of reading it. `made` turns
    a worker's answer into a summary; `task` names the asset in the worker's task
    (``asset``: NWB, ``media``: the other formats). `stats` counts `COUNTS`: bytes read,
    files done, failed, not on the server (``missing``), not read (metadata only), older
    summaries read again (``outdated``) or kept (``outdated_kept``)."""
    counts = stats if stats is not None else {}
    for k in COUNTS:
        counts.setdefault(k, 0)
    results: dict[str, Any] = {}
    todo: dict[str, Any] = {}
    for a in assets:
        if a.key in results or a.key in todo:
            continue
        allowed = options.summarize and not (
            options.only_dandisets and a.dandiset_id not in options.only_dandisets
        )
        old = cache.get(a.key) if cache.has(a.key) else None
        refused = refuse(a) if refuse is not None and allowed else None
        if old is not None and (old.current or not allowed):
            results[a.key] = cached
            counts["outdated_kept"] += 0 if old.current else 1
        elif not allowed:
            counts["not_read"] += 1  # metadata only
        elif refused is not None:
            results[a.key] = refused
        else:
            counts["outdated"] += 1 if old is not None else 0  # an older reader's
            todo[a.key] = a
    total = len(todo)
    if progress:
        progress(0, total)
    if not todo:
        return results
    pool = _pool(options, token, total)
    tasks = {k: {task: a.__dict__, "api_url": api_url, "timeout": options.timeout}
             for k, a in todo.items()}  # fmt: skip
    try:
        for key, raw in pool.map(tasks):
            summary = made(raw)
            summary.file.summarized_at = now_utc()
            counts["bytes"] += summary.file.bytes_read or 0
            counts["done"] += 1
            if summary.file.error:
                counts["missing" if raw.get("status") == 404 else "failed"] += 1
            if summary.transient:
                results[key] = summary
            else:
                cache.put(key, summary)
                results[key] = cached
            if progress:
                progress(counts["done"], total)
    finally:
        pool.close()
    return results


def _pool(options: Any, token: str | None, n: int) -> Any:
    if options.dask is not None:
        from dandindex.nwb.dask_pool import DaskPool

        return DaskPool(options.dask, token, options.file_timeout)
    from dandindex.nwb.pool import WorkerPool

    return WorkerPool(min(options.workers, n), token, file_timeout=options.file_timeout)
