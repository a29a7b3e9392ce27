"""What a search facet is: the `Facet` protocol and its two common kinds, `TermsFacet`
(text values, repeatable) and `RangeFacet` (a min/max pair), with the small values they
deal in (`Range`, `Lookup`, `Option`, `Field`, `SearchVocab`) and the checks of user input
they share. The facets themselves are in `dandindex.registry`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dandindex.errors import UsageError
from dandindex.vocab.species import HeldSpecies

INT64_MAX = 2**63 - 1
SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15,
              "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
              "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}  # fmt: skip


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
class Lookup:
    """What a facet asks of the posting bitmaps: rows holding any of `values` of `kind`,
    or (numbers) rows with a number of `kind` between `lo` and `hi`."""

    kind: str
    values: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None

    @property
    def numeric(self) -> bool:
        return not self.values


@dataclass(frozen=True)
class SearchVocab:
    """What resolving facet values needs to know about the index searched (read lazily)."""

    known_types: Callable[[], frozenset[str]] = field(default=lambda: frozenset())
    raw_areas: Callable[[], list[str]] = field(default=lambda: [])  # location strings
    species: Callable[[], list[HeldSpecies]] = field(default=lambda: [])  # held species
    values: Callable[[str], list[str]] = field(
        default=lambda kind: []
    )  # held values of a kind, sorted


@dataclass(frozen=True)
class Option:
    """One command-line option of a facet (`dandindex.cli` makes the click option)."""

    flag: str
    dest: str
    help: str
    multiple: bool = False
    number: str | None = None  # "int", "float", or a unit kind: "size", "duration", "length"
    metavar: str | None = None
    complete: str | None = None  # the facet_values kind whose values complete it


@dataclass(frozen=True)
class Field:
    """One field of the web page's form: `param` in the URL, an input of `input` kind."""

    param: str
    label: str
    #: "terms" (links in the sidebar, repeatable), "text" (comma-separated), "number", or
    #: a unit kind ("size", "duration", "length")
    input: str
    placeholder: str = ""


DURATION_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
                  "ms": 1e-3, "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0,
                  "minutes": 60.0, "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0,
                  "hours": 3600.0, "d": 86400.0, "day": 86400.0, "days": 86400.0}  # fmt: skip
#: µm per unit of length (no unit: µm)
LENGTH_UNITS = {"": 1.0, "um": 1.0, "µm": 1.0, "μm": 1.0, "micron": 1.0, "microns": 1.0,
                "micrometer": 1.0, "micrometers": 1.0, "nm": 1e-3, "nanometer": 1e-3,
                "nanometers": 1e-3, "mm": 1e3, "millimeter": 1e3, "millimeters": 1e3,
                "cm": 1e4}  # fmt: skip
_NUMBER = r"\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([a-zµμ]*)\s*"


def _quantity(value: Any, units: Mapping[str, float], what: str, like: str) -> float:
    """A number with one of `units` (its factor to the base unit) from text; a sentence
    saying how to write it (`like`) when it is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = re.fullmatch(_NUMBER, str(value), re.I)
    if not m or m.group(2).lower() not in units:
        raise UsageError(f"{value!r} is not a {what}; write it like {like}.")
    return float(m.group(1)) * units[m.group(2).lower()]


def parse_duration(value: Any) -> float:
    """Seconds from 600, 600s, 10min, 1.5h, 2 hours, 90m (m: minutes)."""
    return _quantity(value, DURATION_UNITS, "duration", "600 (seconds), 10min or 2h")


def parse_length(value: Any) -> float:
    """Micrometres from 0.5, 0.5um, 500nm, 1 µm, 0.002mm (no unit: µm)."""
    return _quantity(value, LENGTH_UNITS, "length", "0.5 (µm), 500nm or 1um")


def parse_size(value: Any) -> int:
    """Bytes from 1000000, 1e9, 10GB, 4.7 GB, 512MiB (kB, MB, GB: powers of 1000)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    n = _quantity(value, SIZE_UNITS, "size", "1000000, 1e9, 10GB or 512MiB")
    if n >= 2**63:
        raise UsageError(f"{value!r} is too large.")
    return int(n)


#: number kinds given with units: (parser, (example low, example high) for the web form)
UNIT_PARSERS: dict[str, tuple[Callable[[Any], float], tuple[str, str]]] = {
    "size": (parse_size, ("1GB", "10GB")),
    "duration": (parse_duration, ("10min", "2h")),
    "length": (parse_length, ("0.5um", "2um")),
}


