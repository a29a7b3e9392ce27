"""Table schemas of the index: pydantic models, from which the Arrow schemas are derived.

Each model is one row of one Parquet table. Field descriptions become Parquet field metadata
and the README's schema tables (`dandindex schema TABLE` prints them too).
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from typing import Any, Union

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

#: Bump when a table's columns change; stored in the manifest and in per-dandiset part keys.
TABLES_VERSION = 1


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DandisetRow(Row):
    """One row per Dandiset, from the API's Dandiset listing."""

    dandiset_id: str = Field(description="six-digit identifier, e.g. 000003")
    name: str | None = Field(None, description="title of the most recent version")
    created: datetime | None = Field(None, description="when the Dandiset was created")
    modified: datetime | None = Field(None, description="last modification of any version")
    embargo_status: str | None = Field(None, description="OPEN, EMBARGOED or UNEMBARGOING")
    contact_person: str | None = Field(None, description="the contact person's name")
    draft_version: str | None = Field(None, description="'draft' (every Dandiset has one)")
    latest_version: str | None = Field(None, description="most recent published version id, if any")
    star_count: int | None = Field(None, description="stars on the archive web site")
    asset_count: int | None = Field(None, description="assets in the most recent version")
    size: int | None = Field(None, description="bytes in the most recent version")
    versions_indexed: list[str] = Field(default_factory=list, description="versions in this index")


class VersionRow(Row):
    """One row per indexed (Dandiset, version): the version's raw metadata, flattened."""

    dandiset_id: str = Field(description="six-digit identifier")
    version: str = Field(description="'draft' or a published id like 0.230629.1955")
    name: str | None = Field(None, description="title")
    description: str | None = Field(None, description="abstract")
    status: str | None = Field(None, description="Valid, Published, ... (from the API)")
    schema_version: str | None = Field(None, description="metadata schemaVersion")
    license: list[str] = Field(default_factory=list, description="e.g. spdx:CC-BY-4.0")
    keywords: list[str] = Field(default_factory=list, description="free keywords")
    doi: str | None = Field(None, description="DOI of a published version")
    citation: str | None = Field(None, description="suggested citation")
    date_created: datetime | None = Field(None, description="dateCreated of the Dandiset")
    date_published: datetime | None = Field(None, description="null for drafts")
    modified: datetime | None = Field(None, description="the version's modification time (API)")
    species: list[str] = Field(default_factory=list, description="assetsSummary species names")
    species_id: list[str] = Field(default_factory=list, description="NCBITaxon URIs, normalised")
    approach: list[str] = Field(default_factory=list, description="assetsSummary approach names")
    measurement_technique: list[str] = Field(
        default_factory=list, description="assetsSummary techniques"
    )
    variable_measured: list[str] = Field(
        default_factory=list, description="assetsSummary neurodata types"
    )
    data_standard: list[str] = Field(default_factory=list, description="e.g. NWB, BIDS")
    anatomy: list[str] = Field(default_factory=list, description="names from `about` (Anatomy)")
    number_of_bytes: int | None = Field(None, description="assetsSummary.numberOfBytes")
    number_of_files: int | None = Field(None, description="assetsSummary.numberOfFiles")
    number_of_subjects: int | None = Field(None, description="assetsSummary.numberOfSubjects")
    asset_count: int | None = Field(None, description="assets listed by the API for this version")
    metadata_json: str = Field(description="the raw metadata, exactly as served")


class ContributorRow(Row):
    """One row per contributor of an indexed version."""

    dandiset_id: str = Field(description="six-digit identifier")
    version: str = Field(description="'draft' or a published id")
    position: int = Field(description="order in the contributor list")
    name: str | None = Field(None, description="'Last, First' or an organisation")
    roles: list[str] = Field(default_factory=list, description="e.g. dcite:Author")
    orcid: str | None = Field(None, description="ORCID iD of a Person")
    identifier: str | None = Field(None, description="raw identifier (ORCID, ROR, ...)")
    affiliation: list[str] = Field(default_factory=list, description="affiliation names")
    is_person: bool | None = Field(None, description="Person (true) or Organization (false)")
    include_in_citation: bool | None = Field(None, description="includeInCitation")


