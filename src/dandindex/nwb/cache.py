"""Per-blob summaries as JSON files in ``<index>/<folder>/<key[:2]>/<key>.json``, each
carrying the version of the reader that made it: NWB summaries (`dandindex.nwb.shape.Summary`)
in ``nwb/``, the other formats' (`dandindex.formats.shape.FileSummary`) in ``files/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from dandindex.fsutil import write_json_atomic

if TYPE_CHECKING:
    from dandindex.nwb.shape import Summary

S = TypeVar("S", bound=BaseModel)


class SummaryCache(Generic[S]):
    """Summaries keyed on the blob's sha256 (else etag, else its id), written atomically."""

    def __init__(self, index_root: Path, folder: str, model: type[S]) -> None:
        self.root = Path(index_root) / folder
        self.model = model

    def path(self, key: str) -> Path:
        safe = "".join(c for c in key if c.isalnum() or c in "-_.")
        return self.root / safe[:2] / f"{safe}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> S | None:
        """The cached summary (of any version: see its ``current``); None if there is none
        or it cannot be read as one."""
        try:
            with open(self.path(key), encoding="utf-8") as f:
                return self.model.model_validate(json.load(f))
        except (OSError, ValueError, ValidationError):
            return None

    def put(self, key: str, summary: S) -> None:
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(p, summary.model_dump(mode="json"))


def nwb_cache(index_root: Path) -> SummaryCache[Summary]:
    """NWB summaries, in ``<index>/nwb/``."""
    from dandindex.nwb.shape import Summary

    return SummaryCache(index_root, "nwb", Summary)
