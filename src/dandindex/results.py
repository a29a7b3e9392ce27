"""What queries and searches return: tables of rows that print well and lead on.

- `Result`: rows of `Index.sql()`, a named query or anything tabular (Arrow underneath);
- `AssetSet`: an asset-level search; ``hits[i]`` is an `AssetHandle` (open, plot, download);
- `DandisetSet`: a dandiset-level search; ``hits[i]`` is a `DandisetHit` whose ``assets()``
  runs the same search inside that dandiset.

Each keeps the index it came from (`source`) so that handles can look up their summaries and
dandiset hits their assets without opening the index again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any, ClassVar, Protocol

import pyarrow as pa

from dandindex.display import NOTEBOOK_ROWS, count_caption, html_table, text_table
from dandindex.handles import AssetHandle

#: the facets whose values `Index.result_facets` counts (each facet's kind has its name)
COUNTED_FACETS = ("species", "modality", "area", "type", "file_format", "channel", "dandiset")
#: the structure every NWB file has, and the base types of everything: their counts say
#: nothing about where to narrow
STRUCTURAL_TYPES = frozenset({
    "NWBFile", "Container", "Data", "NWBContainer", "NWBData", "NWBDataInterface", "Subject",
    "Device", "ProcessingModule", "VectorData", "VectorIndex", "ElementIdentifiers",
    "DynamicTableRegion", "TimeSeriesReferenceVectorData", "DynamicTable",
})  # fmt: skip
TOP_AREAS = frozenset({"root", "grey"})  # the atlas's top two levels hold everything


def facet_table(
    counts: dict[str, dict[str, int]], species_names: dict[str, str], top: int | None
) -> pa.Table:
    """Rows (facet, value, assets) of value counts per facet, most first, `top` of each
    (None: all). Species are named as the index stores them (what ``--species`` takes);
    base neurodata types and an area whose matches are exactly a narrower area's (same
    count, so the same assets) are left out: choosing them would not narrow anything."""
    rows = []
    for facet, values in counts.items():
        if facet == "area":
            values = _informative_areas(values)
        elif facet == "type":
            values = {v: n for v, n in values.items() if v not in STRUCTURAL_TYPES}
        ranked = sorted(values.items(), key=lambda vn: (-vn[1], vn[0]))
        for value, n in ranked[:top] if top is not None else ranked:
            name = species_names.get(value, value) if facet == "species" else value
            rows.append({"facet": facet, "value": name, "assets": n})
    schema = pa.schema([("facet", pa.string()), ("value", pa.string()), ("assets", pa.int64())])
    return pa.Table.from_pylist(rows, schema=schema)


def _informative_areas(counts: dict[str, int]) -> dict[str, int]:
    """`counts` without the atlas's top levels and the areas that hold exactly the assets of
    one of their sub-areas (an area's assets include its sub-areas', so equal counts mean
    the same assets)."""
    from dandindex.vocab.areas import atlas

    known = atlas()
    by_id = {known[a.lower()].id: a for a in counts if a.lower() in known}
    implied = set()
    for a, n in counts.items():
        s = known.get(a.lower())
        for ancestor in s.path[:-1] if s is not None else ():
            b = by_id.get(ancestor)
            if b is not None and counts[b] == n:
                implied.add(b)
    return {a: n for a, n in counts.items() if a not in implied and a not in TOP_AREAS}


class ResultSource(Protocol):
    """An open index: what results need to lead on (summaries, a search within a dandiset)."""

    def nwb_summary(self, asset_id: str) -> dict[str, Any]: ...

    def file_summary(self, asset_id: str) -> dict[str, Any] | None: ...

    def asset(self, ref: str) -> AssetHandle: ...

    def search(self, text: str | None = None, **keywords: Any) -> Any: ...


class Result:
    """Rows of a query or a search (an Arrow table underneath).

    `truncated`: more rows matched than were fetched; `total`, when known, how many matched
    (with `counter`, counted when first asked for: a search returns its rows without
    counting every match).
    """

    def __init__(
        self,
        table: pa.Table,
        truncated: bool = False,
        total: int | None = None,
        source: ResultSource | None = None,
        notes: list[str] | None = None,
        counter: Callable[[], int | None] | None = None,
    ) -> None:
        self.table = table
        self.truncated = truncated
        self._total = total
        self._counter = counter
        self.source = source
        self.notes: list[str] = list(notes or [])

    @property
    def total(self) -> int | None:
        if self._total is None and self._counter is not None:
            self._total, self._counter = self._counter(), None
        return self._total

    @total.setter
    def total(self, value: int | None) -> None:
        self._total, self._counter = value, None

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

    #: columns a repr shows first (all columns when empty)
    SHOWN: ClassVar[tuple[str, ...]] = ()
    NOUN: ClassVar[str] = "rows"

    def _shown(self) -> list[str]:
        cols = [c for c in self.SHOWN if c in self.columns]
        return cols or self.columns

    def _caption(self, shown: int) -> str:
        total = self.total if self.total is not None else len(self)
        noun = self.NOUN[:-1] if total == 1 and self.NOUN.endswith("s") else self.NOUN
        caption = count_caption(shown, total, noun, more=self.truncated and not self.total)
        if total > shown:
            caption += " shown"
        return caption

    def __repr__(self) -> str:
        shown = min(len(self), 10)
        lines = [f"{type(self).__name__}: {self._caption(shown)}"]
        if len(self):
            table = text_table(self.table.slice(0, shown).to_pylist(), self._shown())
            lines += ["  " + line for line in table.splitlines()]
        if len(self) > shown:
            lines.append(f"  ... {len(self) - shown:,} more: .to_pandas() or .rows() for all")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        shown = min(len(self), NOTEBOOK_ROWS)
        html = html_table(
            self.table.slice(0, shown).to_pylist(),
            self._shown(),
            self._caption(shown),
            link={"path": "web_url", "dandiset_id": "web_url"},
        )
        notes = "".join(f"<p><i>{escape(n)}</i></p>" for n in self.notes)
        return html + notes


class AssetSet(Result):
    """What an asset-level search returns: rows that are also asset handles.

    The Arrow table holds the printed columns; what opening a file needs (the recorded byte
    ranges and blob URL) is kept beside it, one entry per row.
    """

    SHOWN = ("dandiset_id", "version", "size", "species", "modalities", "areas", "path")
    NOUN = "assets"

    def __init__(
        self,
        table: pa.Table,
        truncated: bool = False,
        total: int | None = None,
        source: ResultSource | None = None,
        hidden: tuple[str, ...] = (),
        counter: Callable[[], int | None] | None = None,
    ) -> None:
        self._hidden = table.select([c for c in hidden if c in table.column_names])
        super().__init__(
            table.drop_columns(list(self._hidden.column_names)),
            truncated,
            total,
            source,
            counter=counter,
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

    def plot(self, object_path: str | None = None, n: int = 4, **kwargs: Any) -> Figures:
        """Plot `object_path` (None: a preview of an image or video) for the first `n`
        matches; returns their Figures, which a notebook shows one after another."""
        return Figures(self.handle(i).plot(object_path, **kwargs) for i in range(min(n, len(self))))  # fmt: skip


class Figures(list[Any]):
    """matplotlib Figures of several matches: a list that shows each picture in a notebook
    (as PNGs, one after another) and says how many it holds elsewhere."""

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for fig in self:
            display(fig)

    def __repr__(self) -> str:
        titles = [t for fig in self for t in [_title(fig)] if t]
        return f"Figures({len(self)} pictures" + (f": {'; '.join(titles)}" if titles else "") + ")"

    def savefig(self, folder: str | Any, prefix: str = "plot") -> list[Any]:
        """Each picture as ``folder/prefix-N.png``; returns their paths."""
        from pathlib import Path

        out = []
        for i, fig in enumerate(self, 1):
            target = Path(folder) / f"{prefix}-{i}.png"
            fig.savefig(target, bbox_inches="tight", dpi=100)
            out.append(target)
        return out


def _title(fig: Any) -> str:
    supt = getattr(fig, "_suptitle", None)
    return supt.get_text() if supt is not None else ""


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

    def __repr__(self) -> str:
        name = self.row.get("name") or ""
        n = self.row.get("asset_count", self.row.get("assets"))
        return f"DandisetHit({self.dandiset_id}: {name!r}" + (f", {n} assets)" if n else ")")

    def _repr_html_(self) -> str:
        cols = [c for c in self.row if not c.endswith("_url")]
        return html_table([self.row], cols, f"DANDI:{self.dandiset_id}", link={"name": "web_url"})

    def assets(self, **keywords: Any) -> Any:
        """The dandiset's assets, by the same index (more facets narrow them)."""
        if self.source is None:
            from dandindex.errors import DandindexError

            raise DandindexError("This result was not made from an index; assets() needs one.")
        return self.source.search(dandiset=self.dandiset_id, **keywords)


class DandisetSet(Result):
    """What a dandiset-level search returns: one row per dandiset."""

    SHOWN = ("dandiset_id", "assets", "size", "species", "modalities", "name")
    NOUN = "dandisets"

    def __getitem__(self, i: int) -> DandisetHit:
        return DandisetHit(super().__getitem__(i), self.source)
