"""NWB summaries as tasks on a Dask distributed cluster, with `WorkerPool`'s interface.

Each file is one task (``summarize_task``, the same code a local worker process runs); the
crawl keeps writing results to the per-blob cache and the tables as they arrive, so rows are
the same as a local crawl's. A worker that dies mid-task is Dask's to handle: the scheduler
runs its tasks again on the other workers (up to ``distributed.scheduler.allowed-failures``
times); a task that still fails becomes a transient error row that the next crawl retries.
Progress shows in the crawl's bar and in Dask's dashboard (task prefix ``dandindex-nwb``).
On each Dask worker, files are read by a summarising process of its own, as in a local crawl,
so ``--nwb-file-timeout`` bounds each file there too and an HDF5 crash costs only that file.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

from dandindex.nwb.asset import error_summary

_WORKERS: dict[tuple[int, str | None, float | None], Any] = {}
_LOCK = threading.Lock()


def summarize_task(
    task: dict[str, Any], token: str | None, file_timeout: float | None = None
) -> dict[str, Any]:
    """One file on a Dask worker, in a summarising process of that worker's own (the same
    ``python -m dandindex.nwb.worker`` a local crawl uses, kept between tasks): a file that
    takes longer than `file_timeout` or crashes HDF5 costs that process, not the Dask
    worker."""
    from dandindex.nwb.pool import WorkerPool

    key = (threading.get_ident(), token, file_timeout)  # one process per worker thread
    with _LOCK:
        pool = _WORKERS.get(key)
        if pool is None:
            pool = _WORKERS[key] = WorkerPool(1, token, file_timeout)
    result: dict[str, Any] = pool.ask(task)
    return result


class DaskPool:
    """`map` over a Dask cluster: `cluster` is a ``distributed.Client`` (kept open) or a
    scheduler address (a client is made and closed with the pool)."""

    def __init__(self, cluster: Any, token: str | None, file_timeout: float | None = None) -> None:
        from distributed import Client

        self._own = not isinstance(cluster, Client)
        self.client = Client(cluster) if self._own else cluster
        self.token = token
        self.file_timeout = file_timeout

    def map(self, tasks: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(key, summary)`` as tasks finish, in completion order."""
        from distributed import as_completed

        run = uuid.uuid4().hex[:8]
        futures = {
            self.client.submit(
                summarize_task,
                task,
                self.token,
                self.file_timeout,
                key=f"dandindex-nwb-{run}-{i}",
                pure=False,
                retries=1,
            ): key
            for i, (key, task) in enumerate(tasks.items())
        }
        for future in as_completed(futures):
            key = futures[future]
            try:
                result = future.result()
            except Exception as e:  # KilledWorker after the allowed failures, or a bug
                result = error_summary(
                    f"not summarised on the Dask cluster: {type(e).__name__}: {e}; "
                    "the next crawl tries again",
                    transient=True,
                )
            future.release()
            yield key, result

    def close(self) -> None:
        if self._own:
            self.client.close()
