"""The search tables every snapshot carries, derived from its Parquet files.

- ``location_map``: every distinct location string (NWB locations, asset and version
  ``anatomy``) → each Allen structure it names (a row each; one row with none), with the
  acronyms above it, whether it is a placeholder, and the hemisphere it gives;
- ``asset_types``: per asset, its NWB types with their ancestors, its sampling rates, and
  where its rows of ``nwb_objects`` are (``object_start`` from 0, ``object_count``);
- ``asset_areas``: (asset, source, raw location, acronym, ancestors, placeholder, count):
  placeholders and unmapped strings too (no acronym), so they stay searchable as text;
- ``asset_facets``: one row per asset with its species id (and ``species_ids``: its own, or
  else its dandiset's, ``species_inherited``), modalities, NWB types (with
  ancestors), area acronyms (with ancestors), raw areas, counts, rates, object names and
  paths, table columns, the file's duration and its lower-cased
  path (``text``), numbered (``row``) in (dandiset, version, path) order;
- ``version_rows``: per (dandiset, version), its first and last ``row`` and its searchable
  text (name, description, keywords), so text matches a version once, not every asset;
- ``facet_values``: (kind, value or number, row) for every kind of every facet of the
  registry (`dandindex.registry.FACETS`), sorted;
- ``facet_bitmaps``: the rows of each (kind, value) as a Roaring bitmap (`dandindex.postings`):
  what searches intersect;
- ``asset_rows``: per (asset, version), where its rows are in the other tables, sorted by
  asset id: what a page about one asset reads.

Every list in them is sorted, so identical inputs give identical files.

The crawler derives them (`write_facets_in_subprocess`) before it publishes a snapshot, in
bounded memory at any size: DuckDB works on disk with a memory limit, ``asset_facets`` is
made in slices of whole dandisets (about `SLICE_ROWS` assets each, fewer when the files hold
many objects: `SLICE_BYTES`) and ``facet_values`` one
kind at a time, each written to Parquet and the pieces joined by streaming; the bitmaps are
built from it a value at a time. Opening an index never derives them (an index without them
is told to crawl again, which derives them from the parts it keeps).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dandindex.byasset import areas_by_asset, asset_rows_sql, id_slices, types_by_asset
from dandindex.errors import CrawlError
from dandindex.facetmaps import bids_map, location_map, species_map
from dandindex.formats import formats_sql
from dandindex.postings import latest_rows, trigrams, write_bitmaps
from dandindex.registry import FACETS, KINDS
from dandindex.schemas import SCHEMAS, create_table_view
from dandindex.vocab.modality import modalities_expr

FACET_TABLES = (
    "location_map",
    "species_map",
    "asset_types",
    "asset_areas",
    "asset_facets",
    "version_rows",
    "facet_values",
    "facet_bitmaps",
    "asset_rows",
)
#: Bump when the search tables change; stored in facet_bitmaps' Parquet metadata.
FACETS_VERSION = 6
FACETS_VERSION_KEY = "dandindex.facets_version"
SLICE_ROWS = 100_000
#: what a slice of asset_facets may weigh (its rows' lists of types, object names and paths,
#: table columns): fewer rows a slice when the files hold many objects
SLICE_BYTES = 48 << 20
ROW_GROUP = 65536
#: asset_facets is read a few rows at a time (the rows a result shows): small row groups
FACETS_ROW_GROUP = 2048


def write_facets(snapshot: Path, memory_limit: str = "256MB") -> None:
    """Derive the facet tables from a snapshot folder's Parquet files and store them beside.

    Called by the crawler before a snapshot is published (and by benchmarks that write an
    index directly), so opening an index for search costs a read, not a derivation. Memory
    stays under `memory_limit` plus what one slice needs, whatever the index's size.
    """
    import duckdb

    work = snapshot / ".duckdb-tmp"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    con = duckdb.connect(str(work / "facets.duckdb"))  # on disk, so big tables can spill
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET temp_directory = '{_q(str(work))}'")
        for name in SCHEMAS:
            create_table_view(con, name, snapshot / f"{name}.parquet")
        file_areas = _small_tables(con, snapshot, work)
        for t in ("location_map", "species_map", "asset_types"):
            _copy(con, f"SELECT * FROM {t}", snapshot / f"{t}.parquet")
        pieces, areas = [], [file_areas]
        offset = 0
        for n, (lo, hi, count) in enumerate(_slices(con)):
            bounds = {"lo": lo, "hi": hi}
            con.execute(f"CREATE OR REPLACE TABLE slice_anatomy AS {_ANATOMY}", bounds)
            con.execute(f"CREATE OR REPLACE TABLE slice_files AS {_FILES}", bounds)
            areas.append(work / f"asset_areas-{n:05d}.parquet")
            _copy(con, "SELECT * FROM slice_anatomy ORDER BY ALL", areas[-1])
            piece = work / f"asset_facets-{n:05d}.parquet"
            _sorted_copy(con, _asset_facets_sql(offset), piece, bounds)
            pieces.append(piece)
            offset += count
        _join(areas, snapshot / "asset_areas.parquet")
        _join(pieces, snapshot / "asset_facets.parquet", FACETS_ROW_GROUP)
        source = f"read_parquet('{_q(str(snapshot / 'asset_facets.parquet'))}')"
        _copy(con, _VERSION_ROWS.format(source=source), snapshot / "version_rows.parquet")
        _add_terms(snapshot / "version_rows.parquet")
        pieces = []
        for n, (lo, hi) in enumerate(id_slices(con)):
            pieces.append(work / f"asset_rows-{n:03d}.parquet")
            _copy(con, asset_rows_sql(snapshot, source), pieces[-1], {"lo": lo, "hi": hi})
        _join(pieces, snapshot / "asset_rows.parquet", 2048)
        pieces = []
        for facet in FACETS:
            for n, sql in enumerate(facet.derive(source)):
                piece = work / f"facet_values-{facet.name}-{n}.parquet"
                _sorted_copy(con, f"{sql} ORDER BY value, num, row", piece)
                pieces.append(piece)
        _join(pieces, snapshot / "facet_values.parquet")
        values = f"read_parquet('{_q(str(snapshot / 'facet_values.parquet'))}')"
        write_bitmaps(
            con,
            [(values, KINDS)],
            snapshot / "facet_bitmaps.parquet",
            {FACETS_VERSION_KEY: FACETS_VERSION},
            # free text looks paths up by their pieces; a search shows one row per asset
            more=itertools.chain(
                trigrams(con, source),
                latest_rows(con, f"read_parquet('{_q(str(snapshot / 'asset_rows.parquet'))}')"),
            ),
        )
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


# -- the pieces -------------------------------------------------------------------------


def _small_tables(con: Any, snapshot: Path, work: Path) -> Path:
    """Tables location_map, species_map (a row per distinct string), asset_types and
    file_areas (a row per NWB asset, streamed: `dandindex.byasset`); returns the Parquet
    file of asset_areas' rows from the files."""
    location_map(con)
    species_map(con)
    bids_map(con)
    types_by_asset(con, snapshot / "nwb_objects.parquet", work)
    return areas_by_asset(con, snapshot / "nwb_locations.parquet", work)


