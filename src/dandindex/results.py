"""What queries and searches return: tables of rows that print well and lead on.

- `Result`: rows of `Index.sql()`, a named query or anything tabular (Arrow underneath);
- `AssetSet`: an asset-level search; ``hits[i]`` is an `AssetHandle` (open, plot, download);
- `DandisetSet`: a dandiset-level search; ``hits[i]`` is a `DandisetHit` whose ``assets()``
  runs the same search inside that dandiset.

Each keeps the index it came from (`source`) so that handles can look up their summaries and
dandiset hits their assets without opening the index again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from dandindex.handles import AssetHandle


class ResultSource(Protocol):
    """An open index: what results need to lead on (summaries, a search within a dandiset)."""

    def nwb_summary(self, asset_id: str) -> dict[str, Any]: ...

    def search(self, text: str | None = None, **keywords: Any) -> Any: ...


@dataclass
class Result:
    """Rows of a query or a search (an Arrow table underneath).

    `truncated`: more rows matched than were fetched; `total`, when known, how many matched.
    """

    table: pa.Table
    truncated: bool = False
    total: int | None = None
    source: ResultSource | None = field(default=None, repr=False, compare=False)
    notes: list[str] = field(default_factory=list, repr=False, compare=False)

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

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, i: int) -> Any:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"row {i} of {n}")
        return self.table.slice(i % n, 1).to_pylist()[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} rows, columns {self.columns})"

    def _repr_html_(self) -> str:
        from html import escape

        cols = self.columns
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(json.dumps(r[c], default=str) if isinstance(r[c], list) else str(r[c]))}</td>"
                for c in cols
            )
            + "</tr>"
            for r in self.table.slice(0, 50).to_pylist()
        )
        head = "".join(f"<th>{escape(c)}</th>" for c in cols)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class AssetSet(Result):
    """What an asset-level search returns: rows that are also asset handles.

    The Arrow table holds the printed columns; what opening a file needs (the recorded byte
    ranges and blob URL) is kept beside it, one entry per row.
    """

    def __init__(
        self,
        table: pa.Table,
        truncated: bool = False,
        total: int | None = None,
        source: ResultSource | None = None,
        hidden: tuple[str, ...] = (),
    ) -> None:
        self._hidden = table.select([c for c in hidden if c in table.column_names])
        super().__init__(
            table.drop_columns(list(self._hidden.column_names)), truncated, total, source
        )

    def handle(self, i: int) -> AssetHandle:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"asset {i} of {n}")
        row = self.table.slice(i % n, 1).to_pylist()[0]
        if self._hidden.num_columns:
            row.update(self._hidden.slice(i % n, 1).to_pylist()[0])
        return AssetHandle.from_row(row, self.source)

    def handles(self) -> list[AssetHandle]:
        return [self.handle(i) for i in range(len(self))]

    def __getitem__(self, i: int) -> AssetHandle:
        return self.handle(i)

    def plot(self, object_path: str, n: int = 4, **kwargs: Any) -> list[Any]:
        """Plot `object_path` for the first `n` matches; returns their Figures."""
        return [self.handle(i).plot(object_path, **kwargs) for i in range(min(n, len(self)))]

    def __repr__(self) -> str:
        rows = self.table.slice(0, 10).to_pylist()
        head = f"AssetSet: {len(self)} assets" + (" (more matched)" if self.truncated else "")
        lines = [head] + [f"  {r['dandiset_id']}/{r['version']}  {r['path']}" for r in rows]
        if len(self) > 10:
            lines.append(f"  ... {len(self) - 10} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        keep = [
            c
            for c in ("dandiset_id", "version", "path", "size", "species", "modalities", "areas")
            if c in self.columns
        ]
        return Result(self.table.select(keep))._repr_html_()


@dataclass(frozen=True)
class DandisetHit:
    """One dandiset of a dandiset-level search."""

    row: dict[str, Any]
    source: ResultSource | None = field(default=None, repr=False, compare=False)

    @property
    def dandiset_id(self) -> str:
        return str(self.row["dandiset_id"])

    def __getitem__(self, key: str) -> Any:
        return self.row[key]

    def assets(self, **keywords: Any) -> Any:
        """The dandiset's assets, by the same index (more facets narrow them)."""
        if self.source is None:
            from dandindex.errors import DandindexError

            raise DandindexError("This result was not made from an index; assets() needs one.")
        return self.source.search(dandiset=self.dandiset_id, **keywords)


class DandisetSet(Result):
    """What a dandiset-level search returns: one row per dandiset."""

    def __getitem__(self, i: int) -> DandisetHit:
        return DandisetHit(super().__getitem__(i), self.source)