class AssetRow(Row):
    """One row per (asset_id, dandiset_id, version)."""

    asset_id: str = Field(description="the asset's UUID")
    dandiset_id: str = Field(description="six-digit identifier")
    version: str = Field(description="'draft' or a published id")
    path: str = Field(description="path inside the Dandiset")
    size: int | None = Field(None, description="bytes")
    blob_id: str | None = Field(None, description="blob UUID (null for Zarr)")
    zarr_id: str | None = Field(None, description="Zarr UUID (null for blobs)")
    encoding_format: str | None = Field(None, description="MIME type, e.g. application/x-nwb")
    created: datetime | None = Field(None, description="asset created (API)")
    modified: datetime | None = Field(None, description="asset modified (API)")
    sha256: str | None = Field(None, description="dandi:sha2-256 digest")
    etag: str | None = Field(None, description="dandi-etag (S3 multipart md5)")
    zarr_checksum: str | None = Field(None, description="dandi-zarr-checksum")
    api_url: str | None = Field(None, description="download URL on the crawled API")
    s3_url: str | None = Field(None, description="direct S3 URL from contentUrl")
    subject_id: str | None = Field(None, description="BIDS sub- entity of the path, else metadata")
    session_id: str | None = Field(None, description="BIDS ses- entity of the path, else metadata")
    species: str | None = Field(None, description="species name as stored")
    species_id: str | None = Field(None, description="NCBITaxon URI, normalised")
    sex: str | None = Field(None, description="sex name, e.g. Male")
    age: str | None = Field(None, description="raw ISO 8601 age value")
    age_days: float | None = Field(None, description="age in days; ranges give the midpoint")
    genotype: str | None = Field(None, description="genotype text (lists joined with '; ')")
    strain: str | None = Field(None, description="strain name")
    approach: list[str] = Field(default_factory=list, description="approach names")
    measurement_technique: list[str] = Field(default_factory=list, description="technique names")
    variable_measured: list[str] = Field(
        default_factory=list, description="neurodata types (values)"
    )
    anatomy: list[str] = Field(default_factory=list, description="names from `about`")
    session_start: datetime | None = Field(None, description="startDate of the Session")
    schema_version: str | None = Field(None, description="metadata schemaVersion")
    metadata_json: str = Field(description="the raw metadata, exactly as served")


class CrawlErrorRow(Row):
    """Something the crawl could not read; the rest of the row (or dandiset) was kept."""

    dandiset_id: str | None = Field(None, description="the dandiset concerned")
    version: str | None = Field(None, description="the version concerned")
    asset_id: str | None = Field(None, description="the asset concerned")
    stage: str = Field(description="dandiset, version_metadata or asset_metadata")
    error: str = Field(description="what was wrong (API key scrubbed)")
    at: datetime = Field(description="when it was recorded")


class NWBFileRow(Row):
    """One row per NWB asset summarised (or that could not be): what is inside the file."""

    asset_id: str = Field(description="the asset's UUID")
    dandiset_id: str | None = Field(None, description="a dandiset the asset belongs to")
    blob_id: str | None = Field(None, description="blob UUID (null for Zarr)")
    sha256: str | None = Field(None, description="blob digest; summaries are keyed on it")
    summary_key: str = Field(description="sha256, else etag, else blob/zarr id")
    summary_version: int | None = Field(
        None,
        description="the walk that made the summary (dandindex.nwb.shape.SUMMARY_VERSION; "
        "null: before 3); an older one lacks columns and durations: crawl --nwb reads it again",
    )
    size: int | None = Field(None, description="file size in bytes")
    nwb_version: str | None = Field(None, description="nwb_version as stored")
    identifier: str | None = Field(None, description="NWBFile identifier")
    session_description: str | None = None
    session_start: str | None = Field(None, description="session_start_time as stored (text)")
    institution: str | None = None
    lab: str | None = None
    experimenters: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    subject_id: str | None = None
    species: str | None = Field(None, description="subject species as stored in the file")
    sex: str | None = None
    age: str | None = None
    genotype: str | None = None
    n_objects: int | None = Field(None, description="typed groups and datasets")
    duration: float | None = Field(
        None, description="seconds of the file's longest series (null: no series' is known)"
    )
    n_electrodes: int | None = Field(None, description="rows of the electrodes table")
    n_units: int | None = Field(None, description="rows of Units tables")
    n_rois: int | None = Field(None, description="rows of PlaneSegmentation tables")
    n_imaging_planes: int | None = None
    neurodata_types: list[str] = Field(
        default_factory=list, description="distinct types in the file"
    )
    metadata_ranges: list[list[int]] = Field(
        default_factory=list, description="[offset, length] byte ranges the metadata walk read"
    )
    read_url: str | None = Field(
        None, description="the blob URL the walk read after the API's redirect (query stripped)"
    )
    links: str | None = Field(None, description="soft/external links (JSON), not followed")
    bytes_read: int | None = Field(None, description="bytes fetched to summarise")
    requests: int | None = Field(None, description="HTTP requests made to summarise")
    seconds: float | None = Field(None, description="wall time to summarise")
    error: str | None = Field(None, description="why the file could not be summarised")
    summarized_at: datetime | None = Field(None, description="when the summary was made")


