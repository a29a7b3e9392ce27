"""Every file ends within a bound: crafted and corrupted NWB files, stuck transfers, killed
workers. Each gives a summary or an error row; a crawl over all of them finishes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dandindex.crawl import Crawler, CrawlOptions
from dandindex.index import Index
from dandindex.nwb.pool import WorkerPool
from dandindex.nwb.summary import summarize
from dandindex.testing.archive import ArchiveServer, serve_files
from dandindex.testing.crafted import CORRUPTIONS, corrupt, write_crafted

from conftest import SHARED_NWB, need_shared_nwb
from helpers import asset_dict


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> dict[str, Path]:
    return write_crafted(tmp_path_factory.mktemp("crafted"))


def run_local(paths: dict[str, Path], timeout: float, workers: int = 2) -> dict[str, dict]:
    pool = WorkerPool(workers, None, file_timeout=timeout)
    try:
        return dict(pool.map({name: {"path": str(p)} for name, p in paths.items()}))
    finally:
        pool.close()


def test_crafted_files_end_with_a_summary_or_an_error(crafted):
    t0 = time.monotonic()
    results = run_local(crafted, timeout=60)
    assert time.monotonic() - t0 < 60
    assert set(results) == set(crafted)
    cycle = results["link_cycle"]
    assert cycle["file"].get("error") is None
    assert {o["path"] for o in cycle["objects"]} == {"/", "/acquisition/loop"}
    assert "back_to_root" in cycle["file"]["links"] and "itself" in cycle["file"]["links"]
    fan = results["link_fan"]  # 2**40 paths through 40 groups: each walked once, by its name
    # each of g0..g38 links twice to the next group, which /processing already holds
    assert fan["file"].get("error") is None and fan["file"]["links"].count('"hard"') == 2 * 39
    assert results["deep"]["file"]["n_objects"] == 301
    assert results["many_attributes"]["file"].get("error") is None
    for bad in ("not_hdf5", "empty"):
        assert results[bad]["file"]["error"] and not results[bad]["transient"]


def test_a_cycle_does_not_hang_the_walk_in_this_process(crafted):
    """The walk itself ends on a cycle (not only the worker's time limit)."""
    t0 = time.monotonic()
    s = summarize(crafted["link_cycle"])
    assert time.monotonic() - t0 < 10 and s["file"]["n_objects"] == 2


def test_a_stuck_transfer_is_given_up_after_the_file_limit(tmp_path, nwb_files):
    srv, urls = serve_files([nwb_files["ophys"]], tmp_path)
    srv.faults.add(kind="slow", path="/s3/blobs/", bytes_per_second=200, count=None)
    url = urls[nwb_files["ophys"]]
    task = {
        "asset": asset_dict(url),
        "api_url": srv.api_url,
        "timeout": 60,
    }
    pool = WorkerPool(1, None, file_timeout=3)
    t0 = time.monotonic()
    with srv:
        try:
            results = dict(pool.map({"stuck": task}))
        finally:
            pool.close()
    assert time.monotonic() - t0 < 15
    stuck = results["stuck"]
    assert "longer than 3 s" in stuck["file"]["error"] and stuck["transient"]


def corrupted_files(folder: Path) -> dict[str, Path]:
    import json

    shared = need_shared_nwb()
    manifest = json.loads((shared / "manifest.json").read_text())
    names = sorted(m["file"] for m in manifest if (shared / m["file"]).is_file())
    out = {}
    for i, n in enumerate(names):
        for how in CORRUPTIONS:
            name = f"{i:03d}-{Path(n).stem}-{how}"
            out[name] = corrupt(shared / n, folder / f"{name}.nwb", how, seed=1)
    return out


@pytest.mark.slow
def test_every_corrupted_and_crafted_file_ends_and_a_crawl_over_all_finishes(tmp_path, crafted):
    from dandindex.testing.generate import archive_of_files

    files = {**corrupted_files(tmp_path / "corrupt"), **crafted}
    assert len(files) >= 3 * 70
    archive = tmp_path / "archive"
    by_asset = archive_of_files(archive, files)
    t0 = time.monotonic()
    with ArchiveServer(archive) as srv:
        stats = Crawler(
            CrawlOptions(
                api_url=srv.api_url,
                index_dir=str(tmp_path / "index"),
                nwb=True,
                nwb_workers=2,
                nwb_file_timeout=10,  # a few damaged files make libhdf5 itself spin
            )
        ).run()
    elapsed = time.monotonic() - t0
    assert stats.dandisets_failed == 0
    with Index(tmp_path / "index") as idx:
        rows = idx.sql("SELECT asset_id, error, n_objects FROM nwb_files").rows()
    assert {r["asset_id"] for r in rows} == set(by_asset)  # a row for every file
    summarised = sum(1 for r in rows if r["error"] is None)
    failed = [r for r in rows if r["error"]]
    assert summarised and failed  # some damage is harmless, some is not
    stuck = [r for r in failed if "longer than 10 s" in r["error"]]
    # every file ended: the ones libhdf5 spins on were given up after the limit
    assert elapsed < 30 + 10 * len(stuck) + 0.5 * len(rows)
    print(
        f"\ncorrupted/crafted sweep: {len(rows)} files, {summarised} summarised, "
        f"{len(failed)} error rows ({len(stuck)} given up after 10 s), {elapsed:.0f} s "
        f"({SHARED_NWB})"
    )


def test_a_damaged_manifest_is_named_and_read_around(index_dir, tmp_path, server):
    import json
    import shutil

    from click.testing import CliRunner

    from dandindex.cli import cli

    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    good = json.loads((copy / "manifest.json").read_text())
    want = CliRunner().invoke(cli, ["tables", "--index", str(copy), "--format", "json"]).output
    for damage in (b'{"snapshot": "snapsh', b"", b'{"snapshot": "snapshots/gone"}', b"[1, 2]"):
        (copy / "manifest.json").write_bytes(damage)
        r = CliRunner().invoke(cli, ["tables", "--index", str(copy), "--format", "json"])
        assert r.exit_code == 0 and "Traceback" not in r.output
        assert f"{copy / 'manifest.json'} is damaged" in r.stderr
        assert good["snapshot"] in r.stderr  # the snapshot it reads instead
        assert r.stdout == want
    # no complete snapshot left either: a sentence that says what to do
    shutil.rmtree(copy / good["snapshot"])
    r = CliRunner().invoke(cli, ["tables", "--index", str(copy)])
    assert r.exit_code == 1 and "Crawl again: dandindex crawl --index" in r.output
    # a crawl writes a good manifest again
    Crawler(CrawlOptions(api_url=server.api_url, index_dir=str(copy))).run()
    assert Index(copy).notes == []
