"""What a search shows: one row per asset by default (its most recent published version,
else the draft), every version's row with ``versions="all"``; and the value counts of its
matches (``search --facets``, the web page's sidebar), each equal to a plain SQL group-by
over the matching rows."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.query import SearchQuery
from dandindex.results import COUNTED_FACETS, STRUCTURAL_TYPES

#: each counted facet as a plain SQL expression over an asset_facets row
PLAIN = {
    "species": "unnest(species_ids)",
    "modality": "unnest(modalities)",
    "area": "unnest(area_tree)",
    "type": "unnest(types)",
    "file_format": "unnest(formats)",
    "channel": "unnest(channels)",
    "dandiset": "dandiset_id",
}
QUERIES = [
    SearchQuery(),
    SearchQuery(species="mouse"),
    SearchQuery(modality="ophys", area="VIS"),
    SearchQuery("sub", modality=("ecephys", "icephys")),
    SearchQuery(has="running_speed"),
]


def latest_versions(idx) -> dict[str, str]:
    """Asset id → the version a search shows it in: its most recent published one (DANDI
    versions sort as text: 0.YYMMDD.HHMM), else the draft; from the assets table."""
    held: dict[str, list[str]] = defaultdict(list)
    for r in idx.sql("SELECT asset_id, version FROM assets").rows():
        held[r["asset_id"]].append(r["version"])
    out = {}
    for asset, versions in held.items():
        published = [v for v in versions if v != "draft"]
        out[asset] = max(published) if published else "draft"
    return out


def test_a_search_shows_each_asset_once_in_its_latest_version(idx):
    every = idx.sql("SELECT asset_id, version FROM assets").rows()
    want = latest_versions(idx)
    assert len(every) > len(want), "the fixture should hold assets in two versions"
    rows = idx.search(limit=None).rows()
    assert {(r["asset_id"], r["version"]) for r in rows} == set(want.items())
    assert len(rows) == len(want) == idx.count(SearchQuery())
    everything = idx.search(limit=None, versions="all").rows()
    assert sorted((r["asset_id"], r["version"]) for r in everything) == sorted(
        (r["asset_id"], r["version"]) for r in every
    )
    # a facet too: the mouse assets are the latest rows of every version's mouse rows
    mice = idx.search(species="mouse", limit=None, versions="all").rows()
    latest = {(r["asset_id"], r["version"]) for r in mice if want[r["asset_id"]] == r["version"]}
    assert {(r["asset_id"], r["version"]) for r in idx.search(species="mouse", limit=None).rows()} == latest  # fmt: skip
    # dandisets count their assets once
    per = defaultdict(set)
    for r in rows:
        per[r["dandiset_id"]].add(r["asset_id"])
    for d in idx.search(level="dandiset", limit=None).rows():
        assert d["assets"] == len(per[d["dandiset_id"]])


def test_versions_is_checked_and_given_on_the_command_line(index_dir, idx):
    from dandindex.errors import UsageError

    with pytest.raises(UsageError, match="latest .*or all"):
        idx.search(versions="newest")
    r = CliRunner().invoke(cli, ["search", "--index", str(index_dir), "--versions", "newest"])
    assert r.exit_code == 2 and "latest" in r.output
    for versions, n in (("latest", len(latest_versions(idx))), ("all", len(idx.sql("SELECT * FROM assets")))):  # fmt: skip
        r = CliRunner().invoke(
            cli, ["search", "--index", str(index_dir), "--versions", versions, "--urls"]
        )
        assert r.exit_code == 0, r.output
        assert len(r.stdout.splitlines()) == n


def plain_counts(idx, query: SearchQuery) -> dict[str, dict[str, int]]:
    """Value counts of the query's matches by a plain group-by over asset_facets."""
    matches = [
        {"asset_id": r["asset_id"], "version": r["version"]}
        for r in idx.run_search(query.replace(limit=None)).rows()
    ]
    import pyarrow as pa

    idx.searcher()
    idx.con.register("_matches", pa.Table.from_pylist(matches))
    try:
        out = {}
        for facet, expr in PLAIN.items():
            got = idx.con.sql(
                f"SELECT v, count(*) FROM (SELECT {expr} AS v FROM asset_facets "
                "SEMI JOIN _matches USING (asset_id, version)) WHERE v IS NOT NULL GROUP BY v"
            ).fetchall()
            out[facet] = dict(got)
        return out
    finally:
        idx.con.unregister("_matches")


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_facet_counts_of_a_result_equal_a_plain_group_by(idx, index_dir, query):
    want = plain_counts(idx, query)
    assert idx.result_counts(query) == want
    assert any(want[f] for f in COUNTED_FACETS)
    names = idx.species_names()
    table = idx.result_facets(query, top=None)
    assert table.total == idx.count(query)
    got: dict[str, dict[str, int]] = defaultdict(dict)
    for r in table.rows():
        got[r["facet"]][r["value"]] = r["assets"]
    assert got["species"] == {names[k]: n for k, n in want["species"].items()}
    assert got["modality"] == want["modality"] and got["dandiset"] == want["dandiset"]
    assert got["type"] == {t: n for t, n in want["type"].items() if t not in STRUCTURAL_TYPES}
    assert all(want["area"][a] == n for a, n in got["area"].items())
    from dandindex.vocab.areas import atlas

    for left_out in set(want["area"]) - set(got["area"]) - {"root", "grey"}:
        # only an area whose assets are exactly one of its sub-areas' is left out
        parent = atlas()[left_out.lower()].id
        assert any(
            parent in atlas()[a.lower()].path[:-1] and n == want["area"][left_out]
            for a, n in want["area"].items()
        ), left_out
    # the command line prints the same rows
    args = [query.text] if query.text else []
    for f, value in query.items():
        args += [x for v in (value if isinstance(value, tuple) else (value,)) for x in (f"--{f.name}", v)]  # fmt: skip
    r = CliRunner().invoke(
        cli,
        ["search", *args, "--facets", "--format", "json", "--limit", "100000", "--index", str(index_dir)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    import json

    assert json.loads(r.stdout) == table.rows()
    assert (
        f"Values of the {table.total:,} matching asset{'s' if table.total != 1 else ''} ("
        in r.stderr
    )


def test_the_sidebar_counts_the_current_result(index_dir, idx):
    from dandindex.ui import create_app

    app = create_app(index_dir)
    client = app.test_client()
    names = idx.species_names()
    for url, query in [
        ("/", SearchQuery()),
        ("/?species=mouse&modality=ophys", SearchQuery(species="mouse", modality="ophys")),
        ("/?q=sub&modality=ecephys", SearchQuery("sub", modality="ecephys")),
    ]:
        html = client.get(url).get_data(as_text=True)
        want = plain_counts(idx, query)
        titles = ["Species", "Modality", "Brain area", "Neurodata type", "File format",
                  "Channel", "Dandiset"]  # fmt: skip
        at = [html.index(f"<summary>{t}</summary>") for t in titles] + [html.index("</aside>")]
        shown = {
            t: {
                label: int(n.replace(",", ""))
                for label, n in re.findall(r'>([^<>]+)</a> <span class="count">([\d,]+)</span>', html[a:b])
            }
            for t, a, b in zip(titles, at, at[1:], strict=False)
        }  # fmt: skip
        assert shown["Species"] == {names[k]: n for k, n in want["species"].items()}, url
        assert shown["Modality"] == want["modality"], url
        assert shown["File format"] == dict(sorted(want["file_format"].items(), key=lambda kv: -kv[1])[:40]), url  # fmt: skip
        top_dandisets = dict(sorted(want["dandiset"].items(), key=lambda kv: -kv[1])[:40])
        assert shown["Dandiset"] == top_dandisets, url
        areas = {a: n for a, n in want["area"].items() if a not in ("root", "grey")}
        assert shown["Brain area"] == areas, url


def test_search_plot_writes_as_many_pictures_as_it_says(index_dir, idx, generated, server, tmp_path):  # fmt: skip
    """--versions all: an asset in two versions is two rows, each its own picture."""
    from collections import Counter

    from dandindex.tree import plottable

    rows = idx.search(versions="all", limit=None).rows()
    twice = sorted(
        a for a, n in Counter(r["asset_id"] for r in rows).items()
        if n > 1 and a in generated.nwb_assets
    )  # fmt: skip
    assert twice, "the fixture should hold an NWB asset in a published version and the draft"
    h = idx.asset(twice[0])
    path = plottable(h.summary()["objects"])[0]["path"]
    folder = tmp_path / "pics"
    args = ["search", "--index", str(index_dir), "--dandiset", h.dandiset_id, "--has", path,
            "--plot", path, "--plot-dir", str(folder), "--plot-n", "50", "--format", "json"]  # fmt: skip
    for versions in ("all", "latest"):
        r = CliRunner().invoke(cli, [*args, "--versions", versions])
        assert r.exit_code == 0, r.output
        said = re.search(r"(\d+) of (\d+) pictures written", r.stderr)
        assert said, r.stderr
        matches = len(idx.search(dandiset=h.dandiset_id, has=path, versions=versions, limit=None))
        pictures = list(folder.glob("*.png"))
        assert int(said.group(1)) == int(said.group(2)) == len(pictures) == matches
        assert all(p.stat().st_size > 1000 for p in pictures)
        if versions == "all":
            assert sum(twice[0][:8] in p.name for p in pictures) == 2
        import shutil

        shutil.rmtree(folder)