class NWBObjectRow(Row):
    """One row per typed group or dataset of an NWB file (root included, /specifications not)."""

    asset_id: str = Field(description="the asset's UUID")
    path: str = Field(description="HDF5 path, e.g. /acquisition/ElectricalSeries")
    neurodata_type: str = Field(description="e.g. ElectricalSeries")
    namespace: str | None = Field(None, description="e.g. core, hdmf-common, ndx-...")
    base_types: list[str] = Field(default_factory=list, description="ancestors, nearest first")
    parent_path: str | None = None
    object_id: str | None = None
    is_dataset: bool | None = None
    shape: list[int] | None = Field(None, description="shape of the object's data")
    dtype: str | None = None
    chunks: list[int] | None = None
    compression: str | None = None
    unit: str | None = None
    conversion: float | None = None
    rate: float | None = Field(None, description="sampling rate (Hz) of a series")
    starting_time: float | None = None
    n_timestamps: int | None = None
    n_rows: int | None = Field(None, description="rows of a table (length of id)")
    description: str | None = Field(None, description="first 300 characters")
    columns: list[str] | None = Field(
        None, description="a table's column names in order (its colnames attribute)"
    )
    external_files: list[str] | None = Field(
        None,
        description="files outside the NWB file it names, as written (an ImageSeries' "
        "external_file, a PoseEstimation's original_videos)",
    )
    t_start: float | None = Field(None, description="a series' first time (s, session time)")
    t_stop: float | None = Field(None, description="a series' last time (s)")
    duration: float | None = Field(
        None,
        description="seconds a series covers: samples / rate, or last - first timestamp when "
        "the timestamps fit the walk's value budget (64 KiB); null: unknown",
    )


class NWBLocationRow(Row):
    """A location string (brain area) found in an NWB file, exactly as stored, with a count."""

    asset_id: str = Field(description="the asset's UUID")
    source: str = Field(description="electrodes, imaging_plane, intracellular_electrode or other")
    object_path: str = Field(description="where it was found")
    location: str = Field(description="the raw string")
    count: int = Field(description="electrodes (or planes, electrodes) with this location")


