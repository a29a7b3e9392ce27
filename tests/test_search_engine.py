"""The search engine (posting bitmaps, bins of numbers, trigram text) answers exactly what a
plain SQL formulation over ``asset_facets`` answers: every facet of the registry alone and
in pairs, at asset and dandiset level, on a generated index whose numbers are cut into
small bins (so ranges cut bins and read their rows)."""

from __future__ import annotations

import itertools

import pytest

from dandindex import postings
from dandindex.facets import write_facets
from dandindex.index import Index
from dandindex.query import SearchQuery
from dandindex.registry import FACETS, KINDS, Range
from dandindex.testing.bigindex import write_index

#: a plain SQL predicate over an asset_facets row `f` for each lookup kind ($v: the values,
#: $lo/$hi: the bounds); a new facet kind needs its line here
PLAIN = {
    "modality": "list_has_any(f.modalities, $v)",
    "species": "list_has_any(f.species_ids, $v)",
    "area": "list_has_any(f.area_tree, $v)",
    "raw_area": "list_has_any(f.raw_areas, $v)",
    "file_area": "list_has_any(f.file_area_tree, $v)",
    "file_raw_area": "list_has_any(f.file_raw_areas, $v)",
    "type": "list_has_any(f.types, $v)",
    "dandiset": "list_contains($v, f.dandiset_id)",
    "units": "f.n_units BETWEEN $lo AND $hi",
    "electrodes": "f.n_electrodes BETWEEN $lo AND $hi",
    "rate": "len(list_filter(f.rates, lambda r: r BETWEEN $lo AND $hi)) > 0",
    "size": "f.size BETWEEN $lo AND $hi",
    "has": "list_has_any(f.has, $v)",
    "column": "list_has_any(f.table_columns, $v)",
    "duration": "f.duration BETWEEN $lo AND $hi",
    "file_format": "list_has_any(f.formats, $v)",
    "voxel": "f.voxel_um BETWEEN $lo AND $hi",
    "channel": "list_has_any(f.channels, $v)",
    "fps": "f.fps BETWEEN $lo AND $hi",
    "bids": "list_has_any(f.bids_values, $v)",
}
VALUES = {
    "modality": ["ecephys", ("ophys", "behavior")],
    "species": ["mouse", ("human", "rat")],
    "area": ["VIS", ("CA1", "head ganglia")],
    "file_area": [("hippocampus", "unknown"), "VISp"],
    "type": ["TimeSeries", "PatchClampSeries"],
    "dandiset": [("000007", "12"), "000031"],
    "units": [Range(100, 300), Range(min=450)],
    "electrodes": [Range(max=40), Range(200, 201)],
    "rate": [Range(25, 35), Range(min=20000)],
    "size": [Range(min=5e9), Range(2e9, 2.5e9)],
    "has": ["units", ("running_speed*", "natural_scenes_presentations")],
    "column": ["units.quality", ("planesegmentation.image_mask", "start_time")],
    "duration": [Range(min=600), Range(100, 1000)],
    "area_all": [("VISp", "CA1"), "VIS"],
    "file_format": ["video", ("ome-zarr", "NWB", "tif")],
    "voxel": [Range(max=1.0), Range("500nm", "2um")],
    "channel": ["gfp", ("DAPI", "lectin")],
    "fps": [Range(min=60), Range(25, 30)],
    "bids": ["SamplingFrequency=1e3", ("taskname=REST", "PowerLineFrequency")],
}


@pytest.fixture(scope="module")
def engine_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine")
    write_index(root, 30_000, 200_000, 60_000, 60, seed=3)
    mp = pytest.MonkeyPatch()
    mp.setattr(postings, "BINS", 16)  # few, wide bins: most ranges cut one
    try:
        write_facets(root / "snapshots" / "bench")
    finally:
        mp.undo()
    with Index(root) as idx:
        yield idx


