"""Per-blob NWB summaries as JSON files in ``<index>/nwb/<key[:2]>/<key>.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dandindex.fsutil import write_json_atomic


class SummaryCache:
    """Summaries keyed on the blob's sha256 (else etag, else its id), written atomically."""

    def __init__(self, index_root: Path) -> None:
        self.root = Path(index_root) / "nwb"

    def path(self, key: str) -> Path:
        safe = "".join(c for c in key if c.isalnum() or c in "-_.")
        return self.root / safe[:2] / f"{safe}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self.path(key), encoding="utf-8") as f:
                data: dict[str, Any] = json.load(f)
            return data
        except (OSError, ValueError):
            return None

    def put(self, key: str, summary: dict[str, Any]) -> None:
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(p, summary)
