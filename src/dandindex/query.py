"""What a search asks for, as one frozen value: `SearchQuery` (with `Range` for min/max pairs).

Every facet is declared once, here, with its help text and its command-line flags; the
`dandindex search` options, `Index.search`'s keywords and the search SQL are all made from
these fields, so a new facet is added in one place::

    q = SearchQuery.from_keywords(species="mouse", area=["CA1", "CA3"], min_units=50)
    q.units == Range(min=50)

Values are checked when the query is made (text, no NUL characters, numbers that fit), so
bad input is one clear `UsageError` before any SQL runs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dandindex.errors import UsageError

LEVELS = ("asset", "dandiset")
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Range:
    """A closed interval; either end may be open (None)."""

    min: float | None = None
    max: float | None = None

    def __bool__(self) -> bool:
        return self.min is not None or self.max is not None

    @property
    def contradictory(self) -> bool:
        """min > max: nothing can match."""
        return self.min is not None and self.max is not None and self.min > self.max


@dataclass(frozen=True)
class Facet:
    """How a field of `SearchQuery` is given: its help, flags and keyword names."""

    help: str
    kind: str  # "terms": repeatable text values (OR); "range": a min/max pair
    nwb: bool = False  # only NWB summaries (crawl --nwb) can answer it
    number: type = float  # for ranges: int or float
    flags: tuple[str, str] = ("", "")  # for ranges: the --min and --max flags
    keywords: tuple[str, ...] = ()  # for ranges: the (min, max) keyword names of Index.search
    aliases: tuple[str, ...] = ()  # other keyword names accepted by Index.search
    metavar: str = ""


def _facet(**kw: Any) -> Any:
    kind = kw.pop("kind")
    default: Any = Range() if kind == "range" else ()
    return field(default=default, metadata={"facet": Facet(kind=kind, **kw)})


@dataclass(frozen=True)
class SearchQuery:
    """One search: free text, facets (repeating a value ORs, different facets AND), level."""

    text: str | None = None
    modality: tuple[str, ...] = _facet(
        kind="terms", help="ecephys, ophys, icephys, behavior, microscopy, mri, ... (repeat = OR)"
    )
    species: tuple[str, ...] = _facet(
        kind="terms", help='"mouse", "Mus musculus", 10090, NCBITaxon_10090 (repeat = OR)'
    )
    area: tuple[str, ...] = _facet(
        kind="terms",
        nwb=True,
        help='Allen acronym or name, alias (V1, M1) or raw text; "VIS" finds VISp, VISl, ...',
    )
    type: tuple[str, ...] = _facet(
        kind="terms",
        nwb=True,
        aliases=("types", "neurodata_type", "neurodata_types"),
        help="Neurodata type, its subtypes included (TimeSeries finds ElectricalSeries)",
    )
    dandiset: tuple[str, ...] = _facet(kind="terms", help="Dandiset id (repeat = OR)")
    units: Range = _facet(
        kind="range",
        nwb=True,
        number=int,
        flags=("--min-units", "--max-units"),
        keywords=("min_units", "max_units"),
        help="sorted units in the file",
    )
    electrodes: Range = _facet(
        kind="range",
        nwb=True,
        number=int,
        flags=("--min-electrodes", "--max-electrodes"),
        keywords=("min_electrodes", "max_electrodes"),
        help="electrodes in the file",
    )
    rate: Range = _facet(
        kind="range",
        nwb=True,
        flags=("--rate-min", "--rate-max"),
        keywords=("rate_min", "rate_max"),
        help="a series sampled at this rate (Hz)",
        metavar="HZ",
    )
    size: Range = _facet(
        kind="range",
        number=int,
        flags=("--size-min", "--size-max"),
        keywords=("size_min", "size_max"),
        help="file size (bytes)",
        metavar="BYTES",
    )
    level: str = "asset"
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "text", _text("text", self.text))
        for name, facet in facets():
            value = getattr(self, name)
            if facet.kind == "terms":
                object.__setattr__(self, name, _terms(name, value))
            elif not isinstance(value, Range):
                raise UsageError(f"{name} must be a Range(min=..., max=...), not {value!r:.40}.")
            else:
                object.__setattr__(
                    self,
                    name,
                    Range(
                        _number(facet.flags[0] or name, value.min, facet.number),
                        _number(facet.flags[1] or name, value.max, facet.number),
                    ),
                )
        if self.level not in LEVELS:
            raise UsageError(f"level must be asset or dandiset, not {self.level!r}.")
        if self.limit is not None:
            limit = _number("limit", self.limit, int)
            if limit is not None and limit < 0:
                raise UsageError("limit must be 0 or more.")
            object.__setattr__(self, "limit", limit)

    # -- building -------------------------------------------------------------------------

    @classmethod
    def from_keywords(cls, text: str | None = None, **keywords: Any) -> SearchQuery:
        """A query from `Index.search`-style keywords: facet names (``area="CA1"``), range
        keywords (``min_units=50``, ``rate_max=100``) or `Range` values (``units=Range(50)``);
        a text value or any iterable of them for a terms facet; None means "not given"."""
        values: dict[str, Any] = {"text": text}
        by_keyword: dict[str, tuple[str, int]] = {}
        aliases: dict[str, str] = {}
        for name, facet in facets():
            for i, kw in enumerate(facet.keywords):
                by_keyword[kw] = (name, i)
            for alias in facet.aliases:
                aliases[alias] = name
        bounds: dict[str, list[Any]] = {}
        for key, value in keywords.items():
            if value is None:
                continue
            if key in by_keyword:
                name, i = by_keyword[key]
                bounds.setdefault(name, [None, None])[i] = value
            elif key in aliases or key in {f.name for f in dataclasses.fields(cls)}:
                values[aliases.get(key, key)] = value
            else:
                known = sorted(
                    {f.name for f in dataclasses.fields(cls)} | set(by_keyword) | set(aliases)
                )
                from dandindex.errors import hint

                raise UsageError(f"search() got an unknown keyword {key!r}.{hint(key, known)}")
        for name, (lo, hi) in bounds.items():
            if name in values:
                raise UsageError(f"Give {name} as a Range or as its min/max keywords, not both.")
            values[name] = Range(lo, hi)
        return cls(**values)

    # -- reading --------------------------------------------------------------------------

    def given(self) -> list[str]:
        """Names of the facets this query uses."""
        return [name for name, _ in facets() if getattr(self, name)]

    def nwb_facets(self) -> list[str]:
        """Facets given here that only NWB summaries can answer."""
        return [name for name, f in facets() if f.nwb and getattr(self, name)]

    def describe(self) -> str:
        """The query in the words of the command line, e.g. ``--area CA1 --min-units 50``."""
        parts = [repr(self.text)] if self.text else []
        for name, facet in facets():
            value = getattr(self, name)
            if facet.kind == "terms":
                parts += [f"--{name} {v}" for v in value]
            else:
                for flag, bound in zip(facet.flags, (value.min, value.max), strict=True):
                    if bound is not None:
                        parts.append(f"{flag} {bound:g}")
        return " ".join(parts)


def facets() -> Iterator[tuple[str, Facet]]:
    """(field name, `Facet`) for every facet of `SearchQuery`, in declaration order."""
    for f in dataclasses.fields(SearchQuery):
        facet = f.metadata.get("facet")
        if facet is not None:
            yield f.name, facet


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{name} must be text, not {type(value).__name__} {value!r:.40}.")
    if "\x00" in value:
        raise UsageError(f"{name} contains a NUL character; remove it.")
    return value


def _terms(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (_text(name, value),)
    if isinstance(value, (int, float)) and name == "species":  # a taxon id given as a number
        return (str(int(value)),)
    if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
        raise UsageError(f"{name} must be text or a list of text, not {type(value).__name__}.")
    out = []
    for v in value:
        if v is None:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool) and name == "species":
            v = str(int(v))
        out.append(_text(name, v))
    return tuple(out)


def _number(name: str, value: Any, kind: type) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number, not {type(value).__name__} {value!r:.40}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number, not {value}.")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise UsageError(f"{name} must be a whole number, not {value}.")
        value = int(value)
        if abs(value) > INT64_MAX:
            raise UsageError(f"{name} {value} is too large (at most {INT64_MAX}).")
        return value
    return float(value)
