"""What a search asks for, as one frozen value: `SearchQuery` (with `Range` for min/max pairs).

Its facets are the objects of `dandindex.registry.FACETS`; the query holds one value per
facet, checked by the facet when the query is made (text without NUL characters, numbers
that fit, sizes with units), so bad input is one clear `UsageError` before anything runs::

    q = SearchQuery(species="mouse", area=["CA1", "CA3"], units=Range(min=50))
    q = SearchQuery.from_keywords(species="mouse", area=["CA1", "CA3"], min_units=50)
    q.units == Range(min=50)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dandindex.errors import UsageError, hint
from dandindex.registry import BY_NAME, FACETS, Facet, Range, keyword_map, number
from dandindex.registry import text as checked_text

__all__ = ["LEVELS", "VERSIONS", "Range", "SearchQuery", "facets"]

LEVELS = ("asset", "dandiset")
#: ``latest``: one row per asset (its most recent published version, else the draft);
#: ``all``: a row per version holding it
VERSIONS = ("latest", "all")


class SearchQuery:
    """One search: free text, facet values (repeating a value ORs, different facets AND),
    the level (``asset`` or ``dandiset``), which versions' rows (``latest``: one per asset,
    or ``all``) and a limit. Immutable and hashable."""

    __slots__ = ("_values", "level", "limit", "text", "versions")

    def __init__(
        self,
        text: str | None = None,
        *,
        level: str = "asset",
        limit: int | None = None,
        versions: str = "latest",
        **values: Any,
    ) -> None:
        unknown = sorted(set(values) - set(BY_NAME))
        if unknown:
            raise UsageError(
                f"Unknown facet {unknown[0]!r}.{hint(unknown[0], [f.name for f in FACETS])}"
            )
        set_ = object.__setattr__
        set_(self, "text", None if text is None else checked_text("text", text))
        set_(self, "_values", {f.name: f.check(values.get(f.name)) for f in FACETS})
        if level not in LEVELS:
            raise UsageError(f"level must be asset or dandiset, not {level!r}.")
        set_(self, "level", level)
        if versions not in VERSIONS:
            raise UsageError(
                f"versions must be latest (one row per asset) or all, not {versions!r}."
            )
        set_(self, "versions", versions)
        if limit is not None:
            limit = number("limit", limit, int)
            if limit is not None and limit < 0:
                raise UsageError("limit must be 0 or more.")
        set_(self, "limit", limit)

    def __getattr__(self, name: str) -> Any:
        if name in BY_NAME:
            return self._values[name]
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("SearchQuery is immutable: use .replace(...)")

    def _key(self) -> tuple[Any, ...]:
        return (self.text, self.level, self.versions, self.limit, tuple(self._values.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchQuery) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self._values.items() if v]
        parts = ([f"text={self.text!r}"] if self.text else []) + parts
        parts += [f"level={self.level!r}"] if self.level != "asset" else []
        parts += [f"versions={self.versions!r}"] if self.versions != "latest" else []
        parts += [f"limit={self.limit}"] if self.limit is not None else []
        return f"SearchQuery({', '.join(parts)})"

    def replace(self, **changes: Any) -> SearchQuery:
        """This query with some fields changed (``q.replace(limit=10, area=())``)."""
        fields = {"text": self.text, "level": self.level, "limit": self.limit}
        fields.update(versions=self.versions, **self._values)
        fields.update(changes)
        return SearchQuery(**fields)

    def only(self, name: str) -> SearchQuery:
        """A query of this level with facet `name` (or ``"text"``) alone."""
        if name == "text":
            return SearchQuery(text=self.text, level=self.level, versions=self.versions)
        return SearchQuery(level=self.level, versions=self.versions, **{name: self._values[name]})

    # -- building -------------------------------------------------------------------------

    @classmethod
    def from_keywords(cls, text: str | None = None, **keywords: Any) -> SearchQuery:
        """A query from `Index.search`-style keywords: facet names (``area="CA1"``), their
        aliases (``types=``), range keywords (``min_units=50``, ``rate_max=100``,
        ``size_min="10GB"``) or `Range` values (``units=Range(50)``); a text value or any
        iterable of them for a terms facet; None means "not given"."""
        by_keyword = keyword_map()
        values: dict[str, Any] = {}
        bounds: dict[str, list[Any]] = {}
        extra = {k: keywords.pop(k) for k in ("level", "limit", "versions") if k in keywords}
        for key, value in keywords.items():
            if value is None:
                continue
            if key not in by_keyword:
                known = sorted({*by_keyword, "level", "limit", "versions"})
                raise UsageError(f"search() got an unknown keyword {key!r}.{hint(key, known)}")
            name, bound = by_keyword[key]
            if bound is None:
                values[name] = value
            else:
                bounds.setdefault(name, [None, None])[bound] = value
        for name, (lo, hi) in bounds.items():
            if name in values:
                raise UsageError(f"Give {name} as a Range or as its min/max keywords, not both.")
            values[name] = Range(lo, hi)
        return cls(text, **extra, **values)

    # -- reading --------------------------------------------------------------------------

    def items(self) -> Iterator[tuple[Facet, Any]]:
        """(facet, value) for every facet this query gives, in registry order."""
        for f in FACETS:
            value = self._values[f.name]
            if value:
                yield f, value

    def given(self) -> list[str]:
        """Names of the facets this query uses."""
        return [f.name for f, _ in self.items()]

    def nwb_facets(self) -> list[str]:
        """Facets given here that only NWB summaries can answer."""
        return [f.name for f, _ in self.items() if f.nwb]

    def describe(self) -> str:
        """The query in the words of the command line, e.g. ``--area CA1 --min-units 50``."""
        parts = [repr(self.text)] if self.text else []
        for f, value in self.items():
            parts += f.describe(value)
        return " ".join(parts)


def facets() -> Iterator[tuple[str, Facet]]:
    """(name, facet) for every facet of the registry, in order."""
    for f in FACETS:
        yield f.name, f
