"""Search inside the files: ``--has``, ``--column``, durations and ``--area-all``, checked
against what h5py itself finds in the real files of ../shared/nwb (computed here, not
pasted), and against the sessions the cohort fixture wrote."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.testing.cohort import SESSIONS

from conftest import need_shared_nwb


def _h5_facts(path: Path) -> dict:
    """What h5py's own visit finds: typed objects' names and paths (/specifications left
    out), tables' ``name.column`` from their colnames, and each series' samples / rate."""
    import h5py
    import numpy as np

    names, paths, columns, durations = set(), set(), set(), {}
    with h5py.File(path, "r") as f:

        def visit(name: str, obj) -> None:
            if name.startswith("specifications"):
                return
            if "neurodata_type" not in obj.attrs:
                return
            paths.add("/" + name.lower())
            names.add(name.rsplit("/", 1)[-1].lower())
            if "colnames" in obj.attrs:
                for c in obj.attrs["colnames"]:
                    c = c.decode() if isinstance(c, bytes) else str(c)
                    columns.add(f"{name.rsplit('/', 1)[-1]}.{c}".lower())
            if isinstance(obj, h5py.Group) and "data" in obj and "starting_time" in obj:
                rate = obj["starting_time"].attrs.get("rate")
                data = obj["data"]
                if rate and isinstance(data, h5py.Dataset) and data.shape and data.shape[0]:
                    durations["/" + name] = data.shape[0] / float(np.asarray(rate))

        f.visititems(visit)
    return {"names": names, "paths": paths, "columns": columns, "durations": durations}


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory, cohort_files):
    """The HDF5 files of ../shared/nwb and the cohort's sessions, crawled with --nwb:
    ``(index folder, {asset path: facts from h5py}, {asset path: local file})``."""
    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.testing.archive import ArchiveServer
    from dandindex.testing.generate import archive_of_files

    root = need_shared_nwb()
    entries = json.loads((root / "manifest.json").read_text())
    files = {f"f{i:02d}": root / e["file"] for i, e in enumerate(entries) if e["format"] == "HDF5"}
    files |= {f"cohort-{n}": p for n, p in cohort_files.items()}
    tmp = tmp_path_factory.mktemp("inside")
    assets = archive_of_files(tmp / "archive", files)
    with ArchiveServer(tmp / "archive") as srv:
        Crawler(
            CrawlOptions(api_url=srv.api_url, index_dir=str(tmp / "index"), nwb=True, nwb_workers=3)
        ).run()
    from dandindex.index import Index

    with Index(tmp / "index") as idx:
        by_id = {
            r["asset_id"]: r["path"] for r in idx.sql("SELECT asset_id, path FROM assets").rows()
        }
        errors = {
            r["asset_id"]
            for r in idx.sql("SELECT asset_id FROM nwb_files WHERE error IS NOT NULL").rows()
        }
    readable = {by_id[a]: p for a, p in assets.items() if a not in errors}
    facts = {path: _h5_facts(p) for path, p in readable.items()}
    return tmp / "index", facts, readable


def _found(index: Path, **facets) -> set[str]:
    from dandindex.index import Index

    with Index(index) as idx:
        return {r["path"] for r in idx.search(limit=None, **facets).rows()}


def _some(counter: Counter, total: int, n: int) -> list[str]:
    """Values some files hold and others do not, commonest first."""
    return [v for v, c in counter.most_common() if 0 < c < total][:n]


def test_has_finds_exactly_the_files_whose_h5py_visit_finds_the_name(shared_index):
    index, facts, _ = shared_index
    names = Counter(n for f in facts.values() for n in f["names"])
    chosen = _some(names, len(facts), 8) + ["running_speed", "natural_scenes_presentations"]
    assert len(set(chosen)) >= 8
    for name in dict.fromkeys(chosen):
        expected = {p for p, f in facts.items() if name in f["names"]}
        assert expected and len(expected) < len(facts), name
        assert _found(index, has=name) == expected, name
        assert _found(index, has=name.upper()) == expected  # names are matched in any case


def test_two_has_and_a_glob_and_a_path(shared_index):
    index, facts, _ = shared_index
    names = Counter(n for f in facts.values() for n in f["names"])
    a, b = next(
        (x, y)
        for x, y in itertools.combinations(_some(names, len(facts), 12), 2)
        if 0 < sum(1 for f in facts.values() if {x, y} <= f["names"]) < names[x]
    )
    both = {p for p, f in facts.items() if {a, b} <= f["names"]}
    assert _found(index, has=(a, b)) == both  # AND, not OR
    import fnmatch

    glob = {p for p, f in facts.items() if any(fnmatch.fnmatchcase(n, "elec*") for n in f["names"])}
    assert glob and _found(index, has="elec*") == glob
    path = "/processing/running/running_speed"
    with_path = {p for p, f in facts.items() if path in f["paths"]}
    assert len(with_path) >= sum(1 for s in SESSIONS if s.running)  # a real file has one too
    assert _found(index, has=path) == with_path
    assert _found(index, has=path.lstrip("/")) == with_path  # without the leading slash


def test_column_search_matches_colnames_read_with_h5py(shared_index):
    index, facts, _ = shared_index
    columns = Counter(c for f in facts.values() for c in f["columns"])
    chosen = _some(columns, len(facts), 6) + ["trials.reward", "units.quality"]
    for col in dict.fromkeys(chosen):
        expected = {p for p, f in facts.items() if col in f["columns"]}
        assert expected, col
        assert _found(index, column=col) == expected, col
    alone = {p for p, f in facts.items() if any(c.endswith(".reward") for c in f["columns"])}
    assert _found(index, column="reward") == alone  # a column of any table


def test_durations_are_samples_over_rate_as_h5py_reads_them(shared_index):
    index, facts, _ = shared_index
    from dandindex.index import Index

    checked = 0
    with Index(index) as idx:
        rows = idx.sql(
            "SELECT a.path AS file, o.path, o.duration FROM nwb_objects o JOIN assets a "
            "USING (asset_id) WHERE o.duration IS NOT NULL"
        ).rows()
        got = {(r["file"], r["path"]): r["duration"] for r in rows}
        files = {r["path"]: r["duration"] for r in idx.sql(
            "SELECT a.path, f.duration FROM nwb_files f JOIN assets a USING (asset_id)").rows()}  # fmt: skip
    for file, f in facts.items():
        for path, seconds in f["durations"].items():
            assert got[(file, path)] == pytest.approx(seconds), (file, path)
            checked += 1
        mine = [d for (fl, _), d in got.items() if fl == file]
        assert files[file] == (pytest.approx(max(mine)) if mine else None)
    assert checked >= 50
    # timestamps-only series get their first-to-last span (running speed at 10 Hz)
    for s in SESSIONS:
        if s.running:
            file = next(p for p in got if p[0].endswith(f"cohort-{s.name}.nwb"))[0]
            span = got[(file, "/processing/running/running_speed")]
            assert span == pytest.approx(s.seconds - 0.1, abs=1e-6)
    long = {p for p, d in files.items() if d is not None and d >= 600}
    assert _found(index, duration_min="10min") == long
    assert _found(index, duration_min=600) == long
    assert _found(index, duration_min="1h") == {p for p, d in files.items() if d and d >= 3600}


def test_bad_input_gets_the_closest_names(shared_index):
    index = shared_index[0]
    runner = CliRunner()
    for args, words in [
        (["--column", "trails.reward"], ["No table 'trails'", "trials"]),
        (["--column", "units.qualty"], ["no column 'qualty'", "quality"]),
        (["--has", ""], ["--has needs a name"]),
        (["--has", "runing_speed"], ["Closest", "running_speed"]),
        (["--has", "zzz*"], ["matches 'zzz*'", "Closest"]),
        (["--duration-min", "ten minutes"], ["not a duration", "10min"]),
    ]:
        r = runner.invoke(cli, ["search", *args, "--index", str(index)])
        assert r.exit_code != 0, args
        assert "Traceback" not in r.output
        for w in words:
            assert w in r.output, (args, r.output)


def test_area_all_needs_every_area_in_the_same_file(shared_index):
    index = shared_index[0]
    for areas in [
        ("VISp", "VISl"),
        ("VISp",),
        ("VISpm", "VISp"),
        ("VISal", "VISp"),
        ("VIS", "CA1"),
    ]:
        from dandindex.vocab.areas import ancestors, resolve_areas

        def holds(s, term):
            wanted = {a.acronym for a in resolve_areas(term)}
            here = set(s.units) | ({s.plane} if s.plane else set())
            tree = {x for a in here for r in resolve_areas(a) for x in (r.acronym, *ancestors(r))}
            return bool(wanted & tree)

        expected = {s.name for s in SESSIONS if all(holds(s, t) for t in areas)}
        found = {p.rsplit("_", 1)[-1].removesuffix(".nwb").removeprefix("cohort-")
                 for p in _found(index, area_all=areas) if "cohort-" in p}  # fmt: skip
        assert found == expected, areas
    assert _found(index, area_all=("VISp", "VISl")) < _found(index, file_area=("VISp", "VISl"))


def test_older_summaries_are_named_and_crawl_again_reads_them(shared_index, tmp_path):
    """An index whose summaries predate columns and durations says so when asked for them."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from dandindex.facets import write_facets
    from dandindex.index import Index

    copy = tmp_path / "index"
    shutil.copytree(shared_index[0], copy)
    snap = next((copy / "snapshots").iterdir())
    f = pq.read_table(snap / "nwb_files.parquet")
    old = f.set_column(f.schema.get_field_index("summary_version"), "summary_version",
                       pa.nulls(len(f), pa.int64()))  # fmt: skip
    pq.write_table(old, snap / "nwb_files.parquet")
    write_facets(snap)
    with Index(copy) as idx:
        hits = idx.search(column="trials.reward")
        assert any(
            "summarised by an older dandindex" in n and "crawl --nwb" in n for n in hits.notes
        )
        assert not any("older" in n for n in idx.search(has="units").notes)  # names need no re-read


