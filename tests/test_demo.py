"""`make demo` runs the offline tour and produces its pictures."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_make_demo_writes_the_tour_pictures(tmp_path):
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
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    names = {
        "dff_traces.png",
        "mean_image.png",
        "roi_outlines.png",
        "ephys_snippet.png",
        "unit_raster.png",
    }
    assert {p.name for p in out.iterdir()} == names
    import matplotlib.image as mpimg

    for name in names:
        img = mpimg.imread(out / name)[..., :3]
        assert (img.min(axis=2) < 0.98).mean() > 0.02, name  # something was drawn
    assert "search species=mouse modality=ophys area=VIS" in result.stdout
    assert "published versus draft" in result.stdout
