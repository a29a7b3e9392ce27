"""Faceted search over an open `Index`: derived facet tables and the search query.

`create_facets` derives, once per connection:

- ``location_map``: every distinct location string (NWB locations, asset and version
  ``anatomy``) → its Allen structure acronym and the acronyms above it (or nothing);
- ``asset_areas``: (asset, source, raw location, acronym, ancestors, count);
- ``asset_facets``: one row per asset with its species id, modalities, NWB types (with
  ancestors), area acronyms (with ancestors), raw areas, counts, rates and searchable text.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from dandindex.errors import DandindexError
from dandindex.vocab import areas as A
from dandindex.vocab.modality import modalities_expr, resolve_modality
from dandindex.vocab.species import resolve_species

if TYPE_CHECKING:
    from dandindex.index import Index


FACET_TABLES = ("location_map", "asset_types", "asset_areas", "asset_facets", "facet_values")


def create_facets(idx: Index) -> None:
    """Facet tables for search: the snapshot's own (written at crawl time) or derived now."""
    snap = idx.path / idx.manifest["snapshot"]
    if all((snap / f"{t}.parquet").exists() for t in FACET_TABLES):
        for t in FACET_TABLES:  # views: searches read only the columns and row groups they need
            idx.con.execute(
                f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{_q(str(snap / f'{t}.parquet'))}')"
            )
    else:
        derive_facets(idx.con)
    idx.known_types = {
        r[0] for r in idx.con.sql("SELECT DISTINCT unnest(types) FROM asset_types").fetchall()
    }


def write_facets(snapshot: Path, memory_limit: str = "256MB") -> None:
    """Derive the facet tables from a snapshot folder's Parquet files and store them beside.

    Called by the crawler before a snapshot is published (and by benchmarks that write an
    index directly), so opening an index for search costs a read, not a derivation.
    """
    import duckdb

    from dandindex.schemas import SCHEMAS

    work = snapshot / ".duckdb-tmp"
    work.mkdir(exist_ok=True)
    con = duckdb.connect(str(work / "facets.duckdb"))  # on disk, so big tables can spill
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET temp_directory = '{_q(str(work))}'")
        for name in SCHEMAS:
            f = snapshot / f"{name}.parquet"
            if f.exists():
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{_q(str(f))}')")
            else:
                con.register(f"_{name}_empty", SCHEMAS[name].empty_table())
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_empty")
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
               a.api_url, a.encoding_format,
               {modalities_expr()} AS modalities,
               coalesce(t.types, []) AS types,
               coalesce(t.rates, []) AS rates,
               coalesce(ar.areas, []) AS areas,
               coalesce(ar.area_tree, []) AS area_tree,
               coalesce(ar.raw_areas, []) AS raw_areas,
               n.n_units, n.n_electrodes,
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


def _known_raw(idx: Index) -> list[str]:
    return [
        r[0]
        for r in idx.con.sql("SELECT DISTINCT raw FROM location_map WHERE NOT dropped").fetchall()
    ]


