"""docs/tour.ipynb, executed by nbconvert on a real kernel: its outputs are HTML tables and
PNG pictures, as a user sees them in Jupyter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tour.ipynb"


def executed(notebook: Path, index_dir: Path, tmp_path: Path) -> list:
    """The outputs of every code cell of `notebook` run by nbconvert on a real kernel over
    the index at `index_dir` (no cell may fail)."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat comes with the test extras")
    out = tmp_path / notebook.name
    env = dict(os.environ, DANDINDEX_INDEX=str(index_dir), DANDI_NO_ET="1")
    run = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         str(notebook), "--output", str(out), "--ExecutePreprocessor.timeout=300"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    outputs = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        errors = [o for o in c.outputs if o.output_type == "error"]
        # only a cell tagged as showing a mistake may end in one: its sentence, alone
        assert not errors or "raises-exception" in c.metadata.get("tags", []), errors
        outputs += c.outputs
    return outputs


@pytest.mark.slow
def test_the_tour_notebook_renders_tables_and_pictures(index_dir, server, tmp_path):
    outputs = executed(NOTEBOOK, index_dir, tmp_path)
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    png = [o for o in outputs if "image/png" in o.get("data", {})]
    tables = [h for h in html if '<table class="dandindex-table">' in h]
    assert len(tables) >= 5, html  # search, dandisets, their assets, the handle's objects, SQL
    assert any(re.search(r"\d assets?</caption>", h) for h in tables)
    assert any(re.search(r"\d dandisets?</caption>", h) for h in tables)
    assert any("DfOverF" in h for h in html)  # the handle lists the file's objects
    assert len(png) == 4  # two plots, and hits.plot's two pictures, each a PNG
    assert all(len(o.data["image/png"]) > 10_000 for o in png)
    (mistake,) = [o for o in outputs if o.output_type == "error"]
    text = "\n".join(mistake.traceback)
    assert mistake.ename == "UsageError" and "hipocampus" in text and "Closest" in text
    assert "Traceback" not in text and "File " not in text and "dandindex/" not in text
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"
                and "Traceback" in o.text]  # fmt: skip


COHORT = ROOT / "docs" / "cohort.ipynb"


@pytest.mark.slow
def test_the_cohort_notebook_shows_the_cohort_table(index_dir, server, tmp_path):
    """docs/cohort.ipynb on the tour's index: the parts found with --has, areas recorded
    together, the visual_cohort table (the two-area Neuropixels session flagged), units
    per area streamed from the file, a running-speed picture and a manifest."""
    from dandindex.testing.cohort import SESSIONS

    outputs = executed(COHORT, index_dir, tmp_path)
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    cohort = next(h for h in html if "simultaneous" in h and "per_area" in h)
    complete = [s for s in SESSIONS if s.natural_scenes and s.running]
    for s in SESSIONS:
        assert (s.name in cohort) == (s in complete), s.name
    assert "VISl: 3 electrodes; VISp: 5 electrodes" in cohort
    units = next(h for h in html if "<th>units</th>" in h or ">units<" in h and "session" in h)
    assert all(f"<td>{n}</td>" in units for n in (5, 3, 2))  # VISp, VISl, CA1 of npx-visp-visl
    assert any("pct_duration_known" in h for h in html)
    png = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(png) == 1 and len(png[0].data["image/png"]) > 10_000
    said = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert f"-> {len(complete)} assets" in said
