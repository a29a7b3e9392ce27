"""Expectations computed straight from snapshot files (independent of the server's code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_folder(root: Path) -> dict[str, dict[str, Any]]:
    """{dandiset_id: {"draft": meta, "assets": [...], "versions": {v: {"meta", "assets"}}}}"""
    out: dict[str, dict[str, Any]] = {}
    for d in sorted((root / "dandisets").iterdir()):
        if not (d / "dandiset.json").exists():
            continue
        draft_assets = load_lines(d / "assets.jsonl")
        versions = {}
        if (d / "versions").is_dir():
            for v in sorted((d / "versions").iterdir()):
                assets = (
                    load_lines(v / "assets.jsonl")
                    if (v / "assets.jsonl").exists()
                    else draft_assets
                )
                versions[v.name] = {
                    "meta": json.loads((v / "dandiset.json").read_text()),
                    "assets": assets,
                }
        out[d.name] = {
            "draft": json.loads((d / "dandiset.json").read_text()),
            "assets": draft_assets,
            "versions": versions,
        }
    return out


def is_embargoed(meta: dict[str, Any]) -> bool:
    return any(
        isinstance(a, dict) and a.get("status") == "dandi:EmbargoedAccess"
        for a in meta.get("access") or []
    )