class FileSummaryRow(Row):
    """One row per asset that is not NWB and whose headers were read (or could not be):
    OME-Zarr, TIFF/OME-TIFF, video, BIDS JSON/TSV files, and the data files of a BIDS dataset
    with their sidecars' values. Columns a format does not have are null."""

    asset_id: str = Field(description="the asset's UUID")
    dandiset_id: str | None = Field(None, description="a dandiset the asset belongs to")
    blob_id: str | None = Field(None, description="blob UUID (null for Zarr)")
    zarr_id: str | None = Field(None, description="Zarr UUID (null for blobs)")
    sha256: str | None = Field(None, description="blob digest")
    summary_key: str | None = Field(
        None, description="what the summary is cached under (sha256, etag, Zarr checksum...)"
    )
    summary_version: int | None = Field(
        None, description="the reader that made it (dandindex.formats.shape.FILE_SUMMARY_VERSION)"
    )
    format: str | None = Field(
        None,
        description="ome-zarr, zarr, ome-tiff, tiff, video, json, tsv; a BIDS data file not "
        "read itself: its extension (nifti, edf, ...)",
    )
    size: int | None = Field(None, description="bytes (a Zarr: the asset's size)")
    shape: list[int] | None = Field(
        None, description="image or volume shape (the full-resolution level), in `axes` order"
    )
    axes: str | None = Field(None, description="axis letters of `shape`, e.g. tczyx")
    dtype: str | None = Field(None, description="pixel type, e.g. uint16")
    voxel_size: list[float] | None = Field(
        None, description="µm per pixel along the spatial axes of `axes` (z, y, x), when given"
    )
    voxel_um: float | None = Field(
        None, description="the largest spatial voxel side in µm (what --voxel-max compares)"
    )
    time_step: float | None = Field(None, description="seconds between time points, when given")
    channels: list[str] = Field(default_factory=list, description="channel names, in order")
    channel_colors: list[str] = Field(
        default_factory=list, description="channel colours (RRGGBB), when given"
    )
    n_channels: int | None = None
    n_timepoints: int | None = None
    n_levels: int | None = Field(None, description="resolution levels (a pyramid)")
    level_shapes: list[list[int]] = Field(
        default_factory=list, description="shape of each level, finest first"
    )
    chunks: list[int] | None = Field(None, description="chunk (or tile) shape of level 0")
    compressor: str | None = Field(None, description="e.g. blosc, zstd, lzw")
    plate: str | None = Field(None, description="an HCS plate: rows x columns, wells, fields")
    pages: int | None = Field(None, description="TIFF pages (IFDs)")
    pages_known: bool | None = Field(
        None, description="whether `pages` is every page (false: at least that many)"
    )
    codec: str | None = Field(None, description="video codec, e.g. h264")
    container: str | None = Field(None, description="video container, e.g. mov,mp4")
    width: int | None = Field(None, description="video frame width (pixels)")
    height: int | None = Field(None, description="video frame height (pixels)")
    fps: float | None = Field(None, description="video frames per second")
    n_frames: int | None = Field(None, description="video frames (from the header)")
    duration: float | None = Field(None, description="seconds (video; a BIDS scan when given)")
    pixel_format: str | None = None
    bids_datatype: str | None = Field(None, description="BIDS folder: anat, func, micr, eeg...")
    bids_suffix: str | None = Field(None, description="BIDS suffix, e.g. T2w, SPIM, eeg")
    bids_entities: list[str] = Field(
        default_factory=list, description="BIDS entities of the file name (sub=01, ses=1...)"
    )
    bids: list[str] = Field(
        default_factory=list,
        description="Key=value of the file's BIDS sidecars (inherited), and of its "
        "participants/sessions/scans rows (participant.age=...)",
    )
    subject_species: str | None = Field(None, description="participants.tsv species")
    subject_age: str | None = Field(None, description="participants.tsv age")
    subject_sex: str | None = Field(None, description="participants.tsv sex")
    details: str | None = Field(
        None,
        description="what else the header says (JSON): NGFF multiscales/omero/plate, OME "
        "pixels, ImageJ metadata, video streams, a sidecar's or table's content",
    )
    bytes_read: int | None = Field(None, description="bytes fetched to summarise")
    requests: int | None = Field(None, description="HTTP requests made to summarise")
    seconds: float | None = Field(None, description="wall time to summarise")
    error: str | None = Field(None, description="why the file could not be summarised")
    summarized_at: datetime | None = Field(None, description="when the summary was made")


class FileLinkRow(Row):
    """A file an NWB file names outside itself (an ImageSeries' external_file, a pose
    estimation's original videos), resolved to an asset of the same dandiset when there
    is one."""

    asset_id: str = Field(description="the NWB asset's UUID")
    dandiset_id: str | None = Field(None, description="its dandiset")
    object_path: str = Field(description="the object naming the file")
    external_file: str = Field(description="the name as written in the file")
    target_path: str | None = Field(None, description="the path it resolves to in the dandiset")
    target_asset_id: str | None = Field(None, description="the asset at that path, if held")


