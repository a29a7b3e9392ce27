"""HTTP reading in one place: the key stays on the API's host, embargoed files open with it,
search hits download verified, and a handle leads to the right version."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import requests

from dandindex.crawl import Crawler, CrawlOptions
from dandindex.errors import DandindexError, RemoteReadError
from dandindex.index import Index
from dandindex.remote.rangefile import RangeFile
from dandindex.remote.session import get, make_session
from dandindex.testing.archive import ArchiveServer

from conftest import API_KEY
from helpers import modality_assets


@pytest.fixture(scope="module")
def embargo_archive(tmp_path_factory, nwb_files):
    """A small archive whose ophys dandiset (with its real NWB file) is embargoed."""
    from dandindex.testing.generate import attachments_from, generate_archive

    root = tmp_path_factory.mktemp("embargo-archive")
    gen = generate_archive(
        root, n_dandisets=9, n_assets=60, seed=3, nwb_files=attachments_from(nwb_files)
    )
    ophys_id = modality_assets(gen)["ophys"]
    folder = next(
        d for d in (root / "dandisets").iterdir() if ophys_id in (d / "assets.jsonl").read_text()
    )
    (folder / "info.json").write_text(json.dumps({"embargo_status": "EMBARGOED"}))
    return gen, folder.name, ophys_id


@pytest.fixture(scope="module")
def embargo_server(embargo_archive):
    gen, _, _ = embargo_archive
    # blobs under another host name, as S3 is another host than the API
    with ArchiveServer(gen.root, api_key=API_KEY, blob_host="localhost") as srv:
        yield srv


@pytest.fixture(scope="module")
def embargo_index(embargo_server, tmp_path_factory):
    path = tmp_path_factory.mktemp("embargo-index")
    embargo_server.counters.reset()
    Crawler(
        CrawlOptions(
            api_url=embargo_server.api_url,
            index_dir=str(path),
            include_embargoed=True,
            api_key=API_KEY,
            nwb=True,
            nwb_workers=2,
        )
    ).run()
    return path


def test_the_key_never_reaches_the_blob_host(embargo_server, embargo_index):
    counts = embargo_server.counters
    # the crawl (listing, pages, the /download/ redirects) authenticated ...
    assert counts.authorized["dandisets"] >= 1 and counts.authorized["download"] >= 1
    # ... and read every NWB blob, open and embargoed, without the key
    assert counts.requests["blob"] > 0 and counts.authorized["blob"] == 0


def test_a_range_file_sends_the_key_to_the_api_host_only(embargo_server, embargo_archive):
    gen, _, _ = embargo_archive
    open_id = modality_assets(gen)["ecephys"]
    embargo_server.counters.reset()
    rf = RangeFile(f"{embargo_server.api_url}/assets/{open_id}/download/", token=API_KEY)
    try:
        assert rf.read(8) == b"\x89HDF\r\n\x1a\n"
        assert rf.url.startswith("http://localhost:")  # reading the blob host from now on
        rf.seek(rf.size - 100)
        assert len(rf.read(100)) == 100
    finally:
        rf.close()
    assert embargo_server.counters.authorized["download"] == 1
    assert embargo_server.counters.requests["blob"] >= 2
    assert embargo_server.counters.authorized["blob"] == 0


def test_embargoed_blobs_need_the_signed_url(embargo_server, embargo_archive, embargo_index):
    _, _, ophys_id = embargo_archive
    with Index(embargo_index) as idx:
        h = idx.asset(ophys_id)
    blob_url = f"{embargo_server.blob_url}/s3/blobs/{h.blob_id[:3]}/{h.blob_id[3:6]}/{h.blob_id}"
    assert requests.get(blob_url, timeout=10).status_code == 403
    assert (
        requests.get(
            blob_url + "?X-Amz-Signature=x&X-Amz-Expires-At=9999999999", timeout=10
        ).status_code
        == 403
    )
    # through the API with the key: a signed URL that works
    r = requests.get(h.url("api"), headers={"Authorization": f"token {API_KEY}"}, timeout=10)
    assert r.status_code == 200 and r.content[:4] == b"\x89HDF"


def test_embargoed_assets_open_with_the_key(embargo_index, embargo_archive, monkeypatch, nwb_files):
    _, ds, ophys_id = embargo_archive
    with Index(embargo_index) as idx:
        hits = idx.search(dandiset=ds, modality="ophys")
        h = next(x for x in hits if x.asset_id == ophys_id)
        assert h.metadata_ranges and h.read_url  # recorded, but the bare blob URL is refused
        monkeypatch.delenv("DANDI_API_KEY", raising=False)
        with pytest.raises(RemoteReadError) as e, h.open_h5():
            pass
        assert e.value.status == 401 and e.value.transient
        monkeypatch.setenv("DANDI_API_KEY", API_KEY)
        import h5py

        with h.open_h5() as f, h5py.File(nwb_files["ophys"], "r") as local:
            shown = f["/processing/ophys/DfOverF/DfOverF/data"][:50, :3]
            assert (shown == local["/processing/ophys/DfOverF/DfOverF/data"][:50, :3]).all()
        got = h.download(embargo_index.parent / "dl" / "", progress=False)
        assert hashlib.sha256(got.read_bytes()).hexdigest() == h.sha256


def test_search_hits_carry_what_download_and_urls_need(embargo_index, embargo_archive, tmp_path):
    gen, _, _ = embargo_archive
    eco = modality_assets(gen)["ecephys"]
    with Index(embargo_index) as idx:
        h = next(x for x in idx.search(modality="ecephys") if x.asset_id == eco)
        want = hashlib.sha256(gen.nwb_assets[eco].path.read_bytes()).hexdigest()
        assert h.sha256 == want and h.blob_id and h.size == gen.nwb_assets[eco].path.stat().st_size
        assert h.url("s3").endswith(h.blob_id) and "/blobs/" in h.url("s3")
        out = h.download(tmp_path, progress=False)
        assert out.read_bytes() == gen.nwb_assets[eco].path.read_bytes()
        # a corrupt partial download is caught by the sha256 the hit carries
        bad = tmp_path / "bad"
        bad.mkdir()
        (bad / (Path(h.path).name + ".part")).write_bytes(b"X" * 100)
        with pytest.raises(DandindexError, match="sha256"):
            h.download(bad, progress=False)


def test_an_asset_is_found_in_its_published_version_first(idx, generated):
    """An asset in a published version and the draft: the published row (its own version)."""
    row = idx.sql(
        """SELECT asset_id, list(version ORDER BY version) AS versions FROM assets
           GROUP BY asset_id HAVING count(*) > 1 AND list_contains(list(version), 'draft')
           LIMIT 1"""
    ).rows()
    assert row, "the generated archive publishes versions that share assets with the draft"
    published = max(v for v in row[0]["versions"] if v != "draft")
    for _ in range(3):  # not an accident of row order
        assert idx.asset(row[0]["asset_id"]).version == published


def test_get_retries_what_may_pass_and_gives_up_with_a_transient_error(fresh_server):
    fresh_server.faults.add(kind="status", status=503, path="/api/info/", count=2)
    s = make_session(pool=2)
    slept: list[float] = []
    r = get(s, fresh_server.api_url + "/info/", sleep=slept.append)
    assert r.status_code == 200 and len(slept) == 2
    fresh_server.faults.add(kind="status", status=500, path="/api/info/", count=None)
    with pytest.raises(RemoteReadError) as e:
        get(s, fresh_server.api_url + "/info/", retries=2, sleep=slept.append)
    assert e.value.transient and "giving up after 3 tries" in str(e.value)
    fresh_server.faults.clear()
    with pytest.raises(RemoteReadError) as e:
        get(s, fresh_server.api_url + "/dandisets/999999/", sleep=slept.append)
    assert e.value.status == 404 and e.value.transient
