"""The query layer: Index, SQL, named queries and faceted search, on real crawled indexes."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from dandindex import queries
from dandindex.cli import cli
from dandindex.crawl import Crawler, CrawlOptions
from dandindex.errors import DandindexError, IndexNotFoundError
from dandindex.index import Index, QueryError
from dandindex.testing.cohort import SESSIONS
from dandindex.testing.nwbfiles import ECEPHYS_AREAS, N_ELECTRODES, N_UNITS

from helpers import cohort_assets, is_embargoed, modality_assets, read_folder, taxon

MOUSE = "http://purl.obolibrary.org/obo/NCBITaxon_10090"


def test_missing_index_names_the_path(tmp_path):
    with pytest.raises(IndexNotFoundError, match=str(tmp_path / "nope")):
        Index(tmp_path / "nope")


def test_sql_counts_and_params(idx):
    counts = idx.info()["row_counts"]
    for table in idx.tables():
        assert idx.sql(f"SELECT count(*) AS n FROM {table}").rows()[0]["n"] == counts[table]
    some = idx.sql("SELECT dandiset_id FROM dandisets LIMIT 1").rows()[0]["dandiset_id"]
    got = idx.sql("SELECT count(*) AS n FROM assets WHERE dandiset_id = $d", {"d": some}).rows()[0][
        "n"
    ]
    assert got == sum(
        1 for _ in idx.sql("SELECT 1 FROM assets WHERE dandiset_id = ?", [some]).rows()
    )
    df = idx.sql("SELECT * FROM dandisets").to_pandas()
    assert len(df) == counts["dandisets"]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE x AS SELECT 1",
        "COPY (SELECT 1) TO '/tmp/dandindex-should-not-exist.csv'",
        "ATTACH 'evil.db'",
        "DROP VIEW assets",
        "INSTALL httpfs",
        "SELECT 1; SELECT 2",
        "SET threads = 1",
    ],
)
def test_sql_refuses_anything_that_writes(idx, statement):
    with pytest.raises(QueryError):
        idx.sql(statement)
    assert not Path("/tmp/dandindex-should-not-exist.csv").exists()
    assert idx.sql("SELECT count(*) AS n FROM assets").rows()[0]["n"] > 0


def test_schema_and_info(idx, server):
    cols = [c[0] for c in idx.schema("assets")]
    assert cols[:4] == ["asset_id", "dandiset_id", "version", "path"]
    with pytest.raises(DandindexError, match="assets"):
        idx.schema("asets")
    info = idx.info()
    assert info["api_url"] == server.api_url and info["row_counts"]["assets"] > 0


# ----------------------------------------------------------------------------- CLI output


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "parquet"])
def test_sql_command_every_format(index_dir, fmt, tmp_path):
    q = "SELECT dandiset_id, asset_count FROM dandisets ORDER BY dandiset_id"
    with Index(index_dir) as i:
        want = i.sql(q).rows()
    args = ["sql", q, "--index", str(index_dir), "--format", fmt]
    if fmt == "parquet":
        args += ["--out", str(tmp_path / "o.parquet")]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    if fmt == "json":
        assert json.loads(r.output) == want
    elif fmt == "jsonl":
        assert [json.loads(line) for line in r.output.splitlines()] == want
    elif fmt == "csv":
        lines = r.output.splitlines()
        assert lines[0] == "dandiset_id,asset_count" and len(lines) == len(want) + 1
        assert lines[1] == f"{want[0]['dandiset_id']},{want[0]['asset_count']}"
    elif fmt == "parquet":
        assert pq.read_table(tmp_path / "o.parquet").to_pylist() == want
    else:
        assert r.output.splitlines()[0].split() == ["dandiset_id", "asset_count"]
        assert len(r.output.splitlines()) == len(want) + 2


def test_limit_says_so_on_stderr_and_stdin_and_params(index_dir):
    r = CliRunner().invoke(
        cli,
        [
            "sql",
            "SELECT * FROM assets",
            "--index",
            str(index_dir),
            "--format",
            "json",
            "--limit",
            "2",
        ],
    )
    assert r.exit_code == 0
    assert "Showing the first 2 rows; more matched: raise --limit." in r.stderr
    assert len(json.loads(r.stdout)) == 2
    r = CliRunner().invoke(
        cli,
        ["sql", "-", "--index", str(index_dir), "--format", "jsonl", "--param", "n=3"],
        input="SELECT range AS i FROM range($n)",
    )
    assert [json.loads(x)["i"] for x in r.stdout.splitlines()] == [0, 1, 2]
    bad = CliRunner().invoke(cli, ["sql", "DELETE FROM assets", "--index", str(index_dir)])
    assert bad.exit_code == 1 and "read-only" in bad.output


def test_commands_without_an_index_say_what_to_do(tmp_path):
    r = CliRunner().invoke(cli, ["tables", "--index", str(tmp_path / "none")])
    assert r.exit_code == 1 and "dandindex crawl" in r.output


# ----------------------------------------------------------------------------- named queries

NAMES = sorted(queries.load())


def test_at_least_ten_named_queries_with_descriptions():
    assert len(NAMES) >= 10
    assert all(q.description for q in queries.load().values())


@pytest.mark.parametrize("name", NAMES)
def test_every_named_query_runs(idx, name):
    result = queries.run(idx, name, {"since": "2020-01-01"})
    assert result.columns


def test_named_query_results_match_the_sources(idx, generated):
    folder = read_folder(generated.root)
    visible = {k: d for k, d in folder.items() if not is_embargoed(d["draft"])}
    unpublished = {r["dandiset_id"] for r in queries.run(idx, "unpublished_dandisets", {}).rows()}
    assert unpublished == {k for k, d in visible.items() if not d["versions"]}
    per = {
        (r["dandiset_id"], r["version"]): r["assets"]
        for r in queries.run(idx, "assets_per_dandiset", {}).rows()
    }
    for k, d in visible.items():
        if d["assets"]:
            assert per[(k, "draft")] == len(d["assets"])
    types = {
        r["neurodata_type"]: r["files"] for r in queries.run(idx, "neurodata_types", {}).rows()
    }
    objects = pa.Table.from_pylist(
        idx.sql("SELECT asset_id, neurodata_type FROM nwb_objects").rows()
    )
    want = Counter(
        t for _, t in {(r["asset_id"], r["neurodata_type"]) for r in objects.to_pylist()}
    )
    assert types == dict(want)
    ophys = queries.run(idx, "ophys_visual_cortex", {}).rows()
    ophys_file = modality_assets(generated)["ophys"]
    assert ophys_file in {r["asset_id"] for r in ophys}
    areas = {r["area"]: r for r in queries.run(idx, "areas_most_units", {}).rows()}
    # the units of the files recording in an area (one file here), its electrodes there
    from dandindex.testing.cohort import SESSIONS

    in_ca1 = [s for s in SESSIONS if "CA1" in s.units]  # the cohort's sessions there too
    assert areas["CA1"]["units"] == N_UNITS + sum(sum(s.units.values()) for s in in_ca1)
    assert areas["CA1"]["electrodes"] == ECEPHYS_AREAS["CA1"] + sum(s.units["CA1"] for s in in_ca1)
    assert queries.run(idx, "changed_since", {"since": "2999-01-01"}).rows() == []
    with pytest.raises(DandindexError, match="since"):
        queries.run(idx, "changed_since", {})


def test_user_queries_folder(tmp_path, monkeypatch, idx):
    (tmp_path / "mine.sql").write_text("-- name: mine\n-- description: mine\nSELECT $x AS x\n")
    monkeypatch.setenv("DANDINDEX_QUERIES", str(tmp_path))
    assert queries.run(idx, "mine", {"x": 5}).rows() == [{"x": 5}]
    r = CliRunner().invoke(cli, ["query", "list", "--format", "json"])
    assert "mine" in {q["name"] for q in json.loads(r.output)}


# ----------------------------------------------------------------------------- search


def summary_taxa(meta):
    """The taxon URIs a version's assetsSummary lists, from the raw JSON."""
    out = set()
    for sp in (meta.get("assetsSummary") or {}).get("species") or []:
        digits = "".join(
            ch for ch in str(sp.get("identifier", "")).rsplit("_", 1)[-1] if ch.isdigit()
        )
        if digits:
            out.add(f"http://purl.obolibrary.org/obo/NCBITaxon_{int(digits)}")
    return out


