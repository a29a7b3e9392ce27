"""Facets about what is inside the files: objects they hold (``--has``), their tables'
columns (``--column``) and areas recorded together (``--area-all``). Registered in
`dandindex.registry.FACETS` like every facet (durations are a `RangeFacet` there).

``--has`` and ``--column`` name things a file must hold; repeating them ANDs (every one must
be there), unlike the other facets, whose repeated values OR. So does ``--area-all``.
Names and globs are matched against the values the index holds (lower-cased): an unknown
name gets a sentence with the closest held ones, never a silent empty result.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from dandindex.errors import UsageError, closest
from dandindex.facet import Field, Lookup, SearchVocab, TermsFacet

_GLOB = re.compile(r"[*?\[]")


def _terms(value: tuple[str, ...], flag: str, example: str) -> list[str]:
    out = [v.strip().lower() for v in value]
    if any(not v for v in out):
        raise UsageError(f"{flag} needs a name, e.g. {flag} {example}.")
    return out


def or_list(names: list[str], n: int = 8) -> str:
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")


def _holds(held: list[str], value: str) -> bool:
    """Whether the sorted list `held` holds `value` (a binary search: it can be long)."""
    i = bisect.bisect_left(held, value)
    return i < len(held) and held[i] == value


def _split(values: list[str]) -> list[tuple[str, str]]:
    """Held ``table.column`` values as (table, column)."""
    return [tuple(v.rsplit(".", 1)) for v in values if "." in v]  # type: ignore[misc]


class CommaSeparated:
    """A web field of several values in one text box, separated by commas."""

    name: str

    def from_form(self, args: Any) -> tuple[str, ...]:
        return tuple(t.strip() for v in args.getlist(self.name) for t in v.split(",") if t.strip())

    def to_pairs(self, value: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(self.name, ", ".join(value))] if value else []


@dataclass(frozen=True, eq=False)
class HasFacet(CommaSeparated, TermsFacet):
    """Files holding an object (a typed group or dataset, what ``nwb_objects`` lists) whose
    name or path is each term; ``*``/``?`` glob. Repeat = AND."""

    def lookups(self, value: tuple[str, ...], vocab: SearchVocab) -> list[Lookup]:
        return [lk for group in self.lookup_sets(value, vocab) for lk in group]

    def lookup_sets(self, value: tuple[str, ...], vocab: SearchVocab) -> list[list[Lookup]]:
        held = vocab.values(self.name)
        return [[Lookup(self.name, self._matching(t, held))]
                for t in _terms(value, "--has", "running_speed")]  # fmt: skip

    def _matching(self, term: str, held: list[str]) -> tuple[str, ...]:
        path = "/" in term
        if path:
            term = "/" + term.strip("/")
        if _GLOB.search(term):
            hits = [v for v in held if v.startswith("/") == path and fnmatch.fnmatchcase(v, term)]
        else:
            hits = [term] if _holds(held, term) else []
        if hits:
            return tuple(hits)
        if not held:
            raise UsageError(
                "This index holds no NWB objects (it was crawled without --nwb): --has needs "
                "them. Add them with: dandindex crawl --nwb"
            )
        pool = [v for v in held if v.startswith("/") == path]
        near = closest(_GLOB.sub("", term), pool) or pool[:8]
        kind = "path" if path else "name"
        raise UsageError(
            f"No object {kind} in this index {'matches' if _GLOB.search(term) else 'is'} "
            f"{term!r}. Closest: {or_list(near)}."
        )

    def fields(self) -> list[Field]:
        return [Field(self.name, self.label, "text", placeholder="running_speed, natural*")]


@dataclass(frozen=True, eq=False)
class ColumnFacet(HasFacet):
    """Files with a table holding a column: ``trials.reward``, ``units.quality``,
    ``/intervals/trials.reward`` (a table path), or a column alone (``reward``: any table);
    globs allowed. Repeat = AND."""

    def lookup_sets(self, value: tuple[str, ...], vocab: SearchVocab) -> list[list[Lookup]]:
        held = vocab.values(self.name)
        return [[Lookup(self.name, self._columns(t, held))]
                for t in _terms(value, "--column", "trials.reward")]  # fmt: skip

    def _columns(self, term: str, held: list[str]) -> tuple[str, ...]:
        if not held:
            raise UsageError(
                "This index holds no table columns (it was crawled without --nwb, or before "
                "dandindex recorded them): crawl again with: dandindex crawl --nwb"
            )
        table, _, column = term.rpartition(".")
        if table.startswith("/") or "/" in table:
            table = "/" + table.strip("/")
        pairs = _split(held)
        if _GLOB.search(term):
            hits = [v for v in held if fnmatch.fnmatchcase(v, term if table else f"*.{term}")]
        elif not table:
            hits = [f"{t}.{c}" for t, c in pairs if c == column and not t.startswith("/")]
        else:
            hits = [term] if _holds(held, term) else []
        if hits:
            return tuple(hits)
        tables = sorted({t for t, _ in pairs if t.startswith("/") == table.startswith("/")})
        if table and not _GLOB.search(term) and table not in tables:
            raise UsageError(
                f"No table {table!r} with columns in this index. Closest: "
                f"{or_list(closest(table, tables) or tables)}."
            )
        if table and not _GLOB.search(term):
            cols = sorted({c for t, c in pairs if t == table})
            near = closest(column, cols)
            raise UsageError(
                f"Table {table!r} has no column {column!r} in this index. Its columns: "
                f"{or_list(near + [c for c in cols if c not in near], 12)}."
            )
        names = sorted({v for v in held if not v.startswith("/")})
        raise UsageError(
            f"No table column in this index matches {term!r}. Closest: "
            f"{or_list(closest(_GLOB.sub('', term), names) or names)}."
        )

    def fields(self) -> list[Field]:
        return [Field(self.name, self.label, "text", placeholder="trials.reward, units.quality")]


@dataclass(frozen=True, eq=False)
class AreaAllFacet(CommaSeparated, TermsFacet):
    """Files that record every one of the areas (each with the hierarchy: ``VIS`` is any
    visual area) in the file itself: electrodes, imaging planes, intracellular electrodes.
    Looks up the ``file_area`` kinds of `area_facet`; derives nothing of its own."""

    area_facet: Any = None

    @property
    def kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return ()

    def derive(self, source: str) -> list[str]:
        return []

    def lookups(self, value: tuple[str, ...], vocab: SearchVocab) -> list[Lookup]:
        return [lk for group in self.lookup_sets(value, vocab) for lk in group]

    def lookup_sets(self, value: tuple[str, ...], vocab: SearchVocab) -> list[list[Lookup]]:
        return [self.area_facet.lookups((t,), vocab) for t in value]

    def fields(self) -> list[Field]:
        return [Field(self.name, self.label, "text", placeholder="VISp, VISl")]


def inside_counts(con: Any) -> dict[str, Any]:
    """What `dandindex info` says of the files' insides: how many readable NWB files have a
    known duration (and how many hours), hold tables with columns, record two or more
    areas; the summaries older than the walk that records columns and durations."""
    row = con.execute(
        """
        SELECT count(*), count(duration), coalesce(sum(duration), 0) / 3600,
               count(*) FILTER (coalesce(summary_version, 1) < 3),
               (SELECT count(DISTINCT asset_id) FROM nwb_objects WHERE columns IS NOT NULL),
               (SELECT count(*) FROM (SELECT asset_id FROM asset_areas
                 WHERE acronym IS NOT NULL AND source NOT IN ('anatomy', 'dandiset')
                 GROUP BY asset_id HAVING count(DISTINCT acronym) >= 2))
        FROM nwb_files WHERE error IS NULL
        """
    ).fetchall()[0]
    keys = ("nwb_files", "with_duration", "hours", "older_summaries", "with_tables",
            "with_two_areas")  # fmt: skip
    return dict(zip(keys, row, strict=True))