class Facet:
    """A search facet: subclasses say how its values are given, resolved and derived."""

    name: str
    label: str
    help: str
    nwb: bool = False  # only NWB summaries (crawl --nwb) can answer it
    summary: int = 0  # the SUMMARY_VERSION of the walk that records what it needs
    kinds: tuple[str, ...] = ()  # the facet_values kinds it derives
    numeric_kinds: tuple[str, ...] = ()  # those of them that hold numbers

    def empty(self) -> Any:
        raise NotImplementedError

    def check(self, value: Any) -> Any:
        """The value in its one stored form; a `UsageError` sentence if it cannot be."""
        raise NotImplementedError

    def keywords(self) -> tuple[str, ...]:
        """`Index.search` keywords that give this facet (besides its name)."""
        return ()

    def options(self) -> list[Option]:
        raise NotImplementedError

    def fields(self) -> list[Field]:
        raise NotImplementedError

    def from_form(self, args: Any) -> Any:
        """The value from web form parameters (a MultiDict: ``getlist``/``get``)."""
        raise NotImplementedError

    def to_pairs(self, value: Any) -> list[tuple[str, str]]:
        """The value as web form parameters."""
        raise NotImplementedError

    def describe(self, value: Any) -> list[str]:
        """The value in the words of the command line."""
        raise NotImplementedError

    def lookups(self, value: Any, vocab: SearchVocab) -> list[Lookup]:
        """What to look up (OR-ed); unknown values raise a sentence with the closest ones."""
        raise NotImplementedError

    def lookup_sets(self, value: Any, vocab: SearchVocab) -> list[list[Lookup]]:
        """Groups of lookups: each group OR-ed, the groups AND-ed (a facet whose repeated
        values must all hold, like ``--has``, gives a group per value)."""
        return [self.lookups(value, vocab)]

    def derive(self, source: str) -> list[str]:
        """SQL selecting (kind, value, num, row) rows of this facet from `source`."""
        raise NotImplementedError

    def contradiction(self, value: Any) -> str | None:
        """Why `value` can match nothing whatever the index holds, if it cannot."""
        return None

    def notes(self, value: Any, vocab: SearchVocab) -> list[str]:
        """Sentences a search prints about how it read `value` (a word naming several)."""
        return []


@dataclass(frozen=True, eq=False)
class TermsFacet(Facet):
    """Text values, repeatable (OR): each becomes a value of the facet's kind."""

    name: str
    label: str
    help: str
    expr: str  # SQL over an asset_facets row: one value (or unnest(list)) per row
    where: str = ""
    nwb: bool = False
    aliases: tuple[str, ...] = ()
    complete: bool = True
    #: a term → the value(s) it names (a word may name several: "macaque")
    resolve: Callable[[str, SearchVocab], str | tuple[str, ...]] = field(
        default=lambda term, vocab: term
    )
    note: Callable[[str, SearchVocab], str | None] | None = None
    summary: int = 0
    example: str = ""  # a value to show in an empty web field

    @property
    def kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name,)

    @property
    def flag_name(self) -> str:
        return self.name.replace("_", "-")

    def empty(self) -> tuple[str, ...]:
        return ()

    def check(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
            raise UsageError(
                f"{self.name} must be text or a list of text, not {type(value).__name__}."
            )
        out = []
        for v in value:
            if v is None:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool) and self.name == "species":
                v = str(int(v))  # a taxon id given as a number
            out.append(text(self.name, v))
        return tuple(out)

    def keywords(self) -> tuple[str, ...]:
        return self.aliases

    def options(self) -> list[Option]:
        return [
            Option(
                f"--{self.flag_name}",
                self.name,
                self.help,
                multiple=True,
                complete=self.name if self.complete else None,
            )
        ]

    def fields(self) -> list[Field]:
        return [Field(self.name, self.label, "terms", placeholder=self.example)]

    def from_form(self, args: Any) -> tuple[str, ...]:
        return tuple(v for v in args.getlist(self.name) if v.strip())

    def to_pairs(self, value: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(self.name, v) for v in value]

    def describe(self, value: tuple[str, ...]) -> list[str]:
        return [f"--{self.flag_name} {v}" for v in value]

    def lookups(self, value: tuple[str, ...], vocab: SearchVocab) -> list[Lookup]:
        out: list[str] = []
        for v in value:
            r = self.resolve(v, vocab)
            out += [r] if isinstance(r, str) else list(r)
        return [Lookup(self.name, tuple(dict.fromkeys(out)))]

    def notes(self, value: tuple[str, ...], vocab: SearchVocab) -> list[str]:
        found = [self.note(v, vocab) for v in value] if self.note else []
        return [n for n in found if n]

    def derive(self, source: str) -> list[str]:
        where = f"WHERE {self.where}" if self.where else ""
        return [f"SELECT '{self.name}' AS kind, {self.expr} AS value, NULL::DOUBLE AS num, row "
                f"FROM {source} {where}"]  # fmt: skip


