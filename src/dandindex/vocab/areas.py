"""Brain areas: location strings as labs write them → structures of the Allen Mouse Brain CCF.

The structure tree is the ``allen_structure_tree.csv`` that the maintained ``iblatlas``
package ships (ids, acronyms, names, parents). It is the shared backbone for every species:
a human "hippocampus" or a rat "V1" is matched by name onto the mouse tree (HIP, VISp), and
the recording's species stays beside it in the index, so ``--area hippocampus --species human``
asks for both. Lab abbreviations, cross-species names, placeholders and cell compartments are
data (``data/area_aliases.csv``, each row with its source), not code.

`parse_location(raw)` reads one location string:

- placeholders and non-areas (``unknown``, ``N/A``, ``root``, ``soma``, coordinates such as
  ``AP: -2.0, ML: 1.5``) name no structure and say so;
- structured strings (``{'area': 'CA1', 'depth': 300}``, JSON, ``region=CA1 | depth=200``,
  ``brain_area: ...; hemisphere: ...``) are read by key, the most specific area that maps wins;
- hemisphere and side qualifiers in any position (``Left CA3``, ``CA3_right``, ``R VISp``,
  ``contralateral LGd``, ``(left)``) are set aside (and reported);
- several areas in one string (``CA1, CA3``, ``VISp/VISl``, ``MOp;MOs``, ``CA1 and DG``) give
  every one of them;
- layers and sub-layers (``VISp L2/3``, ``SSp-bfd layer 4``, ``MOs5``) give the layer's
  structure where the tree has one, else the area; dorsal/ventral prefixes (``dCA1``, ``vHPC``)
  and case, space, hyphen and underscore variants are tolerated;
- free text mentioning areas (``pyramidal cell layer of hippocampus``) gives the most specific
  ones mentioned.

Anything else is kept as raw text: searchable, and listed by ``dandindex areas --unmapped``.
"""

from __future__ import annotations

import ast
import csv
import functools
import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from dandindex.errors import DandindexError, closest

ALIASES_CSV = Path(__file__).with_name("data") / "area_aliases.csv"
HEMISPHERES = {
    "left": "left",
    "l": "left",
    "lh": "left",
    "right": "right",
    "r": "right",
    "rh": "right",
    "contralateral": "contralateral",
    "contra": "contralateral",
    "ipsilateral": "ipsilateral",
    "ipsi": "ipsilateral",
    "bilateral": "bilateral",
    "both": "bilateral",
}
# keys of structured strings that name the area, most telling first
AREA_KEYS = (
    "area",
    "brain_area",
    "brainarea",
    "brain_region",
    "brainregion",
    "region",
    "location",
    "structure",
    "anatomical_location",
    "brain_location",
    "target",
    "target_area",
    "brain_subregion",
    "subregion",
    "brain_location_full_name",
    "full_name",
    "name",
)
HEMISPHERE_KEYS = ("hemisphere", "brain_hemisphere", "side")
COORDINATE_KEYS = re.compile(
    r"^(ap|ml|dv|x|y|z|depth|coordinate\w*|coord\w*|bregma|lambda|angle|theta|phi)$"
)
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?\s*(mm|um|µm|μm)?$")
_LAYER = re.compile(
    r"^(?P<base>.+?)[\s_-]*(?:layer|lyr|l)?[\s_-]*(?P<layer>1|2/3|2-3|23|2|3|4|5|6a|6b|6)$",
    re.I,
)
_SPLIT = re.compile(r"\s*(?:,|;|\||\+|&|\band\b|(?<!\d)/|/(?!\d))\s*", re.I)
_QUALIFIER = re.compile(
    r"^(?:(?P<pre>left|right|contralateral|ipsilateral|contra|ipsi|bilateral|lh|rh|l|r)[\s_.-]+)?"
    r"(?P<core>.*?)"
    r"(?:[\s_.-]+(?P<post>left|right|contralateral|ipsilateral|contra|ipsi|bilateral|lh|rh|l|r))?$",
    re.I,
)


@dataclass(frozen=True)
class Structure:
    id: int
    acronym: str
    name: str
    path: tuple[int, ...]


@dataclass(frozen=True)
class Parsed:
    """What one location string says: the structures it names (none for a placeholder or an
    unmapped string), whether it is a placeholder, and the hemisphere if it gives one."""

    raw: str
    areas: tuple[Structure, ...] = ()
    placeholder: bool = False
    hemisphere: str | None = None
    kind: str = field(default="raw", compare=False)  # raw, area, placeholder, compartment


