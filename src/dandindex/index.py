"""Reading an index: DuckDB views over the current snapshot, SQL, and faceted search.

    with Index() as idx:                       # $DANDINDEX_INDEX or the user data dir
        idx.sql("SELECT count(*) FROM assets").rows()
        idx.search(species="mouse", modality="ophys", area="VISp").to_pandas()

Opening an index never builds or changes one (that is `dandindex crawl`). Each `Index` owns
one DuckDB connection; user SQL is checked to be read-only (SELECT/EXPLAIN) before it runs.
Searches use the facet tables each snapshot carries (derived in memory for older indexes).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from dandindex.errors import DandindexError
from dandindex.schemas import SCHEMAS, TABLES, describe
from dandindex.store import IndexStore, resolve_index_dir

READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}


class QueryError(DandindexError):
    """A query was refused or failed; the message says why."""


@dataclass
class Result:
    """Rows of a query or a search (an Arrow table underneath)."""

    table: pa.Table
    truncated: bool = False

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_pandas(self) -> Any:
        return self.table.to_pandas()

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()

    @property
    def columns(self) -> list[str]:
        return self.table.column_names

    def __len__(self) -> int:
        return self.table.num_rows

    def __iter__(self) -> Any:
        return iter(self.rows())


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v for v in value if v is not None]


class Index:
    """A local dandindex index folder, opened for reading."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = resolve_index_dir(path)
        self.store = IndexStore(self.path)
        self.manifest = self.store.manifest()  # raises IndexNotFoundError naming the path
        self.con = duckdb.connect(":memory:")
        self._facets_ready = False
        self.known_types: set[str] = set()
        for name in TABLES:
            file = self.path / self.manifest["snapshot"] / f"{name}.parquet"
            if file.exists():
                self.con.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{_sql_str(str(file))}')"
                )
            else:  # an index from before this table existed: an empty table of the right shape
                self.con.register(f"_{name}_empty", SCHEMAS[name].empty_table())
                self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_empty")

    # -- context manager ------------------------------------------------------------

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # -- SQL --------------------------------------------------------------------------

    def sql(self, query: str, params: dict[str, Any] | Sequence[Any] | None = None) -> Result:
        """Run one read-only statement (SELECT, EXPLAIN) with bound parameters (``$name``)."""
        try:
            statements = self.con.extract_statements(query)
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
        try:
            table = self._run(query, params)
        except duckdb.Error as e:
            raise QueryError(f"SQL error: {e}") from None
        return Result(table)

    def _run(self, query: str, params: dict[str, Any] | Sequence[Any] | None) -> pa.Table:
        rel = self.con.sql(query, params=params or None)
        if rel is None:
            return pa.table({})
        table: pa.Table = rel.to_arrow_table()
        return table

    def tables(self) -> list[str]:
        return list(TABLES)

    def schema(self, table: str) -> list[tuple[str, str, str]]:
        if table not in TABLES:
            from dandindex.errors import closest

            raise DandindexError(
                f"No table {table!r}. Tables: {', '.join(TABLES)}. Closest: {', '.join(closest(table, TABLES))}"
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
        }

    # -- search -----------------------------------------------------------------------

    def search(
        self,
        text: str | None = None,
        *,
        modality: str | Iterable[str] | None = None,
        species: str | Iterable[str] | None = None,
        area: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None,  # noqa: A002 - the facet is called type
        dandiset: str | Iterable[str] | None = None,
        min_units: int | None = None,
        min_electrodes: int | None = None,
        rate_min: float | None = None,
        rate_max: float | None = None,
        size_min: int | None = None,
        size_max: int | None = None,
        level: str = "asset",
        limit: int | None = None,
    ) -> Result:
        """Assets (or dandisets) matching every facet; repeating a facet ORs its values.

        Facet values are resolved through the vocabularies (species names/ids, modality
        aliases, brain-area acronyms/names with the Allen hierarchy); unknown values raise
        an error that lists the closest known ones. All input reaches SQL as bound parameters.
        """
        from dandindex.search import build_search

        self._ensure_facets()
        fetch = None if limit is None else limit + 1  # one more: to tell if it was cut
        query, params = build_search(
            self,
            text=text,
            modality=_as_list(modality),
            species=_as_list(species),
            area=_as_list(area),
            types=_as_list(type),
            dandiset=_as_list(dandiset),
            min_units=min_units,
            min_electrodes=min_electrodes,
            rate_min=rate_min,
            rate_max=rate_max,
            size_min=size_min,
            size_max=size_max,
            level=level,
            limit=fetch,
        )
        if fetch is not None:
            query += f" LIMIT {int(fetch)}"
        table = self._run(query, params)
        truncated = limit is not None and table.num_rows > limit
        if truncated:
            table = table.slice(0, limit)
        if level != "asset":
            return Result(table, truncated=truncated)
        from dandindex.handles import AssetSet

        hits = AssetSet(table, truncated=truncated)
        hits.index_path = str(self.path)
        return hits

    def _ensure_facets(self) -> None:
        if not self._facets_ready:
            from dandindex.search import create_facets

            create_facets(self)
            self._facets_ready = True


def _sql_str(text: str) -> str:
    return text.replace("'", "''")