# ------------------------------------------------------- cohorts on the generated archive


def test_manifest_lists_each_match_once_with_its_digest(index_dir, generated, tmp_path):
    from dandindex.cohort import read_manifest
    from dandindex.index import Index

    out = tmp_path / "cohort.tsv"
    r = CliRunner().invoke(
        cli,
        ["search", "--species", "mouse", "--has", "running_speed", "--index", str(index_dir),
         "--manifest", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    header, rows = read_manifest(out)
    assert header["query"] == "dandindex search --species mouse --has running_speed"
    with Index(index_dir) as idx:
        hits = idx.search(species="mouse", has="running_speed", limit=None).rows()
        every = idx.search(species="mouse", has="running_speed", limit=None, versions="all")
        every = every.rows()
        assert header["snapshot"] == idx.manifest["snapshot"].rsplit("/", 1)[-1]
        assert header["crawled"].startswith(idx.manifest["crawl_started"])
    assert {h["asset_id"] for h in hits} == {r["asset_id"] for r in rows}
    assert len(rows) == len(hits) < len(every)  # once per asset, not per version
    for row in rows:
        versions = [h["version"] for h in every if h["asset_id"] == row["asset_id"]]
        published = sorted(v for v in versions if v != "draft")
        assert row["version"] == (published[-1] if published else "draft")
        att = generated.nwb_assets[row["asset_id"]]
        import hashlib

        assert row["sha256"] == hashlib.sha256(att.path.read_bytes()).hexdigest()
        assert int(row["size"]) == att.path.stat().st_size
        assert row["dandi_url"].startswith("http") and row["asset_id"] in {
            h["asset_id"] for h in hits
        }
    inside = CliRunner().invoke(
        cli, ["search", "--has", "units", "--index", str(index_dir), "--manifest",
              str(index_dir / "x.tsv")],
    )  # fmt: skip
    assert inside.exit_code != 0 and "inside the index" in inside.output


def test_area_pairs_and_visual_cohort_match_the_sessions(idx, generated):
    from dandindex import queries
    from dandindex.testing.nwbfiles import ECEPHYS_AREAS
    from dandindex.vocab.areas import resolve_area

    # the areas each file records itself, from what the fixtures wrote
    files = {s.name: {resolve_area(a).acronym for a in s.units} | ({s.plane} if s.plane else set())
             for s in SESSIONS}  # fmt: skip
    files["ecephys"] = {resolve_area(a).acronym for a in ECEPHYS_AREAS if resolve_area(a)}
    files["ophys"], files["icephys"] = {"VISp"}, {"MOp"}
    want = Counter(p for areas in files.values() for p in itertools.combinations(sorted(areas), 2))
    got = {
        (r["area_a"], r["area_b"]): r["sessions"] for r in queries.run(idx, "area_pairs", {}).rows()
    }
    assert got == dict(want)
    two = queries.run(idx, "area_pairs", {"min_sessions": 2}).rows()
    assert {(r["area_a"], r["area_b"]) for r in two} == {p for p, n in want.items() if n >= 2}

    cohort = {r["path"].rsplit("_ses-", 1)[-1].split("_")[0]: r
              for r in queries.run(idx, "visual_cohort", {}).rows()}  # fmt: skip
    visual = {"VISp", "VISl", "VISal", "VISpm"}
    expected = {
        s.name for s in SESSIONS if s.natural_scenes and s.running and visual & files[s.name]
    }
    assert set(cohort) == expected
    for name, row in cohort.items():
        s = next(x for x in SESSIONS if x.name == name)
        assert row["areas"] == sorted(visual & files[name])
        assert row["simultaneous"] == (len(visual & files[name]) >= 2)
        assert row["minutes"] == pytest.approx(round(s.seconds / 60, 1), abs=0.11)
        if s.kind == "ecephys":
            assert row["n_units"] == sum(s.units.values())
            for a in row["areas"]:
                assert f"{a}: {s.units[a]} electrodes" in row["per_area"]
        else:
            assert row["n_rois"] == s.rois


def test_hours_of_data_adds_up_the_durations(idx):
    from dandindex import queries

    rows = queries.run(idx, "hours_of_data", {}).rows()
    files = idx.sql("SELECT DISTINCT asset_id, duration FROM nwb_files WHERE error IS NULL").rows()
    every = next(r for r in rows if r["dimension"] == "all")
    assert every["files"] == len(files)
    assert every["files_with_duration"] == sum(f["duration"] is not None for f in files)
    assert every["hours"] == pytest.approx(sum(f["duration"] or 0 for f in files) / 3600, abs=1e-3)
    by_mod = {r["value"]: r for r in rows if r["dimension"] == "modality"}
    assert by_mod["ophys"]["files_with_duration"] >= 2
    assert sum(r["files"] for r in by_mod.values()) >= every["files"]


def test_info_says_what_the_files_hold(idx, index_dir):
    inside = idx.info()["nwb_inside"]
    files = idx.sql("SELECT duration FROM nwb_files WHERE error IS NULL").rows()
    assert inside["with_duration"] == sum(f["duration"] is not None for f in files) > 0
    assert inside["with_two_areas"] >= sum(1 for s in SESSIONS if len(s.units) >= 2)
    assert inside["older_summaries"] == 0
    r = CliRunner().invoke(cli, ["info", "--index", str(index_dir)])
    assert f"{inside['with_duration']:,} files with a known duration" in r.output
