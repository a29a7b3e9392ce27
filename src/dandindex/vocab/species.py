"""Species by NCBI taxon, from the species table dandi-cli ships (`dandi.metadata`).

Common names, Latin names, taxon ids, CURIEs and URIs all resolve to NCBITaxon URIs; search
matches on the taxon id, since names differ across schema versions ("House mouse" vs
"Mus musculus - House mouse").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from dandindex.errors import DandindexError, closest
from dandindex.vocab.taxon import normalize_taxon


@dataclass(frozen=True)
class Species:
    uri: str
    name: str
    names: tuple[str, ...]  # every lower-cased name that identifies it
    prefix: str | None


@functools.lru_cache(maxsize=1)
def known_species() -> tuple[Species, ...]:
    from dandi.metadata import util

    out = []
    for rec in util.species_map:
        if hasattr(rec, "taxon_id"):  # dandi >= 0.81: SpeciesRecord
            uri, name, commons, prefix = rec.uri, rec.name, tuple(rec.common_names), rec.prefix
        else:  # older dandi: (common_names, prefix, uri, name)
            commons, prefix, uri, name = rec
            commons = tuple(commons)
        parts = [p.strip().lower() for p in name.split(" - ")]
        out.append(
            Species(
                normalize_taxon(uri) or uri, name, tuple({name.lower(), *parts, *commons}), prefix
            )
        )
    return tuple(out)


def resolve_species(term: str) -> str:
    """One user term ("mouse", "Mus musculus", "10090", "NCBITaxon_10090", a URI) → taxon URI."""
    text = term.strip()
    if re.fullmatch(r"\d+", text) or re.search(r"NCBITaxon[_:]\d+|taxonomy[:/]\d+", text, re.I):
        uri = normalize_taxon(text)
        if uri:
            return uri
    low = text.lower()
    for sp in known_species():
        if low in sp.names:
            return sp.uri
    for sp in known_species():
        if sp.prefix and low.startswith(sp.prefix):
            return sp.uri
    names = sorted({n for sp in known_species() for n in sp.names})
    hint = ", ".join(closest(low, names)) or "mouse, human, rat, 10090, NCBITaxon_9606"
    raise DandindexError(f"Unknown species {term!r}. Closest known: {hint}.")