def _add_terms(path: Path) -> None:
    """version_rows gains ``terms``: the search terms of each version's text (stemmed;
    `dandindex.vocab.words`), so free text finds "Hippocampal" for ``hippocampus``."""
    from dandindex.vocab.words import terms

    table = pq.read_table(str(path))  # one row per version: small
    column = pa.array([terms(t) for t in table.column("text").to_pylist()], pa.list_(pa.string()))
    pq.write_table(table.append_column("terms", column), str(path), compression="zstd")


_VERSION_ROWS = """
    SELECT f.dandiset_id, f.version, min(f.row) AS first_row, max(f.row) AS last_row,
           any_value(lower(concat_ws(' ', v.name, v.description,
                                     array_to_string(v.keywords, ' ')))) AS text
    FROM {source} f LEFT JOIN versions v USING (dandiset_id, version)
    GROUP BY f.dandiset_id, f.version ORDER BY first_row
"""

#: asset_areas' rows from the ``anatomy`` of the slice's assets and of their versions
_ANATOMY = """
    SELECT a.asset_id, 'anatomy' AS source, m.raw, m.acronym, m.ancestors,
           m.dropped AS placeholder, 1::BIGINT AS count
    FROM (SELECT DISTINCT asset_id, unnest(anatomy) AS raw FROM assets
          WHERE dandiset_id BETWEEN $lo AND $hi) a
    JOIN location_map m ON m.raw = a.raw
    UNION ALL
    SELECT a.asset_id, 'dandiset', m.raw, m.acronym, m.ancestors, m.dropped, 1::BIGINT
    FROM (SELECT DISTINCT a.asset_id, unnest(v.anatomy) AS raw
          FROM assets a JOIN versions v USING (dandiset_id, version)
          WHERE a.dandiset_id BETWEEN $lo AND $hi) a
    JOIN location_map m ON m.raw = a.raw
"""


