"""Per-asset tables of the derivation that a plain GROUP BY would not fit in memory.

``asset_types`` aggregates ``nwb_objects`` (100 M rows at 10 M assets) a batch at a time,
using that the crawler writes an asset's objects together; ``asset_rows`` says where each
asset's rows are in every table, so a page about one asset reads a few row groups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dandindex.schemas import SCHEMAS


def _q(text: str) -> str:
    return text.replace("'", "''")


#: an object's name (the last part of its path)
_NAME = "regexp_extract(path, '[^/]+$')"
_TYPES = """
    SELECT asset_id,
           list_sort(list_distinct(flatten(list(list_prepend(neurodata_type, base_types))))) AS types,
           list_sort(list_distinct(list(rate) FILTER (rate IS NOT NULL))) AS rates,
           min(pos) AS object_start, count(*) AS object_count, max(pos) AS object_last
    FROM _batch GROUP BY asset_id
"""
#: per asset, the names and paths of its objects and its tables' columns (a query of its
#: own: in the same aggregate as the types, a batch needs twice the memory)
_HAS = f"""
    WITH g AS (
        SELECT asset_id, list(DISTINCT lower(path)) FILTER (path <> '/') AS paths,
               flatten(list(
                   list_transform(columns, lambda c: lower({_NAME} || '.' || c))
                   || list_transform(columns, lambda c: lower(path || '.' || c))
               ) FILTER (columns IS NOT NULL)) AS table_columns
        FROM _batch GROUP BY asset_id
    )
    SELECT asset_id,
           list_sort(list_distinct(coalesce(paths, [])
               || list_transform(coalesce(paths, []), lambda p: regexp_extract(p, '[^/]+$'))))
               AS has,
           list_sort(list_distinct(coalesce(table_columns, []))) AS table_columns
    FROM g
"""
_MERGE_HAS = """
    SELECT asset_id, list_sort(list_distinct(flatten(list(has)))) AS has,
           list_sort(list_distinct(flatten(list(table_columns)))) AS table_columns
    FROM {raw} WHERE asset_id IN (SELECT asset_id FROM {split}) GROUP BY asset_id
"""
_MERGE_TYPES = """
    SELECT asset_id, list_sort(list_distinct(flatten(list(types)))) AS types,
           list_sort(list_distinct(flatten(list(rates)))) AS rates,
           NULL::BIGINT AS object_start, sum(object_count)::BIGINT AS object_count
    FROM {raw} WHERE asset_id IN (SELECT asset_id FROM {split}) GROUP BY asset_id
"""
#: the long rows of asset_areas that the files give (a row per location string and structure)
_FILE_AREAS = """
    SELECT b.asset_id, b.source, m.raw, m.acronym, m.ancestors, m.dropped AS placeholder,
           sum(b.count)::BIGINT AS count
    FROM _batch b JOIN location_map m ON m.raw = b.location
    GROUP BY b.asset_id, b.source, m.raw, m.acronym, m.ancestors, m.dropped
    ORDER BY b.asset_id, b.source, m.raw, m.acronym
"""
#: per asset, the areas its file gives (lists), and where its nwb_locations rows are
_FILE_AREA_LISTS = """
    WITH l AS (SELECT asset_id, min(pos) AS s, max(pos) AS e, count(*) AS n
               FROM _batch GROUP BY asset_id),
    m AS (SELECT b.asset_id,
                 list_sort(list_distinct(list(m.acronym) FILTER (m.acronym IS NOT NULL))) AS areas,
                 list_sort(list_distinct(flatten(list(m.ancestors)))) AS area_tree,
                 list_sort(list_distinct(list(lower(m.raw)))) AS raw_areas
          FROM _batch b JOIN location_map m ON m.raw = b.location GROUP BY b.asset_id)
    SELECT l.asset_id, coalesce(m.areas, []) AS areas, coalesce(m.area_tree, []) AS area_tree,
           coalesce(m.raw_areas, []) AS raw_areas, l.s AS location_start, l.n AS location_count,
           l.e AS location_last
    FROM l LEFT JOIN m USING (asset_id)
"""
_MERGE_AREA_LISTS = """
    SELECT asset_id, list_sort(list_distinct(flatten(list(areas)))) AS areas,
           list_sort(list_distinct(flatten(list(area_tree)))) AS area_tree,
           list_sort(list_distinct(flatten(list(raw_areas)))) AS raw_areas,
           NULL::BIGINT AS location_start, sum(location_count)::BIGINT AS location_count
    FROM {raw} WHERE asset_id IN (SELECT asset_id FROM {split}) GROUP BY asset_id
