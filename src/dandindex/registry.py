"""The facet registry: every search facet as one object, in `FACETS`.

A facet owns everything about itself: how it is given (its command-line options, its web
field, its `Index.search` keywords, units), how its values are checked and resolved through
the vocabularies, which rows of the search tables it is derived into (its ``facet_values``
kinds, which become posting bitmaps), what it looks up when a search runs (`Lookup`s: a
value of a kind, or a range of numbers), how it reads in words, and what to say when it
matches nothing. `SearchQuery`, the search plan, the derivation of the search tables, the
`dandindex search` options, the web form, `Index.explain`, shell completion and the
README's option list all loop over `FACETS`: a new facet is one object here and its test.

Repeating a facet's value ORs (``--area CA1 --area CA3``); different facets AND. The facets
about what a file holds (``--has``, ``--column``, ``--area-all``, `dandindex.inside`) AND
their repeated values too: each must be in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dandindex.errors import UsageError, closest
from dandindex.facet import (
    Facet,
    Field,
    Lookup,
    Option,
    Range,
    RangeFacet,
    SearchVocab,
    TermsFacet,
    number,
    parse_size,
    text,
)
from dandindex.formatfacets import BidsFacet, resolve_channel, resolve_format
from dandindex.inside import AreaAllFacet, ColumnFacet, HasFacet
from dandindex.vocab import areas as A
from dandindex.vocab.modality import resolve_modality
from dandindex.vocab.species import resolve_species_all, species_note

__all__ = ["BY_NAME", "FACETS", "KINDS", "NUMERIC_KINDS", "Facet", "Field", "Lookup", "Option",
           "Range", "SearchVocab", "keyword_map", "number", "parse_size", "text"]  # fmt: skip


@dataclass(frozen=True, eq=False)
class AreaFacet(TermsFacet):
    """Brain areas: atlas structures with the hierarchy (kind ``area``), else any location
    string of the index that contains the text (kind ``raw_area``); with `prefix` ``file_``,
    only the locations the file itself records (``file_area``, ``file_raw_area``)."""

    prefix: str = ""

    @property
    def kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return (f"{self.prefix}area", f"{self.prefix}raw_area")

    def lookups(self, value: tuple[str, ...], vocab: SearchVocab) -> list[Lookup]:
        acronyms: list[str] = []
        raws: list[str] = []
        known_raw: list[str] | None = None
        for term in value:
            found = A.resolve_areas(term)
            if found:
                acronyms += [s.acronym for s in found]
                continue
            known_raw = known_raw if known_raw is not None else vocab.raw_areas()
            needle = term.strip().lower()
            hits = [r for r in known_raw if needle and needle in r] if needle else []
            if not hits:
                raise UsageError(
                    f"Unknown brain area {term!r} (not in the Allen atlas, not in any location "
                    f"of this index). Closest: {A.suggest(term, known_raw)}."
                )
            raws += hits
        area, raw = self.kinds
        out = [Lookup(area, tuple(dict.fromkeys(acronyms)))] if acronyms else []
        return out + ([Lookup(raw, tuple(dict.fromkeys(raws)))] if raws else [])

    def derive(self, source: str) -> list[str]:
        area, raw = self.kinds
        return [
            f"SELECT '{area}' AS kind, unnest({self.prefix}area_tree) AS value, "
            f"NULL::DOUBLE AS num, row FROM {source}",
            f"SELECT '{raw}' AS kind, unnest({self.prefix}raw_areas) AS value, "
            f"NULL::DOUBLE AS num, row FROM {source}",
        ]


def _species(term: str, vocab: SearchVocab) -> tuple[str, ...]:
    return resolve_species_all(term, vocab.species())


def _type(term: str, vocab: SearchVocab) -> str:
    known = vocab.known_types()
    if term in known:
        return term
    lowered = {k.lower(): k for k in known}
    if term.lower() in lowered:
        return lowered[term.lower()]
    if not known:
        raise UsageError(
            f"No neurodata type {term!r} here: this index has no NWB summaries (it was crawled "
            "without --nwb). Add them with: dandindex crawl --nwb"
        )
    near = closest(term, sorted(known)) or sorted(known)[:8]
    raise UsageError(f"Unknown neurodata type {term!r} in this index. Closest: {', '.join(near)}.")


def _dandiset(term: str, vocab: SearchVocab) -> str:
    term = term.strip()
    return term.zfill(6) if term.isdigit() else term


_FILE_AREA = AreaFacet(
    "file_area",
    "Brain area (in the file)",
    "like --area, but only where the file itself records it (electrodes, imaging "
    "planes, intracellular electrodes), not the asset's or dandiset's anatomy",
    "",
    nwb=True,
    prefix="file_",
    example="e.g. VISp",
)

FACETS: tuple[Facet, ...] = (
    TermsFacet(
        "modality",
        "Modality",
        "ecephys, ophys, icephys, behavior, microscopy, mri, ... (repeat = OR)",
        "unnest(modalities)",
        resolve=lambda term, vocab: resolve_modality(term),
    ),
    TermsFacet(
        "species",
        "Species",
        '"mouse", "Mus musculus", 10090, NCBITaxon_10090 (repeat = OR)',
        "unnest(species_ids)",  # the asset's own, else its dandiset's
        resolve=_species,
        note=lambda term, vocab: species_note(term, vocab.species()),
    ),
    AreaFacet(
        "area",
        "Brain area",
        'Allen acronym or name, alias (V1, M1) or raw text; "VIS" finds VISp, VISl, ... '
        "(from the file's electrodes and planes, and the asset's or dandiset's anatomy)",
        "",
    ),
    _FILE_AREA,
    AreaAllFacet(
        "area_all",
        "Areas in the same file",
        "an area the file itself records, with the hierarchy (VIS: any visual area); "
        "repeat = AND: every one recorded in the same file (--area-all VISp --area-all VISl)",
        "",
        nwb=True,
        complete=False,
        area_facet=_FILE_AREA,
    ),
    TermsFacet(
        "type",
        "Neurodata type",
        "Neurodata type, its subtypes included (TimeSeries finds ElectricalSeries)",
        "unnest(types)",
        nwb=True,
        aliases=("types", "neurodata_type", "neurodata_types"),
        resolve=_type,
    ),
    HasFacet(
        "has",
        "Holds object",
        "an object the file holds, by name (running_speed) or path "
        "(/processing/behavior/running_speed); * and ? glob (natural*); "
        "repeat = AND: every one must be in the file",
        "unnest(has)",
        nwb=True,
        complete=False,
    ),
    ColumnFacet(
        "column",
        "Table column",
        "a table's column: TABLE.COLUMN (trials.reward, units.quality), a table path "
        "(/intervals/trials.reward) or a column alone (reward); globs allowed; "
        "repeat = AND",
        "unnest(table_columns)",
        nwb=True,
        complete=False,
        summary=3,
    ),
    TermsFacet(
        "dandiset",
        "Dandiset",
        "Dandiset id (repeat = OR)",
        "dandiset_id",
        complete=False,
        resolve=_dandiset,
    ),
    RangeFacet(
        "units",
        "Units",
        "sorted units in the file",
        "n_units::DOUBLE",
        ("--min-units", "--max-units"),
        number="int",
        where="n_units IS NOT NULL",
        nwb=True,
    ),  # fmt: skip
    RangeFacet(
        "electrodes",
        "Electrodes",
        "electrodes in the file",
        "n_electrodes::DOUBLE",
        ("--min-electrodes", "--max-electrodes"),
        number="int",
        where="n_electrodes IS NOT NULL",
        nwb=True,
    ),  # fmt: skip
    RangeFacet(
        "rate",
        "Rate (Hz)",
        "a series sampled at this rate (Hz)",
        "unnest(rates)",
        ("--rate-min", "--rate-max"),
        nwb=True,
        metavar="HZ",
    ),  # fmt: skip
    RangeFacet(
        "duration",
        "Duration (s)",
        "the file's duration: an NWB file's longest series, a video's length "
        "(seconds; 600, 10min, 2h)",
        "duration",
        ("--duration-min", "--duration-max"),
        number="duration",
        where="duration IS NOT NULL",
        nwb=True,
        metavar="SECONDS",
        summary=3,
    ),  # fmt: skip
    TermsFacet(
        "file_format",
        "File format",
        "nwb, ome-zarr, zarr, tiff, ome-tiff, video (avi, mp4, ...), bids, nifti, json, ... "
        "(repeat = OR)",
        "unnest(formats)",
        aliases=("format", "formats"),
        resolve=resolve_format,
    ),
    RangeFacet(
        "voxel",
        "Voxel side (µm)",
        "the largest side of an image's voxel (µm; 0.5, 500nm, 2um)",
        "voxel_um",
        ("--voxel-min", "--voxel-max"),
        number="length",
        where="voxel_um IS NOT NULL",
        nwb=True,
        metavar="LENGTH",
    ),  # fmt: skip
    TermsFacet(
        "channel",
        "Channel",
        "an image channel's name or a BIDS microscopy stain (GFP, DAPI, NeuN; any case; "
        "repeat = OR)",
        "unnest(channels)",
        nwb=True,
        aliases=("channels",),
        resolve=resolve_channel,
    ),
    RangeFacet(
        "fps",
        "Frame rate (fps)",
        "a video's frames per second",
        "fps",
        ("--fps-min", "--fps-max"),
        where="fps IS NOT NULL",
        nwb=True,
        metavar="FPS",
    ),  # fmt: skip
    BidsFacet(
        "bids",
        "BIDS value",
        "a BIDS sidecar or participants value: KEY=VALUE (SamplingFrequency=1000, "
        "TaskName=rest, participant.sex=F) or KEY alone; any case; repeat = AND",
        "unnest(bids_values)",
        nwb=True,
        complete=False,
    ),
    RangeFacet(
        "size",
        "Size",
        "file size (bytes; 10GB, 512MiB)",
        "size::DOUBLE",
        ("--size-min", "--size-max"),
        number="size",
        where="size IS NOT NULL",
        metavar="BYTES",
    ),  # fmt: skip
)
BY_NAME: Mapping[str, Facet] = {f.name: f for f in FACETS}
#: every facet_values kind, and those that hold numbers
KINDS: tuple[str, ...] = tuple(k for f in FACETS for k in f.kinds)
NUMERIC_KINDS: tuple[str, ...] = tuple(k for f in FACETS for k in f.numeric_kinds)


def keyword_map() -> dict[str, tuple[str, int | None]]:
    """`Index.search` keyword → (facet name, None for the whole value or 0/1 for a bound)."""
    out: dict[str, tuple[str, int | None]] = {}
    for f in FACETS:
        out[f.name] = (f.name, None)
        for i, kw in enumerate(f.keywords()):
            out[kw] = (f.name, i if isinstance(f, RangeFacet) else None)
    return out