def test_species_synonyms_match_on_taxon(idx, generated):
    """Mice by every name; an asset with no species of its own has its dandiset's."""
    folder = read_folder(generated.root)
    want = {
        (a["asset_id"], k)
        for k, d in folder.items()
        if not is_embargoed(d["draft"])
        for a in d["assets"]
        if taxon(a["metadata"]) == MOUSE
        or (taxon(a["metadata"]) is None and MOUSE in summary_taxa(d["draft"]))
    }
    results = []
    for term in ["mouse", "Mus musculus", "10090", "NCBITaxon_10090", MOUSE, "house mouse"]:
        rows = idx.search(species=term, dandiset=None, versions="all").rows()
        results.append({(r["asset_id"], r["dandiset_id"]) for r in rows if r["version"] == "draft"})
    assert all(r == results[0] for r in results)
    assert results[0] == want and want
    inherited = {
        a["asset_id"] for d in folder.values() for a in d["assets"] if taxon(a["metadata"]) is None
    }
    assert {a for a, _ in want} & inherited, "the fixture should have an asset that inherits"


def test_modalities_respect_the_type_hierarchy(idx, generated):
    ids = modality_assets(generated)

    def found(**kw):
        return {r["asset_id"] for r in idx.search(**kw).rows()}

    assert ids["ecephys"] in found(modality="ecephys")
    assert ids["icephys"] in found(modality="icephys") and ids["icephys"] not in found(
        type="ElectricalSeries"
    )
    assert ids["ophys"] in found(modality="ophys") and ids["ophys"] not in found(
        modality="ecephys", type="NWBFile"
    )
    assert ids["icephys"] in found(type="PatchClampSeries")
    assert set(ids.values()) <= found(type="TimeSeries")
    assert found(modality="ephys") == found(modality="ecephys")  # alias


