"""NWB files summarised in worker processes (``python -m dandindex.nwb.worker``).

h5py holds one global lock for every HDF5 call, and the network reads happen inside those
calls, so threads would read one file at a time: each worker is a process, fed one task at a
time by a thread of its own. A worker that dies (HDF5 can crash on damaged files) costs one
task, which is answered with an error summary, and is replaced.
"""

from __future__ import annotations

import json
import os
import queue
import select
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

from dandindex.nwb.asset import error_summary


class WorkerPool:
    """`n` worker processes (``python -m dandindex.nwb.worker``), each fed by one thread.

    `file_timeout`: seconds a worker may take over one file; a worker that takes longer is
    killed and replaced, and the file gets a (transient) error summary, so every file ends
    within the bound, whatever it holds or however the server behaves.
    """

    def __init__(self, n: int, token: str | None, file_timeout: float | None = None) -> None:
        self.n = max(1, n)
        self.file_timeout = file_timeout
        self.env = dict(os.environ)
        if token:
            self.env["DANDI_API_KEY"] = token
        self.env.setdefault("DANDI_NO_ET", "1")
        self._procs: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()
        self._closed = False

    def _spawn(self) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dandindex.nwb.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )
        with self._lock:
            self._procs.append(proc)
        return proc

    def _ask(self, proc: subprocess.Popen[str], task: dict[str, Any]) -> dict[str, Any]:
        """Send one task and wait for its line, at most `file_timeout` seconds."""
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(task, default=str) + "\n")
        proc.stdin.flush()
        if self.file_timeout is not None:
            ready, _, _ = select.select([proc.stdout], [], [], self.file_timeout)
            if not ready:
                raise _TooLong(self.file_timeout)
        line = proc.stdout.readline()
        if not line:
            raise OSError(f"the summarising process ended (exit code {proc.wait()})")
        result: dict[str, Any] = json.loads(line)
        return result

    def _answer(
        self, proc: subprocess.Popen[str], task: dict[str, Any]
    ) -> tuple[dict[str, Any], subprocess.Popen[str]] | None:
        """A task's summary and the worker to use next: a worker that took too long or
        died is replaced, and the task answered with a (transient) error summary; None
        once the pool is closed."""
        try:
            return self._ask(proc, task), proc
        except _TooLong as e:
            if self._closed:
                return None
            result = error_summary(
                f"not summarised: reading it took longer than {e.seconds:g} s "
                "(--nwb-file-timeout); the next crawl tries again",
                transient=True,
            )
        except Exception as e:  # the worker died (killed, crashed) or answered garbage
            if self._closed:
                return None
            result = error_summary(
                f"not summarised: {e}; the next crawl tries again", transient=True
            )
        self._stop(proc, kill=True)
        return result, self._spawn()

    def ask(self, task: dict[str, Any]) -> dict[str, Any]:
        """One task on this pool's one long-lived worker (made on first use), within the
        time bound; for callers that bring their own parallelism (Dask tasks)."""
        with self._lock:
            proc = self._procs[0] if self._procs and self._procs[0].poll() is None else None
        if proc is None:
            with self._lock:
                self._procs.clear()
            proc = self._spawn()
        answered = self._answer(proc, task)
        if answered is None:
            return error_summary("not summarised: the pool was closed", transient=True)
        result, nxt = answered
        if nxt is not proc:
            with self._lock:
                self._procs[:] = [nxt]
        return result

    def map(self, tasks: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(key, summary)`` as workers finish, in completion order."""
        todo: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        done: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        for item in tasks.items():
            todo.put(item)

        def run() -> None:
            proc = self._spawn()
            while not self._closed:
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    break
                key, task = item
                answered = self._answer(proc, task)
                if answered is None:
                    return
                result, proc = answered
                done.put((key, result))
            self._stop(proc)

        threads = [threading.Thread(target=run, daemon=True) for _ in range(self.n)]
        for t in threads:
            t.start()
        received = 0
        while received < len(tasks):
            try:
                item = done.get(timeout=1.0)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and done.empty():
                    raise RuntimeError(
                        "every NWB worker stopped before the work was done"
                    ) from None
                continue
            received += 1
            yield item
        for t in threads:
            t.join()

    def _stop(self, proc: subprocess.Popen[str], kill: bool = False) -> None:
        try:
            if kill:
                proc.kill()
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            if proc.stdout:
                proc.stdout.close()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            procs = list(self._procs)
        for p in procs:
            self._stop(p, kill=p.poll() is None)


class _TooLong(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds
