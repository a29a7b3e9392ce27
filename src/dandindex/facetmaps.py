"""The maps the search tables are derived through: every distinct string of the index (a
location, a species name, a BIDS value) mapped once, in Python, through the vocabularies.

- ``location_map``: location string → each Allen structure it names, with its ancestors,
  whether it is a placeholder, its hemisphere (`dandindex.vocab.areas.parse_location`);
- ``species_map``: species string → taxon URI and one name per taxon;
- ``bids_map``: a BIDS ``Key=value`` → how it is searched (`dandindex.formats.bids.normalize`).

Each is a table on the derivation's DuckDB connection (`dandindex.facets`).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from dandindex.vocab import areas as A

#: `Index.areas`: every location string with its structures, files and dandisets ({where}:
#: a filter on ``m`` (the string's mapping))
AREAS_SQL = """
    WITH uses AS (
        SELECT l.location AS raw, l.asset_id, n.dandiset_id
        FROM nwb_locations l LEFT JOIN nwb_files n USING (asset_id)
        UNION ALL SELECT unnest(anatomy), asset_id, dandiset_id FROM assets
        UNION ALL SELECT unnest(anatomy), NULL, dandiset_id FROM versions
    ),
    per AS (
        SELECT raw, count(DISTINCT asset_id) AS files,
               count(DISTINCT dandiset_id) AS dandisets
        FROM uses GROUP BY raw
    ),
    m AS (
        SELECT raw, bool_or(dropped) AS placeholder, any_value(hemisphere) AS hemisphere,
               coalesce(list_sort(list_distinct(
                   list(acronym) FILTER (acronym IS NOT NULL))), []) AS areas
        FROM location_map GROUP BY raw
    )
    SELECT m.raw AS location, m.areas, m.hemisphere, m.placeholder,
           per.files, per.dandisets
    FROM m JOIN per USING (raw) {where}
    ORDER BY per.files DESC, per.dandisets DESC, location"""


def location_map(con: Any) -> None:
    """location_map: a row per (location string, structure it names); one row with none."""
    raw = con.sql(
        """
        SELECT DISTINCT location AS raw FROM nwb_locations
        UNION SELECT DISTINCT unnest(anatomy) FROM assets
        UNION SELECT DISTINCT unnest(anatomy) FROM versions
        """
    ).fetchall()
    rows = []
    for (text,) in sorted(raw, key=lambda r: str(r[0])):
        if text is None:
            continue
        parsed = A.parse_location(text)
        trees = A.area_trees(parsed.areas) or [[]]
        for s, tree in zip(parsed.areas or (None,), trees, strict=True):  # a row per structure
            rows.append(
                {
                    "raw": text,
                    "dropped": parsed.placeholder,
                    "acronym": s.acronym if s else None,
                    "ancestors": tree,
                    "hemisphere": parsed.hemisphere,
                }
            )
    schema = pa.schema(
        [
            ("raw", pa.string()),
            ("dropped", pa.bool_()),
            ("acronym", pa.string()),
            ("ancestors", pa.list_(pa.string())),
            ("hemisphere", pa.string()),
        ]
    )
    con.register("_location_map_rows", pa.Table.from_pylist(rows, schema=schema))
    con.execute(
        "CREATE TABLE location_map AS SELECT * FROM _location_map_rows ORDER BY raw, acronym"
    )


def held_species(con: Any) -> list[Any]:
    """The species an index's metadata holds (`HeldSpecies`), from its assets and versions."""
    from dandindex.vocab.species import HeldSpecies

    rows = con.sql(
        """
        SELECT species_id, species, count(*) FROM assets WHERE species_id IS NOT NULL GROUP BY 1, 2
        UNION ALL
        SELECT unnest(species_id), NULL, 0 FROM versions
        """
    ).fetchall()
    return [HeldSpecies(uri, name, int(n)) for uri, name, n in rows]


def species_map(con: Any) -> None:
    """species_map: every species string (assets', versions', NWB files') → its taxon URI
    (null if none resolves) and one canonical name per taxon."""
    from dandindex.errors import DandindexError
    from dandindex.vocab.species import canonical_name, resolve_species

    held = held_species(con)
    raw = con.sql(
        """
        SELECT DISTINCT species FROM assets WHERE species IS NOT NULL
        UNION SELECT DISTINCT unnest(species) FROM versions
        UNION SELECT DISTINCT species FROM nwb_files WHERE species IS NOT NULL
        UNION SELECT DISTINCT subject_species FROM file_summaries
            WHERE subject_species IS NOT NULL
        """
    ).fetchall()
    rows = []
    for (text,) in sorted(raw, key=lambda r: str(r[0])):
        try:
            uri: str | None = resolve_species(text, held)
        except DandindexError:
            uri = None
        rows.append(
            {"raw": text, "species_id": uri, "name": canonical_name(uri, held) if uri else None}
        )
    schema = pa.schema([("raw", pa.string()), ("species_id", pa.string()), ("name", pa.string())])
    con.register("_species_map_rows", pa.Table.from_pylist(rows, schema=schema))
    con.execute("CREATE TABLE species_map AS SELECT * FROM _species_map_rows ORDER BY raw")


def bids_map(con: Any) -> None:
    """bids_map: every BIDS ``Key=value`` string of file_summaries → how it is searched
    (`dandindex.formats.bids.normalize`) and its key alone."""
    from dandindex.formats.bids import normalize

    raw = con.sql("SELECT DISTINCT unnest(bids) FROM file_summaries").fetchall()
    rows = []
    for (text,) in raw:
        if text is None or "=" not in text:
            continue
        value = normalize(text)
        rows.append({"raw": text, "value": value, "key": value.partition("=")[0]})
    schema = pa.schema([("raw", pa.string()), ("value", pa.string()), ("key", pa.string())])
    con.register("_bids_map_rows", pa.Table.from_pylist(rows, schema=schema))
    con.execute("CREATE TABLE bids_map AS SELECT * FROM _bids_map_rows ORDER BY raw")