#: the slice's file_summaries as asset_facets joins them (made first: a small table, so the
#: big join stays within the memory limit): channels (with BIDS stains) lower-cased, BIDS
#: values as searched (bids_map: keys lower-cased, numbers spelled once, each key alone too)
_FILES = """
    WITH fs AS (
        SELECT asset_id, format, voxel_um, fps, duration AS f_duration, bids_datatype,
               subject_species,
               list_filter(
                   list_transform(channels, lambda c: lower(trim(c)))
                   || list_transform(list_filter(bids_entities, lambda e: starts_with(e, 'stain=')),
                                     lambda e: lower(e[7:])),
                   lambda c: c <> '' AND NOT regexp_matches(c, '^channel [0-9]+$')) AS channels,
               len(bids_entities) > 0 AS in_bids, bids
        FROM file_summaries
        WHERE asset_id IN (SELECT asset_id FROM assets WHERE dandiset_id BETWEEN $lo AND $hi)
    ),
    bv AS (
        SELECT r.asset_id, list_sort(list_distinct(flatten(list([m.value, m.key]))))
                   AS bids_values
        FROM (SELECT asset_id, unnest(bids) AS raw FROM fs) r JOIN bids_map m USING (raw)
        GROUP BY r.asset_id
    )
    SELECT fs.* EXCLUDE (bids), coalesce(bv.bids_values, []) AS bids_values,
           sm.species_id AS subject_species_id
    FROM fs LEFT JOIN bv USING (asset_id)
    LEFT JOIN species_map sm ON sm.raw = fs.subject_species
"""


