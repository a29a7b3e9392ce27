"""Words of free text as a search compares them: lower-cased, stemmed (Snowball English),
and cut to the root that Latin anatomical forms share, so ``hippocampus`` finds
"Hippocampal", ``striatum`` "striatal", ``thalamus`` "thalamic", ``recordings``
"recording". No network, no model: the stemmer is a pure-Python package.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: Latin and Greek endings of anatomical nouns and their adjectives (after stemming)
_ENDINGS = ("us", "um", "al", "ar", "ic", "ae", "i", "a")
_ROOT = 5  # an ending is cut only if at least this much is left


@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def term(word: str) -> str:
    """One word's search term."""
    stem = _stemmer().stemWord(word.lower())
    for end in _ENDINGS:
        if stem.endswith(end) and len(stem) - len(end) >= _ROOT:
            return stem[: -len(end)]
    return str(stem)


def terms(text: str | None) -> list[str]:
    """The distinct search terms of `text`, sorted."""
    return sorted({term(w) for w in _WORD.findall(text or "")})