"""
_MERGE_FILE_AREAS = """
    SELECT asset_id, source, raw, acronym, any_value(ancestors) AS ancestors,
           any_value(placeholder) AS placeholder, sum(count)::BIGINT AS count
    FROM {raw} WHERE asset_id IN (SELECT asset_id FROM {split})
    GROUP BY asset_id, source, raw, acronym
"""
PER_ASSET_BATCH = 1 << 18


def stream_by_asset(con: Any, source: Path, columns: list[str], outputs: dict[Path, str]) -> None:
    """Run each SQL of `outputs` (over ``_batch``: `columns` of `source` and ``pos``, each
    row's position in the file from 0) on `source` a batch at a time, writing its rows to
    the Parquet file it is keyed by. The crawler writes an asset's rows together, so a batch
    is cut after its last whole asset and the rest carried over: memory follows the batch,
    not the table (a GROUP BY with lists over 100 M objects does not fit the memory limit).
    An asset that is not one run after all is seen in several batches: `merged` mends it."""
    schema = SCHEMAS[source.stem]
    writers: dict[Path, pq.ParquetWriter] = {}

    def flush(chunk: pa.Table) -> None:
        con.register("_batch", chunk)
        try:
            for target, sql in outputs.items():
                out = con.sql(sql).to_arrow_table()
                if target not in writers:
                    writers[target] = pq.ParquetWriter(str(target), out.schema, compression="zstd")
                writers[target].write_table(out)
        finally:
            con.unregister("_batch")

    file = pq.ParquetFile(str(source)) if source.exists() else None
    present = [c for c in columns if file is not None and c in file.schema_arrow.names]
    batches = file.iter_batches(PER_ASSET_BATCH, columns=present) if file else iter(())
    carry: pa.Table | None = None
    offset = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        t = pa.Table.from_batches([batch])
        for c in columns:  # a file from an older crawl may lack a column
            if c not in present:
                t = t.append_column(schema.field(c), pa.nulls(len(t), schema.field(c).type))
        t = t.select(columns).append_column(
            "pos", pa.array(np.arange(offset, offset + len(t), dtype=np.int64))
        )
        offset += len(t)
        if carry is not None:
            t = pa.concat_tables([carry, t])
        ids = t.column("asset_id").to_numpy(zero_copy_only=False)
        other = np.flatnonzero(ids != ids[-1])
        cut = int(other[-1]) + 1 if len(other) else 0
        carry = t.slice(cut)
        if cut:
            flush(t.slice(0, cut))
    if carry is not None and len(carry):
        flush(carry)
    if not writers:  # no rows: empty tables of the right shape
        flush(schema.empty_table().select(columns).append_column("pos", pa.array([], pa.int64())))
    for w in writers.values():
        w.close()


def merged(
    con: Any, name: str, raw: Path, keep: str, merge: str, per_asset: Path, to: Path | None = None
) -> None:
    """CREATE TABLE `name` (or write Parquet file `to`) from the streamed rows in `raw`: as
    they are (``SELECT {keep}``), but for the assets seen in more than one batch of the
    per-asset file `per_asset`, whose rows `merge` (over ``{raw}`` and ``{split}``) combines."""
    r = f"read_parquet('{_q(str(raw))}')"
    split = f"_split_{name}"
    con.execute(
        f"CREATE TABLE {split} AS SELECT asset_id FROM read_parquet('{_q(str(per_asset))}') "
        "GROUP BY asset_id HAVING count(*) > 1"
    )
    sql = f"""
        SELECT {keep} FROM {r} WHERE asset_id NOT IN (SELECT asset_id FROM {split})
        UNION ALL {merge.format(raw=r, split=split)}
        ORDER BY ALL  -- identical inputs, identical files
    """
    if to is None:
        con.execute(f"CREATE TABLE {name} AS {sql}")
    else:
        con.execute(f"COPY ({sql}) TO '{_q(str(to))}' (FORMAT parquet, COMPRESSION zstd)")


def types_by_asset(con: Any, source: Path, work: Path) -> None:
    """CREATE TABLE ``asset_types``: per asset of `source` (nwb_objects), its types with
    their ancestors, its rates and where its rows are (start from 0, count; start null if
    they are not one run); and ``asset_has``: the names and paths of its objects
    (lower-cased, ``has``) and its tables' columns (``table.column`` and
    ``/path/table.column``, lower-cased, ``table_columns``)."""
    raw = work / "asset_types-raw.parquet"
    columns = ["asset_id", "neurodata_type", "base_types", "rate", "path", "columns"]
    has = work / "asset_has-raw.parquet"
    stream_by_asset(con, source, columns, {raw: _TYPES, has: _HAS})
    merged(con, "asset_has", has, "*", _MERGE_HAS, raw)
    keep = (
        "asset_id, types, rates, CASE WHEN object_last - object_start + 1 = object_count "
        "THEN object_start END AS object_start, object_count"
    )
    merged(con, "asset_types", raw, keep, _MERGE_TYPES, raw)


def areas_by_asset(con: Any, source: Path, work: Path) -> Path:
    """CREATE TABLE ``file_areas``: per asset of `source` (nwb_locations), the areas its
    file gives (acronyms, with ancestors, raw strings lower-cased) and where its rows are;
    returns a Parquet file of asset_areas' rows from the files (needs ``location_map``)."""
    long, lists = work / "file-areas-raw.parquet", work / "file-area-lists-raw.parquet"
    columns = ["asset_id", "source", "location", "count"]
    stream_by_asset(con, source, columns, {long: _FILE_AREAS, lists: _FILE_AREA_LISTS})
    keep = (
        "asset_id, areas, area_tree, raw_areas, CASE WHEN location_last - location_start + 1 "
        "= location_count THEN location_start END AS location_start, location_count"
    )
    merged(con, "file_areas", lists, keep, _MERGE_AREA_LISTS, lists)
    out = work / "file-areas.parquet"
    merged(con, "file_area_rows", long, "*", _MERGE_FILE_AREAS, lists, to=out)
    return out


