"""Conformance of the local archive server with the real DANDI API, through the real client."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time

import pytest
import requests
from dandi.dandiapi import RemoteAsset
from dandi.exceptions import HTTP404Error

from dandindex.testing.archive import ArchiveServer

from conftest import API_KEY
from helpers import is_embargoed, read_folder


@pytest.fixture(params=["generated", "corpus"])
def archive(request):
    """(server, folder contents) for the generated archive and the real corpus."""
    if request.param == "generated":
        gen = request.getfixturevalue("generated")
        return request.getfixturevalue("server"), read_folder(gen.root)
    corpus = request.getfixturevalue("corpus")
    return request.getfixturevalue("corpus_server"), read_folder(corpus)


def test_info_lets_the_real_client_connect(server, client_for):
    client = client_for(server)
    info = requests.get(f"{server.api_url}/info/", timeout=10).json()
    assert info["services"]["api"]["url"] == server.api_url
    assert info["cli-minimal-version"] == "0.74.0"
    assert client.dandi_instance.api == server.api_url


def test_lists_every_open_dandiset(archive, client_for):
    srv, folder = archive
    client = client_for(srv)
    listed = [d.identifier for d in client.get_dandisets()]
    expected = sorted(k for k, v in folder.items() if not is_embargoed(v["draft"]))
    assert sorted(listed) == expected
    assert len(listed) == len(set(listed))


def test_list_items_have_the_real_shape(archive):
    srv, folder = archive
    body = requests.get(f"{srv.api_url}/dandisets/", params={"page_size": 3}, timeout=10).json()
    assert set(body) == {"count", "next", "previous", "results"}
    item = body["results"][0]
    assert set(item) == {
        "identifier",
        "created",
        "modified",
        "contact_person",
        "embargo_status",
        "star_count",
        "is_starred",
        "most_recent_published_version",
        "draft_version",
    }
    assert set(item["draft_version"]) == {
        "version",
        "name",
        "asset_count",
        "size",
        "status",
        "created",
        "modified",
    }
    d = folder[item["identifier"]]
    assert item["draft_version"]["asset_count"] == len(d["assets"])
    assert item["draft_version"]["size"] == sum(a["size"] for a in d["assets"])
    assert item["draft_version"]["name"] == d["draft"]["name"]
    if d["versions"]:
        assert item["most_recent_published_version"]["version"] == max(d["versions"])
    else:
        assert item["most_recent_published_version"] is None


def test_versions_and_raw_metadata_round_trip(archive, client_for):
    srv, folder = archive
    client = client_for(srv, token=API_KEY)
    for ident, d in folder.items():
        ds = client.get_dandiset(ident, lazy=False)
        versions = [str(v) for v in ds.get_versions()]
        assert versions == sorted(d["versions"]) + ["draft"]
        assert ds.for_version("draft").get_raw_metadata() == d["draft"]
        for v, vd in d["versions"].items():
            assert ds.for_version(v).get_raw_metadata() == vd["meta"]


@pytest.mark.parametrize("page_size", [1, 7, 1000])
def test_asset_pagination_yields_every_asset_once(archive, client_for, page_size):
    srv, folder = archive
    client = client_for(srv, token=API_KEY)
    ident = max(
        folder, key=lambda k: len(folder[k]["assets"]) if len(folder[k]["assets"]) < 400 else 0
    )
    if page_size == 1:  # keep the one-per-page walk short
        ident = min(
            (k for k in folder if folder[k]["assets"]),
            key=lambda k: abs(len(folder[k]["assets"]) - 40),
        )
    expected = {a["asset_id"]: a for a in folder[ident]["assets"]}
    ds = client.get_dandiset(ident, "draft")
    got = list(
        client.paginate(
            f"{ds.version_api_path}assets/", page_size=page_size, params={"metadata": "true"}
        )
    )
    assert len(got) == len(expected)
    assert {g["asset_id"] for g in got} == set(expected)
    for g in got:
        want = expected[g["asset_id"]]
        assert g["path"] == want["path"] and g["size"] == want["size"]
        assert g.get("blob") == want.get("blob") and g.get("zarr") == want.get("zarr")
        if srv.content_urls == "stored":
            assert g["metadata"] == want["metadata"]
        asset = RemoteAsset.from_data(ds, g)
        assert asset.get_raw_metadata() is g["metadata"]  # no request: bulk metadata kept


def test_count_only_on_first_asset_page(server, generated):
    folder = read_folder(generated.root)
    ident = max(
        folder,
        key=lambda k: len(folder[k]["assets"]) if not is_embargoed(folder[k]["draft"]) else 0,
    )
    url = f"{server.api_url}/dandisets/{ident}/versions/draft/assets/"
    p1 = requests.get(url, params={"page_size": 5}, timeout=10).json()
    assert p1["count"] == len(folder[ident]["assets"])
    assert p1["previous"] is None
    p2 = requests.get(p1["next"], timeout=10).json()
    assert p2["count"] is None
    assert "page=2" in p1["next"]
    assert p2["previous"] is not None
    # dandiset lists (DandiPagination) carry count on every page
    d2 = requests.get(
        f"{server.api_url}/dandisets/", params={"page_size": 2, "page": 2}, timeout=10
    ).json()
    assert isinstance(d2["count"], int)


def test_content_url_then_ranged_reads_give_exact_bytes(server, generated, client_for):
    client = client_for(server)
    rng = random.Random(3)
    assert generated.nwb_assets, "the generated archive should carry real NWB blobs"
    for asset_id, att in generated.nwb_assets.items():
        data = att.path.read_bytes()
        asset = client.get_asset(asset_id)
        url = asset.get_content_url(regex="/download/", follow_redirects=1)
        assert url.startswith(server.url + "/s3/blobs/")
        head = client.session.head(url, timeout=10)
        assert head.headers["Accept-Ranges"] == "bytes"
        assert int(head.headers["Content-Length"]) == len(data)
        for _ in range(5):
            a = rng.randrange(len(data))
            b = min(len(data) - 1, a + rng.randrange(1, 70000))
            r = client.session.get(url, headers={"Range": f"bytes={a}-{b}"}, timeout=10)
            assert r.status_code == 206
            assert r.headers["Content-Range"] == f"bytes {a}-{b}/{len(data)}"
            assert r.content == data[a : b + 1]
        tail = client.session.get(url, headers={"Range": "bytes=-10"}, timeout=10)
        assert tail.content == data[-10:]
        bad = client.session.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=10)
        assert bad.status_code == 416
        assert bad.headers["Content-Range"] == f"bytes */{len(data)}"
        assert client.session.get(url, timeout=10).content == data


def test_download_redirects_with_302_and_zarr_is_400(server, generated):
    folder = read_folder(generated.root)
    blob = next(
        a
        for d in folder.values()
        if not is_embargoed(d["draft"])
        for a in d["assets"]
        if a.get("blob")
    )
    zarr = next(
        a
        for d in folder.values()
        if not is_embargoed(d["draft"])
        for a in d["assets"]
        if a.get("zarr")
    )
    r = requests.get(
        f"{server.api_url}/assets/{blob['asset_id']}/download/", allow_redirects=False, timeout=10
    )
    assert r.status_code == 302
    assert blob["blob"] in r.headers["Location"]
    h = requests.head(
        f"{server.api_url}/assets/{blob['asset_id']}/download/", allow_redirects=False, timeout=10
    )
    assert h.status_code == 302
    z = requests.get(
        f"{server.api_url}/assets/{zarr['asset_id']}/download/", allow_redirects=False, timeout=10
    )
    assert z.status_code == 400


def test_embargoed_needs_the_key(server, generated, client_for):
    emb = generated.embargoed
    assert emb is not None
    anon = requests.get(f"{server.api_url}/dandisets/{emb}/", timeout=10)
    assert anon.status_code == 401
    assert (
        requests.get(
            f"{server.api_url}/dandisets/", params={"embargoed": "true"}, timeout=10
        ).status_code
        == 401
    )
    wrong = requests.get(
        f"{server.api_url}/dandisets/{emb}/", headers={"Authorization": "token nope"}, timeout=10
    )
    assert wrong.status_code == 401
    client = client_for(server, token=API_KEY)
    listed = {d.identifier for d in client.get_dandisets(embargoed=True)}
    assert emb in listed
    ds = client.get_dandiset(emb, "draft")
    n = len(read_folder(generated.root)[emb]["assets"])
    assert len(list(ds.get_assets())) == n
    an_asset = next(iter(ds.get_assets()))
    assert (
        requests.get(f"{server.api_url}/assets/{an_asset.identifier}/", timeout=10).status_code
        == 401
    )


def test_bad_requests_get_the_real_status_codes(server, generated):
    api = server.api_url
    some = next(d for d in generated.dandisets if d not in (generated.embargoed, generated.empty))
    assert requests.get(f"{api}/dandisets/999999/", timeout=10).status_code == 404
    assert (
        requests.get(f"{api}/dandisets/{some}/versions/0.999999.9999/", timeout=10).status_code
        == 404
    )
    assert (
        requests.get(f"{api}/assets/00000000-0000-4000-8000-000000000000/", timeout=10).status_code
        == 404
    )
    assets = f"{api}/dandisets/{some}/versions/draft/assets/"
    assert requests.get(assets, params={"order": "size"}, timeout=10).status_code == 400
    assert requests.get(assets, params={"metadata": "maybe"}, timeout=10).status_code == 400
    assert requests.get(assets, params={"page": "0"}, timeout=10).status_code == 404
    # the asset list's lazy pager answers a page past the end with no results, not a 404
    past = requests.get(assets, params={"page": "9999"}, timeout=10)
    assert past.status_code == 200
    assert past.json()["results"] == [] and past.json()["next"] is None
    assert past.json()["count"] is None
    assert requests.get(f"{api}/dandisets/", params={"page": "9999"}, timeout=10).status_code == 404
    assert (
        requests.get(f"{api}/dandisets/", params={"search": "bogus:op"}, timeout=10).status_code
        == 400
    )
    # DRF falls back to the default page size for junk, and clamps to 1000
    junk = requests.get(f"{api}/dandisets/", params={"page_size": "abc"}, timeout=10)
    assert junk.status_code == 200
    assert len(junk.json()["results"]) == min(100, junk.json()["count"])
    # Django appends the slash with a 301
    r = requests.get(f"{api}/dandisets/{some}", allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"].endswith(f"/dandisets/{some}/")


def test_client_raises_404_for_unknown_asset(server, client_for):
    client = client_for(server)
    with pytest.raises(HTTP404Error):
        client.get("/assets/00000000-0000-4000-8000-000000000000/")


def test_asset_filters_path_glob_order_zarr(server, generated):
    folder = read_folder(generated.root)
    ident, d = next(
        (k, v)
        for k, v in folder.items()
        if any(a.get("zarr") for a in v["assets"]) and not is_embargoed(v["draft"])
    )
    url = f"{server.api_url}/dandisets/{ident}/versions/draft/assets/"
    paths = [a["path"] for a in d["assets"]]
    prefix = paths[-1].split("/")[0].upper()
    got = requests.get(url, params={"path": prefix, "page_size": 1000}, timeout=10).json()[
        "results"
    ]
    assert sorted(g["path"] for g in got) == sorted(
        p for p in paths if p.lower().startswith(prefix.lower())
    )
    exact = requests.get(url, params={"path": paths[0]}, timeout=10).json()["results"]
    assert [g["path"] for g in exact] == [paths[0]]
    glob = requests.get(url, params={"glob": "*.OME.ZARR", "page_size": 1000}, timeout=10).json()[
        "results"
    ]
    assert sorted(g["path"] for g in glob) == sorted(
        p for p in paths if p.lower().endswith(".ome.zarr")
    )
    zarr = requests.get(url, params={"zarr": "true", "page_size": 1000}, timeout=10).json()[
        "results"
    ]
    assert {g["asset_id"] for g in zarr} == {a["asset_id"] for a in d["assets"] if a.get("zarr")}
    desc = requests.get(url, params={"order": "-path", "page_size": 1000}, timeout=10).json()[
        "results"
    ]
    assert [g["path"] for g in desc] == sorted(paths, reverse=True)


def test_dandiset_filters_ordering_and_search(server, generated):
    folder = read_folder(generated.root)
    api = server.api_url
    open_ids = sorted(k for k, v in folder.items() if not is_embargoed(v["draft"]))

    def ids(**params):
        params.setdefault("page_size", 1000)
        return [
            r["identifier"]
            for r in requests.get(f"{api}/dandisets/", params=params, timeout=10).json()["results"]
        ]

    assert ids(ordering="-id") == sorted(open_ids, reverse=True)
    assert sorted(ids(draft="false")) == sorted(k for k in open_ids if folder[k]["versions"])
    assert sorted(ids(empty="false")) == sorted(
        k
        for k in open_ids
        if (
            folder[k]["versions"][max(folder[k]["versions"])]["assets"]
            if folder[k]["versions"]
            else folder[k]["assets"]
        )
    )
    word = folder[open_ids[0]]["draft"]["name"].split()[0].lower()
    expected = sorted(
        k
        for k in open_ids
        if word
        in json.dumps(
            [folder[k]["draft"]] + [v["meta"] for v in folder[k]["versions"].values()]
        ).lower()
    )
    assert sorted(ids(search=word)) == expected
    assert ids(search=f"{word} zzzznotthere") == []


def test_survives_429_and_503_storms_and_resets(fresh_server, generated, client_for):
    srv = fresh_server
    client = client_for(srv)
    ident = next(d for d in generated.dandisets if d not in (generated.embargoed, generated.empty))
    want = len(read_folder(generated.root)[ident]["assets"])
    srv.counters.reset()
    srv.faults.add(kind="status", status=429, retry_after=1, path="/assets/$", count=1)
    srv.faults.add(kind="status", status=503, path="/assets/$", count=2)
    srv.faults.add(kind="reset", path="/assets/$", count=1)
    t0 = time.monotonic()
    assets = list(client.get_dandiset(ident, "draft").get_assets())
    assert len(assets) == want
    assert time.monotonic() - t0 >= 1.0  # Retry-After was honoured
    statuses = srv.counters.snapshot()["statuses"]
    assert statuses.get("429") == 1
    assert statuses.get("503") == 2
    assert statuses.get("0") == 1  # the reset
    pages = -(-want // 100)
    assert srv.counters.requests["assets"] == pages + 4


def test_latency_and_counters(fresh_server):
    srv = fresh_server
    srv.counters.reset()
    srv.faults.latency = 0.05
    t0 = time.monotonic()
    for _ in range(4):
        requests.get(f"{srv.api_url}/info/", timeout=10)
    assert time.monotonic() - t0 >= 0.2
    assert srv.counters.requests["info"] == 4
    assert srv.counters.bytes["info"] > 0


def test_round_trips_group_concurrent_requests(fresh_server):
    from concurrent.futures import ThreadPoolExecutor

    srv = fresh_server
    srv.counters.reset()
    srv.faults.latency = 0.1
    try:
        with ThreadPoolExecutor(4) as pool:  # a burst of four, then two one after the other
            list(pool.map(lambda _: requests.get(f"{srv.api_url}/info/", timeout=10), range(4)))
        for _ in range(2):
            requests.get(f"{srv.api_url}/info/", timeout=10)
    finally:
        srv.faults.latency = 0
    assert srv.counters.requests["info"] == 6
    assert srv.counters.round_trips("info", 0.1) == 3
    assert srv.counters.round_trips("blob", 0.1) == 0


def test_slow_body_fault(fresh_server, generated):
    srv = fresh_server
    asset_id, att = next(iter(generated.nwb_assets.items()))
    srv.faults.add(kind="slow", path="/s3/blobs/", bytes_per_second=200_000, count=1)
    t0 = time.monotonic()
    r = requests.get(
        f"{srv.api_url}/assets/{asset_id}/download/", headers={"Range": "bytes=0-99999"}, timeout=30
    )
    assert r.content == att.path.read_bytes()[:100000]
    assert time.monotonic() - t0 >= 0.4


def test_serve_archive_command_prints_its_api_url(generated):
    with subprocess.Popen(
        [sys.executable, "-m", "dandindex", "serve-archive", str(generated.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:") and url.endswith("/api")
            body = requests.get(f"{url}/dandisets/", timeout=10).json()
            assert body["count"] == len(generated.dandisets) - 1  # the embargoed one is hidden
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_the_server_serves_only_what_the_archive_would(fresh_server, generated):
    """No file of the snapshot folder but blobs and Zarr files; no way out of a Zarr; the
    counters only when asked for; dates in the API's Z form."""
    import re

    base = fresh_server.url
    for path in (
        "/s3/blobs/000/000/index.json",
        "/s3/blobs/ind/ex./index.json",
        "/s3/zarr/../blobs/index.json",
        "/s3/zarr/..%2Fdandisets/000001/dandiset.json",
        f"/s3/zarr/../dandisets/{generated.dandisets[0]}/dandiset.json",
        f"/s3/zarr/00000000-0000-4000-8000-000000000000/../../dandisets/{generated.dandisets[0]}/dandiset.json",
        "/_dandindex/counters",
    ):
        r = requests.get(base + path, timeout=10)
        assert r.status_code in (403, 404), (path, r.status_code)
        # never a file's content: no metadata, no index listing, whatever the status
        assert b'"identifier"' not in r.content and b"schemaKey" not in r.content, path
        assert len(r.content) < 1000, (path, r.content[:200])
    with ArchiveServer(generated.root, counters_route=True) as srv:
        assert requests.get(srv.url + "/_dandindex/counters", timeout=10).status_code == 200
    page = requests.get(f"{fresh_server.api_url}/dandisets/", timeout=10).json()
    stamps = [page["results"][0]["created"], page["results"][0]["modified"]]
    stamps += [page["results"][0]["draft_version"]["modified"]]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", t) for t in stamps), stamps
