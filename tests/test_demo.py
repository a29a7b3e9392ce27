"""`make demo` runs the offline tour on real files, keeps its index and says how to go on."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from dandindex.demo import SHARED

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_make_demo_plots_real_files_and_keeps_its_index(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, DANDI_NO_ET="1")
    result = subprocess.run(
        ["make", "-s", "demo", f"DEMO_OUT={out}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = result.stdout
    assert result.returncode == 0, log[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    real = (SHARED / "nwb" / "manifest.json").is_file()
    names = {"generated_ephys_snippet.png", "generated_dff_traces.png", "omezarr_preview.png",
             "video_frame.png", "pose_on_video.png"}  # fmt: skip
    if real:
        names |= {
            "real_ophys_traces.png",
            "real_ophys_rois.png",
            "real_units_raster.png",
            "real_unit_waveforms.png",
        }
    else:
        names |= {"generated_roi_outlines.png", "generated_unit_raster.png"}
    pictures = out / "pictures"
    assert {p.name for p in pictures.glob("*.png")} == names
    import matplotlib.image as mpimg

    for name in names:
        img = mpimg.imread(pictures / name)[..., :3]
        assert (img.min(axis=2) < 0.98).mean() > 0.02, name  # something was drawn
    steps = [int(m) for m in re.findall(r"^\s*(\d+)\. ", log, re.M)]
    assert steps == list(range(1, len(steps) + 1)), log  # numbered once each, in order
    assert "search species=mouse modality=ophys area=VIS" in log
    assert "published versus draft" in log
    assert "with errors" not in log
    if real:
        manifest = json.loads((SHARED / "nwb" / "manifest.json").read_text())
        hdf5 = sum(1 for m in manifest if m["format"] == "HDF5")  # every one is read
        assert f"({hdf5} of them the real files of 900010)" in log
        assert re.search(r"search area=thalamus: \d+ assets? in 1 dandiset \(900010\)", log)
        assert "NWB assets of the corpus indexed from metadata only" in log
    assert f"export DANDINDEX_INDEX={out / 'index'}" in log
    info = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "dandindex"), "info", "--index", str(out / "index")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert info.returncode == 0 and "NWB summaries" in info.stdout, info.stderr
    # the crawl's duration the tour prints is the one `info` prints
    took = re.search(r"crawled \S+ in (\d+ (?:s|min))", log)
    assert took and f"({took.group(1)})" in info.stdout, (log, info.stdout)
    assert re.search(r"other files: \d+ described from their headers", log)
    for search in ("file_format=ome-zarr voxel_max=1um", "file_format=video fps_min=50",
                   "bids=SamplingFrequency=1000"):  # fmt: skip
        assert re.search(rf"search {search}: [1-9]\d* assets? in 1 dandiset", log), search
    # a second tour replaces what the first made, and nothing else
    (out / "keep.txt").write_text("mine")
    again = subprocess.run(
        ["make", "-s", "demo", f"DEMO_OUT={out}"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "keep.txt").read_text() == "mine"
    assert {p.name for p in pictures.glob("*.png")} == names
