"""Per-blob NWB summaries (`dandindex.nwb.shape.Summary`) as JSON files in
``<index>/nwb/<key[:2]>/<key>.json``, each carrying the version of the walk that made it."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from dandindex.fsutil import write_json_atomic
from dandindex.nwb.shape import Summary


class SummaryCache:
    """Summaries keyed on the blob's sha256 (else etag, else its id), written atomically."""

    def __init__(self, index_root: Path) -> None:
        self.root = Path(index_root) / "nwb"

    def path(self, key: str) -> Path:
        safe = "".join(c for c in key if c.isalnum() or c in "-_.")
        return self.root / safe[:2] / f"{safe}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> Summary | None:
        """The cached summary (of any version: see `Summary.current`); None if there is none
        or it cannot be read as one."""
        try:
            with open(self.path(key), encoding="utf-8") as f:
                return Summary.model_validate(json.load(f))
        except (OSError, ValueError, ValidationError):
            return None

    def put(self, key: str, summary: Summary) -> None:
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(p, summary.to_json())