def build_search(
    idx: Index,
    *,
    text: str | None,
    modality: list[str],
    species: list[str],
    area: list[str],
    types: list[str],
    dandiset: list[str],
    min_units: int | None,
    min_electrodes: int | None,
    rate_min: float | None,
    rate_max: float | None,
    size_min: int | None,
    size_max: int | None,
    level: str,
    limit: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """The search SQL and its parameters (every user value is a bound parameter)."""
    where: list[str] = []
    params: dict[str, Any] = {}
    lookups: list[str] = []  # facet_values lookups, intersected into the candidate rows
    if text:
        where.append("contains(f.text, lower($text))")
        params["text"] = text
    if modality:
        params["modalities"] = [resolve_modality(m) for m in modality]
        lookups.append("kind = 'modality' AND list_contains($modalities, value)")
    if species:
        params["species"] = [resolve_species(s) for s in species]
        lookups.append("kind = 'species' AND list_contains($species, value)")
    if area:
        acronyms, raws = [], []
        known_raw = None
        for term in area:
            s = A.resolve_area(term)
            if s is not None:
                acronyms.append(s.acronym)
                continue
            known_raw = known_raw if known_raw is not None else _known_raw(idx)
            needle = term.strip().lower()
            if needle and any(needle in r.lower() for r in known_raw):
                raws.append(needle)
            else:
                raise DandindexError(
                    f"Unknown brain area {term!r} (not in the Allen atlas, not in any location of this index). "
                    f"Closest: {A.suggest(term, known_raw)}."
                )
        parts = []
        if acronyms:
            params["areas"] = acronyms
            area_lookup = "kind = 'area' AND list_contains($areas, value)"
            if not raws:
                lookups.append(area_lookup)
            else:
                parts.append(f"f.row IN (SELECT row FROM facet_values WHERE {area_lookup})")
        if raws:
            params["raw_areas"] = raws
            parts.append(
                "len(list_filter(f.raw_areas, lambda r: len(list_filter($raw_areas, lambda q: contains(r, q))) > 0)) > 0"
            )
        if parts:
            where.append("(" + " OR ".join(parts) + ")")
    if types:
        known = idx.known_types
        lowered = {k.lower(): k for k in known}
        resolved = []
        for t in types:
            if t in known or t.lower() in lowered:
                resolved.append(lowered.get(t.lower(), t))
            else:
                from dandindex.errors import closest

                hint = ", ".join(closest(t, sorted(known))) or ", ".join(sorted(known)[:8])
                raise DandindexError(
                    f"Unknown neurodata type {t!r} in this index. Closest: {hint}."
                )
        params["types"] = resolved
        where.append(
            "f.row IN (SELECT row FROM facet_values WHERE kind = 'type' AND list_contains($types, value))"
        )
    if dandiset:
        params["dandisets"] = [d.zfill(6) if d.isdigit() else d for d in dandiset]
        where.append("list_contains($dandisets, f.dandiset_id)")
    numeric = {"min_units": min_units, "min_electrodes": min_electrodes}
    for name, kind in (("min_units", "units"), ("min_electrodes", "electrodes")):
        if numeric[name] is not None:
            params[name] = numeric[name]
            lookups.append(f"kind = '{kind}' AND num >= ${name}")
    for lo, hi, kind in ((size_min, size_max, "size"), (rate_min, rate_max, "rate")):
        if lo is not None or hi is not None:
            params[f"{kind}_lo"] = lo if lo is not None else float("-inf")
            params[f"{kind}_hi"] = hi if hi is not None else float("inf")
            lookups.append(f"kind = '{kind}' AND num BETWEEN ${kind}_lo AND ${kind}_hi")
    if lookups:
        cand = " INTERSECT ".join(f"SELECT row FROM facet_values WHERE {c}" for c in lookups)
        if level == "asset" and not where and limit is not None:
            # every condition is an index lookup: take the first rows first, then their columns
            cand = f"SELECT row FROM ({cand}) ORDER BY row LIMIT {int(limit)}"
        where.insert(0, f"f.row IN ({cand})")
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    if level == "asset":
        sql = f"""
            SELECT f.asset_id, f.dandiset_id, f.version, f.path, f.size, f.species, f.species_id,
                   f.modalities, f.areas, f.raw_areas, f.types AS neurodata_types, f.n_units,
                   f.n_electrodes, f.rates, f.api_url
            FROM asset_facets f {clause}
            ORDER BY f.row
        """
    elif level == "dandiset":
        sql = f"""
            SELECT f.dandiset_id, any_value(d.name) AS name, count(DISTINCT f.asset_id) AS assets,
                   CAST(sum(f.size) AS BIGINT) AS size,
                   list_distinct(list(f.species) FILTER (f.species IS NOT NULL)) AS species,
                   list_distinct(flatten(list(f.modalities))) AS modalities,
                   list_distinct(flatten(list(f.areas))) AS areas,
                   any_value(d.latest_version) AS latest_version
            FROM asset_facets f LEFT JOIN dandisets d USING (dandiset_id) {clause}
            GROUP BY f.dandiset_id ORDER BY f.dandiset_id
        """
    else:
        raise DandindexError(f"--level must be asset or dandiset, not {level!r}.")
    return sql, params


if __name__ == "__main__":  # python -m dandindex.search SNAPSHOT_DIR (used by the crawler)
    import sys

    write_facets(Path(sys.argv[1]))
