"""Publish an index once, query it in place or pull it anywhere: a real S3 API (moto's
server on loopback) and a real static web server with range requests, no mocks."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from dandindex import queries
from dandindex.cli import cli
from dandindex.errors import DandindexError
from dandindex.index import Index
from dandindex.published import publish, pull
from dandindex.testing.static import StaticServer

BUCKET = "dandindex-test"
SEARCHES = [
    {"modality": "ecephys"},
    {"species": "mouse", "modality": "ophys", "area": "VIS"},
    {"type": "Units", "min_units": 1},
    {"area": "CA1"},
    {"level": "dandiset", "modality": "ecephys"},
    {"size_min": 1000},
]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A real S3 HTTP API on loopback (moto's server), with a bucket; the AWS environment
    points at it for the module's tests."""
    moto = pytest.importorskip("moto.server", reason="moto[server] comes with the test extras")
    import boto3

    srv = moto.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
    }
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]).create_bucket(Bucket=BUCKET)
    yield env["AWS_ENDPOINT_URL"]
    mp.undo()
    srv.stop()


@pytest.fixture(scope="module")
def published(index_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("published")
    report = publish(index_dir, str(folder))
    assert report.uploaded and not report.kept
    return folder


def rows(result) -> list[str]:
    """A result's rows as sorted JSON (ties may come in any order)."""
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in result.rows())


def same_answers(local: Index, remote: Index) -> None:
    for name in queries.load():
        want = rows(queries.run(local, name, {"since": "2020-01-01"}))
        assert rows(queries.run(remote, name, {"since": "2020-01-01"})) == want, name
    for kw in SEARCHES:
        assert rows(remote.search(**kw)) == rows(local.search(**kw)), kw
    assert remote.info()["row_counts"] == local.info()["row_counts"]


def test_a_published_folder_over_http_answers_like_the_local_index(idx, published):
    with StaticServer(published) as web, Index(web.url) as remote:
        same_answers(idx, remote)
    with StaticServer(published) as web, Index(web.url) as remote:
        web.reset()
        hits = remote.search(area="CA1", limit=5)
        assert len(hits) and web.requests["GET"] > 0  # read in place, over HTTP
        h = hits[0]
        assert h.summary()["objects"]  # handles from remote results lead on


