"""Facets about files that are not NWB (`dandindex.formats`): what a file is (``--file-format``:
``--format`` picks a command's output),
an image's channels (``--channel``) and a BIDS file's sidecar values (``--bids``).
Registered in `dandindex.registry.FACETS` like every facet; voxel sizes and frame rates are
`RangeFacet`s there.

``--bids KEY=VALUE`` ANDs its repeats, like ``--has``: each value must be the file's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dandindex.errors import UsageError, closest
from dandindex.facet import Field, Lookup, SearchVocab, TermsFacet
from dandindex.inside import CommaSeparated, or_list

#: what people call the formats --file-format knows
FORMAT_ALIASES = {
    "omezarr": "ome-zarr", "ome.zarr": "ome-zarr", "ngff": "ome-zarr", "ome-ngff": "ome-zarr",
    "tif": "tiff", "ome.tif": "ome-tiff", "ome.tiff": "ome-tiff", "ometiff": "ome-tiff",
    "ome-tif": "ome-tiff", "movie": "video", "movies": "video", "videos": "video",
    "nii": "nifti", "nii.gz": "nifti", "hdf5": "nwb", "nwb-hdf5": "nwb", "nwb-zarr": "nwb",
}  # fmt: skip
KNOWN_FORMATS = ("nwb", "zarr", "ome-zarr", "tiff", "ome-tiff", "video", "avi", "mp4", "mov",
                 "mkv", "bids", "nifti", "json", "tsv", "edf")  # fmt: skip


def resolve_format(term: str, vocab: SearchVocab) -> str:
    low = term.strip().lower().lstrip(".")
    low = FORMAT_ALIASES.get(low, low)
    held = vocab.values("file_format")
    if low in held or low in KNOWN_FORMATS:
        return low
    pool = sorted(set(held) | set(KNOWN_FORMATS))
    raise UsageError(
        f"Unknown file format {term!r}. Known: {or_list(pool, 20)}."
        + (f" Closest: {', '.join(closest(low, pool))}." if closest(low, pool) else "")
    )


def resolve_channel(term: str, vocab: SearchVocab) -> str:
    low = term.strip().lower()
    held = vocab.values("channel")
    if low in held:
        return low
    if not held:
        raise UsageError(
            f"No image channels in this index to match {term!r}: they come from OME-Zarr, "
            "OME-TIFF and ImageJ files and BIDS stains, read by `dandindex crawl --nwb`."
        )
    near = closest(low, held) or [h for h in held if low in h][:8]
    raise UsageError(f"No channel {term!r} in this index. Closest: {or_list(near or held)}.")


@dataclass(frozen=True, eq=False)
class BidsFacet(CommaSeparated, TermsFacet):
    """BIDS files whose sidecars (inherited) or participants/sessions/scans rows hold a
    value: ``KEY=VALUE`` (any case; numbers in any spelling: 1000, 1e3, 1000.0) or ``KEY``
    alone (the key is given). Repeat = AND."""

    def lookups(self, value: tuple[str, ...], vocab: SearchVocab) -> list[Lookup]:
        return [lk for group in self.lookup_sets(value, vocab) for lk in group]

    def lookup_sets(self, value: tuple[str, ...], vocab: SearchVocab) -> list[list[Lookup]]:
        from dandindex.formats.bids import normalize

        held = vocab.values(self.name)
        out = []
        for term in value:
            key, eq, val = term.partition("=")
            if not key.strip() or (eq and not val.strip()):
                raise UsageError(
                    f"--bids needs KEY=VALUE or KEY, e.g. --bids SamplingFrequency=1000, "
                    f"not {term!r}."
                )
            wanted = normalize(term) if eq else key.strip().lower()
            if wanted not in held:
                raise UsageError(self._unknown(term, wanted, held))
            out.append([Lookup(self.name, (wanted,))])
        return out

    def _unknown(self, term: str, wanted: str, held: list[str]) -> str:
        if not held:
            return ("No BIDS sidecar values in this index: they come from BIDS datasets' JSON "
                    "and TSV files, read by `dandindex crawl --nwb`.")  # fmt: skip
        keys = sorted({h for h in held if "=" not in h})
        key = wanted.partition("=")[0]
        if key not in keys:
            originals = closest(key, keys) or keys[:8]
            return f"No BIDS key {key!r} in this index. Closest: {or_list(originals)}."
        values = [h.partition("=")[2] for h in held if h.startswith(key + "=")]
        return (f"No BIDS file has {term!r}. {key} takes: "
                f"{or_list(sorted(values, key=_numeric_first), 12)}.")  # fmt: skip

    def fields(self) -> list[Field]:
        return [Field(self.name, self.label, "text", placeholder="SamplingFrequency=1000")]


def _numeric_first(v: str) -> tuple[int, float, str]:
    try:
        return (0, float(v), v)
    except ValueError:
        return (1, 0.0, v)


def file_counts(con: Any) -> dict[str, Any]:
    """What `dandindex info` says of the files that are not NWB: rows of file_summaries by
    format (read, not readable, not on the server), and BIDS data files, links."""
    rows = con.execute(
        """
        SELECT coalesce(format, 'unread') AS format,
               count(*) FILTER (error IS NULL) AS ok,
               count(*) FILTER (error IS NOT NULL AND error NOT LIKE '%HTTP 404%') AS failed,
               count(*) FILTER (error LIKE '%HTTP 404%') AS missing
        FROM file_summaries WHERE summary_key IS NOT NULL  -- read themselves (not BIDS-only)
        GROUP BY 1 ORDER BY ok DESC, format
        """
    ).fetchall()
    bids = con.execute(
        "SELECT count(*) FROM file_summaries WHERE len(bids_entities) > 0"
    ).fetchall()
    links = con.execute("SELECT count(*), count(target_asset_id) FROM file_links").fetchall()[0]
    return {
        "by_format": {f: {"read": a, "failed": b, "missing": c} for f, a, b, c in rows},
        "bids_data_files": bids[0][0],
        "links": links[0],
        "links_resolved": links[1],
    }
