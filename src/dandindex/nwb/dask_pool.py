"""NWB summaries as tasks on a Dask distributed cluster, with `WorkerPool`'s interface.

Each file is one task (``summarize_task``, the same code a local worker process runs); the
crawl keeps writing results to the per-blob cache and the tables as they arrive, so rows are
the same as a local crawl's. A worker that dies mid-task is Dask's to handle: the scheduler
runs its tasks again on the other workers (up to ``distributed.scheduler.allowed-failures``
times); a task that still fails becomes a transient error row that the next crawl retries.
Progress shows in the crawl's bar and in Dask's dashboard (task prefix ``dandindex-nwb``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

from dandindex.nwb.asset import error_summary


def summarize_task(task: dict[str, Any], token: str | None) -> dict[str, Any]:
    """One file on a Dask worker (see `dandindex.nwb.worker.handle`)."""
    import warnings

    warnings.simplefilter("ignore")
    if token:
        os.environ["DANDI_API_KEY"] = token
    os.environ.setdefault("DANDI_NO_ET", "1")
    from dandindex.nwb.worker import handle

    return handle(task)


class DaskPool:
    """`map` over a Dask cluster: `cluster` is a ``distributed.Client`` (kept open) or a
    scheduler address (a client is made and closed with the pool)."""

    def __init__(self, cluster: Any, token: str | None) -> None:
        from distributed import Client

        self._own = not isinstance(cluster, Client)
        self.client = Client(cluster) if self._own else cluster
        self.token = token

    def map(self, tasks: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(key, summary)`` as tasks finish, in completion order."""
        from distributed import as_completed

        run = uuid.uuid4().hex[:8]
        futures = {
            self.client.submit(
                summarize_task,
                task,
                self.token,
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
