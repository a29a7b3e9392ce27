"""Files that are not NWB, described from their headers: OME-Zarr, TIFF/OME-TIFF, video, BIDS.

- `kind_of(path, encoding_format, zarr)`: which reader an asset needs (``zarr``, ``tiff``,
  ``video``, ``json``, ``tsv``) or None;
- `dandindex.formats.summary.summarize_media`: one file or store (local path, http(s) URL,
  an archive asset) → a summary dict in the shape of the ``file_summaries`` table, errors as
  data (``transient`` says whether a later crawl should try again), bytes and requests
  counted;
- the readers: `omezarr` (NGFF 0.1-0.5 metadata, never a chunk), `tiff` (the first IFD, the
  OME-XML or ImageJ description, a bounded walk of the IFD chain), `video` (PyAV over a
  range-read file: the container's header and the first packet it needs), `bids` (file-name
  entities, sidecar inheritance, participants/sessions/scans tables);
- `formats` (the search facet's values): what an asset's path and MIME type say it is.
"""

from __future__ import annotations

import posixpath
from typing import Any

from dandindex.errors import DandindexError

#: file name endings of video containers DANDI holds
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv",
                  ".mj2", ".ogv", ".flv", ".h264", ".mts")  # fmt: skip
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8", ".ome.tif", ".ome.tiff", ".ome.btf")
#: BIDS text files the crawl reads (small): sidecars and the subject/session/scan tables
BIDS_TABLES = ("participants.tsv", "_sessions.tsv", "_scans.tsv")
MAX_TEXT_BYTES = 4 << 20  # a BIDS JSON/TSV larger than this is not read


class FormatError(DandindexError, ValueError):
    """A file whose header says it is not what its name says, or is damaged: permanent (a
    sentence for the user too, when a preview meets it)."""


def kind_of(path: str, encoding_format: str | None = None, zarr: bool = False) -> str | None:
    """The reader an asset needs: ``zarr`` (a Zarr store that is not NWB), ``tiff``,
    ``video``, ``json`` or ``tsv`` (BIDS text files), or None (NWB, or nothing to read)."""
    p = path.lower().rstrip("/")
    fmt = (encoding_format or "").lower()
    if p.endswith(".nwb.zarr") or p.endswith(".nwb") or fmt == "application/x-nwb":
        return None
    if zarr or fmt == "application/x-zarr" or p.endswith((".zarr", ".ngff")):
        return "zarr"
    if p.endswith(TIFF_SUFFIXES) or fmt == "image/tiff":
        return "tiff"
    if p.endswith(VIDEO_SUFFIXES) or fmt.startswith("video/"):
        return "video"
    if p.endswith(".json"):
        return "json"
    if p.endswith(BIDS_TABLES):
        return "tsv"
    return None


def sniff(head: bytes) -> str | None:
    """What a file's first bytes say it is: ``nwb`` (HDF5), ``tiff``, ``video``, ``json``,
    or None."""
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "nwb"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if (
        head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")
        or head.startswith((b"\x1aE\xdf\xa3", b"OggS", b"\x00\x00\x01\xba", b"FLV"))
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
    ):
        return "video"
    if head.lstrip()[:1] == b"{":
        return "json"
    return None


#: what `sniff` found, in words
SNIFFED = {"nwb": "an HDF5 (NWB) file", "tiff": "a TIFF", "video": "a video", "json": "JSON"}


def misnamed(fh: Any, expected: str) -> str | None:
    """``its first bytes are an HDF5 (NWB) file's`` when a file a reader refused is another
    kind `sniff` knows (a misnamed file), else None. Costs no request: the reader has read
    the file's first bytes already."""
    try:
        fh.seek(0)
        found = sniff(fh.read(16))
    except (OSError, ValueError):
        return None
    if found is None or found == expected:
        return None
    return f"its first bytes are {SNIFFED[found]}'s"


