"""The search tables every snapshot carries, derived from its Parquet files.

- ``location_map``: every distinct location string (NWB locations, asset and version
  ``anatomy``) → its Allen structure acronym and the acronyms above it (or nothing);
- ``asset_types``: per asset, its NWB types with their ancestors, and its sampling rates;
- ``asset_areas``: (asset, source, raw location, acronym, ancestors, count);
- ``asset_facets``: one row per asset with its species id, modalities, NWB types (with
  ancestors), area acronyms (with ancestors), raw areas, counts, rates and searchable text;
- ``facet_values``: (kind, value or number, row): the lookup table searches intersect.

The crawler derives them in a process of its own (`write_facets_in_subprocess`) before it
publishes a snapshot; `Index` derives them in memory for an index made before they existed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

from dandindex.errors import CrawlError
from dandindex.schemas import SCHEMAS, create_table_view
from dandindex.vocab import areas as A
from dandindex.vocab.modality import modalities_expr

FACET_TABLES = ("location_map", "asset_types", "asset_areas", "asset_facets", "facet_values")


def write_facets(snapshot: Path, memory_limit: str = "256MB") -> None:
    """Derive the facet tables from a snapshot folder's Parquet files and store them beside.

    Called by the crawler before a snapshot is published (and by benchmarks that write an
    index directly), so opening an index for search costs a read, not a derivation.
    """
    import duckdb

    work = snapshot / ".duckdb-tmp"
    work.mkdir(exist_ok=True)
    con = duckdb.connect(str(work / "facets.duckdb"))  # on disk, so big tables can spill
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET temp_directory = '{_q(str(work))}'")
        for name in SCHEMAS:
            create_table_view(con, name, snapshot / f"{name}.parquet")
        derive_facets(con)
        for t in FACET_TABLES:
            con.execute(
                f"COPY {t} TO '{_q(str(snapshot / f'{t}.parquet'))}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536)"
            )
    finally:
        con.close()
        shutil.rmtree(snapshot / ".duckdb-tmp", ignore_errors=True)


def _q(text: str) -> str:
    return text.replace("'", "''")


def derive_facets(con: Any) -> None:
    raw = con.sql(
        """
        SELECT DISTINCT location AS raw FROM nwb_locations
        UNION SELECT DISTINCT unnest(anatomy) FROM assets
        UNION SELECT DISTINCT unnest(anatomy) FROM versions
        """
    ).fetchall()
    rows = []
    for (text,) in raw:
        if text is None:
            continue
        s = A.match(text)
        rows.append(
            {
                "raw": text,
                "dropped": A.is_dropped(text),
                "acronym": s.acronym if s else None,
                "ancestors": A.ancestors(s) if s else [],
            }
        )
    schema = pa.schema(
        [
            ("raw", pa.string()),
            ("dropped", pa.bool_()),
            ("acronym", pa.string()),
            ("ancestors", pa.list_(pa.string())),
        ]
    )
    con.register("_location_map_rows", pa.Table.from_pylist(rows, schema=schema))
    con.execute("CREATE TABLE location_map AS SELECT * FROM _location_map_rows")
    con.execute(
        """
        CREATE TABLE asset_types AS
        SELECT asset_id, list_distinct(flatten(list(list_prepend(neurodata_type, base_types)))) AS types,
               list_distinct(list(rate) FILTER (rate IS NOT NULL)) AS rates
        FROM nwb_objects GROUP BY asset_id
        """
    )
    con.execute(
        """
        CREATE TABLE asset_areas AS
        SELECT l.asset_id, l.source, m.raw, m.acronym, m.ancestors, sum(l.count) AS count
        FROM nwb_locations l JOIN location_map m ON m.raw = l.location
        WHERE NOT m.dropped GROUP BY ALL
        UNION ALL
        SELECT a.asset_id, 'anatomy', m.raw, m.acronym, m.ancestors, 1
        FROM (SELECT DISTINCT asset_id, unnest(anatomy) AS raw FROM assets) a
        JOIN location_map m ON m.raw = a.raw WHERE NOT m.dropped
        """
    )
    con.execute(
        f"""
        CREATE TABLE asset_facets AS
        WITH areas AS (
            SELECT asset_id,
                   list_distinct(list(acronym) FILTER (acronym IS NOT NULL)) AS areas,
                   list_distinct(flatten(list(ancestors))) AS area_tree,
                   list_distinct(list(lower(raw))) AS raw_areas
            FROM asset_areas GROUP BY asset_id
        ),
        dtext AS (
            SELECT dandiset_id, version,
                   lower(concat_ws(' ', name, description, array_to_string(keywords, ' '))) AS text
            FROM versions
        )
        SELECT row_number() OVER (ORDER BY a.dandiset_id, a.version, a.path, a.asset_id) AS row,
               a.asset_id, a.dandiset_id, a.version, a.path, a.size, a.species, a.species_id,
               a.api_url, a.encoding_format, a.sha256, a.s3_url, a.blob_id,
               {modalities_expr()} AS modalities,
               coalesce(t.types, []) AS types,
               coalesce(t.rates, []) AS rates,
               coalesce(ar.areas, []) AS areas,
               coalesce(ar.area_tree, []) AS area_tree,
               coalesce(ar.raw_areas, []) AS raw_areas,
               n.n_units, n.n_electrodes, n.metadata_ranges, n.read_url,
               lower(a.path) || ' ' || coalesce(d.text, '') AS text
        FROM assets a
        LEFT JOIN asset_types t USING (asset_id)
        LEFT JOIN areas ar USING (asset_id)
        LEFT JOIN nwb_files n USING (asset_id)
        LEFT JOIN dtext d ON d.dandiset_id = a.dandiset_id AND d.version = a.version
        ORDER BY row
        """
    )
    # (kind, value) → asset: selective facets become an index lookup instead of a list scan
    con.execute(
        """
        CREATE TABLE facet_values AS
        SELECT * FROM (
            SELECT 'area' AS kind, unnest(area_tree) AS value, NULL::DOUBLE AS num, row FROM asset_facets
            UNION ALL SELECT 'type', unnest(types), NULL, row FROM asset_facets
            UNION ALL SELECT 'modality', unnest(modalities), NULL, row FROM asset_facets
            UNION ALL SELECT 'species', species_id, NULL, row FROM asset_facets WHERE species_id IS NOT NULL
            UNION ALL SELECT 'rate', NULL, unnest(rates), row FROM asset_facets
            UNION ALL SELECT 'units', NULL, n_units, row FROM asset_facets WHERE n_units IS NOT NULL
            UNION ALL SELECT 'electrodes', NULL, n_electrodes, row FROM asset_facets WHERE n_electrodes IS NOT NULL
            UNION ALL SELECT 'size', NULL, size, row FROM asset_facets WHERE size IS NOT NULL
        ) ORDER BY kind, value, num, row
        """
    )


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
