"""Every facet of the registry reaches every surface: CLI options, `Index.search` keywords,
the web form, `describe()`, the README's option list; an index whose search tables are
older is a sentence, and opening it changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.errors import IndexOutdatedError, UsageError
from dandindex.index import Index
from dandindex.query import SearchQuery
from dandindex.registry import FACETS, Range, RangeFacet

README = Path(__file__).resolve().parents[1] / "README.md"


def flags() -> list[str]:
    return [o.flag for f in FACETS for o in f.options()]


def test_every_facet_is_a_search_option_and_in_the_readme():
    help_text = CliRunner().invoke(cli, ["search", "--help"]).output
    readme = README.read_text(encoding="utf-8")
    for flag in flags():
        assert flag in help_text, flag
        assert flag in readme, f"{flag} is not in the README's option list"


def test_every_keyword_and_flag_reads_back_the_same(idx):
    q = SearchQuery.from_keywords(
        modality="ecephys", species="mouse", area="CA1", file_area="CA1", types=["Units"],
        dandiset="1",
        min_units=1, max_units=10**6, min_electrodes=1, rate_max=10**6, size_min="1kB",
        area_all=["VISp", "VISl"], has=["units"], column="units.quality", duration_min="1min",
        format="nwb", voxel_max="500nm", channels="GFP", fps_min=30, bids="TaskName=rest",
    )  # fmt: skip
    assert q.size == Range(min=1000) and q.type == ("Units",) and q.dandiset == ("1",)
    assert q.duration == Range(min=60) and q.has == ("units",)
    assert q.voxel == Range(max=0.5) and q.file_format == ("nwb",) and q.channel == ("GFP",)
    assert set(q.given()) == {f.name for f in FACETS}
    words = q.describe().split()
    for flag in flags():
        if flag not in ("--max-electrodes", "--rate-min", "--size-max", "--duration-max",
                        "--voxel-min", "--fps-max"):  # fmt: skip
            assert flag in words, flag
    with pytest.raises(UsageError, match="channel|BIDS"):  # this index holds no such files
        idx.run_search(q)
    q = q.replace(voxel=None, channel=None, fps=None, bids=None)
    assert idx.run_search(q).total == idx.count(q)


def test_the_web_form_reads_every_facet():
    from werkzeug.datastructures import MultiDict

    from dandindex.ui.views import _query

    args = MultiDict()
    for facet in FACETS:
        for field in facet.fields():
            value = {"terms": "x", "number": "5", "size": "2GB", "duration": "5s",
                     "length": "5um", "text": "x, y"}[field.input]  # fmt: skip
            args.add(field.param, value)
    query, _ = _query(args)
    for facet in FACETS:
        assert getattr(query, facet.name), facet.name
        if isinstance(facet, RangeFacet):
            lo, hi = getattr(query, facet.name).min, getattr(query, facet.name).max
            assert lo == hi == (2e9 if facet.number == "size" else 5)
        elif facet.fields()[0].input == "text":  # comma-separated: each a value
            assert getattr(query, facet.name) == ("x", "y")
    bad = MultiDict([("size_min", "lots")])
    with pytest.raises(UsageError, match="not a size"):
        _query(bad)
    with pytest.raises(UsageError, match="not a length"):
        _query(MultiDict([("voxel_max", "5 parsec")]))


def test_unknown_keyword_and_facet_are_sentences():
    with pytest.raises(UsageError, match="Closest: species"):
        SearchQuery.from_keywords(specie="mouse")
    with pytest.raises(UsageError, match="Unknown facet"):
        SearchQuery(speceis="mouse")


def test_an_index_with_older_search_tables_says_to_crawl_again(index_dir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(index_dir, old)
    snap = next((old / "snapshots").iterdir())
    bitmaps = snap / "facet_bitmaps.parquet"
    table = pq.read_table(bitmaps)
    pq.write_table(table.replace_schema_metadata({}), bitmaps)  # as an older version wrote it
    before = {p: p.stat().st_mtime_ns for p in old.rglob("*")}
    with Index(old) as idx, pytest.raises(IndexOutdatedError, match="dandindex crawl --index"):
        idx.search(species="mouse")
    assert {p: p.stat().st_mtime_ns for p in old.rglob("*")} == before  # nothing derived
    (snap / "facet_bitmaps.parquet").unlink()  # before the bitmaps existed at all
    before = {p: p.stat().st_mtime_ns for p in old.rglob("*")}
    r = CliRunner().invoke(cli, ["search", "--index", str(old), "--species", "mouse"])
    assert r.exit_code == 1 and "derives them again" in r.output and "Traceback" not in r.output
    assert {p: p.stat().st_mtime_ns for p in old.rglob("*")} == before  # nothing derived