TABLES: dict[str, type[Row]] = {
    "dandisets": DandisetRow,
    "versions": VersionRow,
    "contributors": ContributorRow,
    "assets": AssetRow,
    "crawl_errors": CrawlErrorRow,
    "nwb_files": NWBFileRow,
    "nwb_objects": NWBObjectRow,
    "nwb_locations": NWBLocationRow,
    "file_summaries": FileSummaryRow,
    "file_links": FileLinkRow,
}
NWB_TABLES = ("nwb_files", "nwb_objects", "nwb_locations")
FILE_TABLES = ("file_summaries", "file_links")

#: Tables written per dandiset (the dandisets table comes from the listing).
PART_TABLES = ("versions", "contributors", "assets", "crawl_errors")


def _arrow_type(annotation: Any) -> tuple[pa.DataType, bool]:
    """(Arrow type, nullable) for a field annotation."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner, _ = _arrow_type(args[0])
        return inner, True
    if origin is list:
        (item,) = typing.get_args(annotation)
        inner, _ = _arrow_type(item)
        return pa.list_(inner), False
    simple: dict[Any, pa.DataType] = {
        str: pa.string(),
        int: pa.int64(),
        float: pa.float64(),
        bool: pa.bool_(),
        datetime: pa.timestamp("us", tz="UTC"),
    }
    if annotation in simple:
        return simple[annotation], False
    raise TypeError(f"no Arrow type for {annotation!r}")


def arrow_schema(model: type[Row]) -> pa.Schema:
    """The Arrow schema of a row model (field descriptions kept as field metadata)."""
    hints = typing.get_type_hints(model)
    fields = []
    for name, info in model.model_fields.items():
        dtype, nullable = _arrow_type(hints[name])
        meta = {b"description": info.description.encode()} if info.description else None
        fields.append(pa.field(name, dtype, nullable=nullable, metadata=meta))
    return pa.schema(fields, metadata={b"dandindex.tables_version": str(TABLES_VERSION).encode()})


SCHEMAS: dict[str, pa.Schema] = {name: arrow_schema(model) for name, model in TABLES.items()}


def describe(table: str) -> list[tuple[str, str, str]]:
    """(column, type, description) for a table, for help texts and the README."""
    model = TABLES[table]
    schema = SCHEMAS[table]
    return [
        (
            f.name,
            str(f.type) + ("" if f.nullable else " not null"),
            model.model_fields[f.name].description or "",
        )
        for f in schema
    ]


def markdown_tables() -> str:
    """The README's table-schema section, generated from the models."""
    out = []
    for name, model in TABLES.items():
        out.append(f"#### `{name}`\n\n{(model.__doc__ or '').strip()}\n")
        out.append("| column | type | description |\n|---|---|---|")
        for col, typ, desc in describe(name):
            out.append(f"| `{col}` | {typ} | {desc} |")
        out.append("")
    return "\n".join(out)


def create_table_view(con: Any, name: str, file: Any) -> None:
    """A view `name` on DuckDB connection `con` over the Parquet `file` (a local path or a URL
    DuckDB can read), with this version's columns: a file from an older crawl that lacks a
    column gets nulls, a missing file an empty table of the right shape."""
    schema = SCHEMAS[name]
    present: set[str] | None = None
    if file is not None:
        try:
            present = set(
                r[0]
                for r in con.execute(
                    "SELECT name FROM parquet_schema($f)", {"f": str(file)}
                ).fetchall()
            )
        except Exception:  # noqa: BLE001 - not there (or not readable): an empty table
            present = None
    if present is None:
        con.register(f"_{name}_empty", schema.empty_table())
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_empty")
        return
    cols = ", ".join(
        _quote_ident(f.name)
        if f.name in present
        else f"CAST(NULL AS {_duckdb_type(f.type)}) AS {_quote_ident(f.name)}"
        for f in schema
    )
    source = str(file).replace("'", "''")
    con.execute(f"CREATE VIEW {name} AS SELECT {cols} FROM read_parquet('{source}')")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_type(t: pa.DataType) -> str:
    if pa.types.is_list(t):
        return _duckdb_type(t.value_type) + "[]"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    simple = {
        pa.string(): "VARCHAR",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
    }
    return simple[t]
