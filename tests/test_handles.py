"""From search results to streamed files and plots."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.errors import DandindexError
from dandindex.results import AssetSet
from dandindex.testing.nwbfiles import N_ELECTRODES, N_UNITS

from helpers import modality_assets


def handle_for(idx, generated, modality):
    asset_id = modality_assets(generated)[modality]
    return idx.asset(asset_id)


def pixels(fig) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3]


def drawn(fig) -> float:
    """Fraction of pixels that are not background white."""
    img = pixels(fig)
    return float((img.min(axis=2) < 250).mean())


def test_search_hits_open_like_a_local_read(idx, generated, nwb_files):
    from pynwb import NWBHDF5IO

    hits = idx.search(species="mouse", modality="ophys", area="VISp")
    assert isinstance(hits, AssetSet) and len(hits) >= 1
    assert "AssetSet" in repr(hits) and '<table class="dandindex-table">' in hits._repr_html_()
    h = next(x for x in hits.handles() if x.asset_id in generated.nwb_assets)
    with h.open() as nwb:
        streamed = nwb.processing["ophys"]["DfOverF"]["DfOverF"].data[:1000, :5]
    with NWBHDF5IO(str(nwb_files["ophys"]), "r") as io:
        local = io.read().processing["ophys"]["DfOverF"]["DfOverF"].data[:1000, :5]
    np.testing.assert_array_equal(streamed, local)


def test_recorded_ranges_make_opening_cheap(idx, generated, server, nwb_files):
    """With what the crawl recorded (ranges, blob URL, size), opening is one burst: after it,
    neither the metadata walk nor pynwb's read() makes a request."""
    import h5py
    from pynwb import NWBHDF5IO

    from dandindex.handles import _manager
    from dandindex.nwb.summary import summarize
    from dandindex.nwb.walk import summarize_h5

    h = handle_for(idx, generated, "ecephys")
    assert h.metadata_ranges, "the crawl should have recorded the metadata ranges"
    assert h.read_url and "/blobs/" in h.read_url and h.size
    api_before = server.counters.requests["download"]
    rf = h._rangefile()
    try:
        assert server.counters.requests["download"] == api_before  # no redirect to follow
        before = server.counters.requests["blob"]
        summary = summarize_h5(rf)
        assert summary.objects == summarize(nwb_files["ecephys"])["objects"]
        with h5py.File(rf, "r") as f, NWBHDF5IO(file=f, mode="r", manager=_manager(f)) as io:
            nwb = io.read()
            assert len(nwb.units) == N_UNITS and "SpikeEvents_shank0" in nwb.acquisition
        assert server.counters.requests["blob"] == before
    finally:
        rf.close()
    with h.open_h5() as f:
        assert f["/acquisition/ElectricalSeries/data"].shape[1] == N_ELECTRODES


def test_open_falls_back_to_the_api_when_the_recorded_url_is_gone(idx, generated, server):
    import dataclasses

    h = handle_for(idx, generated, "ophys")
    assert h.read_url and h.metadata_ranges
    moved = dataclasses.replace(h, read_url=h.read_url + "-moved")
    with moved.open() as nwb:
        assert nwb.processing["ophys"]["DfOverF"]["DfOverF"].data[:10, :2].shape == (10, 2)


