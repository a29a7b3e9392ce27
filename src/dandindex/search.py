"""A `SearchQuery` → the SQL that answers it over the facet tables, and its parameters.

`build_search(query, vocab)` is pure: it reads nothing but its arguments. What it needs to
know about an index (its neurodata types, its raw location strings) comes in `SearchVocab`;
facet values are resolved through `dandindex.vocab` (species names and ids, modality
aliases, Allen brain areas with their hierarchy). Unknown values raise an error that lists
the closest known ones. Every user value reaches SQL as a bound parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dandindex.errors import UsageError, closest
from dandindex.query import SearchQuery
from dandindex.vocab import areas as A
from dandindex.vocab.modality import resolve_modality
from dandindex.vocab.species import HeldSpecies, resolve_species

#: asset-level result columns (what `dandindex search` prints), then what handles need
ASSET_COLUMNS = (
    "asset_id",
    "dandiset_id",
    "version",
    "path",
    "size",
    "species",
    "species_id",
    "modalities",
    "areas",
    "raw_areas",
    "neurodata_types",
    "n_units",
    "n_electrodes",
    "rates",
    "api_url",
    "sha256",
    "s3_url",
    "blob_id",
)
HANDLE_COLUMNS = ("metadata_ranges", "read_url")


@dataclass(frozen=True)
class SearchVocab:
    """What a search needs to know about the index it runs on."""

    known_types: frozenset[str] = frozenset()
    raw_areas: Callable[[], list[str]] = field(default=lambda: [])  # location strings, lazily
    species: Callable[[], list[HeldSpecies]] = field(default=lambda: [])  # held, lazily


def build_search(
    query: SearchQuery, vocab: SearchVocab, *, fetch: int | None = None, count: bool = False
) -> tuple[str, dict[str, Any]]:
    """The search SQL and its parameters; `fetch`: the rows the caller will take at most;
    `count`: SQL for how many rows match (one row, column ``n``), reading no more than it
    must (only the lookup table when every condition is a lookup)."""
    where: list[str] = []
    params: dict[str, Any] = {}
    lookups: list[str] = []  # facet_values lookups, intersected into the candidate rows
    if query.text:
        where.append("contains(f.text, lower($text))")
        params["text"] = query.text
    if query.modality:
        params["modalities"] = [resolve_modality(m) for m in query.modality]
        lookups.append("kind = 'modality' AND list_contains($modalities, value)")
    if query.species:
        held = vocab.species()
        params["species"] = [resolve_species(s, held) for s in query.species]
        lookups.append("kind = 'species' AND list_contains($species, value)")
    if query.area:
        _areas(query.area, vocab, where, params, lookups)
    if query.type:
        params["types"] = [_resolve_type(t, vocab.known_types) for t in query.type]
        where.append(
            "f.row IN (SELECT row FROM facet_values WHERE kind = 'type' AND list_contains($types, value))"
        )
    if query.dandiset:
        params["dandisets"] = [d.zfill(6) if d.isdigit() else d for d in query.dandiset]
        where.append("list_contains($dandisets, f.dandiset_id)")
    for name, kind in (("units", "units"), ("electrodes", "electrodes")):
        r = getattr(query, name)
        if r:
            params[f"{kind}_lo"] = r.min if r.min is not None else float("-inf")
            params[f"{kind}_hi"] = r.max if r.max is not None else float("inf")
            lookups.append(f"kind = '{kind}' AND num BETWEEN ${kind}_lo AND ${kind}_hi")
    for r, kind in ((query.size, "size"), (query.rate, "rate")):
        if r:
            params[f"{kind}_lo"] = r.min if r.min is not None else float("-inf")
            params[f"{kind}_hi"] = r.max if r.max is not None else float("inf")
            lookups.append(f"kind = '{kind}' AND num BETWEEN ${kind}_lo AND ${kind}_hi")
    if lookups:
        cand = " INTERSECT ".join(f"SELECT row FROM facet_values WHERE {c}" for c in lookups)
        if count and query.level == "asset" and not where:
            return f"SELECT count(*) AS n FROM ({cand})", params
        if query.level == "asset" and not where and fetch is not None:
            # every condition is an index lookup: take the first rows first, then their columns
            cand = f"SELECT row FROM ({cand}) ORDER BY row LIMIT {int(fetch)}"
        where.insert(0, f"f.row IN ({cand})")
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    if count:
        what = "count(*)" if query.level == "asset" else "count(DISTINCT f.dandiset_id)"
        return f"SELECT {what} AS n FROM asset_facets f {clause}", params
    if query.level == "asset":
        cols = ", ".join(
            "f.types AS neurodata_types" if c == "neurodata_types" else f"f.{c}"
            for c in ASSET_COLUMNS + HANDLE_COLUMNS
        )
        sql = f"SELECT {cols} FROM asset_facets f {clause} ORDER BY f.row"
    else:
        source = "asset_facets"
        if fetch is not None:  # aggregate only the first `fetch` dandisets' matching assets
            first = f"SELECT DISTINCT f.dandiset_id FROM asset_facets f {clause} ORDER BY 1"
            source = f"""(
                SELECT f.dandiset_id, f.asset_id, f.size, f.species, f.species_id,
                       f.modalities, f.areas
                FROM asset_facets f {clause} {"AND" if clause else "WHERE"}
                     f.dandiset_id IN ({first} LIMIT {int(fetch)}))"""
        sql = f"""
            SELECT f.dandiset_id, any_value(d.name) AS name, count(DISTINCT f.asset_id) AS assets,
                   CAST(sum(f.size) AS BIGINT) AS size,
                   list_sort(list_distinct(list(coalesce(sn.name, sr.name, f.species))
                       FILTER (f.species IS NOT NULL))) AS species,
                   list_sort(list_distinct(flatten(list(f.modalities)))) AS modalities,
                   list_sort(list_distinct(flatten(list(f.areas)))) AS areas,
                   any_value(d.latest_version) AS latest_version
            FROM {source} f LEFT JOIN dandisets d USING (dandiset_id)
            LEFT JOIN (SELECT DISTINCT species_id, name FROM species_map) sn
                ON sn.species_id = f.species_id
            LEFT JOIN species_map sr ON f.species_id IS NULL AND sr.raw = f.species
            {"" if fetch is not None else clause}
            GROUP BY f.dandiset_id ORDER BY f.dandiset_id
        """
    if fetch is not None:
        sql += f" LIMIT {int(fetch)}"
    return sql, params


def _areas(
    terms: tuple[str, ...],
    vocab: SearchVocab,
    where: list[str],
    params: dict[str, Any],
    lookups: list[str],
) -> None:
    acronyms, raws = [], []
    known_raw: list[str] | None = None
    for term in terms:
        found = A.resolve_areas(term)
        if found:
            acronyms += [s.acronym for s in found]
            continue
        known_raw = known_raw if known_raw is not None else vocab.raw_areas()
        needle = term.strip().lower()
        if needle and any(needle in r.lower() for r in known_raw):
            raws.append(needle)
        else:
            raise UsageError(
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


def _resolve_type(term: str, known: frozenset[str]) -> str:
    lowered = {k.lower(): k for k in known}
    if term in known:
        return term
    if term.lower() in lowered:
        return lowered[term.lower()]
    if not known:
        raise UsageError(
            f"No neurodata type {term!r} here: this index has no NWB summaries (it was crawled "
            "without --nwb). Add them with: dandindex crawl --nwb"
        )
    near = closest(term, sorted(known)) or sorted(known)[:8]
    raise UsageError(f"Unknown neurodata type {term!r} in this index. Closest: {', '.join(near)}.")