@pytest.fixture
def plain_http_server(published):
    """Python's own `python -m http.server` over the published folder: it ignores Range."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=published,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/manifest.json", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        req = urllib.request.Request(url + "/manifest.json", headers={"Range": "bytes=0-0"})
        with urllib.request.urlopen(req) as r:
            assert r.status == 200  # the premise: the whole file, not the range
        yield url
    finally:
        proc.terminate()
        proc.wait()


def test_a_server_that_ignores_range_is_read_whole_never_wrong(idx, plain_http_server):
    from dandindex.published import serves_ranges

    assert not serves_ranges(plain_http_server + "/manifest.json")
    with Index(plain_http_server) as remote:
        assert any("ignores HTTP Range" in n for n in remote.notes)
        same_answers(idx, remote)
        a = remote.search(area="CA1", limit=1)[0]
        assert a.summary()["objects"] == idx.asset(a.asset_id).summary()["objects"]


def test_a_big_index_on_a_server_that_ignores_range_says_to_pull(plain_http_server, monkeypatch):
    from dandindex import published

    monkeypatch.setattr(published, "WHOLE_FILES_LIMIT", 1000)
    with pytest.raises(DandindexError, match=r"ignores HTTP Range.*dandindex pull"):
        Index(plain_http_server)
    r = CliRunner().invoke(cli, ["search", "--index", plain_http_server, "--species", "mouse"])
    assert r.exit_code != 0 and "dandindex pull" in r.output and "Traceback" not in r.output


def test_publish_to_s3_then_query_in_place(idx, index_dir, s3):
    report = publish(index_dir, f"s3://{BUCKET}/idx")
    assert report.uploaded and not report.kept
    again = publish(index_dir, f"s3://{BUCKET}/idx")
    assert again.uploaded == [] and len(again.kept) == len(report.uploaded)
    with Index(f"s3://{BUCKET}/idx") as remote:
        same_answers(idx, remote)
        # user SQL stays in the sandbox on a remote index too
        from dandindex.errors import QueryError

        with pytest.raises(QueryError):
            remote.sql("SELECT * FROM read_csv('/etc/passwd')")


def test_pull_mirrors_then_costs_one_request(idx, published, tmp_path):
    with StaticServer(published) as web:
        report = pull(web.url, tmp_path / "mirror")
        assert report.fetched and not report.kept
        wanted = json.loads((published / "manifest.json").read_text())["files"]
        with Index(tmp_path / "mirror") as mirror:
            for name, entry in wanted.items():
                assert digest(mirror.files.local / f"{name}.parquet") == entry["sha256"]
            same_answers(idx, mirror)
        web.reset()
        again = pull(web.url, tmp_path / "mirror")
        assert again.unchanged and sum(web.requests.values()) == 1
    r = CliRunner().invoke(cli, ["info", "--index", str(tmp_path / "mirror")])
    assert r.exit_code == 0 and f"{idx.info()['row_counts']['assets']:,} assets" in r.output
    assert f"pulled from {web.url}" in r.output


def test_a_one_dandiset_change_uploads_only_what_changed(index_dir, tmp_path, s3):
    """Re-publishing after a change uploads the files whose content changed, not the rest."""
    dest = f"s3://{BUCKET}/change"
    first = publish(index_dir, dest)
    second = publish(renamed_copy(index_dir, tmp_path / "idx", " (renamed)"), dest)
    assert second.uploaded == ["dandisets"]
    assert second.bytes_uploaded < first.bytes_uploaded / 5
    with Index(dest) as remote:
        got = remote.sql("SELECT name FROM dandisets WHERE name LIKE '%(renamed)'").rows()
        assert len(got) == len(remote.sql("SELECT 1 FROM dandisets").rows())


def renamed_copy(index_dir: Path, target: Path, suffix: str) -> Path:
    """A copy of the index whose dandisets table differs (so publishing it uploads a file)."""
    import pyarrow.parquet as pq

    shutil.copytree(index_dir, target)
    snap = target / json.loads((target / "manifest.json").read_text())["snapshot"]
    table = pq.read_table(snap / "dandisets.parquet")
    names = [n + suffix for n in table.column("name").to_pylist()]
    table = table.set_column(table.column_names.index("name"), "name", [names])
    pq.write_table(table, snap / "dandisets.parquet", compression="zstd")
    return target


def test_a_reader_polling_during_publishes_never_errors(index_dir, tmp_path):
    dest = tmp_path / "live"
    variants = [renamed_copy(index_dir, tmp_path / f"v{i}", f" v{i}") for i in range(2)]
    publish(variants[0], str(dest))
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                with Index(dest) as i:
                    i.sql("SELECT count(*) FROM assets").rows()
                    i.search(modality="ecephys", limit=3)
            except BaseException as e:  # noqa: BLE001 - any error fails the test
                errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(6):
            publish(variants[i % 2], str(dest))
    finally:
        stop.set()
        t.join(timeout=60)
    assert errors == []


def test_publish_and_pull_commands(index_dir, tmp_path):
    dest = tmp_path / "pub"
    r = CliRunner().invoke(cli, ["publish", str(dest), "--index", str(index_dir)])
    assert r.exit_code == 0 and "Published" in r.output and "files uploaded" in r.output
    r = CliRunner().invoke(cli, ["pull", str(dest), "--index", str(tmp_path / "mirror")])
    assert r.exit_code == 0 and "Pulled" in r.output, r.output
    r = CliRunner().invoke(cli, ["pull", str(dest), "--index", str(index_dir)])
    assert r.exit_code == 1 and "holds an index made by a crawl" in r.output
    # publishing over a crawled index would replace its manifest: refused, nothing written
    before = (index_dir / "manifest.json").read_bytes()
    r = CliRunner().invoke(cli, ["publish", str(index_dir), "--index", str(index_dir)])
    assert r.exit_code == 1 and "holds an index made by a crawl" in r.output
    assert (index_dir / "manifest.json").read_bytes() == before
    assert not (index_dir / "objects").exists()
    # a damaged published manifest is a sentence, for a reader and for pull
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"format": "dandindex-publ')
    for args in (["pull", str(broken), "--index", str(tmp_path / "m2")],
                 ["info", "--index", f"file://{broken}"]):  # fmt: skip
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    r = CliRunner().invoke(cli, ["crawl", "--api-url", "http://x/api", "--index", "s3://b/p"])
    assert r.exit_code == 2 and "crawl writes an index folder on this machine" in r.output
    r = CliRunner().invoke(cli, ["search", "--modality", "ecephys", "--index", str(dest),
                                 "--format", "json"])  # fmt: skip
    assert r.exit_code == 0 and json.loads(r.output)
    r = CliRunner().invoke(cli, ["info", "--index", str(tmp_path / "nothing-here")])
    assert r.exit_code == 1 and "No index at" in r.output