@pytest.mark.parametrize(
    ("modality", "path", "kwargs"),
    [
        (
            "ophys",
            "/processing/ophys/DfOverF/DfOverF",
            {"start": 0, "stop": 1000, "columns": range(5)},
        ),
        ("ophys", "/processing/ophys/SummaryImages/mean", {}),
        ("ophys", "/processing/ophys/ImageSegmentation/PlaneSegmentation", {}),
        ("ophys", "/acquisition/TwoPhotonSeries", {"start": 3}),
        ("ecephys", "/acquisition/ElectricalSeries", {"start": 0, "stop": 600}),
        ("ecephys", "/units", {}),
        ("ecephys", "/units/waveform_mean", {}),
        ("ecephys", "/acquisition/SpikeEvents_shank0", {"start": 0, "stop": 20}),
        ("behavior", "/processing/behavior/PoseEstimation", {"start": 10}),
        ("behavior", "/processing/behavior/Position/position", {}),
        ("icephys", "/acquisition/current_clamp_0", {}),
    ],
)
def test_every_plot_kind_draws_something(idx, generated, modality, path, kwargs):
    fig = handle_for(idx, generated, modality).plot(path, **kwargs)
    assert drawn(fig) > 0.02, path
    title = fig.axes[0].get_title(loc="left")
    assert path.rsplit("/", 1)[-1] in title  # the object is named
    assert fig._suptitle is not None and "DANDI:" in fig._suptitle.get_text()  # and the file
    assert fig.axes[0].get_xlabel()  # axes say what they show
    png = fig._repr_png_()  # shows itself in a notebook
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_errors_are_clear(idx, generated):
    h = handle_for(idx, generated, "ecephys")
    with pytest.raises(DandindexError, match="Plottable objects"):
        h.plot("/acquisition/Nope")
    with pytest.raises(DandindexError, match="No plot for type Device"):
        h.plot("/general/devices/probe0")
    pose = handle_for(idx, generated, "behavior")
    with pytest.raises(DandindexError, match=r"--start 1000000 is outside .* frames \(0 to "):
        pose.plot("/processing/behavior/PoseEstimation", start=10**6)


def test_download_resumes_and_checks_sha256(idx, generated, tmp_path):
    h = handle_for(idx, generated, "behavior")
    data = generated.nwb_assets[h.asset_id].path.read_bytes()
    part = tmp_path / (h.path.rsplit("/", 1)[-1] + ".part")
    part.write_bytes(data[:1000])
    out = h.download(tmp_path, progress=False)
    assert out.read_bytes() == data and not part.exists()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == h.sha256
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / (h.path.rsplit("/", 1)[-1] + ".part")).write_bytes(b"X" * 1000)
    with pytest.raises(DandindexError, match="sha256"):
        h.download(bad, progress=False)


def test_download_into_a_new_folder_then_again_fetches_nothing(
    idx, generated, server, tmp_path, capsys
):
    h = handle_for(idx, generated, "behavior")
    out = h.download(f"{tmp_path}/new/deeper/", progress=False)
    assert out.parent == tmp_path / "new" / "deeper" and out.stat().st_size == h.size
    server.counters.reset()
    capsys.readouterr()
    assert h.download(out.parent) == out
    assert server.counters.total_requests == 0  # whole and matching its sha256: kept
    said = capsys.readouterr().err
    assert f"{out} is already there (size and sha256 match): not downloaded again." in said
    out.write_bytes(b"Y" * h.size)  # same size, wrong content: fetched again
    h.download(out, progress=False)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == h.sha256


def test_summary_needs_no_network(idx, generated, server):
    h = handle_for(idx, generated, "ecephys")
    server.counters.reset()
    s = h.summary()
    assert s["file"]["n_units"] == N_UNITS and any(
        o["neurodata_type"] == "Units" for o in s["objects"]
    )
    assert server.counters.total_requests == 0


def test_plot_and_show_commands(index_dir, idx, generated, tmp_path):
    h = handle_for(idx, generated, "ophys")
    out = tmp_path / "dff.png"
    r = CliRunner().invoke(
        cli,
        [
            "plot",
            f"{h.dandiset_id}/{h.path}",
            "/processing/ophys/DfOverF/DfOverF",
            "--stop",
            "1000",
            "--channels",
            "0-4",
            "--out",
            str(out),
            "--index",
            str(index_dir),
        ],
    )
    assert r.exit_code == 0, r.output
    assert out.stat().st_size > 1000
    r = CliRunner().invoke(cli, ["show", h.asset_id, "--index", str(index_dir)])
    assert r.exit_code == 0 and "PlaneSegmentation" in r.output and "TwoPhotonSeries" in r.output
    r = CliRunner().invoke(cli, ["show", "nope", "--index", str(index_dir)])
    assert r.exit_code == 1 and "No asset" in r.output