@dataclass(frozen=True, eq=False)
class RangeFacet(Facet):
    """A min/max pair of numbers (``--min-units 50``, ``size_max="10GB"``)."""

    name: str
    label: str
    help: str
    expr: str  # SQL over an asset_facets row: one number (or unnest(list)) per row
    flags: tuple[str, str]  # the --min and --max flags (their keywords: _ for -)
    number: str = "float"  # "int", "float", or a kind of `UNIT_PARSERS` (size, duration...)
    where: str = ""
    nwb: bool = False
    metavar: str | None = None
    summary: int = 0

    @property
    def kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name,)

    @property
    def numeric_kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name,)

    def empty(self) -> Range:
        return Range()

    def check(self, value: Any) -> Range:
        if value is None:
            return Range()
        if not isinstance(value, Range):
            raise UsageError(f"{self.name} must be a Range(min=..., max=...), not {value!r:.40}.")
        lo_flag, hi_flag = self.flags
        return Range(self._number(lo_flag, value.min), self._number(hi_flag, value.max))

    def _number(self, flag: str, value: Any) -> Any:
        if self.number in UNIT_PARSERS and isinstance(value, str):
            value = UNIT_PARSERS[self.number][0](value)
        return number(flag, value, int if self.number in ("int", "size") else float)

    def keywords(self) -> tuple[str, ...]:
        return tuple(f.lstrip("-").replace("-", "_") for f in self.flags)

    def options(self) -> list[Option]:
        words = ("at least", "at most")
        return [
            Option(
                flag,
                kw,
                f"{self.help[0].upper()}{self.help[1:]}: {word} this",
                number=self.number,
                metavar=self.metavar,
            )  # fmt: skip
            for flag, kw, word in zip(self.flags, self.keywords(), words, strict=True)
        ]

    def fields(self) -> list[Field]:
        lo, hi = self.keywords()
        if self.number in UNIT_PARSERS:
            low, high = UNIT_PARSERS[self.number][1]
            return [Field(lo, f"{self.label} at least", self.number, placeholder=f"e.g. {low}"),
                    Field(hi, f"{self.label} at most", self.number, placeholder=f"e.g. {high}")]  # fmt: skip
        return [Field(lo, f"{self.label} at least", "number"),
                Field(hi, f"{self.label} at most", "number")]  # fmt: skip

    def from_form(self, args: Any) -> Range:
        bounds: list[float | None] = []
        for f in self.fields():
            raw = (args.get(f.param) or "").strip()
            if not raw:
                bounds.append(None)
                continue
            if f.input in UNIT_PARSERS:  # its sentence names the unit's forms
                bounds.append(UNIT_PARSERS[f.input][0](raw))
                continue
            try:
                bounds.append(float(raw))
            except ValueError:
                raise UsageError(f"{f.label}: {raw!r} is not a number.") from None
        return self.check(Range(*bounds))

    def to_pairs(self, value: Range) -> list[tuple[str, str]]:
        return [(kw, f"{b:g}") for kw, b in zip(self.keywords(), (value.min, value.max),
                                                 strict=True) if b is not None]  # fmt: skip

    def describe(self, value: Range) -> list[str]:
        return [f"{flag} {b:g}" for flag, b in zip(self.flags, (value.min, value.max),
                                                   strict=True) if b is not None]  # fmt: skip

    def lookups(self, value: Range, vocab: SearchVocab) -> list[Lookup]:
        return [Lookup(self.name, lo=value.min, hi=value.max)]

    def derive(self, source: str) -> list[str]:
        where = f"WHERE {self.where}" if self.where else ""
        return [f"SELECT '{self.name}' AS kind, NULL::VARCHAR AS value, {self.expr} AS num, row "
                f"FROM {source} {where}"]  # fmt: skip

    def contradiction(self, value: Range) -> str | None:
        if value.contradictory:
            return (f"{self.flags[0]} {value.min:g} is above {self.flags[1]} {value.max:g}: "
                    "nothing can match.")  # fmt: skip
        return None


def text(name: str, value: Any) -> str:
    """`value` as text without NUL characters, else a sentence."""
    if not isinstance(value, str):
        raise UsageError(f"{name} must be text, not {type(value).__name__} {value!r:.40}.")
    if "\x00" in value:
        raise UsageError(f"{name} contains a NUL character; remove it.")
    return value


def number(name: str, value: Any, kind: type) -> Any:
    """`value` as a finite float or a 64-bit int (`kind`), None kept, else a sentence."""
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