def _asset_facets_sql(offset: int) -> str:
    """One row per asset of the dandisets between ``$lo`` and ``$hi``,
    numbered from `offset` + 1 in (dandiset, version, path, asset) order. The other tables
    are cut down to the slice's assets before they are joined, so memory follows the slice."""
    return f"""
        WITH a AS (
            SELECT asset_id, dandiset_id, version, path, size, species, species_id, api_url,
                   encoding_format, sha256, s3_url, blob_id, zarr_id, approach,
                   measurement_technique, variable_measured
            FROM assets WHERE dandiset_id BETWEEN $lo AND $hi
        ),
        ids AS (SELECT DISTINCT asset_id FROM a),
        t AS (SELECT * FROM asset_types WHERE asset_id IN (SELECT asset_id FROM ids)),
        h AS (SELECT * FROM asset_has WHERE asset_id IN (SELECT asset_id FROM ids)),
        fa AS (SELECT * FROM file_areas WHERE asset_id IN (SELECT asset_id FROM ids)),
        an AS (
            SELECT asset_id,
                   list(acronym) FILTER (acronym IS NOT NULL) AS areas,
                   flatten(list(ancestors)) AS area_tree, list(lower(raw)) AS raw_areas
            FROM slice_anatomy GROUP BY asset_id
        ),
        ar AS (
            SELECT asset_id,
                   list_sort(list_distinct(coalesce(fa.areas, []) || coalesce(an.areas, [])))
                       AS areas,
                   list_sort(list_distinct(coalesce(fa.area_tree, []) || coalesce(an.area_tree, [])))
                       AS area_tree,
                   list_sort(list_distinct(coalesce(fa.raw_areas, []) || coalesce(an.raw_areas, [])))
                       AS raw_areas,
                   fa.area_tree AS file_area_tree, fa.raw_areas AS file_raw_areas
            FROM fa FULL JOIN an USING (asset_id)
        ),
        n AS (
            SELECT asset_id, n_units, n_electrodes, metadata_ranges, read_url, duration,
                   species AS nwb_species
            FROM nwb_files
            WHERE asset_id IN (SELECT asset_id FROM ids)
        ),
        v AS (
            SELECT dandiset_id, version, species AS v_species, species_id AS v_species_id
            FROM versions WHERE dandiset_id BETWEEN $lo AND $hi
        ),
        nums AS (  -- numbered on the narrow keys: the window does not hold the wide rows
            SELECT asset_id, version,
                   {int(offset)} + row_number() OVER (ORDER BY dandiset_id, version, path, asset_id)
                       AS row
            FROM a
        )
        SELECT nums.row,
               a.asset_id, a.dandiset_id, a.version, a.path, a.size,
               coalesce(a.species, n.nwb_species, fs.subject_species,
                        nullif(array_to_string(v.v_species, ', '), '') || ' (the dandiset''s)')
                   AS species,
               coalesce(a.species_id, sm.species_id, fs.subject_species_id) AS species_id,
               CASE WHEN coalesce(a.species_id, sm.species_id, fs.subject_species_id) IS NOT NULL
                    THEN [coalesce(a.species_id, sm.species_id, fs.subject_species_id)]
                    ELSE list_sort(list_distinct(coalesce(v.v_species_id, []))) END AS species_ids,
               coalesce(a.species_id, sm.species_id, fs.subject_species_id) IS NULL AND len(coalesce(v.v_species_id, [])) > 0
                   AS species_inherited,
               a.api_url, a.encoding_format, a.sha256, a.s3_url, a.blob_id, a.zarr_id,
               list_sort({modalities_expr()}) AS modalities,
               coalesce(t.types, []) AS types,
               coalesce(t.rates, []) AS rates,
               coalesce(h.has, []) AS has,
               coalesce(h.table_columns, []) AS table_columns,
               coalesce(ar.areas, []) AS areas,
               coalesce(ar.area_tree, []) AS area_tree,
               coalesce(ar.raw_areas, []) AS raw_areas,
               coalesce(ar.file_area_tree, []) AS file_area_tree,
               coalesce(ar.file_raw_areas, []) AS file_raw_areas,
               n.n_units, n.n_electrodes, coalesce(n.duration, fs.f_duration) AS duration,
               n.metadata_ranges, n.read_url,
               list_sort(list_distinct({formats_sql("a.path", "a.encoding_format", "a.zarr_id")}
                   || list_filter([fs.format, CASE WHEN fs.in_bids THEN 'bids' END],
                                  lambda x: x IS NOT NULL))) AS formats,
               fs.voxel_um, fs.fps,
               list_sort(list_distinct(coalesce(fs.channels, []))) AS channels,
               coalesce(fs.bids_values, []) AS bids_values,
               lower(a.path) AS text
        FROM a
        JOIN nums USING (asset_id, version)
        LEFT JOIN t USING (asset_id)
        LEFT JOIN h USING (asset_id)
        LEFT JOIN ar USING (asset_id)
        LEFT JOIN n USING (asset_id)
        LEFT JOIN slice_files fs USING (asset_id)
        LEFT JOIN species_map sm ON a.species_id IS NULL AND sm.raw = n.nwb_species
        LEFT JOIN v USING (dandiset_id, version)
        ORDER BY row
    """


