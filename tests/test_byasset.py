"""The per-asset tables stream in batches and say where each asset's rows are: ``asset_types``
equals a plain GROUP BY over ``nwb_objects`` (also when batches cut an asset, and when an
asset's objects are not adjacent), and a page about one asset read through ``asset_rows``
gets the rows a scan by asset id gets."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dandindex import byasset
from dandindex.facets import write_facets
from dandindex.index import Index
from dandindex.testing.bigindex import write_index

PLAIN_TYPES = """
    SELECT asset_id,
           list_sort(list_distinct(flatten(list(list_prepend(neurodata_type, base_types))))) AS types,
           list_sort(list_distinct(list(rate) FILTER (rate IS NOT NULL))) AS rates,
           count(*) AS n
    FROM read_parquet($f) GROUP BY asset_id ORDER BY asset_id
"""


def make(root, *, scatter: bool, monkeypatch):
    write_index(root, 1_500, 12_000, 3_000, 12, seed=5)
    snap = root / "snapshots" / "bench"
    objects = snap / "nwb_objects.parquet"
    if scatter:  # the first asset's first object (and location) moves to the end: no run
        for f in (objects, snap / "nwb_locations.parquet"):
            t = pq.read_table(f)
            pq.write_table(pa.concat_tables([t.slice(1), t.slice(0, 1)]), f, row_group_size=1000)
    monkeypatch.setattr(byasset, "PER_ASSET_BATCH", 777)  # batches cut assets
    monkeypatch.setattr(byasset, "KEYS_PER_SLICE", 400)  # asset_rows in slices of ids
    v = pq.read_table(snap / "versions.parquet")  # some dandisets name an area themselves
    anatomy = [["Hippocampus"] if i % 3 == 0 else [] for i in range(v.num_rows)]
    v = v.set_column(
        v.schema.get_field_index("anatomy"),
        "anatomy",
        pa.array(anatomy, v.schema.field("anatomy").type),
    )
    pq.write_table(v, snap / "versions.parquet")
    write_facets(snap)
    return snap


@pytest.mark.parametrize("scatter", [False, True], ids=["adjacent", "scattered"])
def test_asset_types_equal_a_plain_group_by(tmp_path, monkeypatch, scatter):
    snap = make(tmp_path, scatter=scatter, monkeypatch=monkeypatch)
    con = duckdb.connect()
    plain = con.execute(PLAIN_TYPES, {"f": str(snap / "nwb_objects.parquet")}).fetchall()
    ours = con.execute(
        "SELECT asset_id, types, rates, object_count, object_start FROM read_parquet($f) "
        "ORDER BY asset_id",
        {"f": str(snap / "asset_types.parquet")},
    ).fetchall()
    assert len(plain) > 1000
    assert [r[:4] for r in ours] == [tuple(p) for p in plain]
    first = con.execute(
        "SELECT asset_id FROM read_parquet($f) LIMIT 1", {"f": str(snap / "nwb_objects.parquet")}
    ).fetchone()[0]
    starts = {r[0]: r[4] for r in ours}
    moved = pq.read_table(snap / "nwb_objects.parquet").column("asset_id")[-1].as_py()
    if scatter:
        assert starts[moved] is None  # not one run: a page scans for it
        assert sum(s is None for s in starts.values()) == 1
    else:
        assert starts[first] == 0 and None not in starts.values()


@pytest.mark.parametrize("scatter", [False, True], ids=["adjacent", "scattered"])
def test_asset_pages_read_what_a_scan_reads(tmp_path, monkeypatch, scatter):
    snap = make(tmp_path, scatter=scatter, monkeypatch=monkeypatch)
    moved = pq.read_table(snap / "nwb_objects.parquet").column("asset_id")[-1].as_py()
    with Index(tmp_path) as idx:
        ids = [
            r["asset_id"]
            for r in idx.sql("SELECT asset_id FROM assets USING SAMPLE 40 ROWS").rows()
        ]
        for a in [*ids, moved]:
            p = {"a": a}
            scan = {
                t: idx.sql(f"SELECT * FROM nwb_{t} WHERE asset_id = $a", p).rows()
                for t in ("files", "objects", "locations")
            }
            s = idx.nwb_summary(a)
            assert s["file"] == scan["files"][0]
            assert s["objects"] == sorted(scan["objects"], key=lambda o: o["path"])
            assert sorted(s["locations"], key=str) == sorted(scan["locations"], key=str)
            rows = idx.sql("SELECT * FROM assets WHERE asset_id = $a", p).rows()
            published = sorted((r for r in rows if r["version"] != "draft"),
                               key=lambda r: r["version"])  # fmt: skip
            row = published[-1] if published else rows[0]  # what a lookup shows: the latest
            h = idx.asset(a)
            assert (h.asset_id, h.version, h.path, h.size) == (
                a, row["version"], row["path"], row["size"]
            )  # fmt: skip
            assert idx.asset_row(a, row["version"]) == row
        assert len(idx.nwb_summary(moved)["objects"]) == len(
            idx.sql("SELECT 1 FROM nwb_objects WHERE asset_id = $a", {"a": moved}).rows()
        )


PLAIN_AREAS = """
    SELECT l.asset_id, l.source, m.raw, m.acronym, m.ancestors, m.dropped, sum(l.count)
    FROM read_parquet($l) l JOIN read_parquet($m) m ON m.raw = l.location
    GROUP BY ALL
    UNION ALL
    SELECT a.asset_id, 'dandiset', m.raw, m.acronym, m.ancestors, m.dropped, 1
    FROM (SELECT DISTINCT a.asset_id, unnest(v.anatomy) AS raw
          FROM read_parquet($a) a JOIN read_parquet($v) v USING (dandiset_id, version)) a
    JOIN read_parquet($m) m ON m.raw = a.raw
