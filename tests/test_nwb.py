"""NWB object summaries: compared with pynwb, over HTTP, on real files, and inside a crawl."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.crawl import Crawler, CrawlOptions
from dandindex.nwb.summary import summarize
from dandindex.remote.rangefile import RangeFile
from dandindex.store import IndexStore
from dandindex.testing.archive import ArchiveServer, serve_files
from dandindex.testing.generate import NWBAttachment, attachments_from, generate_archive
from dandindex.testing.nwbfiles import N_ELECTRODES

from conftest import SHARED_NWB, need_shared_nwb
from helpers import asset_dict, media_assets


def _manifest() -> list[dict]:
    path = SHARED_NWB / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else []


SHARED_FILES = [e for e in _manifest() if e.get("format") == "HDF5"]


@pytest.fixture(scope="module")
def blob_server(nwb_files, tmp_path_factory):
    srv, urls = serve_files(list(nwb_files.values()), tmp_path_factory.mktemp("blobs"))
    with srv:
        yield srv, urls


@pytest.mark.parametrize("modality", ["ecephys", "ophys", "icephys", "behavior"])
def test_summary_equals_what_pynwb_reports(nwb_files, modality):
    from pynwb import NWBHDF5IO

    path = nwb_files[modality]
    s = summarize(path)
    assert s["file"].get("error") is None
    objects = {o["path"]: o for o in s["objects"]}
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        want_types = Counter(type(o).__name__ for o in nwb.objects.values())
        assert Counter(o["neurodata_type"] for o in s["objects"]) == want_types
        assert s["file"]["n_objects"] == len(nwb.objects)
        assert s["file"]["identifier"] == nwb.identifier
        assert s["file"]["session_description"] == nwb.session_description
        assert s["file"]["subject_id"] == nwb.subject.subject_id
        assert s["file"]["experimenters"] == list(nwb.experimenter)
        for container in nwb.objects.values():
            data = getattr(container, "data", None)
            if hasattr(container, "rate") and data is not None and hasattr(data, "name"):
                row = objects[data.parent.name]
                assert row["shape"] == list(data.shape)
                assert row["rate"] == container.rate
                assert row["unit"] == container.unit
                assert "TimeSeries" in [row["neurodata_type"], *row["base_types"]]
        if nwb.electrodes is not None:
            want = Counter(nwb.electrodes["location"][:])
            got = Counter(
                {
                    loc["location"]: loc["count"]
                    for loc in s["locations"]
                    if loc["source"] == "electrodes"
                }
            )
            assert got == want
            assert s["file"]["n_electrodes"] == len(nwb.electrodes)
        if nwb.units is not None:
            assert s["file"]["n_units"] == len(nwb.units)
        for plane in nwb.imaging_planes.values():
            assert {"source": "imaging_plane", "location": plane.location} in [
                {"source": loc["source"], "location": loc["location"]} for loc in s["locations"]
            ]
        if modality == "ophys":
            ps = nwb.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
            assert s["file"]["n_rois"] == len(ps)
        if modality == "icephys":
            assert any(
                loc["source"] == "intracellular_electrode" and loc["location"] == "MOp"
                for loc in s["locations"]
            )
            vc = objects["/acquisition/voltage_clamp"]
            assert vc["base_types"][:2] == ["PatchClampSeries", "TimeSeries"]


@pytest.mark.parametrize("modality", ["ecephys", "ophys"])
def test_streamed_summary_equals_local_and_reads_little(blob_server, nwb_files, modality):
    srv, urls = blob_server
    path = nwb_files[modality]
    local = summarize(path)
    srv.counters.reset()
    remote = summarize(urls[path])
    assert remote["objects"] == local["objects"]
    assert remote["locations"] == local["locations"]
    f = remote["file"]
    assert f["bytes_read"] == srv.counters.bytes["blob"]
    assert f["requests"] == srv.counters.requests["blob"]
    from dandindex.nwb.lowerbound import lower_bound

    assert f["bytes_read"] <= 2 * lower_bound(path)
    assert f["metadata_ranges"] and all(n > 0 for _, n in f["metadata_ranges"])
    # the recorded ranges are enough to walk the file again with no further request
    rf = RangeFile(urls[path], first_read=0, size=path.stat().st_size)
    rf.prefetch([(a, n) for a, n in f["metadata_ranges"]])
    before = rf.stats.requests
    from dandindex.nwb.walk import summarize_h5

    again = summarize_h5(rf, rangefile=rf)
    assert rf.stats.requests == before
    assert again.objects == local["objects"]
    rf.close()


@pytest.mark.parametrize("entry", SHARED_FILES, ids=[e["file"] for e in SHARED_FILES])
def test_every_shared_file_gets_a_summary_matching_its_facts(entry):
    root = need_shared_nwb()
    s = summarize(root / entry["file"])
    assert s["file"].get("error") is None, s["file"].get("error")
    got = Counter(f"{o['namespace']}:{o['neurodata_type']}" for o in s["objects"])
    assert got == Counter(entry["h5_neurodata_types"])
    assert len(s["objects"]) == entry["h5_typed_objects"]
    assert s["file"]["nwb_version"] == entry["nwb_version"]
    assert not any(o["path"].startswith("/specifications") for o in s["objects"])


def test_shared_files_over_http_match_local(tmp_path):
    root = need_shared_nwb()
    paths = [root / e["file"] for e in SHARED_FILES]
    srv, urls = serve_files(paths, tmp_path)
    with srv:
        from dandindex.nwb.lowerbound import lower_bound

        for p in paths:
            remote, local = summarize(urls[p]), summarize(p)
            assert remote["objects"] == local["objects"], p
            assert remote["file"]["bytes_read"] <= p.stat().st_size, p
            assert remote["file"]["bytes_read"] <= 2 * lower_bound(p), p


def test_shared_zarr_folder_is_summarised():
    root = need_shared_nwb()
    s = summarize(root / "hdmf-zarr" / "ecephys_tutorial.nwb.zarr")
    types = {o["neurodata_type"] for o in s["objects"]}
    assert {"NWBFile", "ElectricalSeries", "ElectrodeGroup"} <= types
    assert s["file"]["nwb_version"] == "2.5.0"


def test_bad_files_give_clear_errors(tmp_path, nwb_files):
    truncated = tmp_path / "truncated.nwb"
    data = nwb_files["ecephys"].read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    bogus = tmp_path / "bogus.nwb"
    bogus.write_text("this is a CSV file, not HDF5\n1,2,3\n")
    assert "not an HDF5 file" in summarize(bogus)["file"]["error"]
    err = summarize(truncated)["file"]["error"]
    assert err and ("truncated" in err or "HDF5" in err)
    missing = summarize("http://127.0.0.1:9/nothing.nwb")
    assert missing["transient"] and "could not read" in missing["file"]["error"]


def test_summarize_command(nwb_files):
    r = CliRunner().invoke(cli, ["summarize", str(nwb_files["ecephys"]), "--format", "json"])
    assert r.exit_code == 0
    body = json.loads(r.output)
    assert body["file"]["n_electrodes"] == N_ELECTRODES
    tree = CliRunner().invoke(cli, ["summarize", str(nwb_files["ophys"]), "--format", "tree"])
    assert "PlaneSegmentation" in tree.output and "location [imaging_plane] 'VISp'" in tree.output


# ----------------------------------------------------------------------------- inside a crawl


@pytest.fixture
def nwb_archive(tmp_path, nwb_files):
    """Real files (generated and shared), a truncated one, a bogus one, blobless assets, Zarr."""
    truncated = tmp_path / "files" / "truncated.nwb"
    truncated.parent.mkdir()
    data = nwb_files["ophys"].read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    bogus = tmp_path / "files" / "bogus.nwb"
    bogus.write_bytes(b"GIF89a not an hdf5 file at all" * 10)
    extra = [
        NWBAttachment(path=truncated, modality="ecephys", subject_id="trunc", session_id="t1"),
        NWBAttachment(path=bogus, modality="ecephys", subject_id="bogus", session_id="b1"),
    ]
    shared = []
    if SHARED_FILES and (SHARED_NWB / SHARED_FILES[0]["file"]).exists():
        for i, e in enumerate(SHARED_FILES):
            shared.append(
                NWBAttachment(
                    path=SHARED_NWB / e["file"],
                    modality="behavior",
                    subject_id=f"s{i}",
                    session_id=f"x{i}",
                )
            )
    gen = generate_archive(
        tmp_path / "archive",
        n_dandisets=9,
        n_assets=200,
        seed=5,
        nwb_files=attachments_from(nwb_files) + extra + shared,
        embargoed=False,
    )
    return gen, truncated, bogus, shared


def _table(index: Path, name: str) -> list[dict]:
    return pq.read_table(str(IndexStore(index).table_path(name))).to_pylist()


def test_crawl_with_nwb_records_summaries_and_errors_and_never_rereads(nwb_archive, tmp_path):
    gen, truncated, bogus, shared = nwb_archive
    index = tmp_path / "idx"
    with ArchiveServer(gen.root) as srv:
        srv.faults.add(kind="status", status=503, path="/s3/blobs/", count=3, every=2)
        srv.faults.add(kind="reset", path="/s3/blobs/", count=2, every=3)
        stats = Crawler(
            CrawlOptions(api_url=srv.api_url, index_dir=str(index), nwb=True, nwb_workers=3)
        ).run()
        assert stats.dandisets_failed == 0
        files = {r["asset_id"]: r for r in _table(index, "nwb_files")}
        by_path = {a.path: aid for aid, a in gen.nwb_assets.items()}
        for aid, att in gen.nwb_assets.items():
            row = files[aid]
            if att.path == truncated:
                assert row["error"] and ("truncated" in row["error"] or "HDF5" in row["error"])
            elif att.path == bogus:
                assert "not an HDF5 file" in row["error"]
            else:
                assert row["error"] is None, (str(att.path), row["error"])
                assert row["n_objects"] == summarize(att.path)["file"]["n_objects"]
                assert row["bytes_read"] <= att.path.stat().st_size
        blobless = [r for r in files.values() if r["asset_id"] not in gen.nwb_assets]
        assert blobless and all("404" in r["error"] for r in blobless)
        objects = _table(index, "nwb_objects")
        eco = by_path[[p for p in by_path if p.name == "ecephys.nwb"][0]]
        assert {o["neurodata_type"] for o in objects if o["asset_id"] == eco} >= {
            "ElectricalSeries",
            "Units",
            "NWBFile",
        }
        locations = [
            loc
            for loc in _table(index, "nwb_locations")
            if loc["asset_id"] == eco and loc["source"] == "electrodes"
        ]
        assert sum(loc["count"] for loc in locations) == N_ELECTRODES
        if shared:
            shared_ids = [aid for aid, a in gen.nwb_assets.items() if a in shared]
            assert len(shared_ids) == len(SHARED_FILES)
            assert all(files[aid]["error"] is None for aid in shared_ids)

        # unchanged blobs are not read again; the 404s (transient) are retried
        srv.faults.clear()
        srv.counters.reset()
        again = Crawler(CrawlOptions(api_url=srv.api_url, index_dir=str(index), nwb=True)).run()
        assert again.nwb_total == len(blobless)
        media = media_assets(gen.root)  # not on the server either: tried again too
        assert again.files_missing == len(media["blob"]) + len(media["zarr"]) > 0, media
        assert srv.counters.requests["blob"] == len(blobless) + len(media["blob"])
        assert srv.counters.statuses.get(206, 0) == 0
        # without --nwb the cached summaries stay in the index, with no request at all
        srv.counters.reset()
        Crawler(CrawlOptions(api_url=srv.api_url, index_dir=str(index))).run()
        assert srv.counters.requests.get("blob", 0) == 0
        kept = {r["asset_id"] for r in _table(index, "nwb_files") if r["error"] is None}
        assert kept == {aid for aid, r in files.items() if r["error"] is None}


def test_crawl_summarises_nwb_zarr_through_the_api(tmp_path):
    root = need_shared_nwb()
    gen = generate_archive(
        tmp_path / "archive", n_dandisets=7, n_assets=30, seed=9, embargoed=False, empty=False
    )
    ds = gen.dandisets[0]
    zarr_id = "0f0f0f0f-1111-4222-8333-444455556666"
    (gen.root / "zarr").mkdir()
    os.symlink(root / "hdmf-zarr" / "ecephys_tutorial.nwb.zarr", gen.root / "zarr" / zarr_id)
    line = json.loads((gen.root / "dandisets" / ds / "assets.jsonl").read_text().splitlines()[0])
    line.pop("blob", None)
    line.update(
        asset_id="0f0f0f0f-aaaa-4bbb-8ccc-ddddeeeeffff",
        zarr=zarr_id,
        path="sub-z/sub-z_ecephys.nwb.zarr",
    )
    line["metadata"] = dict(
        line["metadata"],
        encodingFormat="application/x-zarr",
        path=line["path"],
        digest={"dandi:dandi-zarr-checksum": "0123456789abcdef0123456789abcdef-190--191418"},
    )
    with open(gen.root / "dandisets" / ds / "assets.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")
    with ArchiveServer(gen.root) as srv:
        Crawler(
            CrawlOptions(
                api_url=srv.api_url, index_dir=str(tmp_path / "idx"), nwb=True, dandisets=[ds]
            )
        ).run()
    row = next(
        r for r in _table(tmp_path / "idx", "nwb_files") if r["asset_id"] == line["asset_id"]
    )
    assert row["error"] is None and row["n_objects"] > 10
    assert "ElectricalSeries" in row["neurodata_types"]


def test_nwb_max_size_skips_big_files(nwb_archive, tmp_path):
    gen, *_ = nwb_archive
    small = {aid for aid, a in gen.nwb_assets.items() if a.path.stat().st_size <= 1000}
    with ArchiveServer(gen.root) as srv:
        Crawler(
            CrawlOptions(
                api_url=srv.api_url, index_dir=str(tmp_path / "i"), nwb=True, nwb_max_size=1000
            )
        ).run()
        media = media_assets(gen.root)["blob"]  # headers only: --nwb-max-size is for NWB
        assert srv.counters.requests.get("blob", 0) == len(small) + len(media)
    rows = _table(tmp_path / "i", "nwb_files")
    big = [r for r in rows if r["asset_id"] not in small and r["size"] and r["size"] > 1000]
    assert big and all("nwb-max-size" in r["error"] for r in big)


def test_worker_crash_costs_one_file(tmp_path, nwb_files):
    """A worker process that dies is replaced; only its file gets an error row."""
    import threading
    import time

    from dandindex.nwb.pool import WorkerPool

    srv, urls = serve_files([nwb_files["ophys"]], tmp_path)
    srv.faults.latency = 2.0
    pool = WorkerPool(1, None)
    with srv:
        tasks = {
            "slow": {
                "asset": asset_dict(urls[nwb_files["ophys"]]),
                "api_url": srv.api_url,
                "timeout": 30,
            },
            "fast": {
                "asset": asset_dict(str(nwb_files["behavior"])),
                "api_url": srv.api_url,
                "timeout": 5,
            },
        }

        def kill_first_worker() -> None:
            deadline = time.monotonic() + 20
            while not pool._procs and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            pool._procs[0].kill()

        killer = threading.Thread(target=kill_first_worker)
        killer.start()
        try:
            results = dict(pool.map(tasks))
        finally:
            killer.join()
            pool.close()
    # killed is not a property of the file: the next crawl reads it again
    assert "ended" in results["slow"]["file"]["error"] and results["slow"]["transient"]
    assert results["fast"]["file"].get("error") is None
    assert (
        results["fast"]["file"]["n_objects"]
        == summarize(nwb_files["behavior"])["file"]["n_objects"]
    )


def test_no_file_of_shared_is_copied_into_the_project():
    """No tracked file is byte-identical to a file of ../shared (tests use it in place)."""
    import hashlib
    import subprocess

    root = need_shared_nwb().parent
    project = Path(__file__).resolve().parents[1]
    listed = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: cannot list the project's files")

    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

    shared = {
        digest(p)
        for pattern in ("*.nwb", "*.jsonl", "dandiset.json")
        for p in root.rglob(pattern)
        if p.is_file()
    }
    ours = {
        name: digest(project / name)
        for name in listed.stdout.split()
        if (project / name).is_file() and not (project / name).is_symlink()
    }
    assert not {n for n, d in ours.items() if d in shared}


@pytest.mark.parametrize("modality", ["ecephys", "ophys"])
def test_prefetch_fetches_what_the_walk_reads_in_few_round_trips(blob_server, nwb_files, modality):
    from dandindex.nwb.walk import prefetch_for_walk, summarize_h5

    srv, urls = blob_server
    path = nwb_files[modality]
    local = summarize(path)
    # the plain walk: h5py asks for one structure at a time
    plain = RangeFile(urls[path])
    assert summarize_h5(plain).objects == local["objects"]
    plain.close()
    rf = RangeFile(urls[path])
    stats = prefetch_for_walk(rf)
    assert stats.unparsed == 0 and stats.structures > len(local["objects"])
    assert 1 <= stats.rounds < plain.stats.requests - 1
    fetched = rf.stats.requests
    # the walk finds everything in the cache: not one more request
    assert summarize_h5(rf).objects == local["objects"]
    assert rf.stats.requests == fetched
    rf.close()


def test_prefetch_of_everything_covers_a_full_h5py_visit(blob_server, nwb_files):
    import h5py

    from dandindex.nwb.prefetch import prefetch_metadata

    srv, urls = blob_server
    path = nwb_files["icephys"]
    rf = RangeFile(urls[path])
    prefetch_metadata(rf)  # every object, every attribute value
    fetched = rf.stats.requests
    seen: list[tuple[str, int]] = []
    with h5py.File(rf, "r") as f:

        def visit(name: str, obj) -> None:
            seen.append((name, len([obj.attrs[k] for k in obj.attrs])))

        f.visititems(visit)
    assert rf.stats.requests == fetched
    with h5py.File(path, "r") as f:
        expected: list[tuple[str, int]] = []
        f.visititems(lambda name, obj: expected.append((name, len(obj.attrs))))
    assert seen == expected and len(seen) > 20
    rf.close()


def test_prefetch_gives_up_quietly_on_files_it_cannot_parse(tmp_path, nwb_files):
    from dandindex.nwb.prefetch import prefetch_metadata

    data = nwb_files["ecephys"].read_bytes()
    bogus = tmp_path / "bogus.nwb"
    bogus.write_bytes(b"this is not HDF5 at all " * 4000)
    truncated = tmp_path / "truncated.nwb"
    truncated.write_bytes(data[: len(data) // 3])
    garbled = tmp_path / "garbled.nwb"
    garbled.write_bytes(data[:2048] + bytes(len(data) - 2048))
    srv, urls = serve_files([bogus, truncated, garbled], tmp_path / "srv")
    with srv:
        for p in (bogus, truncated, garbled):
            rf = RangeFile(urls[p])
            stats = prefetch_metadata(rf)
            assert stats.rounds <= 2, p
            assert rf.stats.bytes <= p.stat().st_size
            rf.close()
        rf = RangeFile(urls[bogus])
        assert prefetch_metadata(rf).structures == 1  # the superblock check, nothing more
        rf.close()


def test_prefetch_follows_dense_link_storage(tmp_path):
    """Groups of more than 8 members written with libver="latest" (as AqNWB writes) keep
    their links in a fractal heap indexed by a v2 B-tree: the prefetch parses those too."""
    import h5py
    import numpy as np

    from dandindex.nwb.prefetch import prefetch_metadata

    path = tmp_path / "latest.h5"
    with h5py.File(path, "w", libver="latest") as f:
        for g in range(12):
            group = f.create_group(f"group{g:02d}")
            group.attrs["neurodata_type"] = "Thing"
            for d in range(10):
                ds = group.create_dataset(f"data{d}", data=np.arange(2000) + d)
                ds.attrs["unit"] = "volts"
            group.create_dataset("big", data=np.zeros(200_000))
    srv, urls = serve_files([path], tmp_path / "srv")
    with srv:
        rf = RangeFile(urls[path], size=path.stat().st_size)
        stats = prefetch_metadata(rf)
        assert stats.unparsed == 0
        fetched = rf.stats.requests
        seen: list[str] = []

        def visit(name: str, obj) -> None:
            seen.append(name)
            [obj.attrs[k] for k in obj.attrs]

        with h5py.File(rf, "r") as f:
            f.visititems(visit)
        assert len(seen) == 12 * 12
        assert rf.stats.requests == fetched  # every link found by the prefetch
        assert stats.rounds <= 6
        rf.close()


def test_known_size_reads_a_small_file_in_one_request(tmp_path):
    """The crawl knows each asset's size: a small file is then read whole by the first
    request, instead of a first read that learns the size and a second for the rest."""
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile

    path = tmp_path / "tiny.nwb"
    nwb = NWBFile("tiny", "tiny-1", datetime(2024, 1, 2, tzinfo=timezone.utc), lab="lab")
    with NWBHDF5IO(path, "w") as io:
        io.write(nwb, cache_spec=False)
    size = path.stat().st_size
    assert size <= 48 * 1024
    local = summarize(path)
    srv, urls = serve_files([path], tmp_path / "srv")
    with srv:
        unknown = summarize(urls[path])
        known = summarize(urls[path], size=size)
    assert known["objects"] == unknown["objects"] == local["objects"]
    assert known["file"]["lab"] == "lab"
    assert (known["file"]["requests"], unknown["file"]["requests"]) == (1, 2)
    assert known["file"]["bytes_read"] == size


def test_prefetch_takes_a_dense_metadata_run_far_from_the_start_at_once(tmp_path, monkeypatch):
    """pynwb writing data before metadata leaves the metadata in a dense run near the end of
    the file: the prefetch fetches such a new region whole instead of growing into it one
    round trip at a time, and still reads less than twice the lower bound."""
    from dandindex.nwb import prefetch
    from dandindex.nwb.lowerbound import lower_bound
    from dandindex.nwb.walk import prefetch_for_walk, summarize_h5
    from dandindex.testing.nwbfiles import write_ecephys

    path = tmp_path / "ecephys_30MB.nwb"
    write_ecephys(path, scale=300)
    size = path.stat().st_size
    srv, urls = serve_files([path], tmp_path / "srv")
    results = {}
    default = prefetch.REGION_ALLOWANCE
    with srv:
        for allowance in (default, 0):
            monkeypatch.setattr(prefetch, "REGION_ALLOWANCE", allowance)
            rf = RangeFile(urls[path], size=size)
            rounds = prefetch_for_walk(rf).rounds
            fetched = rf.stats.requests
            summarize_h5(rf)
            assert rf.stats.requests == fetched  # the walk found everything
            results[allowance] = (rounds, rf.stats.bytes)
            rf.close()
    with_regions, without = results[default], results[0]
    assert with_regions[0] < without[0]
    assert with_regions[1] <= 2 * lower_bound(path)


def test_small_file_opens_with_both_ends_in_one_round_trip(tmp_path):
    """A small file (size known) opens with its first 24 KiB and its last 8 KiB at once:
    libhdf5 moves metadata that grew after it was written to the end of the file."""
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile

    from dandindex.remote.rangefile import SMALL_FILE, SMALL_TAIL

    path = tmp_path / "small.nwb"
    nwb = NWBFile("small", "small-1", datetime(2024, 1, 2, tzinfo=timezone.utc), lab="lab")
    with NWBHDF5IO(path, "w") as io:
        io.write(nwb)  # with the cached specifications: ~150 kB
    size = path.stat().st_size
    assert 48 * 1024 < size < SMALL_FILE
    local = summarize(path)
    srv, urls = serve_files([path], tmp_path / "srv")
    with srv:
        srv.faults.latency = 0.05
        rf = RangeFile(urls[path], size=size)
        assert rf.stats.requests == 2
        assert srv.counters.round_trips("blob", 0.05) == 1
        last = (size - 1) // rf.block_size
        assert all(rf.has_block(b) for b in range(last + 1 - SMALL_TAIL // rf.block_size, last + 1))
        rf.close()
        srv.faults.latency = 0.0
        # a wrong size from the metadata costs nothing but the guess
        for given in (size + 50_000, size - 30_000):
            summary = summarize(urls[path], size=given)
            assert summary["objects"] == local["objects"] and not summary["file"].get("error")


def test_summarize_of_a_missing_path_is_one_sentence(tmp_path):
    missing = tmp_path / "nope.nwb"
    r = CliRunner().invoke(cli, ["summarize", str(missing)])
    assert r.exit_code == 2
    assert f"No such file: {missing}" in r.output
    assert "HDF5" not in r.output and "{" not in r.output