def plain_rows(idx, query):
    """Row numbers the query matches, by plain SQL over asset_facets and version_rows."""
    where, params = [], {}
    vocab = idx.vocab()
    groups = [g for facet, value in query.items() for g in facet.lookup_sets(value, vocab)]
    for n, group in enumerate(groups):  # each group ORs its lookups; the groups AND
        ors = []
        for m, lk in enumerate(group):
            key = f"{n}_{m}"
            sql = PLAIN[lk.kind].replace("$v", f"$v{key}")
            sql = sql.replace("$lo", f"$lo{key}").replace("$hi", f"$hi{key}")
            if lk.numeric:
                params[f"lo{key}"] = lk.lo if lk.lo is not None else float("-inf")
                params[f"hi{key}"] = lk.hi if lk.hi is not None else float("inf")
            else:
                params[f"v{key}"] = list(lk.values)
            ors.append(sql)
        where.append("(" + " OR ".join(ors) + ")")
    if query.text:
        from dandindex.vocab.words import terms

        params["t"] = query.text.lower()
        params["w"] = terms(query.text) or ["\x01never"]
        where.append(
            "(contains(f.text, $t) OR EXISTS (SELECT 1 FROM version_rows v WHERE "
            "f.row BETWEEN v.first_row AND v.last_row AND "
            "(contains(v.text, $t) OR list_has_all(v.terms, $w))))"
        )
    if query.versions == "latest":  # an asset's most recent published version, else the draft
        where.append(
            "f.version = (SELECT coalesce(max(g.version) FILTER (g.version <> 'draft'), 'draft') "
            "FROM asset_facets g WHERE g.asset_id = f.asset_id)"
        )
    sql = "SELECT row, dandiset_id, asset_id FROM asset_facets f"
    sql += (" WHERE " + " AND ".join(where)) if where else ""
    idx.searcher()  # the search tables' views on the index's own connection
    return idx.con.sql(sql + " ORDER BY row", params=params or None).to_arrow_table().to_pylist()


def check(idx, query):
    expected = plain_rows(idx, query)
    got = idx.searcher().matches(query)
    assert list(got) == [r["row"] for r in expected], query
    hits = idx.run_search(query.replace(limit=25))
    assert hits.total == len(expected)
    first = idx.con.sql(
        "SELECT asset_id FROM asset_facets WHERE list_contains($r, row) ORDER BY row",
        params={"r": [r["row"] for r in expected[:25]]},
    ).fetchall()
    assert [r["asset_id"] for r in hits.rows()] == [r[0] for r in first]
    by_ds = idx.run_search(query.replace(level="dandiset", limit=7))
    dandisets = sorted({r["dandiset_id"] for r in expected})
    assert by_ds.total == len(dandisets)
    assert [r["dandiset_id"] for r in by_ds.rows()] == dandisets[:7]
    for row in by_ds.rows():
        mine = {r["asset_id"] for r in expected if r["dandiset_id"] == row["dandiset_id"]}
        assert row["assets"] == len(mine)  # assets, not rows (versions="all" has several)


def test_every_kind_has_a_plain_formulation():
    assert set(PLAIN) == set(KINDS) - {"trigram"}
    assert set(VALUES) == {f.name for f in FACETS}


@pytest.mark.slow
@pytest.mark.parametrize("name", [f.name for f in FACETS])
def test_each_facet_alone_matches_plain_sql(engine_index, name):
    for value in VALUES[name]:
        check(engine_index, SearchQuery(**{name: value}))


@pytest.mark.slow
def test_every_pair_of_facets_matches_plain_sql(engine_index):
    for a, b in itertools.combinations(VALUES, 2):
        check(engine_index, SearchQuery(**{a: VALUES[a][0], b: VALUES[b][-1]}))


@pytest.mark.slow
@pytest.mark.parametrize(
    "text", ["about ca1", "Abouts CA1", "ses-1234", "ecephys", "sub-9", "CA", "x", "?"]
)
def test_free_text_matches_plain_sql(engine_index, text):
    check(engine_index, SearchQuery(text))
    check(engine_index, SearchQuery(text, species="mouse"))


def test_nothing_given_matches_every_asset(engine_index):
    check(engine_index, SearchQuery())
    check(engine_index, SearchQuery(versions="all"))


@pytest.mark.slow
def test_every_version_row_matches_plain_sql(engine_index):
    """The generated index holds published versions: a row per version, or one per asset."""
    n = engine_index.con.sql("SELECT count(*) - count(DISTINCT asset_id) FROM asset_facets").fetchall()  # fmt: skip
    assert n[0][0] > 0, "the engine index should hold assets in two versions"
    for name in ("species", "file_format", "units"):
        check(engine_index, SearchQuery(versions="all", **{name: VALUES[name][0]}))