def _slice_rows(con: Any) -> int:
    """Assets a slice: `SLICE_ROWS`, fewer when an asset's lists are long (`SLICE_BYTES`)."""
    text = con.execute(
        "SELECT coalesce(avg(len(array_to_string(has, ' ')) "
        "+ len(array_to_string(table_columns, ' '))), 0) FROM asset_has"
    ).fetchall()[0][0]
    types = con.execute(
        "SELECT coalesce(avg(len(array_to_string(types, ' '))), 0) FROM asset_types"
    ).fetchall()[0][0]
    per_row = 600 + 2 * (float(text) + float(types))  # the fixed columns, then the lists
    return max(2_000, min(SLICE_ROWS, int(SLICE_BYTES // per_row)))


def _slices(con: Any) -> list[tuple[str, str, int]]:
    """(first dandiset, last dandiset, assets) ranges of whole dandisets, about
    `_slice_rows` assets each."""
    size = _slice_rows(con)
    counts = con.sql("SELECT dandiset_id, count(*) FROM assets GROUP BY 1 ORDER BY 1").fetchall()
    out: list[tuple[str, str, int]] = []
    start, total = None, 0
    for ds, n in counts:
        if start is None:
            start = ds
        total += n
        if total >= size:
            out.append((start, ds, total))
            start, total = None, 0
    if start is not None:
        out.append((start, counts[-1][0], total))
    return out or [("", "", 0)]


def _copy(
    con: Any,
    sql: str,
    target: Path,
    params: dict[str, Any] | None = None,
    size: int = ROW_GROUP,
) -> None:
    con.execute(
        f"COPY ({sql}) TO '{_q(str(target))}' "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {size})",
        params or None,
    )


def _sorted_copy(con: Any, sql: str, target: Path, params: dict[str, Any] | None = None) -> None:
    """`_copy` of a big sort or join; if it does not fit the memory limit with every thread
    (each sorts its own runs: 60 M type values at 10 M assets; a slice of asset_facets
    joins its wide rows), again with one."""
    import duckdb

    try:
        _copy(con, sql, target, params)
    except duckdb.OutOfMemoryException:
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        con.execute("SET threads = 1")
        try:
            _copy(con, sql, target, params)
        finally:
            con.execute(f"SET threads = {int(threads)}")


def _join(pieces: list[Path], target: Path, row_group: int = ROW_GROUP) -> None:
    """Concatenate Parquet pieces in order, one batch at a time (memory stays small)."""
    schema = pq.read_schema(str(pieces[0]))  # DuckDB wrote them all alike
    with pq.ParquetWriter(str(target), schema, compression="zstd") as writer:
        for piece in pieces:
            f = pq.ParquetFile(str(piece))
            for batch in f.iter_batches(batch_size=row_group):
                writer.write_batch(
                    batch.cast(schema) if batch.schema != schema else batch,
                    row_group_size=row_group,
                )


def _q(text: str) -> str:
    return text.replace("'", "''")


IN_PROCESS_BYTES = 64 << 20  # snapshots smaller than this are derived without a new process


def write_facets_in_subprocess(snapshot: Path) -> None:
    """The search tables of `snapshot`, derived in a process of its own (its memory is its
    own); a small snapshot's (under `IN_PROCESS_BYTES` of Parquet) in this process."""
    if sum(f.stat().st_size for f in snapshot.glob("*.parquet")) < IN_PROCESS_BYTES:
        write_facets(snapshot)
        return
    result = subprocess.run(
        [sys.executable, "-m", "dandindex.facets", str(snapshot)], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise CrawlError(
            f"Deriving the search tables of {snapshot} failed; the previous snapshot stays current. "
            f"{result.stderr.strip()[-2000:]}"
        )


if __name__ == "__main__":  # python -m dandindex.facets SNAPSHOT_DIR (used by the crawler)
    write_facets(Path(sys.argv[1]))
