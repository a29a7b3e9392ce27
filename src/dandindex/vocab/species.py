"""Species by NCBI taxon: from the species table dandi-cli ships and from the data itself.

A search term resolves against the union of dandi-cli's table (`dandi.metadata`) and every
species an index holds (asset and dandiset metadata names such as ``Latin name - Common
names``, NWB ``subject.species`` strings, NCBI taxon URIs): the Latin name, each common name
(singular or plural), any case, the taxon id, the CURIE or the URI. Search matches on the
taxon URI, since names differ across schema versions ("House mouse" vs "Mus musculus - House
mouse"); `canonical_name` gives one name per taxon for counts and displays.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dandindex.display import counted
from dandindex.errors import UsageError
from dandindex.vocab.taxon import normalize_taxon


@dataclass(frozen=True)
class Species:
    uri: str
    name: str
    names: tuple[str, ...]  # every lower-cased name that identifies it
    prefix: str | None = None
    count: int = 0  # assets with it, in the index it came from (0: from dandi-cli's table)


@dataclass(frozen=True)
class HeldSpecies:
    """A species an index holds: its taxon URI, a name as stored, how many assets."""

    uri: str
    name: str | None
    count: int = 0


def plural(word: str) -> str:
    irregular = {"mouse": "mice", "fish": "fish", "human": "humans", "sheep": "sheep"}
    if word in irregular:
        return irregular[word]
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def singular(word: str) -> str:
    irregular = {"mice": "mouse", "humans": "human", "people": "human"}
    if word in irregular:
        return irregular[word]
    for suffix, repl in (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + repl
    return word


def names_of(name: str) -> set[str]:
    """Every lower-cased name a stored species name gives: the whole, the Latin name, each
    common name, and the last word of a common name in the plural ("fruit flies")."""
    low = name.strip().lower()
    if not low:
        return set()
    out = {low}
    parts = [p.strip() for p in low.split(" - ")]
    out.update(p for p in parts if p)
    for common in parts[1:]:
        for c in common.split(","):
            c = c.strip()
            if c:
                words = c.split()
                for last in {plural(words[-1]), singular(words[-1])}:  # "Rabbits" is a rabbit
                    out.add(" ".join(words[:-1] + [last]))
                out.add(c)
    return out


def heads(sp: Species) -> set[str]:
    """The head nouns of a species' common names, singular: "macaque" of "Pig-tailed
    macaque", "monkey" of "Rhesus monkey", "rat" of "Norway rat"."""
    latin = sp.name.split(" - ")[0].strip().lower()
    out = set()
    for n in sp.names:
        words = n.replace("-", " ").split()
        if n != latin and words and not n.startswith(latin):
            out.add(singular(words[-1]))
    return out


def genus(sp: Species) -> str | None:
    words = sp.name.split(" - ")[0].split()
    return words[0].lower() if len(words) >= 2 and words[0][:1].isupper() else None


@functools.lru_cache(maxsize=1)
def known_species() -> tuple[Species, ...]:
    """dandi-cli's species table."""
    from dandi.metadata import util

    out = []
    for rec in util.species_map:
        if hasattr(rec, "taxon_id"):  # dandi >= 0.81: SpeciesRecord
            uri, name, commons, prefix = rec.uri, rec.name, tuple(rec.common_names), rec.prefix
        else:  # older dandi: (common_names, prefix, uri, name)
            commons, prefix, uri, name = rec
            commons = tuple(commons)
        names = names_of(name) | {c.lower() for c in commons} | {plural(c.lower()) for c in commons}
        out.append(Species(normalize_taxon(uri) or uri, name, tuple(sorted(names)), prefix))
    return tuple(out)


def vocabulary(held: Iterable[HeldSpecies] = ()) -> tuple[Species, ...]:
    """dandi-cli's species and the ones an index holds, one entry per taxon."""
    by_uri: dict[str, Species] = {s.uri: s for s in known_species()}
    counts: dict[str, int] = {}
    extra: dict[str, set[str]] = {}
    first_name: dict[str, str] = {}
    for h in held:
        uri = normalize_taxon(h.uri) or h.uri
        counts[uri] = counts.get(uri, 0) + h.count
        if h.name:
            extra.setdefault(uri, set()).update(names_of(h.name))
            first_name.setdefault(uri, h.name)
    out = []
    for uri in sorted(set(by_uri) | set(extra) | set(counts)):
        base = by_uri.get(uri)
        names = set(base.names if base else ()) | extra.get(uri, set())
        name = base.name if base else first_name.get(uri, uri.rsplit("_", 1)[-1])
        out.append(
            Species(
                uri, name, tuple(sorted(names)), base.prefix if base else None, counts.get(uri, 0)
            )
        )
    return tuple(out)


def canonical_name(uri: str, held: Iterable[HeldSpecies] = ()) -> str:
    """One display name per taxon: dandi-cli's, else the longest name the data uses."""
    for s in known_species():
        if s.uri == uri:
            return s.name
    names = [h.name for h in held if h.name and (normalize_taxon(h.uri) or h.uri) == uri]
    return max(names, key=lambda n: (len(n), n)) if names else uri.rsplit("/", 1)[-1]


