"""Running a `SearchQuery` over a snapshot's search tables.

The plan: every facet the query gives resolves its values once, through the registry and
the vocabularies (`dandindex.registry`: species names, modality aliases, brain areas with
their hierarchy; unknown values raise a sentence listing the closest known ones), into
lookups; the posting bitmaps answer each (`dandindex.postings`), values of one facet OR and
facets AND, smallest first. Free text adds the rows of the versions whose name, description
or keywords contain it (a version is a run of rows) and of the paths that do. The answer is
one bitmap: its length is the total, counted for free. Only then are rows read from
``asset_facets``: the first `fetch` matches (asset level), or the matching rows of the first
`fetch` dandisets (dandiset level), and only the columns shown.

Nothing here builds SQL from user text: values reach SQL as bound parameters or as the
row numbers of an Arrow table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyroaring import BitMap

from dandindex.facetmaps import held_species
from dandindex.postings import Postings, intersect
from dandindex.query import SearchQuery
from dandindex.registry import SearchVocab
from dandindex.rowread import KeyReader, RowReader

#: asset-level result columns (what `dandindex search` prints), then what handles need
ASSET_COLUMNS = (
    "asset_id",
    "dandiset_id",
    "version",
    "path",
    "size",
    "species",
    "species_id",
    "species_inherited",
    "modalities",
    "formats",
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
HANDLE_COLUMNS = ("metadata_ranges", "read_url", "zarr_id")


@dataclass(frozen=True)
class Answer:
    """What a search found: the rows read (`table`), how many rows (or dandisets) matched."""

    table: pa.Table
    total: int


class Searcher:
    """Searches over the search tables of one DuckDB connection (views ``asset_facets``,
    ``version_rows``, ``facet_values``, ``facet_bitmaps``, ``dandisets``, ``species_map``)."""

    def __init__(
        self, con: Any, open_table: Callable[[str], Any], vocab: SearchVocab | None = None
    ) -> None:
        self.con = con
        self.rows = RowReader(open_table("asset_facets"))
        self.postings = Postings(con, RowReader(open_table("facet_values")))
        self.assets = AssetLookup(open_table)
        self.vocab = vocab or SearchVocab(
            known_types=lambda: frozenset(self.postings.counts("type")),
            raw_areas=lambda: sorted(self.postings.counts("raw_area")),
            species=lambda: self._held(),
            values=self._values_of,
        )
        self._values: dict[str, list[str]] = {}
        self._species: list[Any] | None = None
        self._versions: tuple[np.ndarray, np.ndarray, list[str], list[str]] | None = None
        self._dandisets_at: tuple[list[str], np.ndarray, np.ndarray] | None = None
        self._terms: list[set[str]] = []
        self._calls = itertools.count()

    def close(self) -> None:
        """Close the Parquet files it reads rows from."""
        for reader in (self.rows, self.postings.values_file):
            reader.file.close()
        self.assets.close()

    def warm(self) -> None:
        """Read now what every search needs: the bitmaps of every facet value (but the
        text pieces' and dandisets'), the versions' row ranges and a first row."""
        self.postings.counts("species")
        self.dandiset_runs()
        if len(self.versions()[0]):
            self.rows.read(BitMap([1]), ["row"])

    def _values_of(self, kind: str) -> list[str]:
        """Every value of a kind the index holds, sorted (read once)."""
        if kind not in self._values:
            self._values[kind] = sorted(self.postings.counts(kind))
        return self._values[kind]

    def _held(self) -> list[Any]:
        if self._species is None:
            self._species = held_species(self.con)
        return self._species

    # -- what matches ---------------------------------------------------------------------

    def versions(self) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
        """(first rows, last rows, dandiset ids, texts) of every version, in row order."""
        if self._versions is None:
            t = self.con.sql(
                "SELECT first_row, last_row, dandiset_id, text, terms FROM version_rows "
                "ORDER BY first_row"
            ).to_arrow_table()
            self._versions = (
                t.column(0).to_numpy().astype(np.int64),
                t.column(1).to_numpy().astype(np.int64),
                t.column(2).to_pylist(),
                [x or "" for x in t.column(3).to_pylist()],
            )
            self._terms = [set(x or ()) for x in t.column(4).to_pylist()]
        return self._versions

    def version_assets(
        self, dandiset_id: str, version: str, offset: int, limit: int, columns: list[str]
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many assets, `limit` of them from `offset`) of one version, in path order:
        a version's assets are one run of ``asset_facets`` rows, so this reads a span."""
        found = self.con.execute(
            "SELECT first_row, last_row FROM version_rows WHERE dandiset_id = $d AND version = $v",
            {"d": dandiset_id, "v": version},
        ).fetchall()
        if not found:
            return 0, []
        first, last = int(found[0][0]), int(found[0][1])
        start = first - 1 + max(0, offset)
        stop = min(last, start + max(0, limit))
        return last - first + 1, self.rows.read_span(start, stop, columns).to_pylist()

    def dandiset_runs(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(dandiset ids, first row, last row) of every dandiset, in row order."""
        if self._dandisets_at is None:
            first, last, ds, _ = self.versions()
            starts = np.r_[0, np.flatnonzero(np.array(ds[1:]) != np.array(ds[:-1])) + 1]
            starts = starts[starts < len(ds)]
            ends = np.r_[starts[1:], len(ds)] - 1
            lasts = np.array([last[a : b + 1].max() for a, b in zip(starts, ends, strict=True)])
            self._dandisets_at = ([ds[i] for i in starts], first[starts], lasts.astype(np.int64))
        return self._dandisets_at

    def everything(self) -> BitMap:
        last = self.versions()[1]
        out = BitMap()
        if len(last):
            out.add_range(1, int(last.max()) + 1)
        return out

    def latest(self) -> BitMap:
        """One row per asset: its most recent published version's, else the draft's."""
        return self.postings.value("latest", "1")

    def matches(self, query: SearchQuery) -> BitMap:
        """The rows of ``asset_facets`` that `query` matches (one per asset unless
        ``versions="all"``)."""
        sets = [
            self.postings.any_of(group)
            for f, v in query.items()
            for group in f.lookup_sets(v, self.vocab)
        ]
        if query.text:
            sets.append(self._text(query.text))
        if query.versions == "latest":
            sets.append(self.latest())
        return intersect(sets) if sets else self.everything()

    def _text(self, text: str) -> BitMap:
        """Rows of the versions whose text holds `text`, and of the paths that do: a path
        must hold each three-character piece of it (bitmaps), and the few that do are read
        to check that they hold it whole."""
        from dandindex.vocab.words import terms

        needle = text.lower()
        out = BitMap()
        first, last, _, texts = self.versions()
        wanted = set(terms(needle))
        for a, b, t, have in zip(first, last, texts, self._terms, strict=True):
            if needle in t or (wanted and wanted <= have):  # the phrase, or every word's stem
                out.add_range(int(a), int(b) + 1)
        if len(needle) >= 3:
            grams = {needle[i : i + 3] for i in range(len(needle) - 2)}
            maybe = intersect([self.postings.value("trigram", g) for g in grams])
            if len(needle) > 3 and maybe:
                paths = self.rows.read(maybe, ["row", "text"])
                keep = pc.match_substring(paths.column("text"), needle)
                maybe = BitMap(paths.column("row").filter(keep).to_numpy().astype(np.uint32))
        else:  # one or two characters: every path is read
            maybe = BitMap(
                self.rows.scan("text", lambda col: pc.match_substring(col, needle)).astype(
                    np.uint32
                )
            )
        return out | maybe

    def facet_counts(self, hits: BitMap, kind: str) -> dict[str, int]:
        """Value → how many of `hits` (a query's `matches`) hold it, for a facet kind named
        as its facet (``species`` (taxon URIs), ``modality``, ``area`` (with the hierarchy),
        ``type``, ``dandiset``): intersection counts on the posting bitmaps."""
        if kind == "dandiset":  # a run of rows each: counted by bisection
            ids, counts = self._per_dandiset(hits)
            return {i: int(n) for i, n in zip(ids, counts, strict=True) if n}
        return self.postings.cardinalities(kind, hits)

    def count(self, query: SearchQuery) -> int:
        """How many assets (or dandisets, at dandiset level) `query` matches."""
        hits = self.matches(query)
        if query.level == "asset":
            return len(hits)
        return int(np.count_nonzero(self._per_dandiset(hits)[1]))

    # -- reading what is shown ------------------------------------------------------------

    def run(self, query: SearchQuery, fetch: int | None) -> Answer:
        """The first `fetch` matching assets (or dandisets), and how many match."""
        hits = self.matches(query)
        if query.level == "asset":
            rows = list(itertools.islice(hits, fetch)) if fetch is not None else list(hits)
            return Answer(self._assets(rows), len(hits))
        ids, counts = self._per_dandiset(hits)
        matched = np.flatnonzero(counts)
        shown = matched if fetch is None else matched[:fetch]
        return Answer(self._dandisets(hits, shown), len(matched))

    def _per_dandiset(self, hits: BitMap) -> tuple[list[str], np.ndarray]:
        """(dandiset ids, matching rows of each), in row order."""
        ids, first, last = self.dandiset_runs()
        if not ids:
            return [], np.zeros(0, dtype=np.int64)
        rows = np.frombuffer(hits.to_array(), dtype=np.uint32)
        return ids, np.diff(np.searchsorted(rows, np.r_[first, last[-1] + 1]))

    def _assets(self, rows: list[int]) -> pa.Table:
        cols = ["row", *(("types" if c == "neurodata_types" else c) for c in ASSET_COLUMNS),
                *HANDLE_COLUMNS]  # fmt: skip
        table = self.rows.read(BitMap(rows), cols).drop_columns(["row"])
        return table.rename_columns(
            ["neurodata_types" if c == "types" else c for c in table.column_names]
        )

    def _dandisets(self, hits: BitMap, shown: np.ndarray) -> pa.Table:
        """Dandiset rows aggregated from the matching assets of the dandisets `shown` (their
        positions in row order)."""
        rows = np.frombuffer(hits.to_array(), dtype=np.uint32)
        if len(shown):
            _, first, last = self.dandiset_runs()
            lo, hi = first[shown[0]], last[shown[-1]]
            rows = rows[np.searchsorted(rows, lo) : np.searchsorted(rows, hi, side="right")]
        else:
            rows = rows[:0]
        cols = ["dandiset_id", "asset_id", "size", "species", "species_ids", "modalities", "areas"]
        assets = self.rows.read(BitMap(rows), cols)
        name = f"_hits_{next(self._calls)}"
        self.con.register(name, assets)
        try:
            table: pa.Table = self.con.sql(
                f"""
                WITH sp AS (  -- a name per species of each asset (its own or inherited)
                    SELECT f.dandiset_id,
                           list_sort(list_distinct(list(coalesce(sn.name, sr.name, f.species))
                               FILTER (f.species IS NOT NULL OR f.sid IS NOT NULL))) AS species
                    FROM (SELECT dandiset_id, species,
                                 unnest(CASE WHEN len(species_ids) > 0 THEN species_ids
                                        ELSE [NULL] END) AS sid
                          FROM {name}) f
                    LEFT JOIN (SELECT DISTINCT species_id, name FROM species_map) sn
                        ON sn.species_id = f.sid
                    LEFT JOIN species_map sr ON f.sid IS NULL AND sr.raw = f.species
                    GROUP BY f.dandiset_id
                )
                SELECT f.dandiset_id, any_value(d.name) AS name,
                       count(DISTINCT f.asset_id) AS assets, CAST(sum(f.size) AS BIGINT) AS size,
                       any_value(sp.species) AS species,
                       list_sort(list_distinct(flatten(list(f.modalities)))) AS modalities,
                       list_sort(list_distinct(flatten(list(f.areas)))) AS areas,
                       any_value(d.latest_version) AS latest_version
                FROM {name} f LEFT JOIN dandisets d USING (dandiset_id)
                LEFT JOIN sp USING (dandiset_id)
                GROUP BY f.dandiset_id ORDER BY f.dandiset_id
                """
            ).to_arrow_table()
            return table
        finally:
            self.con.unregister(name)


class AssetLookup:
    """One asset's rows in the snapshot's tables, found through ``asset_rows`` (sorted by
    asset id) and read by position: a few row groups, not a scan of ``nwb_objects``."""

    def __init__(self, open_table: Callable[[str], Any]) -> None:
        self._open = open_table
        self._keys: KeyReader | None = None
        self._readers: dict[str, RowReader] = {}

    def keys(self, asset_id: str) -> list[dict[str, Any]]:
        """Where the asset's rows are, a dict per version that holds it."""
        if self._keys is None:
            self._keys = KeyReader(self._open("asset_rows"), "asset_id")
        return self._keys.find(asset_id).to_pylist()

    def warm(self) -> None:
        """Open now what a page about one asset reads (the files' footers)."""
        self.keys("")
        for table in ("assets", "nwb_files", "nwb_objects", "nwb_locations"):
            if table not in self._readers:
                self._readers[table] = RowReader(self._open(table))

    def located(self, asset_id: str, version: str | None = None) -> dict[str, Any] | None:
        """Where the asset's rows are: of its versions `version`, else the most recent
        published one, else the draft; None if the index does not hold it."""
        held = [k for k in self.keys(asset_id) if version in (None, k["version"])]
        held.sort(key=lambda k: (k["version"] != "draft", k["version"]))
        return held[-1] if held else None

    def span(self, table: str, start: int | None, count: int) -> list[dict[str, Any]] | None:
        """`count` rows of `table` from position `start` (None: they are not one run)."""
        if not count:
            return []
        if start is None:
            return None
        reader = self._readers.get(table)
        if reader is None:
            reader = self._readers[table] = RowReader(self._open(table))
        return reader.read_span(start, start + count, reader.schema.names).to_pylist()

    def row(self, table: str, asset_id: str, version: str | None) -> dict[str, Any] | None:
        """The asset's row of ``assets`` or ``nwb_files`` (None if it has none)."""
        at = self.located(asset_id, version) or {}
        start = at.get("asset_row" if table == "assets" else "file_row")
        rows = self.span(table, start, 1) if start is not None else None
        return rows[0] if rows else None

    def handle_row(self, asset_id: str, version: str | None) -> dict[str, Any] | None:
        """What an asset handle is made from: its assets row and its nwb_files row."""
        row = self.row("assets", asset_id, version)
        if row is None:
            return None
        file = self.row("nwb_files", asset_id, row["version"]) or {}
        return {
            **row,
            "metadata_ranges": file.get("metadata_ranges"),
            "read_url": file.get("read_url"),
        }

    def summary(self, asset_id: str) -> dict[str, list[dict[str, Any]]] | None:
        """The asset's nwb_files, nwb_objects (by path) and nwb_locations rows; None when
        they are not runs of their files."""
        at = self.located(asset_id) or {}
        start = at.get("file_row")
        files = self.span("nwb_files", start, 0 if start is None else 1)
        objects = self.span("nwb_objects", at.get("object_start"), at.get("object_count", 0))
        spots = self.span("nwb_locations", at.get("location_start"), at.get("location_count", 0))
        if files is None or objects is None or spots is None:
            return None
        objects.sort(key=lambda o: o["path"])
        return {"files": files, "objects": objects, "locations": spots}

    def close(self) -> None:
        for r in [self._keys, *self._readers.values()]:
            if r is not None:
                r.file.close()


def older_summaries(idx: Any, needed: int) -> list[str]:
    """A sentence when some NWB files were summarised by a walk older than `needed` (they
    lack what a facet asks about: table columns, durations): `crawl --nwb` reads them again.
    Counted once per index (``idx._said``)."""
    if not needed:
        return []
    if needed in idx._said:
        return list(idx._said[needed])
    old, total = idx.con.execute(
        "SELECT count(*) FILTER (coalesce(summary_version, 1) < $v), count(*) "
        "FROM nwb_files WHERE error IS NULL",
        {"v": needed},
    ).fetchall()[0]
    idx._said[needed] = [] if not old else [f"{old:,} of the {total:,} NWB files were summarised by an older dandindex, which "
            "did not record table columns and durations: they cannot match. "
            f"`dandindex crawl --nwb --index {idx.path}` reads them again (only those)."]  # fmt: skip
    return list(idx._said[needed])


def explain(idx: Any, query: SearchQuery) -> list[str]:
    """Sentences on why `query` may match nothing: a dandiset id that is not one or not in
    this index, a range whose min is above its max, an NWB facet on an index without NWB
    summaries; else what each facet alone matches."""
    import re as _re

    notes: list[str] = []
    held = {r[0] for r in idx.con.execute("SELECT dandiset_id FROM dandisets").fetchall()}
    for d in query.dandiset:
        ident = d.zfill(6) if d.isdigit() else d
        if not _re.fullmatch(r"\d{6}", ident):
            notes.append(f"{d!r} is not a dandiset id (six digits, e.g. 000003).")
        elif ident not in held:
            some = ", ".join(sorted(held)[:5]) + (", ..." if len(held) > 5 else "")
            notes.append(f"Dandiset {ident} is not in this index (it holds {len(held):,}: {some}).")
    for facet, value in query.items():
        why = facet.contradiction(value)
        if why:
            notes.append(why)
    nwb = [f for f, _ in query.items() if f.nwb]
    read = "SELECT (SELECT count(*) FROM nwb_files) + (SELECT count(*) FROM file_summaries)"
    if nwb and not idx.con.execute(read).fetchall()[0][0]:
        flags = ", ".join("/".join(o.flag for o in f.options()) for f in nwb)
        notes.append(
            f"This index has read no file's insides (it was crawled without --nwb), and "
            f"{flags} need them. Add them with: dandindex crawl --nwb --index {idx.path}"
        )
    given = query.given() + (["text"] if query.text else [])
    if not notes and len(given) > 1:
        alone = []
        for name in given:
            one = query.only(name)
            alone.append(f"{one.describe()}: {idx.count(one):,}")
        notes.append(
            "Nothing matches all of these together; alone they match " + "; ".join(alone) + "."
        )
    return notes


def near(idx: Any, ref: Any) -> str:
    """' Did you mean ...?' for a path or version that is almost one of the dandiset's."""
    from dandindex.errors import closest

    if ref.asset_id is not None or not ref.dandiset_id:
        return ""
    ds = ref.dandiset_id.zfill(6) if ref.dandiset_id.isdigit() else ref.dandiset_id
    rows = idx._query(
        "SELECT DISTINCT path, version FROM assets WHERE dandiset_id = $ds", {"ds": ds}
    ).rows()
    if not rows:
        return f" The index has no dandiset {ds}."
    versions = sorted({r["version"] for r in rows})
    if ref.version and ref.version not in versions:
        return f" Dandiset {ds} has versions {', '.join(versions)} here."
    near = closest(ref.path or "", sorted({r["path"] for r in rows}), n=3)
    return f" Did you mean {' or '.join(f'{ds}/{p}' for p in near)}?" if near else ""
