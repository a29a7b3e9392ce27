"""Files that are not NWB: OME-Zarr, TIFF/OME-TIFF, video and BIDS described from their
headers (locally, over HTTP range reads, and by a crawl of a local archive serving them),
searched by format, voxel size, channel, frame rate, duration and BIDS values; damaged files
are error rows and nothing else is lost.

Every file is written by its real writer (zarr, tifffile, PyAV, plain JSON/TSV) in
`dandindex.testing.mediafiles`, which also says what each must be described as."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.formats.summary import summarize_media
from dandindex.testing.mediaarchive import BIDS_ID, MEDIA_ID, POSE_PATH, POSE_VIDEO


def _facts(summary):
    return summary["file"]


@pytest.fixture(scope="module")
def media(media_archive):
    return media_archive.media


def test_every_file_is_described_from_its_headers(media):
    for name, m in media.items():
        f = _facts(summarize_media(m.path))
        if m.bad:
            assert f.get("error"), name
            continue
        assert f.get("error") is None, (name, f.get("error"))
        for column, value in m.expect.items():
            assert f.get(column) == value, (name, column, f.get(column), value)


def test_over_http_the_same_facts_from_a_few_range_reads(media, tmp_path):
    """Served by a plain static server (single ranges): each file's facts are those read
    locally, in a handful of requests."""
    from dandindex.testing.static import StaticServer

    root = next(iter(media.values())).path.parent
    with StaticServer(root) as web:
        for name, m in media.items():
            web.reset()
            url = f"{web.url}/{m.path.name}" + ("/" if m.path.is_dir() else "")
            remote = _facts(summarize_media(url))
            local = _facts(summarize_media(m.path))
            assert bool(remote.get("error")) == m.bad, (name, remote.get("error"))
            for column in ("format", "shape", "voxel_size", "channels", "fps", "n_frames", "pages", "n_levels"):  # fmt: skip
                assert remote.get(column) == local.get(column), (name, column)
            assert remote["requests"] == sum(web.requests.values()) <= 8, name
            # what was served, plus the bodies of the 404s of keys a Zarr store lacks
            assert web.bytes <= remote["bytes_read"] < web.bytes + 600 * remote["requests"]


def test_a_large_stack_is_counted_without_walking_every_page(tmp_path):
    """2,000 pages appended one by one: the IFD chain is walked 8 pages, then checked at the
    page its even spacing predicts is the last, so the count is exact in a few requests."""
    from dandindex.testing.mediafiles import write_plain_tiff
    from dandindex.testing.static import StaticServer

    m = write_plain_tiff(tmp_path / "long.tif", pages=2000)
    with StaticServer(tmp_path) as web:
        f = _facts(summarize_media(f"{web.url}/long.tif"))
    assert f["pages"] == 2000 and f["pages_known"] is True and f["shape"] == [2000, 40, 60]
    assert f["requests"] <= 4 and f["bytes_read"] < m.path.stat().st_size / 10


def test_mp4_with_its_moov_at_the_end_reads_its_two_ends(tmp_path):
    from dandindex.testing.mediafiles import encode_video
    from dandindex.testing.static import StaticServer

    path = tmp_path / "long.mp4"
    encode_video(path, "libx264", frames=1800, fps=30, size=(320, 240))
    with StaticServer(tmp_path) as web:
        f = _facts(summarize_media(f"{web.url}/long.mp4"))
        served = [(r, n) for _, _, r, n in web.log]
    assert f["n_frames"] == 1800 and f["fps"] == 30.0 and f["duration"] == 60.0
    assert f["bytes_read"] < path.stat().st_size / 2, served
    assert any(r.startswith("bytes=0-") for r, _ in served)  # the head ...
    size = path.stat().st_size
    assert any(
        r and int(r.split("=")[1].split("-")[0]) > size // 2 for r, _ in served
    )  # ... the end


# -- a crawl -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def idx(media_index):
    from dandindex.index import Index

    with Index(media_index) as i:
        yield i


def rows_by_path(idx, dandiset):
    return {
        r["path"]: r
        for r in idx.sql(
            "SELECT a.path, f.* FROM file_summaries f JOIN assets a USING (asset_id) "
            "WHERE a.dandiset_id = $d",
            {"d": dandiset},
        ).rows()
    }


def test_a_crawl_describes_each_file_and_records_the_damaged_ones(idx, media_archive):
    rows = rows_by_path(idx, MEDIA_ID)
    for asset, name in media_archive.assets.items():
        if name not in media_archive.media:
            continue
        m = media_archive.media[name]
        row = rows[media_archive.paths[asset]]
        if m.bad:
            assert row["error"] and row["format"] is None, name
            continue
        assert row["error"] is None, (name, row["error"])
        for column, value in m.expect.items():
            assert row[column] == value, (name, column)
        assert row["bytes_read"] and row["requests"] and row["summarized_at"]
    errors = idx.sql("SELECT * FROM crawl_errors").rows()
    assert errors == [], errors  # damaged files are rows of file_summaries, nothing else
    # the NWB file beside them was read as ever
    nwb = idx.sql("SELECT error FROM nwb_files").rows()
    assert nwb == [{"error": None}]


def test_bids_data_files_carry_their_inherited_sidecars_and_tables(idx, media_archive):
    rows = rows_by_path(idx, BIDS_ID)
    for path, want in media_archive.bids["expect"].items():
        got = dict(kv.split("=", 1) for kv in rows[path]["bids"])
        assert {k: got.get(k) for k in want} == want, path
        assert rows[path]["bids_entities"][0].startswith("sub=")
    for bad in media_archive.bids["bad"]:
        assert "not valid JSON" in rows[bad]["error"]
    eeg = [p for p in media_archive.bids["expect"] if p.endswith("_eeg.edf")]
    assert {rows[p]["bids_datatype"] for p in eeg} == {"eeg"}
    assert rows[eeg[0]]["subject_species"] == "mus musculus"


def test_an_nwb_file_leads_to_its_video(idx, media_archive):
    links = idx.sql("SELECT * FROM file_links").rows()
    video = media_archive.asset_of("video_mp4")
    pose = next(a for a, p in media_archive.paths.items() if p == POSE_PATH)
    assert {(r["asset_id"], r["external_file"], r["target_asset_id"]) for r in links} == {
        (pose, POSE_VIDEO, video)
    }
    assert {r["object_path"] for r in links} == {
        "/acquisition/BehaviorVideo",
        "/processing/behavior/PoseEstimation",
    }


def expected(media_archive, test) -> set[str]:
    """Paths of the assets whose expected facts pass `test` (facts, BIDS values)."""
    out = set()
    for asset, name in media_archive.assets.items():
        m = media_archive.media.get(name)
        facts = dict(m.expect) if m is not None and not m.bad else {}
        path = media_archive.paths[asset]
        if name in media_archive.bids["expect"]:
            facts["bids"] = media_archive.bids["expect"][name]
        if path.endswith("_SPIM.ome.zarr"):
            facts.update(media_archive.media["zarr_v04"].expect)
        if path.endswith("_SPIM.ome.tif"):
            facts.update(media_archive.media["tiff_ome"].expect)
        if test(path, m, facts):
            out.add(path)
    return out


SEARCHES = {
    "file_format=video": (
        {"file_format": "video"},
        lambda p, m, f: m is not None and m.kind == "video",
    ),
    "file_format=ome-zarr": (
        {"file_format": "OME.Zarr"},
        lambda p, m, f: p.endswith(".ome.zarr"),
    ),
    "file_format=tiff": ({"file_format": "tif"}, lambda p, m, f: p.endswith((".tif", ".tiff"))),
    "voxel_max=1um": (
        {"voxel_max": "1um"},
        lambda p, m, f: f.get("voxel_um") is not None and f["voxel_um"] <= 1,
    ),
    "voxel_min=1500nm": (
        {"voxel_min": "1500nm"},
        lambda p, m, f: f.get("voxel_um") is not None and f["voxel_um"] >= 1.5,
    ),
    "channel=gfp": (
        {"channel": "gfp"},
        lambda p, m, f: "GFP" in (f.get("channels") or []) or "stain-GFP" in p,
    ),
    "channel=tdtomato": (
        {"channel": "TDTOMATO"},
        lambda p, m, f: "tdTomato" in (f.get("channels") or []),
    ),
    "fps_min=50": ({"fps_min": 50}, lambda p, m, f: (f.get("fps") or 0) >= 50),
    "fps 25-30": ({"fps_min": 25, "fps_max": 30}, lambda p, m, f: 25 <= (f.get("fps") or 0) <= 30),
    "bids rate 1000": (
        {"bids": "SamplingFrequency=1e3"},
        lambda p, m, f: (f.get("bids") or {}).get("SamplingFrequency") == "1000",
    ),
    "bids task and sex": (
        {"bids": ["taskname=REST", "participant.sex=M"]},
        lambda p, m, f: (
            (f.get("bids") or {}).get("participant.sex") == "M"
            and (f.get("bids") or {}).get("TaskName") == "rest"
        ),
    ),
    "microscopy in BIDS": (
        {"modality": "microscopy", "file_format": "bids"},
        lambda p, m, f: "/micr/" in p,
    ),
}


@pytest.mark.parametrize("name", list(SEARCHES))
def test_searches_on_each_new_facet_return_exactly_the_expected_assets(idx, media_archive, name):
    keywords, test = SEARCHES[name]
    want = expected(media_archive, test)
    assert want, f"the fixture should hold matches for {name}"
    got = {r["path"] for r in idx.search(**keywords, limit=None).rows()}
    assert got == want


def test_durations_of_videos_and_nwb_files_search_together(idx, media_archive):
    got = {r["path"] for r in idx.search(duration_min=3.5, limit=None).rows()}
    videos = {
        media_archive.paths[a]
        for a, n in media_archive.assets.items()
        if n in media_archive.media and media_archive.media[n].expect.get("duration", 0) >= 3.5
    }
    assert videos <= got and POSE_PATH in got  # the pose file's series last 4 s
    assert got - videos == {POSE_PATH}


def test_facet_mistakes_are_sentences(index_dir, media_index):
    def run(*args):
        return CliRunner().invoke(cli, ["search", "--index", str(media_index), *args])

    r = run("--file-format", "vidoe")
    assert r.exit_code == 2 and "Unknown file format 'vidoe'" in r.output and "video" in r.output
    r = run("--channel", "GPF")
    assert r.exit_code == 2 and "No channel 'GPF'" in r.output and "gfp" in r.output
    r = run("--bids", "SamplingFrequncy=1000")
    assert r.exit_code == 2 and "samplingfrequency" in r.output
    r = run("--bids", "SamplingFrequency=999")
    assert r.exit_code == 2 and "1000" in r.output and "512" in r.output
    r = run("--bids", "=3")
    assert r.exit_code == 2 and "KEY=VALUE" in r.output
    r = run("--voxel-max", "1 parsec")
    assert r.exit_code == 2 and "not a length" in r.output
    r = CliRunner().invoke(cli, ["search", "--index", str(index_dir), "--channel", "GFP"])
    assert r.exit_code == 2 and "crawl --nwb" in r.output  # an index without any


def test_a_second_crawl_reads_nothing_again(media_server, media_index, tmp_path):
    import shutil

    from dandindex.crawl import Crawler, CrawlOptions

    copy = tmp_path / "idx"
    shutil.copytree(media_index, copy)
    before = sum(media_server.counters.requests.values())
    stats = Crawler(
        CrawlOptions(api_url=media_server.api_url, index_dir=str(copy), nwb=True, full=True)
    ).run()
    assert stats.files_total == 0 and stats.files_bytes == 0  # all cached
    from dandindex.index import Index

    with Index(copy) as a, Index(media_index) as b:
        q = "SELECT asset_id, format, error, shape, bids FROM file_summaries ORDER BY asset_id"
        assert a.sql(q).rows() == b.sql(q).rows()
    assert sum(media_server.counters.requests.values()) - before < 20  # the API walk only


def test_summarize_prints_any_format(media):
    for name in ("zarr_v05", "tiff_imagej", "video_avi", "bad_mp4_no_moov"):
        m = media[name]
        r = CliRunner().invoke(cli, ["summarize", str(m.path), "--format", "json"])
        out = json.loads(r.stdout)
        assert r.exit_code == (1 if m.bad else 0), r.output
        assert bool(out["file"].get("error")) == m.bad
        if not m.bad:
            assert out["file"]["format"] == m.expect["format"]
    r = CliRunner().invoke(cli, ["summarize", str(media["video_mkv"].path), "--format", "tree"])
    assert r.exit_code == 0 and "h264" in r.output and "25" in r.output


def test_a_misnamed_file_is_said_to_be_what_its_bytes_are(media, nwb_files, tmp_path):
    """An NWB file named .tif or .mp4 (it happens in uploads) is refused with what it is."""
    nwb = next(iter(nwb_files.values()))
    for name in ("scan.tif", "session.mp4"):
        fake = tmp_path / name
        fake.write_bytes(nwb.read_bytes())
        r = CliRunner().invoke(cli, ["summarize", str(fake), "--format", "tree"])
        assert r.exit_code == 1 and "its first bytes are an HDF5 (NWB) file's" in r.output, r.output
        assert "read " not in r.output  # a local file: no transfer to count
    truncated = media["bad_mp4_no_moov"].path  # an MP4, damaged: said as such, not misnamed
    r = CliRunner().invoke(cli, ["summarize", str(truncated), "--format", "tree"])
    assert "moov" in r.output and "first bytes" not in r.output


# -- the real corpus -----------------------------------------------------------------------

CORPUS_MEDIA = ["000243", "000540", "000674"]  # BIDS MRI + OME-Zarr, videos, BIDS TIFFs


@pytest.mark.slow
def test_the_corpus_microscopy_video_and_bids_dandisets_index_without_errors(
    corpus, corpus_server, tmp_path
):
    """Their real metadata, crawled with --nwb from a server that has none of their files:
    every file that is not NWB gets a row saying it is not on the server (a transient 404:
    the next crawl tries again), no crawl error, and the searches by format find them."""
    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.index import Index

    from helpers import read_folder

    folder = read_folder(corpus)
    assets = [a for d in CORPUS_MEDIA for a in folder[d]["assets"]]
    tiffs = {a["asset_id"] for a in assets if a["path"].endswith((".tif", ".tiff"))}
    videos = {a["asset_id"] for a in assets if a["metadata"]["encodingFormat"].startswith("video/")}  # fmt: skip
    zarrs = {a["asset_id"] for a in assets if a.get("zarr")}
    bids_text = {a["asset_id"] for a in folder["000243"]["assets"]
                 if a["path"].endswith((".json", ".tsv"))}  # fmt: skip
    assert tiffs and videos and zarrs and bids_text
    base = Crawler(CrawlOptions(api_url=corpus_server.api_url, index_dir=str(tmp_path / "meta"),
                                dandisets=CORPUS_MEDIA)).run()  # fmt: skip
    stats = Crawler(
        CrawlOptions(
            api_url=corpus_server.api_url,
            index_dir=str(tmp_path / "idx"),
            dandisets=CORPUS_MEDIA,
            nwb=True,
            nwb_workers=4,
        )  # fmt: skip
    ).run()
    read = tiffs | videos | zarrs | bids_text
    assert stats.files_missing == len(read) and stats.files_failed == 0
    said = stats.summary()
    nwb = {a["asset_id"] for a in assets if a["path"].endswith(".nwb")}
    assert f"{len(nwb):,} NWB files not on the server (HTTP 404): metadata only" in said, said
    assert f"{len(read):,} other files (OME-Zarr, TIFF, video, BIDS) not on the server" in said
    assert "read (0.0 MB)" not in said and "with errors" not in said
    assert stats.errors == base.errors  # nothing more than the metadata's own problems
    with Index(tmp_path / "idx") as idx:
        errors = idx.sql("SELECT asset_id, error FROM nwb_files").rows()  # kept as rows
        assert {r["asset_id"] for r in errors} == nwb and all("404" in r["error"] for r in errors)
        rows = {r["asset_id"]: r for r in idx.sql("SELECT * FROM file_summaries").rows()}
        assert read <= set(rows)
        assert all("HTTP 404" in rows[a]["error"] for a in read)
        data = [r for r in rows.values() if r["bids_entities"]]  # BIDS data files of 000243
        assert {r["bids_suffix"] for r in data} == {"T2w"}
        assert {r["bids_datatype"] for r in data} == {"anat"}
        assert {r["asset_id"] for r in data} == {
            a["asset_id"] for a in folder["000243"]["assets"] if a["path"].startswith("sub-")
            and not a["path"].endswith((".json", ".tsv"))
        }  # fmt: skip

        def found(**kw):
            return {r["asset_id"] for r in idx.search(**kw, limit=None).rows()}

        assert found(file_format="video") == videos
        assert found(file_format="tiff") == tiffs
        assert found(file_format="ome-zarr") == zarrs
        assert found(file_format="bids", modality="mri") == {r["asset_id"] for r in data}
        assert tiffs <= found(modality="microscopy")


# -- previews ---------------------------------------------------------------------------------


def _png_pixels(data: bytes):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=float)


def test_previews_read_a_bounded_part_and_show_the_file(idx, media_archive, media_server):
    """OME-Zarr: the lowest level only (its chunks, never level 0's); a video frame drawn
    from the key frame before it; pose keypoints on the bar they track in the linked video."""
    import io

    zarr_asset = media_archive.asset_of("zarr_v04")
    media_server.counters.reset()
    fig = idx.asset(zarr_asset).plot()
    z = media_archive.media["zarr_v04"].path
    lowest = len(list((z / "2").glob("[0-9]*")))  # chunk files of the lowest level
    assert media_server.counters.requests.get("zarr_file", 0) + media_server.counters.requests.get("zarr_files", 0) <= 4 + 3 + 2 * lowest  # fmt: skip
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert _png_pixels(buf.getvalue()).std() > 10  # a picture, not a blank
    # the frame 2 s into the 60 fps video: the bar (orange) at x = 120 * 3 % 152 = 56..63
    video = idx.asset(media_archive.asset_of("video_mp4"))
    frame, t = video.frame(2.0)
    assert abs(t - 2.0) < 1 / 60 + 1e-9
    import numpy as np

    red = (frame[:, :, 0].astype(int) - frame[:, :, 2].astype(int)).mean(axis=0) > 100
    assert set(range(57, 63)) <= set(np.flatnonzero(red)) <= set(range(54, 66))
    pose = next(a for a, p in media_archive.paths.items() if p == POSE_PATH)
    h = idx.asset(pose)
    assert h.linked_video("/processing/behavior/PoseEstimation").asset_id == video.asset_id
    fig = h.plot("/processing/behavior/PoseEstimation", start=120)
    ax = fig.axes[0]
    assert ax.images and "video frame at 2.00 s" in ax.get_title(loc="left")
    xs = [float(c.get_offsets()[0][0]) for c in ax.collections]
    assert xs == [60.0, 60.0]  # both keypoints on the bar's centre in that frame


def test_asset_pages_show_what_a_file_holds_and_its_preview(media_index, media_archive):
    from dandindex.ui import create_app

    client = create_app(media_index).test_client()
    for name in ("zarr_v05", "tiff_ome", "video_avi"):
        aid = media_archive.asset_of(name)
        html = client.get(f"/asset/{aid}").get_data(as_text=True)
        assert 'id="file-facts"' in html and 'id="preview"' in html
        assert media_archive.media[name].expect["format"] in html
        r = client.get(f"/asset/{aid}/preview.png")
        assert r.status_code == 200 and r.mimetype == "image/png"
        assert _png_pixels(r.data).std() > 10
    bad = media_archive.asset_of("bad_mp4_no_moov")
    html = client.get(f"/asset/{bad}").get_data(as_text=True)
    assert "moov atom" in html and 'id="preview"' not in html
    r = client.get(f"/asset/{bad}/preview.png")
    assert r.status_code == 404 and "moov" in r.get_data(as_text=True)
    video = media_archive.asset_of("video_mp4")
    html = client.get(f"/asset/{video}").get_data(as_text=True)
    assert "named by" in html  # the pose NWB file names it
    r = client.get(f"/asset/{video}/plot?start=1.5")
    assert 'id="plot"' in r.get_data(as_text=True)


def test_info_says_what_other_files_hold(media_index, idx):
    r = CliRunner().invoke(cli, ["info", "--index", str(media_index), "--format", "text"])
    assert r.exit_code == 0, r.output
    counts = idx.sql(
        "SELECT format, count(*) AS n FROM file_summaries WHERE summary_key IS NOT NULL "
        "AND error IS NULL GROUP BY 1"
    ).rows()
    line = next(x for x in r.output.splitlines() if x.startswith("Other files described"))
    for c in counts:
        assert f"{c['n']:,} {c['format']}" in line
    failed = idx.sql("SELECT count(*) AS n FROM file_summaries WHERE error IS NOT NULL").rows()
    assert f"{failed[0]['n']:,} could not be read" in line
    n = len(idx.sql("SELECT * FROM file_links").rows())  # two objects name the one video
    assert f"{n} of {n} external files named in NWB files found as assets" in r.output


def test_preview_mistakes_are_sentences(media_index, media_archive, media_server, tmp_path):
    def plot(name_or_path, *args):
        known = name_or_path in media_archive.paths  # an asset id already
        ref = name_or_path if known else media_archive.asset_of(name_or_path)
        return CliRunner().invoke(
            cli, ["plot", ref, *args, "--out", str(tmp_path / "x.png"), "--index", str(media_index)]
        )

    video = media_archive.media["video_avi"].expect["duration"]
    r = plot("video_avi", "--at", str(video + 5))
    assert r.exit_code == 2 and f"which lasts {video:.2f} s" in r.output
    r = plot("tiff_plain", "--at", "300")
    assert r.exit_code == 2 and "has 300 pages (0 to 299)" in r.output
    r = plot("zarr_v04", "--at", "9")
    assert r.exit_code == 2 and "z planes" in r.output
    r = plot("zarr_v04", "--channels", "3")
    assert r.exit_code == 2 and "2 channels" in r.output
    r = plot("bad_mp4_no_moov")
    assert r.exit_code == 1 and "moov" in r.output and "Traceback" not in r.output
    sidecar = next(a for a, p in media_archive.paths.items() if p == "task-rest_eeg.json")
    r = plot(sidecar)
    assert r.exit_code == 2 and "not an NWB file, an image or a video" in r.output
    r = plot("video_avi", "--at", "1.0")
    assert r.exit_code == 0 and (tmp_path / "x.png").stat().st_size > 1000


def test_an_ifd_chain_that_loops_back_ends_the_walk(tmp_path):
    """A damaged TIFF whose first IFD names itself as the next: no hang, no count invented."""
    import struct

    from dandindex.testing.mediafiles import write_plain_tiff

    m = write_plain_tiff(tmp_path / "pages.tif", pages=20)
    data = bytearray(m.path.read_bytes())
    first = struct.unpack("<I", data[4:8])[0]
    entries = struct.unpack("<H", data[first : first + 2])[0]
    at = first + 2 + 12 * entries
    data[at : at + 4] = struct.pack("<I", first)
    (tmp_path / "loop.tif").write_bytes(bytes(data))
    f = _facts(summarize_media(tmp_path / "loop.tif"))
    assert f.get("error") is None and f["pages"] == 1 and f["pages_known"] is False