def test_search_plot_writes_pictures_for_the_first_matches(index_dir, tmp_path):
    r = CliRunner().invoke(
        cli,
        [
            "search",
            "--index",
            str(index_dir),
            "--modality",
            "ophys",
            "--species",
            "mouse",
            "--area",
            "VIS",
            "--format",
            "json",
            "--plot",
            "/processing/ophys/DfOverF/DfOverF",
            "--plot-dir",
            str(tmp_path / "pics"),
        ],
    )
    assert r.exit_code == 0, r.output
    pics = list((tmp_path / "pics").glob("*.png"))
    assert pics and all(p.stat().st_size > 1000 for p in pics)
    r = CliRunner().invoke(cli, ["search", "--index", str(index_dir), "--plot", "/x"])
    assert r.exit_code == 2 and "--plot-dir" in r.output


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_plot_refuses_bad_options_before_streaming(index_dir, idx, generated, server, tmp_path):
    h = handle_for(idx, generated, "ophys")
    asset = f"{h.dandiset_id}/{h.path}"
    obj = "/processing/ophys/DfOverF/DfOverF"
    before = sum(server.counters.requests.values())
    cases = [
        (["--channels", "0-x"], "is not a list of numbers and ranges"),
        (["--channels", "5-2"], "the range 5-2 runs backwards"),
        (["--out", str(tmp_path / "fig.txt")], "does not end in a picture format"),
        (["--out", str(tmp_path / "missing" / "fig.png")], "does not exist; create it"),
        (["--out", str(tmp_path)], "is a folder; give a file name"),
    ]
    for extra, sentence in cases:
        r = run_cli("plot", asset, obj, *extra, "--index", str(index_dir))
        assert r.exit_code == 2, (extra, r.output)
        assert sentence in " ".join(r.output.split()), (extra, r.output)
        assert "Traceback" not in r.output
    assert sum(server.counters.requests.values()) == before  # nothing streamed


def test_plot_suggests_objects_and_lists_what_can_be_plotted(
    index_dir, idx, generated, tmp_path, monkeypatch
):
    h = handle_for(idx, generated, "ophys")
    asset = f"{h.dandiset_id}/{h.path}"
    r = run_cli("plot", asset, "/processing/ophys/DfOverF/DfOverFF", "--index", str(index_dir))
    assert r.exit_code == 2, r.output
    assert "Did you mean /processing/ophys/DfOverF/DfOverF" in r.output
    assert f"dandindex show {asset}" in r.output
    r = run_cli("plot", asset, "--index", str(index_dir))
    assert r.exit_code == 0, r.output
    assert "/processing/ophys/DfOverF/DfOverF" in r.output
    assert "/general/devices" not in r.output  # only what can be plotted
    assert f"dandindex plot {asset} /" in r.output
    # a typo in the case of a path is fixed, and the default picture name is the object's
    monkeypatch.chdir(tmp_path)
    r = run_cli(
        "plot", asset, "/processing/ophys/dfoverf/dfoverf", "--stop", "50",
        "--index", str(index_dir),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    name = r.output.strip()
    assert name.endswith("_DfOverF.png") and (tmp_path / name).stat().st_size > 1000


def test_raster_window_outside_the_spikes_is_a_sentence(index_dir, idx, generated):
    h = handle_for(idx, generated, "ecephys")
    asset = f"{h.dandiset_id}/{h.path}"
    r = run_cli("plot", asset, "/units", "--start", "1e6", "--index", str(index_dir))
    assert r.exit_code == 2 and "No spikes of /units between" in r.output, r.output
    assert "Traceback" not in r.output


def test_show_tree_and_json(index_dir, idx, generated):
    h = handle_for(idx, generated, "ecephys")
    r = run_cli("show", h.asset_id, "--index", str(index_dir))
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == f"DANDI:{h.dandiset_id}/{h.version}  {h.path}"
    assert any(line.startswith("* ") and "/units" in line for line in lines)
    assert any("/general/devices/probe0" in line and not line.startswith("*") for line in lines)
    assert "dandindex plot" in lines[-1]
    r = run_cli("show", h.asset_id, "--format", "json", "--index", str(index_dir))
    s = json.loads(r.output)
    assert {o["path"] for o in s["objects"]} >= {"/units", "/general/devices/probe0"}
