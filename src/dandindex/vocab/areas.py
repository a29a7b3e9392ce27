"""Brain areas: NWB location strings normalised and matched to the Allen Mouse Brain CCF tree.

The structure tree is the ``allen_structure_tree.csv`` that the maintained ``iblatlas``
package ships (ids, acronyms, names, parents and structure paths). A location such as
``"area: VISp, depth: 175"`` or ``"V1"`` becomes ``VISp`` with its ancestors (``VIS``,
``Isocortex``, ``CTX``, ...), so searching an area also finds every structure inside it.
Strings outside the atlas are kept raw and searched as text.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from dandindex.errors import DandindexError, closest

DROP = {
    "",
    "unknown",
    "none",
    "n/a",
    "na",
    "nan",
    "null",
    "unspecified",
    "not applicable",
    "no location",
    "?",
}
# Common aliases labs write, to Allen acronyms
ALIASES = {
    "v1": "VISp",
    "primary visual cortex": "VISp",
    "visual cortex": "VIS",
    "visual areas": "VIS",
    "lm": "VISl",
    "al": "VISal",
    "pm": "VISpm",
    "rl": "VISrl",
    "am": "VISam",
    "li": "VISli",
    "m1": "MOp",
    "primary motor cortex": "MOp",
    "motor cortex": "MO",
    "m2": "MOs",
    "s1": "SSp",
    "primary somatosensory cortex": "SSp",
    "barrel cortex": "SSp-bfd",
    "a1": "AUDp",
    "auditory cortex": "AUD",
    "hippocampus": "HIP",
    "hippocampal formation": "HPF",
    "dentate gyrus": "DG",
    "ca1": "CA1",
    "ca2": "CA2",
    "ca3": "CA3",
    "thalamus": "TH",
    "striatum": "STR",
    "cerebellum": "CB",
    "olfactory bulb": "MOB",
    "cortex": "CTX",
    "prefrontal cortex": "PL",
    "mpfc": "PL",
    "entorhinal cortex": "ENT",
    "mec": "ENTm",
    "lec": "ENTl",
    "lgn": "LGd",
    "superior colliculus": "SC",
    "vta": "VTA",
    "amygdala": "BLA",
    "hypothalamus": "HY",
    "midbrain": "MB",
    "brainstem": "BS",
}


@dataclass(frozen=True)
class Structure:
    id: int
    acronym: str
    name: str
    path: tuple[int, ...]


def _csv_path() -> Path:
    spec = importlib.util.find_spec("iblatlas")
    if spec is None or not spec.submodule_search_locations:
        raise DandindexError("The iblatlas package is missing; reinstall dandindex (make install).")
    return Path(list(spec.submodule_search_locations)[0]) / "allen_structure_tree.csv"


@functools.lru_cache(maxsize=1)
def atlas() -> dict[str, Structure]:
    """Allen structures by lower-cased acronym and by lower-cased name."""
    by_key: dict[str, Structure] = {}
    with open(_csv_path(), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row["acronym"] or row["acronym"] == "void" or not row["structure_id_path"]:
                continue
            path = tuple(int(x) for x in row["structure_id_path"].strip("/").split("/") if x)
            s = Structure(int(row["id"]), row["acronym"], row["name"], path)
            by_key.setdefault(s.acronym.lower(), s)
            by_key.setdefault(s.name.lower(), s)
    return by_key


@functools.lru_cache(maxsize=1)
def _by_id() -> dict[int, Structure]:
    return {s.id: s for s in atlas().values()}


def ancestors(s: Structure) -> list[str]:
    """Acronyms of the structure and every structure above it (nearest first)."""
    ids = _by_id()
    return [ids[i].acronym for i in reversed(s.path) if i in ids]


def clean(raw: str) -> str | None:
    """Trim, drop placeholders, pick the area out of structured strings."""
    text = raw.strip().strip("'\"")
    if text.lower() in DROP:
        return None
    if ":" in text and (
        "," in text or text.lower().startswith(("area", "location", "region", "brain"))
    ):
        fields = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (part.partition(":") for part in re.split(r"[,;]", text))
            if v.strip()
        )
        for key in ("area", "location", "region", "brain_area", "brain region", "structure"):
            if key in fields:
                return fields[key] if fields[key].lower() not in DROP else None
    return text


def match(raw: str) -> Structure | None:
    """The atlas structure a location string names, or None."""
    text = clean(raw)
    if text is None:
        return None
    table = atlas()
    low = text.lower()
    # lab aliases first: "LM" in a recording is the lateral visual area, not a mammillary nucleus
    for candidate in (
        ALIASES.get(low, "").lower(),
        low,
        low.replace("cortex", "area"),
        low.replace(" ", ""),
    ):
        if candidate and candidate in table:
            return table[candidate]
    return None


def resolve_area(term: str) -> Structure | None:
    """A search term → atlas structure (acronym, name or alias); None if not in the atlas."""
    low = term.strip().lower()
    table = atlas()
    if low in ALIASES:
        return table.get(ALIASES[low].lower())
    return table.get(low) or table.get(low.replace("cortex", "area"))


def suggest(term: str, raw_strings: list[str]) -> str:
    names = sorted({s.acronym for s in atlas().values()} | set(ALIASES) | set(raw_strings))
    return ", ".join(closest(term.strip(), names)) or "VISp, CA1, hippocampus, visual areas"


def is_dropped(raw: str) -> bool:
    return clean(raw) is None
