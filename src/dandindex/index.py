"""Reading an index: DuckDB views over the current snapshot, SQL, faceted search, handles.

    with Index() as idx:                       # $DANDINDEX_INDEX or the user data dir
        idx.sql("SELECT count(*) FROM assets").rows()
        idx.search(species="mouse", modality="ophys", area="VISp").to_pandas()
        idx.asset("000003/sub-x/sub-x_ecephys.nwb").summary()

Opening an index never builds or changes one (that is `dandindex crawl`). Each `Index` owns
one DuckDB connection with a view per table (columns conformed to this version's schemas)
for its own queries (searches, lookups), and runs user SQL (`sql()`, named queries) in a
second, sandboxed connection (`dandindex.sandbox`) that can read the snapshot's files and
nothing else, and write nothing, whatever the text. Searches use the search tables each
snapshot carries (`dandindex.facets`); an index made before them is told to crawl again.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from dandindex.errors import DandindexError, QueryError, hint
from dandindex.facetmaps import AREAS_SQL
from dandindex.facets import FACET_TABLES, FACETS_VERSION, FACETS_VERSION_KEY
from dandindex.formatfacets import file_counts
from dandindex.handles import AssetHandle
from dandindex.inside import inside_counts
from dandindex.instances import with_links
from dandindex.published import is_url, open_snapshot
from dandindex.query import SearchQuery
from dandindex.registry import SearchVocab
from dandindex.results import COUNTED_FACETS, AssetSet, DandisetSet, Result, facet_table
from dandindex.schemas import TABLES, create_table_view, describe
from dandindex.search import HANDLE_COLUMNS, Searcher, near, older_summaries
from dandindex.store import resolve_index_dir

__all__ = ["Index", "QueryError"]

READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}
_ONLY_TABLES = (
    "SQL here reads this index's tables and nothing else, and writes nothing: "
    + ", ".join(TABLES)
    + ", and the search tables."
)


class Index:
    """A dandindex index, opened for reading: a folder made by `dandindex crawl` (or
    `dandindex pull`), or a published index queried in place (``s3://bucket/prefix``,
    ``https://host/path``, a published folder); `endpoint_url` for an S3-compatible store."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, endpoint_url: str | None = None
    ) -> None:
        self.path: Any = str(path) if is_url(path) else resolve_index_dir(path)
        self.files = open_snapshot(self.path, endpoint_url)  # IndexNotFoundError: what to do
        self.manifest = self.files.manifest
        #: things a user should know about this index (a damaged manifest read around, ...)
        self.notes: list[str] = list(self.files.notes)
        self.con = duckdb.connect(":memory:")
        with contextlib.suppress(duckdb.Error):  # in Jupyter, DuckDB refuses without ipywidgets
            self.con.execute("SET enable_progress_bar = false")  # stdout is for results
        # a snapshot's files never change under a name: parse each footer once, not per query
        self.con.execute("SET parquet_metadata_cache = true")
        if self.files.local is None:  # remote files: DuckDB reads them through fsspec
            from dandindex.sandbox import ReadOnlyFileSystem

            self.con.register_filesystem(ReadOnlyFileSystem(path=self.files.root, fs=self.files.fs))
        self._sandbox: duckdb.DuckDBPyConnection | None = None
        self._searcher: Searcher | None = None
        self._said: dict[int, list[str]] = {}  # older_summaries, per version needed
        for name in TABLES:
            create_table_view(self.con, name, self._file(name))

    def _file(self, name: str) -> str | None:
        """Where the main connection reads table `name`: a local path, else through fsspec."""
        from dandindex.sandbox import PROTOCOL

        key = self.files.key(name)
        if key is None:
            return None
        return self.files.native(name) or f"{PROTOCOL}://{key}"

    def __repr__(self) -> str:
        n = self.manifest.get("row_counts", {})
        return (
            f"Index({str(self.path)!r}: {n.get('dandisets', 0):,} dandisets, "
            f"{n.get('assets', 0):,} assets, {n.get('nwb_files', 0):,} NWB file rows)"
        )

    def _repr_html_(self) -> str:
        from html import escape

        from dandindex.display import info_lines

        lines = info_lines(self.info())
        items = "".join(f"<li>{escape(line.strip())}</li>" for line in lines[1:])
        return f"<b>{escape(lines[0])}</b><ul>{items}</ul>"

    # -- context manager ------------------------------------------------------------

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        self.con.close()
        if self._sandbox is not None:
            self._sandbox.close()
        if self.files.keep is not None:  # a temporary whole copy (a server without Range)
            self.files.keep.cleanup()

    # -- SQL --------------------------------------------------------------------------

    def sql(
        self,
        query: str,
        params: dict[str, Any] | Sequence[Any] | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Result:
        """Run one read-only statement (SELECT, EXPLAIN) with bound parameters (``$name``),
        and return its rows (all of them, in memory; with `limit`, at most that many after
        `offset`: the limit reaches the query, so only those rows are read and held).

        It runs in the sandboxed connection: only this snapshot's tables can be read, and no
        statement can write a file, read another one, reach the network, load an extension
        or change a setting. A statement other than SELECT/EXPLAIN is refused before it runs.
        """
        from dandindex.sandbox import checked_params

        if not isinstance(query, str):
            raise QueryError(f"SQL must be text, not {type(query).__name__}.")
        if "\x00" in query:
            raise QueryError("The SQL contains a NUL character; remove it.")
        con = self._sandboxed()
        try:
            statements = con.extract_statements(query)
        except duckdb.Error as e:
            raise QueryError(f"SQL error: {e}") from None
        if len(statements) != 1:
            raise QueryError(f"Give exactly one SQL statement (got {len(statements)}).")
        kind = str(statements[0].type).rsplit(".", 1)[-1]
        if kind not in READ_ONLY_TYPES:
            raise QueryError(
                f"Only read-only queries are allowed (SELECT, EXPLAIN); this is a {kind} statement. "
                "The index is changed only by `dandindex crawl`."
            )
        if kind == "SELECT" and (limit is not None or offset):
            body = query.strip().rstrip(";").strip()
            page = f" LIMIT {int(limit)}" if limit is not None else ""
            query = f"SELECT * FROM (\n{body}\n) AS q{page} OFFSET {int(offset)}"
        try:
            rel = con.sql(query, params=checked_params(params))
            table = rel.to_arrow_table() if rel is not None else pa.table({})
        except duckdb.PermissionException as e:
            raise QueryError(f"Refused: {e}. {_ONLY_TABLES}") from None
        except (duckdb.Error, OverflowError, TypeError, ValueError) as e:
            text = str(e)
            refused = re.search(r"PermissionError: (.*)", text)
            if refused:  # the read-only filesystem said no (a write, or a path outside)
                raise QueryError(f"Refused: {refused.group(1).strip()}. {_ONLY_TABLES}") from None
            raise QueryError(
                f"SQL error: {text.splitlines()[0] if text else type(e).__name__}"
            ) from None
        return Result(table, source=self)

    def rows(
        self,
        table: str,
        *,
        where: dict[str, Any],
        columns: Sequence[str] = ("*",),
        order_by: Sequence[str] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> Result:
        """Rows of one index table whose columns equal `where` (``{"dandiset_id": "000003"}``),
        in `order_by` order (a leading ``-`` sorts descending), `limit` after `offset`: what
        pages and handles look up, on the index's own connection (no SQL text from callers)."""
        if table not in TABLES:
            raise DandindexError(f"No table {table!r}.{hint(table, TABLES)}")
        known = {c for c, _, _ in describe(table)}
        named = [*where, *(c.lstrip("-") for c in order_by), *(c for c in columns if c != "*")]
        bad = [c for c in named if c not in known]
        if bad:
            raise DandindexError(f"No column {bad[0]!r} in {table}.{hint(bad[0], known)}")
        cond = " AND ".join(f'"{c}" = ${c}' for c in where) or "true"
        order = ", ".join(f'"{c.lstrip("-")}"' + (" DESC" if c.startswith("-") else "")
                          for c in order_by)  # fmt: skip
        sql = f"SELECT {', '.join(c if c == '*' else chr(34) + c + chr(34) for c in columns)} "
        sql += f"FROM {table} WHERE {cond}" + (f" ORDER BY {order}" if order else "")
        sql += (f" LIMIT {int(limit)}" if limit is not None else "") + f" OFFSET {int(offset)}"
        return self._query(sql, dict(where))

    def count_rows(self, table: str, *, where: dict[str, Any]) -> int:
        """How many rows of `table` have the column values `where`."""
        self.rows(table, where=where, limit=0)  # checks the names
        cond = " AND ".join(f'"{c}" = ${c}' for c in where) or "true"
        return int(
            self.con.execute(f"SELECT count(*) FROM {table} WHERE {cond}", where).fetchall()[0][0]
        )

    def _query(self, query: str, params: dict[str, Any] | None = None) -> Result:
        """Run dandindex's own SQL (searches, lookups) on the trusted connection."""
        return Result(self._run(query, params), source=self)

    def _sandboxed(self) -> duckdb.DuckDBPyConnection:
        if self._sandbox is None:
            from dandindex.sandbox import PROTOCOL, sandboxed_connection

            self.searcher()  # the search tables are there (else: a sentence)

            def prepare(con: duckdb.DuckDBPyConnection) -> None:
                for name in TABLES:
                    key = self.files.key(name)
                    create_table_view(con, name, f"{PROTOCOL}://{key}" if key else None)
                for t in FACET_TABLES:
                    key = self.files.key(t)
                    con.execute(
                        f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{PROTOCOL}://{key}')"
                    )

            self._sandbox = sandboxed_connection(self.files.fs, self.files.root, prepare)
        return self._sandbox

    def tables(self) -> list[str]:
        return list(TABLES)

    def schema(self, table: str) -> list[tuple[str, str, str]]:
        if table not in TABLES:
            raise DandindexError(
                f"No table {table!r}. Tables: {', '.join(TABLES)}.{hint(table, TABLES)}"
            )
        return describe(table)

    def info(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "path": str(self.path),
            "api_url": m.get("api_url"),
            "crawl_started": m.get("crawl_started"),
            "crawl_finished": m.get("crawl_finished"),
            "snapshot": m.get("snapshot"),
            "row_counts": m.get("row_counts", {}),
            "dandisets": len(m.get("dandisets", {})),
            "options": m.get("options", {}),
            "versions": {
                k: m.get(k) for k in ("dandindex_version", "dandi_version", "dandischema_version")
            },
            "tables_version": m.get("tables_version"),
            "published": m.get("published"),
            "pulled": m.get("pulled"),
            "nwb_area_coverage": self.area_coverage(),
            "nwb_inside": inside_counts(self.con),
            "other_files": file_counts(self.con),
            "notes": self.notes,
        }

    def area_coverage(self) -> dict[str, Any]:
        """How many summarised NWB files name a brain area the atlas knows."""
        self.searcher()
        row = self.con.execute(
            """
            SELECT (SELECT count(*) FROM nwb_files WHERE error IS NULL),
                   (SELECT count(DISTINCT asset_id) FROM nwb_locations),
                   (SELECT count(DISTINCT asset_id) FROM asset_areas
                    WHERE acronym IS NOT NULL AND source NOT IN ('anatomy', 'dandiset'))
            """
        ).fetchall()[0]
        files, located, mapped = row if row is not None else (0, 0, 0)
        return {
            "nwb_files": files,
            "with_locations": located,
            "with_mapped_area": mapped,
            "share_mapped": round(mapped / files, 4) if files else None,
        }

    def areas(self, *, unmapped: bool = False) -> Result:
        """Every location string of the index (NWB locations, ``anatomy``) with the structures
        it maps to and the files and dandisets that use it, most used first; `unmapped`: only
        the strings that are neither an area the atlas knows nor a placeholder."""
        self.searcher()
        where = "WHERE len(m.areas) = 0 AND NOT m.placeholder" if unmapped else ""
        return self._query(AREAS_SQL.format(where=where))

    def _run(self, query: str, params: dict[str, Any] | Sequence[Any] | None) -> pa.Table:
        rel = self.con.sql(query, params=params or None)
        if rel is None:
            return pa.table({})
        table: pa.Table = rel.to_arrow_table()
        return table

    # -- search -----------------------------------------------------------------------

    def search(self, text: str | None = None, **keywords: Any) -> Result:
        """Assets (or dandisets, ``level="dandiset"``) matching every facet (its values OR),
        one row per asset (``versions="all"``: per version). Keywords: the fields of
        `dandindex.query.SearchQuery` (``SearchQuery.from_keywords``); values are resolved
        through the vocabularies, unknown ones raise a sentence with the closest known."""
        return self.run_search(SearchQuery.from_keywords(text, **keywords))

    def run_search(self, query: SearchQuery) -> Result:
        """Run a `SearchQuery` (see `search`). A result cut by the query's limit says so
        (`truncated`) and knows how many matched (`total`); an empty one says why it may be
        empty (`notes`)."""
        limit = query.limit
        answer = self.searcher().run(query, None if limit is None else limit)
        table = with_links(answer.table, query.level, self.manifest.get("api_url") or "")
        truncated = limit is not None and answer.total > limit
        result: Result
        if query.level == "dandiset":
            result = DandisetSet(table, truncated=truncated, total=answer.total, source=self)
        else:
            result = AssetSet(
                table, truncated=truncated, total=answer.total, source=self, hidden=HANDLE_COLUMNS
            )
        vocab = self.vocab()
        result.notes = [n for f, v in query.items() for n in f.notes(v, vocab)]
        result.notes += older_summaries(self, max((f.summary for f, _ in query.items()), default=0))
        if table.num_rows == 0:
            result.notes += self.explain(query)
        return result

    def count(self, query: SearchQuery) -> int:
        """How many assets (dandisets, at dandiset level) `query` matches, reading no rows."""
        return self.searcher().count(query)

    def explain(self, query: SearchQuery) -> list[str]:
        """Sentences on why `query` may match nothing (`dandindex.search.explain`)."""
        from dandindex.search import explain

        return explain(self, query)

    def vocab(self) -> SearchVocab:
        """What searches need to know about this index (its types, locations, species)."""
        return self.searcher().vocab

    def facet_counts(self, kind: str, query: SearchQuery | None = None) -> dict[str, int]:
        """Every value of a facet kind with its number of assets (one row per asset, as a
        search shows them), of `query`'s matches when given. Kinds other than
        `COUNTED_FACETS` (``raw_area``, ``has``, ``column``...) count rows of every version,
        and only without a query."""
        if kind in COUNTED_FACETS:
            searcher = self.searcher()
            return searcher.facet_counts(searcher.matches(query or SearchQuery()), kind)
        if query is not None:
            raise QueryError(
                f"Counts of a search are kept for {', '.join(COUNTED_FACETS)}, not {kind!r}."
            )
        return self.searcher().postings.counts(kind)

    def result_counts(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Value → how many of `query`'s matches hold it, per counted facet (species as
        taxon URIs, modality, area with the hierarchy, type, dandiset); the matches are
        found once."""
        searcher = self.searcher()
        return self._counts(searcher, searcher.matches(query))

    @staticmethod
    def _counts(searcher: Searcher, hits: Any) -> dict[str, dict[str, int]]:
        return {k: searcher.facet_counts(hits, k) for k in COUNTED_FACETS}

    def species_names(self) -> dict[str, str]:
        """Species taxon URI → its name as the index stores it (``Mus musculus - House mouse``)."""
        self.searcher()  # the search tables' views
        rows = self.con.execute("SELECT DISTINCT species_id, name FROM species_map").fetchall()
        return {str(i): str(n) for i, n in rows if i is not None}

    def result_facets(self, query: SearchQuery, top: int | None = 10) -> Result:
        """How `query`'s matches split by species, modality, area, type, file format,
        channel and dandiset: rows (facet, value, assets), most first, `top` of each: where
        to narrow it; its total is the number of matching assets."""
        searcher = self.searcher()
        hits = searcher.matches(query)  # the assets, at either level
        table = facet_table(self._counts(searcher, hits), self.species_names(), top)
        return Result(table, total=len(hits))

    def searcher(self) -> Searcher:
        """The search engine over this snapshot's search tables (opened on first use); an
        index without them, or with older ones, is a sentence saying to crawl again."""
        if self._searcher is None:
            files = {t: self._file(t) for t in FACET_TABLES}
            version = None
            if all(f is not None for f in files.values()):
                rows = self.con.execute(
                    "SELECT value FROM parquet_kv_metadata($f) WHERE key = $k",
                    {"f": str(files["facet_bitmaps"]), "k": FACETS_VERSION_KEY},
                ).fetchall()
                version = rows[0][0].decode() if rows else None
            if version != str(FACETS_VERSION):
                from dandindex.errors import IndexOutdatedError

                raise IndexOutdatedError(
                    f"The search tables of the index at {self.path} are from an older dandindex "
                    f"(version {version or 1}; this one reads version {FACETS_VERSION}). Run "
                    f"`dandindex crawl --index {self.path}` once (with the options it was "
                    "crawled with): it derives them again from the parts and NWB summaries it "
                    "keeps, re-reading no file. A published index: pull a newer copy."
                )
            for t, f in files.items():
                self.con.execute(
                    f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{_sql_str(str(f))}')"
                )
            self._searcher = Searcher(self.con, self._parquet)
            self._searcher.warm()
        return self._searcher

    def _parquet(self, name: str) -> Any:
        """A snapshot table as a `pyarrow.parquet.ParquetFile` (through fsspec if remote)."""
        import pyarrow.parquet as pq

        native = self.files.native(name)
        if native is not None:
            return pq.ParquetFile(native)
        key = self.files.key(name)
        return pq.ParquetFile(self.files.fs.open(f"{self.files.root.rstrip('/')}/{key}", "rb"))

    # -- assets -------------------------------------------------------------------------

    def asset(self, ref: str) -> AssetHandle:
        """An asset by any reference people use (`dandindex.instances.parse_asset_ref`): its
        id, ``DANDISET/PATH``, ``DANDISET@VERSION/PATH``, a ``dandi://`` URL, an API URL.
        Without a version, of the versions that hold it the most recent published one (else
        the draft)."""
        from dandindex.instances import parse_asset_ref

        r = parse_asset_ref(ref)
        if r.asset_id is not None:
            if (row := self.searcher().assets.handle_row(r.asset_id, r.version)) is not None:
                return AssetHandle.from_row(row, self)
            where, params = "a.asset_id = $a", {"a": r.asset_id}
        else:
            ds = r.dandiset_id or ""
            ds = ds.zfill(6) if ds.isdigit() else ds
            params = {"ds": ds, "p": r.path or ""}
            where = "a.dandiset_id = $ds AND a.path = $p"
        if r.version:
            where += " AND a.version = $v"
            params["v"] = r.version
        rows = self._query(
            f"""
            SELECT a.asset_id, a.dandiset_id, a.version, a.path, a.size, a.api_url, a.s3_url,
                   a.blob_id, a.zarr_id, a.sha256, f.metadata_ranges, f.read_url
            FROM assets a LEFT JOIN nwb_files f USING (asset_id)
            WHERE {where}
            ORDER BY a.version = 'draft', a.version DESC LIMIT 1
            """,
            params,
        ).rows()
        if not rows:
            raise DandindexError(f"No asset {ref!r} in the index at {self.path}.{near(self, r)}")
        return AssetHandle.from_row(rows[0], self)

    def asset_row(self, asset_id: str, version: str) -> dict[str, Any]:
        """The asset's row of the ``assets`` table (every column)."""
        row = self.searcher().assets.row("assets", asset_id, version)
        if row is None:
            raise DandindexError(f"No asset {asset_id} at version {version} in this index.")
        return row

    def nwb_summary(self, asset_id: str) -> dict[str, Any]:
        """The indexed NWB summary of an asset: its file row, objects and locations."""
        s = self.searcher().assets.summary(asset_id)
        if s is None:  # its rows are not runs (an index written by hand): look them up
            a = {"a": asset_id}
            s = {
                t: self._query(f"SELECT * FROM nwb_{t} WHERE asset_id = $a", a).rows()
                for t in ("files", "objects", "locations")
            }
            s["objects"].sort(key=lambda o: o["path"])
        if not s["files"]:
            raise DandindexError(f"No NWB summary for asset {asset_id}; crawl with --nwb.")
        return {"file": s["files"][0], "objects": s["objects"], "locations": s["locations"]}

    def file_summary(self, asset_id: str) -> dict[str, Any] | None:
        """The asset's ``file_summaries`` row (a file that is not NWB, a BIDS data file) with
        ``links``: the ``file_links`` rows of files it names or that name it; None if none."""
        a = {"a": asset_id}
        rows = self._query("SELECT * FROM file_summaries WHERE asset_id = $a", a).rows()
        links = self._query(
            "SELECT * FROM file_links WHERE asset_id = $a OR target_asset_id = $a", a
        ).rows()
        return {**(rows[0] if rows else {}), "links": links} if rows or links else None


def _sql_str(text: str) -> str:
    return text.replace("'", "''")