def resolve_species(term: str, held: Sequence[HeldSpecies] = ()) -> str:
    """One user term ("mouse", "mice", "Mus musculus", "10090", "NCBITaxon_10090", a URI, a
    name only the index's data uses) → its taxon URI (the first, if it names several)."""
    return resolve_species_all(term, held)[0]


def resolve_species_all(
    term: str, held: Sequence[HeldSpecies] = (), *, suggest: bool = True
) -> tuple[str, ...]:
    """Every taxon URI a user term names. A name (Latin, common, singular or plural, any
    case), a taxon id, CURIE or URI names the species that carry it; a word no species is
    called, the species whose common name it is the head noun of ("macaque", "monkey",
    "marmoset", "crayfish") or, as a compound, ends ("worm": roundworm), and a genus ("Macaca")
    its species; those two widen to the whole genus of what they found ("macaque": every
    Macaca), kept to the species the index holds when it holds any of them."""
    text = term.strip()
    if re.fullmatch(r"\d+", text) or re.search(r"NCBITaxon[_:]\d+|taxonomy[:/]\d+", text, re.I):
        uri = normalize_taxon(text)
        if uri:
            return (uri,)
    vocab = vocabulary(held)
    low = re.sub(r"\s+", " ", text.lower()).strip(" .;,")
    words = low.split()
    for candidate in dict.fromkeys(
        (low, singular(low), " ".join(words[:-1] + [singular(words[-1])]) if words else low)
    ):
        found = [sp.uri for sp in vocab if candidate in sp.names]
        if found:
            return tuple(found)
    for sp in vocab:
        if sp.prefix and low.startswith(sp.prefix):
            return (sp.uri,)
    if low and " " not in low:
        word = singular(low)
        found_sp = [sp for sp in vocab if word in heads(sp) or genus(sp) == low]
        if not found_sp and len(word) >= 3:  # a compound: "worm" → "roundworm"
            found_sp = [sp for sp in vocab if any(h.endswith(word) for h in heads(sp))]
        if found_sp:
            genera = {genus(sp) for sp in found_sp} - {None}
            wide = [sp for sp in vocab if sp in found_sp or genus(sp) in genera]
            kept = [sp for sp in wide if sp.count] or wide
            return tuple(sp.uri for sp in kept)
    if len(words) > 1:  # "transgenic mouse", "C57BL/6J mice": the species of the last word
        try:
            return resolve_species_all(words[-1], held, suggest=suggest)
        except UsageError:
            pass
    raise UsageError(f"Unknown species {term!r}.{_suggestion(low, vocab, held) if suggest else ''}")


def species_note(term: str, held: Sequence[HeldSpecies] = ()) -> str | None:
    """A sentence saying which species a term that names several means, else None."""
    try:
        uris = resolve_species_all(term, held)
    except UsageError:
        return None
    if len(uris) < 2:
        return None
    vocab = {sp.uri: sp for sp in vocabulary(held)}
    named = ", ".join(
        f"{vocab[u].name} ({counted(vocab[u].count, 'asset')})" if vocab[u].count else vocab[u].name
        for u in uris
    )
    return f"--species {term!r} names {len(uris)} species; searching all: {named}."


#: how alike a term and a species' name (or one of its words) must be to suggest it
#: (difflib's ratio: 'macaqe'/'macaque' 0.92, 'mose'/'mouse' 0.89, 'unicorn'/'roundworm' 0.5)
SIMILAR = 0.75


def _suggestion(low: str, vocab: tuple[Species, ...], held: Sequence[HeldSpecies]) -> str:
    """The species whose names (or a word of them) are spelt most like `low`, with the
    species a matching word names together (a misspelt "macaque" brings every macaque);
    when none is close, the species the index holds most, said as such."""
    from difflib import SequenceMatcher

    in_index = [s for s in vocab if s.count]
    pool = in_index or list(vocab)
    scored = []
    for sp in pool:
        words = {w for n in sp.names for w in (n, *re.split(r"[\s,()-]+", n)) if len(w) > 2}
        best = max(((SequenceMatcher(None, low, w).ratio(), w) for w in words), default=(0, ""))
        scored.append((best[0], best[1], sp))
    scored.sort(key=lambda t: (-t[0], -t[2].count, t[2].name))
    seen: list[Species] = []
    for score, word, sp in scored:
        if score < SIMILAR:
            break
        try:
            group = set(resolve_species_all(word, held, suggest=False))
        except UsageError:
            group = set()
        for other in [sp, *(v for v in pool if v.uri in group)]:
            if other not in seen:
                seen.append(other)
    where = " in this index" if in_index else ""
    if not seen:
        common = sorted(pool, key=lambda sp: -sp.count)[:5]
        if not common:
            return " Try mouse, human, rat, 10090 or NCBITaxon_9606."
        shown = ", ".join(
            f"{sp.name} ({counted(sp.count, 'asset')})" if sp.count else sp.name for sp in common
        )
        return f" No species{where} is spelt like it; the commonest: {shown}."
    shown = ", ".join(
        f"{sp.name} ({counted(sp.count, 'asset')})" if sp.count else sp.name for sp in seen[:5]
    )
    return f" Closest species{where}: {shown}."