def _positions(snapshot: Path, table: str) -> str:
    """(asset_id, pos) of the rows of a snapshot table in the slice (pos: from 0)."""
    f = snapshot / f"{table}.parquet"
    if not f.exists():
        return "SELECT NULL::VARCHAR AS asset_id, NULL::BIGINT AS pos WHERE false"
    return (
        f"SELECT asset_id, file_row_number AS pos "
        f"FROM read_parquet('{_q(str(f))}', file_row_number = true) WHERE {_IN_SLICE}"
    )


_IN_SLICE = "asset_id >= $lo AND asset_id < $hi"
#: above every asset id (the end of the last slice)
_TOP = "\U0010ffff"
KEYS_PER_SLICE = 1_000_000


def id_slices(con: Any) -> list[tuple[str, str]]:
    """Ranges of asset ids, in order, covering every string, of about `KEYS_PER_SLICE`
    assets each: cut at quantiles of a fixed sample of the ids (any form of id)."""
    n = int(con.execute("SELECT count(*) FROM assets").fetchall()[0][0])
    if n <= KEYS_PER_SLICE:
        return [("", _TOP)]
    k = -(-n // KEYS_PER_SLICE)
    sample = sorted(
        str(r[0])
        for r in con.sql(
            "SELECT asset_id FROM assets USING SAMPLE reservoir(20000 ROWS) REPEATABLE (7)"
        ).fetchall()
    )
    cuts = sorted({sample[len(sample) * i // k] for i in range(1, k)} - {""})
    return list(zip(["", *cuts], [*cuts, _TOP], strict=True))


def asset_rows_sql(snapshot: Path, source: str) -> str:
    """asset_rows of the assets whose ids are in [$lo, $hi): per (asset, version), where its
    rows are in asset_facets (``facet_row``), assets (``asset_row``), nwb_files
    (``file_row``), nwb_objects and nwb_locations (start and count; a null start if they
    are not one run), sorted by asset id, so a page about one asset reads a few row groups
    (`dandindex.rowread.KeyReader`) instead of scanning. Slices of ids keep the joins
    within the memory limit (`id_slices`), and in order they make the table sorted."""
    assets = (
        f"SELECT asset_id, version, file_row_number AS asset_row "
        f"FROM read_parquet('{_q(str(snapshot / 'assets.parquet'))}', file_row_number = true) "
        f"WHERE {_IN_SLICE}"
    )
    return f"""
        WITH a AS ({assets}),
        f AS (SELECT asset_id, min(pos) AS file_row FROM ({_positions(snapshot, "nwb_files")})
              GROUP BY asset_id),
        r AS (SELECT asset_id, version, row AS facet_row FROM {source} WHERE {_IN_SLICE}),
        t AS (SELECT asset_id, object_start, object_count FROM asset_types WHERE {_IN_SLICE}),
        l AS (SELECT asset_id, location_start, location_count FROM file_areas
              WHERE {_IN_SLICE})
        SELECT a.asset_id, a.version, r.facet_row, a.asset_row, f.file_row,
               t.object_start, coalesce(t.object_count, 0) AS object_count,
               l.location_start, coalesce(l.location_count, 0) AS location_count
        FROM a
        LEFT JOIN r USING (asset_id, version)
        LEFT JOIN f USING (asset_id)
        LEFT JOIN t USING (asset_id)
        LEFT JOIN l USING (asset_id)
        ORDER BY a.asset_id, a.version
    """