def test_brain_area_hierarchy_synonyms_and_raw_text(idx, generated):
    ids = modality_assets(generated)

    def found(*areas):  # what the files themselves record (--area adds dandiset anatomy)
        files = {r["asset_id"] for r in idx.search(file_area=list(areas)).rows()}
        assert files <= {r["asset_id"] for r in idx.search(area=list(areas)).rows()}
        return files

    vis = found("VIS")
    assert {ids["ecephys"], ids["ophys"]} <= vis
    assert found("visual areas") == vis
    assert found("V1") == found("VISp") >= {ids["ophys"]}
    assert ids["ecephys"] in found("hippocampus") and ids["ophys"] not in found("hippocampus")
    cohort = cohort_assets(generated)
    in_ca1 = {cohort[s.name] for s in SESSIONS if "CA1" in s.units}
    assert in_ca1 and found("CA1") == {ids["ecephys"]} | in_ca1
    assert ids["icephys"] in found("MOp") and ids["icephys"] in found("Isocortex")
    assert found("depth") == {ids["ecephys"]}  # raw text of "area: VISp, depth: 175"
    assert found("CA1", "MOp") == found("CA1") | found("MOp")  # repeating a facet ORs


def test_counts_rates_sizes_and_levels(idx, generated):
    ids = modality_assets(generated)
    cohort = cohort_assets(generated)
    units = {cohort[s.name]: sum(s.units.values()) for s in SESSIONS}
    most = max(N_UNITS, *units.values())
    want = {a for a, n in {**units, ids["ecephys"]: N_UNITS}.items() if n >= N_UNITS}
    assert {r["asset_id"] for r in idx.search(min_units=N_UNITS).rows()} == want
    assert idx.search(min_units=most + 1).rows() == []
    assert {r["asset_id"] for r in idx.search(min_electrodes=N_ELECTRODES).rows()} == {
        ids["ecephys"]
    }
    assert idx.search(min_electrodes=N_ELECTRODES + 1).rows() == []
    fast = {r["asset_id"] for r in idx.search(rate_min=10000).rows()}
    assert fast == {ids["ecephys"], ids["icephys"]}
    assert ids["ophys"] in {r["asset_id"] for r in idx.search(rate_min=29, rate_max=31).rows()}
    sizes = sorted(
        r["size"] for r in idx.sql("SELECT size FROM assets WHERE size IS NOT NULL").rows()
    )
    cut = sizes[len(sizes) // 10]  # a tenth of the assets or so, never none
    want = {
        r["asset_id"]
        for r in idx.sql("SELECT asset_id FROM assets WHERE size <= $c", {"c": cut}).rows()
    }
    small = idx.search(size_max=cut).rows()
    assert want and {r["asset_id"] for r in small} == want
    assert all(r["size"] <= cut for r in small)
    ds = idx.search(species="mouse", level="dandiset").rows()
    assert {r["dandiset_id"] for r in ds} == {
        r["dandiset_id"] for r in idx.search(species="mouse").rows()
    }
    limited = idx.search(limit=3)
    assert len(limited) == 3 and limited.truncated


def test_text_search_and_injection_are_just_text(idx, generated):
    folder = read_folder(generated.root)
    word = "egg-laying"
    want = {
        k
        for k, d in folder.items()
        if word in d["draft"]["name"].lower() and not is_embargoed(d["draft"])
    }
    got = {r["dandiset_id"] for r in idx.search(word).rows()}
    assert got == want and want
    for evil in [
        "'; DROP TABLE assets; --",
        "x' OR '1'='1",
        "); DELETE FROM assets; --",
        "$species",
    ]:
        assert len(idx.search(evil)) == 0
        assert len(idx.search(dandiset=evil)) == 0
    assert idx.sql("SELECT count(*) AS n FROM assets").rows()[0]["n"] > 0


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"species": "mousse"}, "mouse"),
        ({"modality": "ophis"}, "ophys"),
        ({"area": "VISpp"}, "VISp"),
        ({"type": "ElectricalSerie"}, "ElectricalSeries"),
    ],
)
def test_unknown_facet_values_suggest_the_closest(idx, kwargs, needle):
    with pytest.raises(DandindexError) as e:
        idx.search(**kwargs)
    assert needle in str(e.value)


