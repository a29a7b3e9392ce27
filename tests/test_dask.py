"""NWB summaries on a Dask distributed cluster (a real LocalCluster of worker processes):
the same rows as a local crawl, also when a worker is killed mid-crawl."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import time

import pytest

from dandindex.crawl import Crawler, CrawlOptions
from dandindex.index import Index

from helpers import asset_dict

#: columns that differ between two runs by nature: when, how long, and from which server port
VARYING = {"summarized_at", "seconds", "read_url"}


@pytest.fixture(scope="module")
def client():
    import distributed  # a dependency (pyproject): missing it is a failure, not a skip

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def nwb_rows(index_dir) -> dict[str, list[str]]:
    with Index(index_dir) as idx:
        out = {}
        for table in ("nwb_files", "nwb_objects", "nwb_locations"):
            rows = idx.sql(f"SELECT * FROM {table}").rows()
            out[table] = sorted(
                re.sub(  # error texts name the server they read from
                    r"127\.0\.0\.1:\d+",
                    "HOST",
                    json.dumps({k: v for k, v in r.items() if k not in VARYING}, default=str),
                )
                for r in rows
            )
        return out


def test_dask_crawl_rows_equal_the_local_crawl(client, server, index_dir, tmp_path):
    stats = Crawler(
        CrawlOptions(api_url=server.api_url, index_dir=str(tmp_path / "d"), nwb=True, dask=client)
    ).run()
    assert stats.nwb_done == stats.nwb_total > 0
    assert nwb_rows(tmp_path / "d") == nwb_rows(index_dir)
    with Index(tmp_path / "d") as idx:
        assert idx.info()["options"]["dask"]  # the manifest says where it ran


def test_a_worker_killed_mid_crawl_costs_no_file(client, fresh_server, index_dir, tmp_path):
    fresh_server.faults.latency = 0.03  # long enough to kill a worker while it works
    pids = list(client.run(os.getpid).values())
    done = threading.Event()
    result = {}

    def crawl() -> None:
        result["stats"] = Crawler(
            CrawlOptions(
                api_url=fresh_server.api_url, index_dir=str(tmp_path / "k"), nwb=True, dask=client
            )
        ).run()
        done.set()

    t = threading.Thread(target=crawl)
    t.start()
    deadline = time.monotonic() + 60
    while not client.processing() or not any(client.processing().values()):
        assert time.monotonic() < deadline, "the crawl never reached the cluster"
        time.sleep(0.05)
    busy = [w for w, tasks in client.processing().items() if tasks]
    victim = client.run(os.getpid, workers=busy[:1])
    os.kill(next(iter(victim.values())), signal.SIGKILL)
    t.join(timeout=300)
    assert done.is_set()
    assert next(iter(victim.values())) in pids
    stats = result["stats"]
    assert stats.nwb_done == stats.nwb_total > 0
    assert nwb_rows(tmp_path / "k") == nwb_rows(index_dir)  # no file lost, no error rows added


def test_a_stuck_file_on_dask_is_given_up_after_the_file_limit(client, nwb_files, tmp_path):
    """On a Dask worker too, a file that drips in costs its summarising process, within the
    per-file limit, and the task answers with a transient error (retried next crawl)."""
    from dandindex.nwb.dask_pool import DaskPool
    from dandindex.testing.archive import serve_files

    srv, urls = serve_files([nwb_files["ophys"]], tmp_path)
    srv.faults.add(kind="slow", path="/s3/blobs/", bytes_per_second=200, count=None)
    asset = asset_dict(urls[nwb_files["ophys"]])
    pool = DaskPool(client, None, file_timeout=3)
    t0 = time.monotonic()
    with srv:
        results = dict(pool.map({"stuck": {"asset": asset, "api_url": srv.api_url, "timeout": 60}}))
    assert time.monotonic() - t0 < 20
    stuck = results["stuck"]
    assert "longer than 3 s" in stuck["file"]["error"] and stuck["transient"]