def formats(path: str, encoding_format: str | None = None, zarr: bool = False) -> list[str]:
    """What an asset is, in the words ``--format`` takes: ``nwb``, ``zarr``, ``ome-zarr``,
    ``tiff``, ``ome-tiff``, ``video`` and its container (``avi``, ``mp4``...), ``nifti``,
    ``json``, ``tsv``... from its path and MIME type alone (a summary may add more)."""
    p = path.lower().rstrip("/")
    fmt = (encoding_format or "").lower()
    out: list[str] = []
    if p.endswith((".nwb", ".nwb.zarr")) or fmt == "application/x-nwb":
        out.append("nwb")
    if zarr or fmt == "application/x-zarr" or p.endswith((".zarr", ".ngff")):
        out.append("zarr")
        if p.endswith((".ome.zarr", ".ngff")):
            out.append("ome-zarr")
    elif p.endswith(TIFF_SUFFIXES) or fmt == "image/tiff":
        out.append("tiff")
        if ".ome." in p:
            out.append("ome-tiff")
    elif p.endswith(VIDEO_SUFFIXES) or fmt.startswith("video/"):
        out.append("video")
        ext = posixpath.splitext(p)[1].lstrip(".")
        if ext:
            out.append(ext)
    elif p.endswith((".nii", ".nii.gz")):
        out.append("nifti")
    else:
        ext = posixpath.splitext(p[:-3] if p.endswith(".gz") else p)[1].lstrip(".")
        if ext and ext.isalnum() and len(ext) <= 8 and "nwb" not in out:
            out.append(ext)
    return out


def _sql_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + i + "'" for i in items) + "]"


def formats_sql(path: str = "path", fmt: str = "encoding_format", zarr: str = "zarr_id") -> str:
    """`formats` as a DuckDB list expression over an asset row's columns (the same rules:
    tested against the Python function on every path of ../shared and the fixtures)."""
    p = f"rtrim(lower({path}), '/')"
    f = f"lower(coalesce({fmt}, ''))"
    nwb = f"(suffix({p}, '.nwb') OR suffix({p}, '.nwb.zarr') OR {f} = 'application/x-nwb')"
    is_zarr = (f"({zarr} IS NOT NULL OR {f} = 'application/x-zarr' OR suffix({p}, '.zarr') "
               f"OR suffix({p}, '.ngff'))")  # fmt: skip
    ome_zarr = f"(suffix({p}, '.ome.zarr') OR suffix({p}, '.ngff'))"
    tiff = f"(list_bool_or(list_transform({_sql_list(TIFF_SUFFIXES)}, lambda s: suffix({p}, s))) OR {f} = 'image/tiff')"  # fmt: skip
    video = f"(list_bool_or(list_transform({_sql_list(VIDEO_SUFFIXES)}, lambda s: suffix({p}, s))) OR starts_with({f}, 'video/'))"  # fmt: skip
    nifti = f"(suffix({p}, '.nii') OR suffix({p}, '.nii.gz'))"
    stem = f"CASE WHEN suffix({p}, '.gz') THEN {p}[:-4] ELSE {p} END"
    ext = f"regexp_extract({stem}, '\\.([a-z0-9]{{1,8}})$', 1)"
    return f"""list_filter([
        CASE WHEN {nwb} THEN 'nwb' END,
        CASE WHEN {is_zarr} THEN 'zarr' END,
        CASE WHEN {is_zarr} AND {ome_zarr} THEN 'ome-zarr' END,
        CASE WHEN NOT {is_zarr} AND {tiff} THEN 'tiff' END,
        CASE WHEN NOT {is_zarr} AND {tiff} AND contains({p}, '.ome.') THEN 'ome-tiff' END,
        CASE WHEN NOT {is_zarr} AND NOT {tiff} AND {video} THEN 'video' END,
        CASE WHEN NOT {is_zarr} AND NOT {tiff} AND {video} THEN nullif(regexp_extract({p}, '\\.([^./]+)$', 1), '') END,
        CASE WHEN NOT {is_zarr} AND NOT {tiff} AND NOT {video} AND {nifti} THEN 'nifti' END,
        CASE WHEN NOT {is_zarr} AND NOT {tiff} AND NOT {video} AND NOT {nifti} AND NOT {nwb}
             THEN nullif({ext}, '') END
    ], lambda x: x IS NOT NULL)"""
