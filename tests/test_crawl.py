"""The metadata crawler against the local archive server (generated archives and the corpus)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.crawl import Crawler, CrawlOptions
from dandindex.schemas import TABLES
from dandindex.store import IndexStore
from dandindex.testing.archive import ArchiveServer
from dandindex.testing.generate import generate_archive

from conftest import API_KEY
from helpers import is_embargoed, read_folder, taxon


def crawl(srv, index: Path, **kw) -> object:
    opts = CrawlOptions(api_url=srv.api_url, index_dir=str(index), **kw)
    return Crawler(opts).run()


def table(index: Path, name: str) -> list[dict]:
    path = IndexStore(index).table_path(name)
    con = duckdb.connect()
    try:
        return con.sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table().to_pylist()
    finally:
        con.close()


def comparable(rows: list[dict], drop=("at",)) -> list[str]:
    return sorted(
        json.dumps({k: v for k, v in r.items() if k not in drop}, sort_keys=True, default=str)
        for r in rows
    )


# ----------------------------------------------------------------------------- corpus


@pytest.fixture(scope="module")
def corpus_index(corpus_server, tmp_path_factory):
    index = tmp_path_factory.mktemp("corpus-index")
    stats = crawl(corpus_server, index)
    return index, stats


def test_corpus_every_asset_once_with_the_files_counts(corpus_index, corpus):
    index, stats = corpus_index
    folder = read_folder(corpus)
    assets = [r for r in table(index, "assets") if r["version"] == "draft"]
    seen = Counter(r["asset_id"] for r in assets)
    assert all(n == 1 for n in seen.values())
    expected = {
        a["asset_id"]
        for k, d in folder.items()
        if not is_embargoed(d["draft"])
        for a in d["assets"]
    }
    assert set(seen) == expected
    per_ds = Counter(r["dandiset_id"] for r in assets)
    for k, d in folder.items():
        if not is_embargoed(d["draft"]):
            assert per_ds.get(k, 0) == len(d["assets"]), k
    assert stats.dandisets_failed == 0


def test_corpus_species_and_approach_counts_match_the_json(corpus_index, corpus):
    index, _ = corpus_index
    folder = read_folder(corpus)
    rows = [r for r in table(index, "assets") if r["version"] == "draft"]
    files = [a for d in folder.values() if not is_embargoed(d["draft"]) for a in d["assets"]]
    assert Counter(r["species_id"] for r in rows) == Counter(taxon(a["metadata"]) for a in files)
    want_approach: Counter[str] = Counter()
    for a in files:
        for ap in a["metadata"].get("approach") or []:
            want_approach[ap["name"]] += 1
    got_approach = Counter(ap for r in rows for ap in r["approach"])
    assert got_approach == want_approach
    want_fmt = Counter(a["metadata"].get("encodingFormat") for a in files)
    assert Counter(r["encoding_format"] for r in rows) == want_fmt
    # raw metadata kept byte-for-byte in meaning
    by_id = {a["asset_id"]: a for a in files}
    for r in rows[:500]:
        assert json.loads(r["metadata_json"]) == by_id[r["asset_id"]]["metadata"]


def test_corpus_versions_and_contributors(corpus_index, corpus):
    index, _ = corpus_index
    folder = read_folder(corpus)
    versions = {(r["dandiset_id"], r["version"]): r for r in table(index, "versions")}
    contributors = Counter((r["dandiset_id"], r["version"]) for r in table(index, "contributors"))
    for k, d in folder.items():
        if is_embargoed(d["draft"]):
            assert (k, "draft") not in versions
            continue
        want = ["draft"] + ([max(d["versions"])] if d["versions"] else [])
        assert sorted(v for (ds, v) in versions if ds == k) == sorted(want)
        for v in want:
            meta = d["draft"] if v == "draft" else d["versions"][v]["meta"]
            row = versions[(k, v)]
            assert json.loads(row["metadata_json"]) == meta
            assert row["name"] == meta.get("name")
            contrib = meta.get("contributor")
            assert contributors.get((k, v), 0) == (len(contrib) if isinstance(contrib, list) else 0)
    dandisets = {r["dandiset_id"]: r for r in table(index, "dandisets")}
    for k, d in folder.items():
        if is_embargoed(d["draft"]):
            continue
        assert dandisets[k]["latest_version"] == (max(d["versions"]) if d["versions"] else None)


def test_corpus_embargoed_only_with_the_key(corpus_server, corpus, tmp_path):
    folder = read_folder(corpus)
    embargoed = [k for k, d in folder.items() if is_embargoed(d["draft"])]
    assert embargoed, "the corpus has an embargoed dandiset"
    crawl(corpus_server, tmp_path, dandisets=[], include_embargoed=True, api_key=API_KEY)
    rows = table(tmp_path, "assets")
    for k in embargoed:
        assert sum(1 for r in rows if r["dandiset_id"] == k and r["version"] == "draft") == len(
            folder[k]["assets"]
        )
    files = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert API_KEY.encode() not in files


# ----------------------------------------------------------------------------- generated


@pytest.fixture
def archive_copy(generated, tmp_path):
    """A private copy of the generated archive that a test may change."""
    dst = tmp_path / "archive"
    shutil.copytree(generated.root, dst)
    return dst


@pytest.fixture
def own_server(archive_copy):
    with ArchiveServer(archive_copy, api_key=API_KEY) as srv:
        yield srv


def test_incremental_recrawl_costs_only_the_listing(own_server, archive_copy, tmp_path):
    index = tmp_path / "idx"
    first = crawl(own_server, index)
    assert first.dandisets_fetched == first.dandisets_total
    before = comparable(table(index, "assets"))
    own_server.counters.reset()
    second = crawl(own_server, index)
    assert second.dandisets_fetched == 0 and second.dandisets_unchanged == second.dandisets_total
    assert set(own_server.counters.requests) <= {"dandisets", "info", "other"}
    assert own_server.counters.requests["dandisets"] == 1
    assert comparable(table(index, "assets")) == before

    # change one dandiset (a new asset) and delete another
    folder = read_folder(archive_copy)
    changed = next(
        k
        for k, d in folder.items()
        if d["assets"] and not d["versions"] and not is_embargoed(d["draft"])
    )
    gone = next(
        k
        for k, d in folder.items()
        if k != changed and d["assets"] and not is_embargoed(d["draft"])
    )
    item = dict(folder[changed]["assets"][0])
    item["asset_id"] = "00000000-0000-4000-8000-00000000abcd"
    item["path"] = "sub-new/sub-new_ses-new_ecephys.nwb"
    item["modified"] = "2030-01-01T00:00:00.000000Z"
    item["metadata"] = dict(item["metadata"], path=item["path"], identifier=item["asset_id"])
    with open(archive_copy / "dandisets" / changed / "assets.jsonl", "a") as f:
        f.write(json.dumps(item) + "\n")
    shutil.rmtree(archive_copy / "dandisets" / gone)
    own_server.counters.reset()
    third = crawl(own_server, index)
    assert third.dandisets_fetched == 1 and third.dandisets_removed == 1
    assert own_server.counters.requests["version"] == 1  # only the changed dandiset's draft
    rows = table(index, "assets")
    assert "00000000-0000-4000-8000-00000000abcd" in {r["asset_id"] for r in rows}
    assert gone not in {r["dandiset_id"] for r in rows}
    assert gone not in {r["dandiset_id"] for r in table(index, "dandisets")}
    assert sum(1 for r in rows if r["dandiset_id"] == changed) == len(folder[changed]["assets"]) + 1
    # --full ignores the stamps
    own_server.counters.reset()
    full = crawl(own_server, index, full=True)
    assert full.dandisets_fetched == full.dandisets_total


def test_request_cost_is_one_per_version_plus_pages(own_server, archive_copy, tmp_path):
    folder = read_folder(archive_copy)
    own_server.counters.reset()
    stats = crawl(own_server, tmp_path / "idx")
    expected_pages = expected_meta = 0
    for d in folder.values():
        if is_embargoed(d["draft"]):
            continue
        versions = [("draft", d["assets"])] + (
            [(max(d["versions"]), d["versions"][max(d["versions"])]["assets"])]
            if d["versions"]
            else []
        )
        for _, assets in versions:
            expected_meta += 1
            expected_pages += -(-len(assets) // 1000)
    assert own_server.counters.requests["version"] == expected_meta
    assert own_server.counters.requests["assets"] == expected_pages
    assert own_server.counters.requests.get("asset", 0) == 0  # never one request per asset
    assert (
        stats.requests == own_server.counters.requests["dandisets"] + expected_meta + expected_pages
    )


def test_versions_modes(own_server, archive_copy, tmp_path):
    folder = read_folder(archive_copy)
    crawl(own_server, tmp_path / "all", versions="all")
    got = Counter(r["dandiset_id"] for r in table(tmp_path / "all", "versions"))
    for k, d in folder.items():
        if not is_embargoed(d["draft"]):
            assert got[k] == 1 + len(d["versions"])
    crawl(own_server, tmp_path / "draft", versions="draft")
    assert {r["version"] for r in table(tmp_path / "draft", "versions")} == {"draft"}


def test_malformed_metadata_is_recorded_and_rows_are_kept(own_server, generated, tmp_path):
    index = tmp_path / "idx"
    crawl(own_server, index)
    errors = table(index, "crawl_errors")
    bad = set(generated.malformed_assets)
    flagged = {e["asset_id"] for e in errors if e["stage"] == "asset_metadata"}
    assert bad <= flagged
    assets = {r["asset_id"]: r for r in table(index, "assets") if r["version"] == "draft"}
    assert bad <= set(assets)  # kept
    messages = " | ".join(e["error"] for e in errors if e["asset_id"] in bad)
    for needle in (
        "wasAttributedTo",
        "approach: expected a list",
        "unknown schema version",
        "dateModified",
        "contentSize",
    ):
        assert needle in messages
    # "approach" given as a string is kept as a one-item list
    kept = [
        r
        for r in assets.values()
        if r["asset_id"] in bad and r["approach"] == ["electrophysiology"]
    ]
    assert kept


def test_storms_of_429_and_503_are_survived(own_server, archive_copy, tmp_path):
    clean = tmp_path / "clean"
    crawl(own_server, clean)
    own_server.faults.add(
        kind="status", status=429, retry_after=1, path="/assets/$", count=2, every=3
    )
    own_server.faults.add(kind="status", status=503, path="/versions/", count=3, every=4)
    own_server.faults.add(kind="reset", path="/assets/$", count=1, every=2)
    stormy = tmp_path / "stormy"
    stats = crawl(own_server, stormy, full=True)
    assert stats.dandisets_failed == 0
    assert own_server.counters.statuses[429] == 2 and own_server.counters.statuses[503] == 3
    for name in ("assets", "versions", "contributors"):
        assert comparable(table(stormy, name)) == comparable(table(clean, name))


def test_a_failing_dandiset_fails_alone_and_keeps_its_old_rows(own_server, archive_copy, tmp_path):
    index = tmp_path / "idx"
    crawl(own_server, index)
    before = table(index, "assets")
    folder = read_folder(archive_copy)
    victim = next(
        k
        for k, d in folder.items()
        if d["assets"] and not d["versions"] and not is_embargoed(d["draft"])
    )
    # change every dandiset so all are re-read; the victim's asset listing is refused
    own_server.faults.add(
        kind="status", status=403, path=f"/dandisets/{victim}/versions/draft/assets/", count=None
    )
    result = CliRunner().invoke(
        cli, ["crawl", "--api-url", own_server.api_url, "--index", str(index), "--full", "--quiet"]
    )
    assert result.exit_code == 1
    assert victim in result.output
    errors = [e for e in table(index, "crawl_errors") if e["stage"] == "dandiset"]
    assert [e["dandiset_id"] for e in errors] == [victim]
    assert "403" in errors[0]["error"]
    after = table(index, "assets")
    assert comparable([r for r in after if r["dandiset_id"] == victim]) == comparable(
        [r for r in before if r["dandiset_id"] == victim]
    )
    assert len(after) == len(before)


def test_cli_crawl_prints_a_summary(own_server, tmp_path):
    result = CliRunner().invoke(
        cli, ["crawl", "--api-url", own_server.api_url, "--index", str(tmp_path / "i")]
    )
    assert result.exit_code == 0, result.output
    assert "Crawled" in result.output and "fetched" in result.output
    quiet = CliRunner().invoke(
        cli, ["crawl", "--api-url", own_server.api_url, "--index", str(tmp_path / "i"), "-q"]
    )
    assert quiet.exit_code == 0 and quiet.output == ""


def test_key_needed_for_embargoed_and_never_stored(own_server, generated, tmp_path, monkeypatch):
    monkeypatch.delenv("DANDI_API_KEY", raising=False)
    r = CliRunner().invoke(
        cli,
        [
            "crawl",
            "--api-url",
            own_server.api_url,
            "--index",
            str(tmp_path / "a"),
            "--include-embargoed",
        ],
    )
    assert r.exit_code == 1 and "DANDI_API_KEY" in r.output
    monkeypatch.setenv("DANDI_API_KEY", API_KEY)
    r = CliRunner().invoke(
        cli,
        [
            "crawl",
            "--api-url",
            own_server.api_url,
            "--index",
            str(tmp_path / "b"),
            "--include-embargoed",
        ],
    )
    assert r.exit_code == 0, r.output
    assert generated.embargoed in {x["dandiset_id"] for x in table(tmp_path / "b", "dandisets")}
    assert API_KEY not in r.output
    for p in (tmp_path / "b").rglob("*"):
        if p.is_file():
            assert API_KEY.encode() not in p.read_bytes(), p
    monkeypatch.setenv("DANDI_API_KEY", "wrong-key")
    r = CliRunner().invoke(
        cli, ["crawl", "--api-url", own_server.api_url, "--index", str(tmp_path / "c")]
    )
    assert r.exit_code == 1 and "refused" in r.output and "wrong-key" not in r.output


def test_dandiset_subset_keeps_the_rest(own_server, archive_copy, tmp_path):
    index = tmp_path / "idx"
    crawl(own_server, index)
    before = comparable(table(index, "assets"))
    one = next(
        d
        for d in read_folder(archive_copy)
        if not is_embargoed(read_folder(archive_copy)[d]["draft"])
    )
    stats = crawl(own_server, index, dandisets=[one], full=True)
    assert stats.dandisets_fetched == 1
    assert comparable(table(index, "assets")) == before


def test_rows_match_the_pydantic_models(own_server, tmp_path):
    index = tmp_path / "idx"
    crawl(own_server, index, nwb=True, nwb_workers=2)
    for name, model in TABLES.items():
        rows = table(index, name)
        assert rows or name in ("crawl_errors", "file_links")  # no NWB file names a video
        for row in rows[:200]:
            model.model_validate(row)


def test_nothing_half_written_when_a_crawl_dies(own_server, tmp_path):
    """kill -9 mid-crawl: the old snapshot stays readable; the rerun equals a clean crawl."""
    index = tmp_path / "idx"
    clean = tmp_path / "clean"
    crawl(own_server, clean)
    crawl(own_server, index, versions="draft")  # an older, different index to protect
    manifest_before = (index / "manifest.json").read_text()
    own_server.faults.latency = 0.15
    env = dict(os.environ, DANDI_NO_ET="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dandindex",
            "crawl",
            "--api-url",
            own_server.api_url,
            "--index",
            str(index),
            "--workers",
            "1",
            "--quiet",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        fresh: set[str] = set()
        while time.monotonic() < deadline:
            fresh = {
                p.parent.parent.name
                for p in (index / "parts").glob("*/*/part.json")
                if "latest" in p.read_text()
            }
            if len(fresh) >= 2:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert len(fresh) >= 2, "the crawl should have finished some dandisets before the kill"
    assert (
        index / "manifest.json"
    ).read_text() == manifest_before  # readers still see the old snapshot
    table(index, "assets")  # and it is readable
    own_server.faults.latency = 0.0
    own_server.counters.reset()
    resumed = crawl(own_server, index)
    assert resumed.dandisets_unchanged >= len(fresh)
    assert resumed.dandisets_fetched == resumed.dandisets_total - resumed.dandisets_unchanged
    for name in ("assets", "versions", "contributors", "dandisets"):
        assert comparable(table(index, name)) == comparable(table(clean, name)), name
    assert not list(index.rglob(".tmp-*"))


def test_generated_nwb_assets_carry_file_digests(own_server, generated, tmp_path):
    import hashlib

    crawl(own_server, tmp_path / "idx")
    rows = {r["asset_id"]: r for r in table(tmp_path / "idx", "assets") if r["version"] == "draft"}
    for asset_id, att in generated.nwb_assets.items():
        row = rows[asset_id]
        assert row["sha256"] == hashlib.sha256(att.path.read_bytes()).hexdigest()
        assert row["api_url"] == f"{own_server.api_url}/assets/{asset_id}/download/"
        assert row["subject_id"] == att.subject_id and row["session_id"] == att.session_id
        assert row["species_id"] == "http://purl.obolibrary.org/obo/NCBITaxon_10090"


def test_synthetic_archive_at_scale_is_crawled_in_bounded_requests(tmp_path):
    gen = generate_archive(
        tmp_path / "arch", n_dandisets=12, n_assets=6000, seed=11, embargoed=False
    )
    with ArchiveServer(gen.root) as srv:
        stats = crawl(srv, tmp_path / "idx", workers=4)
    assert stats.assets >= gen.n_assets
    assert stats.requests < gen.n_assets / 100


def test_parts_written_by_an_older_version_are_merged_with_new_columns_null(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dandindex.schemas import SCHEMAS
    from dandindex.store import TableWriter

    schema = SCHEMAS["nwb_files"]
    old = pa.schema([f for f in schema if f.name != "read_url"])  # the shape before read_url
    required = {"summary_key": "k", "experimenters": [], "keywords": []}
    required |= {"neurodata_types": [], "metadata_ranges": []}
    batch = pa.RecordBatch.from_pylist(
        [{"asset_id": "a1", "nwb_version": "2.7.0", "n_objects": 3, **required}], schema=old
    )
    w = TableWriter(tmp_path / "nwb_files.parquet", "nwb_files")
    w.add_batch(batch)
    w.add({"asset_id": "a2", "read_url": "http://x/blob", **required})
    w.close()
    table = pq.read_table(tmp_path / "nwb_files.parquet")
    assert table.schema.names == schema.names
    rows = {r["asset_id"]: r for r in table.to_pylist()}
    assert rows["a1"]["read_url"] is None and rows["a1"]["n_objects"] == 3
    assert rows["a2"]["read_url"] == "http://x/blob"


def test_identical_crawls_give_identical_search_tables(server, tmp_path):
    """Lists inside the facet tables are sorted: the same inputs give the same files."""
    import pyarrow.parquet as pq

    from dandindex.facets import FACET_TABLES

    for name in ("a", "b"):
        Crawler(
            CrawlOptions(
                api_url=server.api_url, index_dir=str(tmp_path / name), nwb=True, nwb_workers=2
            )
        ).run()
    snaps = [next((tmp_path / n / "snapshots").iterdir()) for n in ("a", "b")]
    for t in FACET_TABLES:
        a, b = (pq.read_table(s / f"{t}.parquet") for s in snaps)
        assert a.num_rows and a.equals(b), t
    facets = pq.read_table(snaps[0] / "asset_facets.parquet").to_pylist()
    for row in facets:
        for col in ("modalities", "types", "areas", "area_tree", "raw_areas", "rates"):
            assert row[col] == sorted(row[col]), col


def test_nwb_dandiset_reads_files_of_those_dandisets_only(server, generated, tmp_path):
    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.index import Index

    wanted = "000002"  # holds the ophys file (see the `generated` fixture)
    stats = Crawler(
        CrawlOptions(
            api_url=server.api_url,
            index_dir=str(tmp_path / "i"),
            nwb=True,
            nwb_workers=2,
            nwb_dandisets=[wanted],
        )
    ).run()
    with Index(tmp_path / "i") as idx:
        read = {
            r["dandiset_id"] for r in idx.sql("SELECT DISTINCT dandiset_id FROM nwb_files").rows()
        }
        nwb_assets = idx.sql(
            "SELECT count(*) AS n FROM assets WHERE encoding_format = 'application/x-nwb' "
            "AND dandiset_id <> $d AND version = 'draft'",
            {"d": wanted},
        ).rows()[0]["n"]
        assert idx.info()["options"]["nwb_dandisets"] == [wanted]
    assert read == {wanted}
    assert stats.nwb_not_read >= nwb_assets > 0
    assert "NWB assets metadata only" in stats.summary()


def test_summaries_of_an_older_walk_are_read_again_and_counted(server, tmp_path):
    """A cached summary carries the walk's version: one from an older dandindex (here: the
    unversioned shape, with a field the walk now fills blanked) is kept by a crawl without
    --nwb, said so, and read again by one with it, which fills the field."""
    import json

    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.index import Index
    from dandindex.nwb.shape import SUMMARY_VERSION

    index = tmp_path / "i"
    opts = {"api_url": server.api_url, "index_dir": str(index), "nwb_workers": 2}
    first = Crawler(CrawlOptions(nwb=True, **opts)).run()
    cached = sorted((index / "nwb").rglob("*.json"))
    readable = []
    for f in cached:
        s = json.loads(f.read_text())
        assert s["version"] == SUMMARY_VERSION
        if not s["file"].get("error"):
            readable.append(f)
        del s["version"]  # as the older dandindex wrote it
        s["file"]["n_objects"] = None
        f.write_text(json.dumps(s))
    assert readable and first.nwb_outdated == 0

    kept = Crawler(CrawlOptions(nwb=False, **opts)).run()
    assert kept.nwb_outdated_kept == len(cached)
    assert "from an older dandindex kept" in kept.summary()
    with Index(index) as idx:
        assert idx.sql("SELECT count(n_objects) AS n FROM nwb_files").rows()[0]["n"] == 0

    again = Crawler(CrawlOptions(nwb=True, **opts)).run()
    assert again.nwb_outdated == len(cached)
    assert "read again" in again.summary()
    with Index(index) as idx:
        n = idx.sql("SELECT count(n_objects) AS n FROM nwb_files").rows()[0]["n"]
    assert n == len(readable)
    assert all(json.loads(f.read_text())["version"] == SUMMARY_VERSION for f in cached)


def test_suspicious_paths_sizes_and_names_are_kept_with_an_error_row(archive_copy, tmp_path):
    """Paths with '..', absolute ones, NUL or control characters, negative or missing
    sizes, a metadata.path other than the listed one, and dandiset names that are missing
    or a megabyte long: every row is kept as given, each gets an error row, and such a path
    never becomes a file name."""
    from dandindex.display import file_stem

    folder = read_folder(archive_copy)
    ds = next(k for k, d in folder.items() if len(d["assets"]) >= 8 and not d["versions"])
    listing = archive_copy / "dandisets" / ds / "assets.jsonl"
    items = [json.loads(line) for line in listing.read_text().splitlines()]
    bad_paths = ["../../etc/passwd.nwb", "/abs/sub-1.nwb", "sub-1/a\x00b.nwb", "sub-1/\x1b[2Jx.nwb"]
    changes = {}
    for item, p in zip(items, bad_paths, strict=False):
        item["path"] = item["metadata"]["path"] = p
        changes[item["asset_id"]] = "path"
    items[4]["size"] = -5
    changes[items[4]["asset_id"]] = "size"
    items[5]["size"] = None
    items[5]["metadata"].pop("contentSize", None)
    changes[items[5]["asset_id"]] = "size"
    items[6]["metadata"]["path"] = "somewhere/else.nwb"
    changes[items[6]["asset_id"]] = "metadata.path"
    listing.write_text("".join(json.dumps(i) + "\n" for i in items))
    others = [k for k, d in folder.items() if k != ds and not is_embargoed(d["draft"])][:2]
    names = {others[0]: "x" * 1_000_000, others[1]: None}
    for k, name in names.items():
        meta_file = archive_copy / "dandisets" / k / "dandiset.json"
        meta = json.loads(meta_file.read_text())
        meta["name"] = name
        meta_file.write_text(json.dumps(meta))

    with ArchiveServer(archive_copy, api_key=API_KEY) as srv:
        crawl(srv, tmp_path / "idx")
    assets = {(r["asset_id"], r["version"]): r for r in table(tmp_path / "idx", "assets")}
    errors = table(tmp_path / "idx", "crawl_errors")
    for asset_id, what in changes.items():
        assert (asset_id, "draft") in assets, "the row is kept"
        mine = [e for e in errors if e["asset_id"] == asset_id and e["stage"] == "asset_metadata"]
        assert any(e["error"].startswith(f"{what}:") for e in mine), (
            what,
            mine,
            assets[(asset_id, "draft")]["size"],
        )
    kept = [assets[(i["asset_id"], "draft")]["path"] for i in items[:4]]
    assert kept == bad_paths  # as given
    for p in bad_paths:
        stem = file_stem(p)
        assert stem and all(c.isalnum() or c in "-_" for c in stem), stem
    for k in names:
        mine = [e for e in errors if e["dandiset_id"] == k and e["stage"] == "version_metadata"]
        assert any(e["error"].startswith("name:") for e in mine), (k, mine)
    versions = {r["dandiset_id"]: r for r in table(tmp_path / "idx", "versions")}
    assert len(versions[others[0]]["name"]) == 1_000_000