"""


@pytest.mark.parametrize("scatter", [False, True], ids=["adjacent", "scattered"])
def test_asset_areas_equal_a_plain_join(tmp_path, monkeypatch, scatter):
    snap = make(tmp_path, scatter=scatter, monkeypatch=monkeypatch)
    files = {
        k: str(snap / f"{t}.parquet")
        for k, t in [
            ("l", "nwb_locations"),
            ("m", "location_map"),
            ("a", "assets"),
            ("v", "versions"),
        ]
    }
    con = duckdb.connect()
    plain = sorted(map(str, con.execute(PLAIN_AREAS, files).fetchall()))
    ours = con.execute("SELECT * FROM read_parquet($f)", {"f": str(snap / "asset_areas.parquet")})
    ours = sorted(map(str, ours.fetchall()))
    assert len(plain) > 3000 and any("'dandiset'" in r for r in plain)
    assert ours == plain
    # and asset_facets' area lists are those rows' (file-level ones without 'dandiset')
    per = con.execute(
        """
        SELECT f.asset_id, f.area_tree, f.file_area_tree,
               coalesce(list_sort(list_distinct(flatten(list(r.ancestors)))), []),
               coalesce(list_sort(list_distinct(flatten(list(r.ancestors)
                        FILTER (r.source <> 'dandiset')))), [])
        FROM read_parquet($f) f LEFT JOIN read_parquet($r) r USING (asset_id)
        GROUP BY ALL
        """,
        {"f": str(snap / "asset_facets.parquet"), "r": str(snap / "asset_areas.parquet")},
    ).fetchall()
    assert all(r[1] == r[3] and r[2] == r[4] for r in per), [r for r in per if r[1] != r[3]][:3]


def test_asset_rows_made_in_slices_are_sorted_and_whole(tmp_path, monkeypatch):
    snap = make(tmp_path, scatter=False, monkeypatch=monkeypatch)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW assets AS SELECT * FROM read_parquet('{snap / 'assets.parquet'}')")
    assert len(byasset.id_slices(con)) >= 3
    rows = pq.read_table(snap / "asset_rows.parquet")
    keys = list(
        zip(rows.column("asset_id").to_pylist(), rows.column("version").to_pylist(), strict=True)
    )
    want = con.execute("SELECT asset_id, version FROM assets").fetchall()
    assert keys == sorted(want)
    assert pq.ParquetFile(snap / "asset_rows.parquet").metadata.row_group(0).num_rows <= 2048


def test_a_versions_assets_are_a_span_of_rows(tmp_path, monkeypatch):
    """What a dandiset page lists (a span of asset_facets rows) is the version's assets in
    path order, as SQL over the assets table gives them, every page."""
    make(tmp_path, scatter=False, monkeypatch=monkeypatch)
    with Index(tmp_path) as idx:
        versions = idx.sql("SELECT DISTINCT dandiset_id, version FROM assets").rows()
        assert len(versions) >= 5
        cols = ["asset_id", "path", "size", "version"]
        for v in versions[:5]:
            want = idx.sql(
                "SELECT asset_id, path, size, version FROM assets "
                "WHERE dandiset_id = $d AND version = $v ORDER BY path, asset_id",
                {"d": v["dandiset_id"], "v": v["version"]},
            ).rows()
            for offset in (0, 50, len(want) - 3):
                total, got = idx.searcher().version_assets(
                    v["dandiset_id"], v["version"], offset, 50, cols
                )
                assert total == len(want) and got == want[max(0, offset) : max(0, offset) + 50]
        assert idx.searcher().version_assets("999999", "draft", 0, 50, cols) == (0, [])


@pytest.mark.parametrize("scatter", [False, True], ids=["adjacent", "scattered"])
def test_object_names_and_table_columns_per_asset_equal_the_objects(tmp_path, monkeypatch, scatter):
    """asset_facets' ``has`` and ``table_columns``, streamed in batches that cut assets,
    equal what the objects give when read whole (computed here in Python)."""
    snap = make(tmp_path, scatter=scatter, monkeypatch=monkeypatch)
    has: dict[str, set[str]] = {}
    cols: dict[str, set[str]] = {}
    for o in pq.read_table(
        snap / "nwb_objects.parquet", columns=["asset_id", "path", "columns"]
    ).to_pylist():
        if o["path"] != "/":
            name = o["path"].rsplit("/", 1)[-1]
            has.setdefault(o["asset_id"], set()).update({o["path"].lower(), name.lower()})
        for c in o["columns"] or []:
            cols.setdefault(o["asset_id"], set()).update(
                {f"{name}.{c}".lower(), f"{o['path']}.{c}".lower()}
            )
    rows = pq.read_table(
        snap / "asset_facets.parquet", columns=["asset_id", "has", "table_columns"]
    )
    seen = 0
    for r in rows.to_pylist():
        assert r["has"] == sorted(has.get(r["asset_id"], ())), r["asset_id"]
        assert r["table_columns"] == sorted(cols.get(r["asset_id"], ())), r["asset_id"]
        seen += bool(r["table_columns"])
    assert seen > 100
