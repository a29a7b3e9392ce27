"""Report: how the location parser reads every distinct location string of real data.

Collects every location string of ../shared/nwb (NWB electrodes, imaging planes,
intracellular electrodes, electrode groups, read by the same walk the crawl uses) and of
../shared/corpus (asset and dandiset ``about`` names), and reports how many map to an Allen
structure, how many are placeholders, and how many stay raw text, next to the same counts for
the matcher as it was before (exact acronym or name, a short alias list, ``area:`` fields).

    python benchmarks/vocab.py [--shared ../shared] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

BEFORE_ALIASES = {  # the alias list and placeholder set of the matcher before this change
    "v1": "VISp", "primary visual cortex": "VISp", "visual cortex": "VIS", "visual areas": "VIS",
    "lm": "VISl", "al": "VISal", "pm": "VISpm", "rl": "VISrl", "am": "VISam", "li": "VISli",
    "m1": "MOp", "primary motor cortex": "MOp", "motor cortex": "MO", "m2": "MOs", "s1": "SSp",
    "primary somatosensory cortex": "SSp", "barrel cortex": "SSp-bfd", "a1": "AUDp",
    "auditory cortex": "AUD", "hippocampus": "HIP", "hippocampal formation": "HPF",
    "dentate gyrus": "DG", "ca1": "CA1", "ca2": "CA2", "ca3": "CA3", "thalamus": "TH",
    "striatum": "STR", "cerebellum": "CB", "olfactory bulb": "MOB", "cortex": "CTX",
    "prefrontal cortex": "PL", "mpfc": "PL", "entorhinal cortex": "ENT", "mec": "ENTm",
    "lec": "ENTl", "lgn": "LGd", "superior colliculus": "SC", "vta": "VTA", "amygdala": "BLA",
    "hypothalamus": "HY", "midbrain": "MB", "brainstem": "BS",
}  # fmt: skip
BEFORE_DROP = {"", "unknown", "none", "n/a", "na", "nan", "null", "unspecified",
               "not applicable", "no location", "?"}  # fmt: skip


def before(raw: str) -> str:
    """'area', 'placeholder' or 'raw' by the matcher as it was."""
    from dandindex.vocab.areas import atlas

    text = raw.strip().strip("'\"")
    if text.lower() in BEFORE_DROP:
        return "placeholder"
    if ":" in text and ("," in text or text.lower().startswith(("area", "location", "region"))):
        fields = {
            k.strip().lower(): v.strip()
            for k, _, v in (p.partition(":") for p in text.replace(";", ",").split(","))
            if v.strip()
        }
        for key in ("area", "location", "region", "brain_area", "brain region", "structure"):
            if key in fields:
                text = fields[key]
                break
    low = text.lower()
    table = atlas()
    for c in (
        BEFORE_ALIASES.get(low, "").lower(),
        low,
        low.replace("cortex", "area"),
        low.replace(" ", ""),
    ):
        if c and c in table:
            return "area"
    return "raw"


def collect(shared: Path) -> Counter[tuple[str, str]]:
    """(where, string) → how many files or records use it."""
    from dandindex.nwb.summary import summarize

    out: Counter[tuple[str, str]] = Counter()
    for p in sorted((shared / "nwb").rglob("*.nwb")):
        if p.is_file():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = summarize(p)
            for loc in {(loc["source"], loc["location"]) for loc in s["locations"]}:
                out[(f"nwb {loc[0]}", loc[1])] += 1
    for f in sorted((shared / "corpus" / "dandisets").glob("*/assets.jsonl")):
        for line in f.open(encoding="utf-8"):
            if line.strip():
                meta = json.loads(line).get("metadata") or {}
                for a in meta.get("about") or []:
                    if isinstance(a, dict) and isinstance(a.get("name"), str):
                        out[("corpus asset about", a["name"])] += 1
    for f in sorted((shared / "corpus" / "dandisets").glob("**/dandiset.json")):
        for a in json.loads(f.read_text(encoding="utf-8")).get("about") or []:
            if isinstance(a, dict) and isinstance(a.get("name"), str):
                out[("corpus dandiset about", a["name"])] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from dandindex.vocab.areas import parse_location

    uses = collect(args.shared)
    distinct = sorted({s for _, s in uses})
    now: dict[str, Any] = {}
    rows = []
    for s in distinct:
        p = parse_location(s)
        kind = "area" if p.areas else "placeholder" if p.placeholder else "raw"
        now[s] = kind
        rows.append((s, kind, before(s), [a.acronym for a in p.areas], p.hemisphere))
    total_now = Counter(now.values())
    total_before = Counter(r[2] for r in rows)
    print(f"{len(distinct)} distinct location strings ({sum(uses.values())} uses) in {args.shared}")
    print(f"{'':24} {'maps to an area':>16} {'placeholder':>12} {'raw text':>9}")
    for label, t in (("before", total_before), ("now", total_now)):
        print(f"{label:24} {t['area']:>16} {t['placeholder']:>12} {t['raw']:>9}")
    print()
    for s, kind, old, acr, side in rows:
        change = "" if kind == old else f"   (was {old})"
        print(
            f"  {kind:11} {s[:70]!r:74} -> {' '.join(acr) or '-'}{' ' + side if side else ''}{change}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "distinct": len(distinct),
                    "now": dict(total_now),
                    "before": dict(total_before),
                    "strings": [
                        {"location": s, "now": k, "before": o, "areas": a, "hemisphere": h}
                        for s, k, o, a, h in rows
                    ],
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
