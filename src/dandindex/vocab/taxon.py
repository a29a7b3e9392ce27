"""NCBI taxon identifiers in every spelling real metadata uses, normalised to one form."""

from __future__ import annotations

import re
from typing import Any

NCBITAXON = "http://purl.obolibrary.org/obo/NCBITaxon_{}"
_TAXON_RX = re.compile(r"(?:NCBITaxon[_:]|taxonomy[:/]|^)(\d+)/?$", re.I)


def normalize_taxon(identifier: Any) -> str | None:
    """Any NCBITaxon spelling (URI, CURIE, bare id, identifiers.org) → the PURL form."""
    if identifier is None:
        return None
    text = str(identifier).strip()
    m = _TAXON_RX.search(text)
    if not m:
        return None
    return NCBITAXON.format(int(m.group(1)))
