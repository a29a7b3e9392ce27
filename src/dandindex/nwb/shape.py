"""The one shape of an NWB summary: what the walk of one file gives, cached per blob.

Its parts are the columns of the NWB tables (`dandindex.schemas`) without the asset's own
(asset id, dandiset, blob, sha256), so a field added to a table is a field of the summary;
`SUMMARY_VERSION` says which walk made it. A cached summary of an older version is read
again by the next crawl with ``--nwb`` (which says how many), since what the new walk adds
cannot be made up from the old summary.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from dandindex.schemas import NWBFileRow, NWBLocationRow, NWBObjectRow

#: Bump when the walk records something it did not (a field, a better value): cached
#: summaries of an older version are read again. 1: the unversioned summaries before it;
#: 3: tables' columns, series' time spans and durations, the file's duration;
#: 4: files named outside the file (ImageSeries external_file, ndx-pose original_videos).
SUMMARY_VERSION = 4

_OWN = {"asset_id", "dandiset_id", "blob_id", "sha256", "summary_key", "summary_version"}


def _part(name: str, row: type[BaseModel]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        n: (f.annotation, f) for n, f in row.model_fields.items() if n not in _OWN
    }
    config = ConfigDict(extra="ignore")
    model: type[BaseModel] = create_model(name, __config__=config, **fields)
    return model


#: the file part: nwb_files' columns ("error" says why it could not be summarised)
FileFacts: Any = _part("FileFacts", NWBFileRow)
#: one typed group or dataset: nwb_objects' columns
ObjectFacts: Any = _part("ObjectFacts", NWBObjectRow)
#: one location string found in the file: nwb_locations' columns
LocationFacts: Any = _part("LocationFacts", NWBLocationRow)


class Summary(BaseModel):
    """One file's summary. ``transient``: the read failed in a way a later crawl retries
    (it is then not cached)."""

    model_config = ConfigDict(extra="ignore")

    version: int = Field(1, description="the walk's SUMMARY_VERSION (1: unversioned)")
    file: FileFacts
    objects: list[ObjectFacts] = Field(default_factory=list)
    locations: list[LocationFacts] = Field(default_factory=list)
    transient: bool = False

    @classmethod
    def made(cls, data: dict[str, Any]) -> Summary:
        """A summary the walk just made (a dict from a worker): this version's."""
        return cls.model_validate({**data, "version": SUMMARY_VERSION})

    @classmethod
    def error(cls, message: str, *, transient: bool) -> Summary:
        return cls.made({"file": {"error": message}, "transient": transient})

    @property
    def current(self) -> bool:
        return self.version >= SUMMARY_VERSION

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
