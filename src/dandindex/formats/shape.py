"""The one shape of a file summary that is not NWB, cached per blob or Zarr like NWB ones.

Its fields are the ``file_summaries`` table's columns without the asset's own (asset id,
dandiset, blob, Zarr, sha256, cache key, version), so a column added to the table is a field
of the summary. `FILE_SUMMARY_VERSION` says which readers made it: a cached summary of an
older version is read again by the next crawl with ``--nwb``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from dandindex.schemas import FileSummaryRow

#: Bump when a reader records something it did not: cached summaries of an older version are
#: read again. 1: OME-Zarr, TIFF, video, BIDS JSON/TSV (the first).
FILE_SUMMARY_VERSION = 1

_OWN = {"asset_id", "dandiset_id", "blob_id", "zarr_id", "sha256", "summary_key",
        "summary_version"}  # fmt: skip

_fields: dict[str, Any] = {
    n: (f.annotation, f) for n, f in FileSummaryRow.model_fields.items() if n not in _OWN
}
#: the summary's facts: file_summaries' columns
MediaFacts: Any = create_model("MediaFacts", __config__=ConfigDict(extra="ignore"), **_fields)


class FileSummary(BaseModel):
    """One file's summary. ``transient``: the read failed in a way a later crawl retries
    (it is then not cached)."""

    model_config = ConfigDict(extra="ignore")

    version: int = Field(1, description="the readers' FILE_SUMMARY_VERSION")
    file: MediaFacts
    transient: bool = False

    @classmethod
    def made(cls, data: dict[str, Any]) -> FileSummary:
        """A summary a reader just made (a dict from a worker): this version's."""
        return cls.model_validate({**data, "version": FILE_SUMMARY_VERSION})

    @classmethod
    def error(cls, message: str, *, transient: bool, **facts: Any) -> FileSummary:
        return cls.made({"file": {**facts, "error": message}, "transient": transient})

    @property
    def current(self) -> bool:
        return self.version >= FILE_SUMMARY_VERSION

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