def _csv_path() -> Path:
    spec = importlib.util.find_spec("iblatlas")
    if spec is None or not spec.submodule_search_locations:
        raise DandindexError("The iblatlas package is missing; reinstall dandindex (make install).")
    return Path(list(spec.submodule_search_locations)[0]) / "allen_structure_tree.csv"


@functools.lru_cache(maxsize=1)
def structures() -> tuple[Structure, ...]:
    """Every structure of the Allen CCF tree (iblatlas's copy)."""
    out = []
    with open(_csv_path(), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row["acronym"] or row["acronym"] == "void" or not row["structure_id_path"]:
                continue
            path = tuple(int(x) for x in row["structure_id_path"].strip("/").split("/") if x)
            out.append(Structure(int(row["id"]), row["acronym"], row["name"], path))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def atlas() -> dict[str, Structure]:
    """Allen structures by lower-cased acronym and by lower-cased name."""
    by_key: dict[str, Structure] = {}
    for s in structures():
        by_key.setdefault(s.acronym.lower(), s)
        by_key.setdefault(s.name.lower(), s)
    return by_key


@functools.lru_cache(maxsize=1)
def _by_acronym() -> dict[str, Structure]:
    return {s.acronym: s for s in structures()}


@functools.lru_cache(maxsize=1)
def _by_squashed_name() -> dict[str, Structure]:
    out: dict[str, Structure] = {}
    for s in structures():
        out.setdefault(_squash(s.name), s)
    return out


@functools.lru_cache(maxsize=1)
def _by_id() -> dict[int, Structure]:
    return {s.id: s for s in atlas().values()}


@functools.lru_cache(maxsize=1)
def alias_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    """{normalised term: (kind, acronyms)} from ``data/area_aliases.csv``."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    with open(ALIASES_CSV, newline="", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            out[_norm(row["term"])] = (row["kind"], tuple(row["acronyms"].split()))
    return out


def ancestors(s: Structure) -> list[str]:
    """Acronyms of the structure and every structure above it (nearest first)."""
    ids = _by_id()
    return [ids[i].acronym for i in reversed(s.path) if i in ids]


@functools.lru_cache(maxsize=1)
def _alias_groups() -> frozenset[frozenset[str]]:
    """The sets of structures an alias names when it names several (``amygdala``)."""
    return frozenset(
        frozenset(acr) for kind, acr in alias_table().values() if kind == "alias" and len(acr) > 1
    )


def area_trees(found: tuple[Structure, ...]) -> list[list[str]]:
    """For each structure a location names, the acronyms a search finds it under: itself
    and the regions above it. When the structures are the ones one alias names (``amygdala``
    → LA, BLA, BMA, CEA, MEA, COA), the alias is the region it names: each structure keeps
    only itself and the regions above *all* of them, so a region above some of them only
    (CEA and MEA lie under STR, "striatum-like amygdalar nuclei") does not find the alias's
    recordings. Structures named side by side (``CA1, DG``) keep all their ancestors."""
    trees = [ancestors(s) for s in found]
    if len(found) > 1 and frozenset(s.acronym for s in found) in _alias_groups():
        common = set.intersection(*(set(t) for t in trees))
        trees = [
            [a for a in t if a == s.acronym or a in common]
            for s, t in zip(found, trees, strict=True)
        ]
    return trees


def _norm(text: str) -> str:
    """Lower case, one space between words, underscores and spaced hyphens as spaces."""
    text = text.strip().strip("'\"`").lower().replace("’", "'")
    text = re.sub(r"[_\s]+", " ", text)
    return text.strip()


def _squash(text: str) -> str:
    """A key that ignores case, spaces, hyphens, commas and 'the'."""
    return re.sub(r"[\s,_-]+|\bthe\b", "", text.lower())


def _specific(structures: list[Structure]) -> tuple[Structure, ...]:
    """Distinct structures, order kept, without those that are ancestors of another."""
    distinct = list(dict.fromkeys(structures))
    ids = {s.id for s in distinct}
    return tuple(
        s
        for s in distinct
        if not any(s.id in o.path[:-1] for o in distinct if o.id in ids and o != s)
    )


# -- one term -------------------------------------------------------------------------------


def _lookup(term: str, original: str | None = None) -> tuple[str, tuple[Structure, ...]] | None:
    """(kind, structures) for one normalised term: an alias row, an acronym (as written, or
    in another case unless the atlas spells it all in lower case: fiber tracts such as
    ``mtg`` are not the human ``MTG``) or a name (case, spaces, hyphens, commas ignored)."""
    alias = alias_table().get(term)
    if alias is not None:
        kind, acronyms = alias
        return kind, tuple(_by_acronym()[a] for a in acronyms if a in _by_acronym())
    if original is not None and original.strip() in _by_acronym():
        return "area", (_by_acronym()[original.strip()],)
    s = atlas().get(term)
    if s is not None and (s.name.lower() == term or s.acronym != s.acronym.lower()):
        return "area", (s,)
    for candidate in (term.replace("cortex", "area"), term):
        named = _by_squashed_name().get(_squash(candidate))
        if named is not None:
            return "area", (named,)
    return None


def _term(text: str) -> tuple[str, tuple[Structure, ...]] | None:
    """One area term, with its layer, dorsal/ventral prefix or spelling variants."""
    term = _norm(text)
    if not term:
        return None
    hit = _lookup(term, text.strip().strip("'\"`"))
    if hit is not None:
        return hit
    hit = _lookup(term.replace(" ", "-")) or _lookup(term.replace("-", " "))
    if hit is not None:
        return hit
    m = _LAYER.match(term)
    if m and m.group("base") != term:
        layer = m.group("layer").replace("2-3", "2/3").replace("23", "2/3")
        base = _lookup(m.group("base").strip(" -_"), m.group("base").strip(" -_"))
        if base is not None and base[0] in ("area", "alias") and len(base[1]) == 1:
            layered = _by_acronym().get(base[1][0].acronym + layer)
            return "area", (layered,) if layered is not None else base[1]
    original = text.strip()
    prefixes = ["dorsal ", "ventral "]
    if re.match(r"^[dv][A-Z]", original):  # dCA1, vHPC, dmPFC: a lower-case d/v before a name
        prefixes += ["d", "v"]
    for prefix in prefixes:
        if term.startswith(prefix) and len(term) > len(prefix) + 1:
            rest = original[len(prefix) :].strip() if len(prefix) == 1 else None
            hit = _lookup(term[len(prefix) :].strip(), rest)
            if hit is not None and hit[0] in ("area", "alias") and hit[1]:
                return hit
    return None


def _qualified(text: str) -> tuple[tuple[str, tuple[Structure, ...]] | None, str | None]:
    """A term with a hemisphere or side qualifier set aside: (its lookup, the hemisphere).
    The term keeps its case (acronyms are matched as written first)."""
    t = re.sub(r"[_\s]+", " ", text.strip().strip("'\"`")).strip()
    side = None
    paren = re.search(r"\((left|right|contralateral|ipsilateral|bilateral|l|r)\)", t, re.I)
    if paren:
        side = HEMISPHERES[paren.group(1).lower()]
        t = (t[: paren.start()] + t[paren.end() :]).strip()
    hit = _term(t)
    if hit is not None:
        return hit, side
    m = _QUALIFIER.match(t)
    if m and (m.group("pre") or m.group("post")):
        word = (m.group("pre") or m.group("post")).lower()
        core = m.group("core")
        hit = _term(core)
        if hit is not None:
            return hit, HEMISPHERES[word]
        for w in ("hemisphere", "side"):  # "left hemisphere CA1"
            if core.lower().startswith(w + " "):
                hit = _term(core[len(w) + 1 :])
                if hit is not None:
                    return hit, HEMISPHERES[word]
    return None, side


# -- a whole string ---------------------------------------------------------------------------


def _structured(text: str) -> dict[str, str] | None:
    """A dict from a Python-dict, JSON or ``key: value; key=value`` string, else None."""
    t = text.strip()
    if t.startswith("{") and t.endswith("}"):
        for loader in (json.loads, ast.literal_eval):
            try:
                value = loader(t)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if isinstance(value, dict):
                return {str(k).strip().lower(): str(v) for k, v in value.items() if v is not None}
        return None
    pairs = [p for p in re.split(r"\s*[;|,\n]\s*", t) if p]
    out: dict[str, str] = {}
    for p in pairs:
        m = re.match(r"^([A-Za-z][\w ]{0,40}?)\s*[:=]\s*(.*)$", p)
        if m:
            out[m.group(1).strip().lower().replace(" ", "_")] = m.group(2).strip()
        elif out:  # a continuation: "area: Primary somatosensory area, barrel field"
            last = next(reversed(out))
            out[last] = f"{out[last]}, {p}"
    return out or None


def _from_fields(raw: str, fields: dict[str, str]) -> Parsed:
    side = next((HEMISPHERES.get(_norm(fields[k])) for k in HEMISPHERE_KEYS if k in fields), None)
    keys = [k for k in fields if k not in HEMISPHERE_KEYS]
    if keys and all(COORDINATE_KEYS.match(k) for k in keys):
        return Parsed(raw, placeholder=True, hemisphere=side, kind="placeholder")
    best: tuple[Structure, ...] = ()
    best_depth = -1
    for key in AREA_KEYS:
        for k in keys:
            if k != key and not (key == "area" and k.endswith("_area")):
                continue
            found = parse_location(fields[k])
            if found.areas:
                depth = max(len(s.path) for s in found.areas)
                if depth > best_depth:  # the most specific key that maps
                    best, best_depth = found.areas, depth
                side = side or found.hemisphere
    if best:
        layer = next((fields[k] for k in ("cortical_layer", "layer") if k in fields), "")
        if len(best) == 1 and re.fullmatch(r"1|2/3|4|5|6a|6b|6", layer.strip().lower()):
            layered = _by_acronym().get(best[0].acronym + layer.strip().lower())
            best = (layered,) if layered is not None else best
        return Parsed(raw, best, hemisphere=side, kind="area")
    return Parsed(raw, hemisphere=side)


def _mentions(text: str) -> tuple[Structure, ...]:
    """Areas named inside free text (whole words; alias rows and multi-word names only)."""
    words = _norm(re.sub(r"[()\[\],;:]", " ", text))
    hits: list[Structure] = []
    for term, (kind, acronyms) in alias_table().items():
        if (
            kind == "alias"
            and len(term) >= 4
            and re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", words)
        ):
            hits += [atlas()[a.lower()] for a in acronyms if a.lower() in atlas()]
    return _specific(hits)


@functools.lru_cache(maxsize=65536)
def parse_location(raw: str) -> Parsed:
    """Everything one location string says about where (see the module's docstring)."""
    text = raw.strip().strip("'\"`").strip()
    norm = _norm(text)
    if not norm or _NUMBER.match(norm):
        return Parsed(raw, placeholder=True, kind="placeholder")
    alias = alias_table().get(norm)
    if alias is not None and alias[0] in ("placeholder", "compartment"):
        return Parsed(raw, placeholder=True, kind=alias[0])
    hit, side = _qualified(text)
    if hit is not None:
        kind, found = hit
        if kind in ("placeholder", "compartment"):
            return Parsed(raw, placeholder=True, hemisphere=side, kind=kind)
        if found:
            return Parsed(raw, found, hemisphere=side, kind="area")
    if ":" in text or "=" in text or text.startswith("{"):
        fields = _structured(text)
        if fields:
            return _from_fields(raw, fields)
    parts = [p for p in _SPLIT.split(text) if p and p.strip()]
    if len(parts) > 1:
        areas: list[Structure] = []
        sides = set()
        placeholders = 0
        for p in parts:
            one = parse_location(p)
            areas += one.areas
            placeholders += one.placeholder
            if one.hemisphere:
                sides.add(one.hemisphere)
        side = sides.pop() if len(sides) == 1 else ("bilateral" if sides else None)
        if areas:
            return Parsed(raw, _specific(areas), hemisphere=side, kind="area")
        if placeholders == len(parts):
            return Parsed(raw, placeholder=True, kind="placeholder")
    found = _mentions(text)
    if found:
        return Parsed(raw, found, hemisphere=side, kind="area")
    return Parsed(raw, hemisphere=side)


# -- the old interface, kept for callers --------------------------------------------------------


def match(raw: str) -> Structure | None:
    """The first structure a location string names, or None."""
    found = parse_location(raw).areas
    return found[0] if found else None


def is_dropped(raw: str) -> bool:
    """Whether a location string is a placeholder (says nothing about where)."""
    return parse_location(raw).placeholder


def resolve_areas(term: str) -> tuple[Structure, ...]:
    """A search term → the structures it names (an acronym, a name, an alias or a phrase);
    empty if it names none."""
    return parse_location(term).areas


def resolve_area(term: str) -> Structure | None:
    found = resolve_areas(term)
    return found[0] if found else None


def suggest(term: str, raw_strings: list[str]) -> str:
    names = sorted(
        {s.acronym for s in atlas().values()}
        | {t for t, (k, _) in alias_table().items() if k == "alias"}
        | set(raw_strings)
    )
    return ", ".join(closest(term.strip(), names)) or "VISp, CA1, hippocampus, visual areas"