def test_search_command(index_dir):
    r = CliRunner().invoke(
        cli,
        [
            "search",
            "--index",
            str(index_dir),
            "--species",
            "mouse",
            "--area",
            "VIS",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows and {
        "asset_id",
        "dandiset_id",
        "version",
        "path",
        "size",
        "species",
        "modalities",
        "areas",
        "api_url",
    } <= set(rows[0])
    r = CliRunner().invoke(cli, ["search", "--index", str(index_dir), "--area", "nowhere-at-all"])
    assert r.exit_code == 2 and "Closest" in r.output  # a value the command cannot use


# ----------------------------------------------------------------------------- corpus


def test_corpus_facets_match_the_json(corpus_server, corpus, tmp_path):
    folder = read_folder(corpus)
    Crawler(
        CrawlOptions(api_url=corpus_server.api_url, index_dir=str(tmp_path), versions="draft")
    ).run()
    with Index(tmp_path) as i:
        for term, uri in (
            ("mouse", MOUSE),
            ("human", "http://purl.obolibrary.org/obo/NCBITaxon_9606"),
            ("rat", "http://purl.obolibrary.org/obo/NCBITaxon_10116"),
        ):
            got = {r["asset_id"] for r in i.search(species=term).rows()}
            want = {  # its own species, else its dandiset's
                a["asset_id"]
                for d in folder.values()
                if not is_embargoed(d["draft"])
                for a in d["assets"]
                if taxon(a["metadata"]) == uri
                or (taxon(a["metadata"]) is None and uri in summary_taxa(d["draft"]))
            }
            assert got == want, term
        ecephys = {r["asset_id"] for r in i.search(modality="ecephys").rows()}
        approach = {
            a["asset_id"]
            for d in folder.values()
            if not is_embargoed(d["draft"])
            for a in d["assets"]
            if any(
                "electrophysiological" in (x.get("name") or "")
                for x in a["metadata"].get("approach") or []
            )
            and not any(
                t in (v.get("value") or "")
                for v in a["metadata"].get("variableMeasured") or []
                for t in ("PatchClampSeries", "CurrentClampSeries", "VoltageClampSeries")
            )
        }
        assert approach <= ecephys
        video = {r["asset_id"] for r in i.search(modality="video").rows()}
        assert video == {
            a["asset_id"]
            for d in folder.values()
            for a in d["assets"]
            if (a["metadata"].get("encodingFormat") or "").startswith("video/")
        }


def test_areas_from_every_about_and_anatomy_entry_of_the_corpus(corpus_server, corpus, tmp_path):
    """Crawled without --nwb, each dandiset's assets have the areas its `about` (and each
    asset's `anatomy`) names, marked as not from the file; the file-level facet finds none."""
    from dandindex.vocab import areas as A

    folder = read_folder(corpus)
    Crawler(
        CrawlOptions(api_url=corpus_server.api_url, index_dir=str(tmp_path), versions="draft")
    ).run()
    checked = 0
    with Index(tmp_path) as i:
        for ident, d in folder.items():
            if is_embargoed(d["draft"]) or not d["assets"]:
                continue
            about = d["draft"].get("about") or []
            names = [x["name"] for x in about if x.get("name") and x.get("schemaKey") != "Disorder"]
            for name in names:
                for s in A.parse_location(name).areas:
                    got = {r["asset_id"] for r in i.search(area=s.acronym, dandiset=ident).rows()}
                    assert got == {a["asset_id"] for a in d["assets"]}, (ident, name, s.acronym)
                    checked += 1
            for a in d["assets"]:
                for entry in a["metadata"].get("anatomy") or []:
                    for s in A.parse_location(entry.get("name") or "").areas:
                        hits = i.search(area=s.acronym, dandiset=ident).rows()
                        assert a["asset_id"] in {r["asset_id"] for r in hits}
                        checked += 1
        assert checked >= 5  # the corpus names hippocampus, V1, M1, ... in `about`
        hip = i.search(area="hippocampus")
        assert len(hip) and not i.search(file_area="hippocampus").rows()
        # free text stems: "hippocampus" finds the dandisets that say "Hippocampal"
        said = {
            ident
            for ident, d in folder.items()
            if d["assets"] and not is_embargoed(d["draft"])
            and re.search(r"hippocamp(al|us|i)\b", " ".join(
                [d["draft"].get("name") or "", d["draft"].get("description") or "",
                 *(d["draft"].get("keywords") or [])]), re.I)
        }  # fmt: skip
        assert any(
            "hippocampal" in (folder[x]["draft"].get("description") or "").lower()
            and "hippocampus" not in (folder[x]["draft"].get("description") or "").lower()
            for x in said
        )
        got = {r["dandiset_id"] for r in i.search("hippocampus", level="dandiset").rows()}
        assert said <= got


def test_uberon_names_as_dandi_stores_them():
    from dandindex.vocab import areas as A

    for name, acronym in (
        ("CA1 field of hippocampus", "CA1"),
        ("CA3 field of hippocampus", "CA3"),
        ("medial septum", "MS"),
        ("UBERON:0003881", "CA1"),
    ):
        assert [s.acronym for s in A.parse_location(name).areas] == [acronym], name


def test_an_alias_of_several_structures_does_not_bring_their_other_regions():
    """`amygdala` names LA, BLA, BMA, CEA, MEA, COA; CEA and MEA sit under STR in the Allen
    tree: an amygdala recording is under the amygdala's structures and the regions above all
    of them, never under STR. Checked for every alias of several structures."""
    from dandindex.vocab import areas as A

    groups = [(t, acr) for t, (k, acr) in A.alias_table().items() if k == "alias" and len(acr) > 1]
    assert groups
    by = {s.acronym: s for s in A.structures()}
    for term, acronyms in groups:
        found = tuple(by[a] for a in acronyms)
        trees = A.area_trees(found)
        common = set.intersection(*(set(A.ancestors(s)) for s in found))
        for s, tree in zip(found, trees, strict=True):
            assert s.acronym in tree
            for region in set(A.ancestors(s)) - common - {s.acronym}:
                assert region not in tree, (term, s.acronym, region)
    amygdala = A.area_trees(A.parse_location("Left amygdala").areas)
    assert not any("STR" in t for t in amygdala) and all("CH" in t for t in amygdala)


def test_no_output_is_written_inside_the_index(index_dir, tmp_path):
    """--out and --plot-dir refuse any path inside the index folder (a snapshot file
    overwritten by a result would break the index); the snapshot stays byte for byte."""
    import hashlib

    def digest() -> dict[str, str]:
        return {
            str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(index_dir.rglob("*.parquet"))
        }

    before = digest()
    snap = next(index_dir.glob("snapshots/*"))
    runner = CliRunner()
    for args in (
        ["search", "--species", "mouse", "--out", str(snap / "assets.parquet")],
        ["sql", "SELECT 1 AS x", "--out", str(index_dir / "x.csv")],
        ["search", "--species", "mouse", "--plot", "/acquisition/x", "--plot-dir", str(snap)],
        ["query", "run", "largest_nwb_files", "--out", str(snap / "nwb_files.parquet")],
    ):
        r = runner.invoke(cli, [*args, "--index", str(index_dir)])
        assert r.exit_code != 0, args
        assert "inside the index folder" in r.output and "Traceback" not in r.output, r.output
    assert digest() == before
    ok = runner.invoke(
        cli, ["sql", "SELECT 1 AS x", "--out", str(tmp_path / "x.csv"), "--index", str(index_dir)]
    )
    assert ok.exit_code == 0 and (tmp_path / "x.csv").read_text().startswith("x")


def test_an_api_that_answers_401_is_a_refusal_not_unreachable(tmp_path, monkeypatch):
    """A real server answering 401 to everything: the sentence names the refusal and the
    key, with and without one; a port nobody listens on is 'cannot reach'."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = b'{"detail": "Authentication credentials were not provided."}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{srv.server_address[1]}/api"
    runner = CliRunner()
    try:
        monkeypatch.delenv("DANDI_API_KEY", raising=False)
        r = runner.invoke(cli, ["crawl", "--api-url", api, "--index", str(tmp_path / "a")])
        assert r.exit_code != 0 and "refused the request (HTTP 401)" in r.output, r.output
        assert "needs an API key" in r.output and "Cannot reach" not in r.output
        monkeypatch.setenv("DANDI_API_KEY", "not-a-key")
        r = runner.invoke(cli, ["crawl", "--api-url", api, "--index", str(tmp_path / "b")])
        assert "refused the key given" in r.output and "not-a-key" not in r.output, r.output
    finally:
        srv.shutdown()
        srv.server_close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = runner.invoke(
        cli, ["crawl", "--api-url", f"http://127.0.0.1:{port}/api", "--index", str(tmp_path / "c")]
    )
    assert "Cannot reach the DANDI API" in r.output
