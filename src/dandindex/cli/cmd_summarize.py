"""`dandindex summarize`: one file's summary (NWB, OME-Zarr, TIFF, video, BIDS JSON/TSV),
without an index."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from dandindex.cli.base import CONTEXT_SETTINGS
from dandindex.tree import object_tree


def _tree(summary: dict[str, Any]) -> str:
    f = summary["file"]
    lines = []
    if f.get("error"):
        lines.append(f"error: {f['error']}")
    head = ", ".join(
        f"{k}={f[k]}"
        for k in ("nwb_version", "identifier", "n_objects", "n_electrodes", "n_units", "n_rois")
        if f.get(k) is not None
    )
    lines.append(head or "(no NWB summary)")
    lines += object_tree(summary["objects"])
    for loc in summary["locations"]:
        lines.append(
            f"location [{loc['source']}] {loc['location']!r} x{loc['count']}  ({loc['object_path']})"
        )
    lines += _cost(f)
    return "\n".join(lines)


#: what a summary of a file that is not NWB shows, in this order (empty ones left out)
MEDIA_LINES = ("format", "container", "codec", "width", "height", "fps", "n_frames", "duration",
               "pixel_format", "shape", "axes", "dtype", "voxel_size", "time_step", "channels",
               "n_levels", "level_shapes", "chunks", "compressor", "plate", "pages",
               "pages_known", "bids_datatype", "bids_suffix", "bids_entities", "bids")  # fmt: skip


def _media_tree(summary: dict[str, Any]) -> str:
    f = summary["file"]
    lines = [f"error: {f['error']}"] if f.get("error") else []
    for k in MEDIA_LINES:
        v = f.get(k)
        if v in (None, [], ""):
            continue
        if k == "voxel_size":
            v = " x ".join(f"{x:g}" for x in v) + " µm"
        elif k == "bids":  # one key/value a line: they are many and long
            v = ("\n" + " " * 15).join(str(x) for x in v)
        elif isinstance(v, list):
            v = ", ".join(str(x) for x in v)
        lines.append(f"{k:14s} {v}")
    details = f.get("details")
    if details and not f.get("error"):
        text = details if len(details) <= 160 else details[:160] + " ... (--format json: all)"
        lines.append(f"{'details':14s} {text}")
    return "\n".join(lines + _cost(f))


def _cost(f: dict[str, Any]) -> list[str]:
    if not f.get("requests"):  # a local file: nothing fetched
        return []
    from dandindex.display import counted, human_size

    n, seconds = f.get("requests") or 0, f.get("seconds") or 0.0
    return [f"read {human_size(f['bytes_read'])} in {counted(n, 'request')}, {seconds:.2f} s"]


def _kind(source: str) -> str:
    """``nwb`` or the media reader a source needs, from its name, else its first bytes."""
    from pathlib import Path

    from dandindex.formats import kind_of, sniff

    local_dir = "://" not in source and Path(source).is_dir()
    if local_dir:
        p = Path(source)
        nwb_zarr = source.rstrip("/").endswith(".nwb.zarr") or (
            (p / ".zattrs").is_file() and "nwb_version" in (p / ".zattrs").read_text()
        )
        return "nwb" if nwb_zarr else "zarr"
    if source.lower().rstrip("/").endswith(".nwb"):
        return "nwb"
    named = kind_of(source)
    if named is not None:
        return named
    return sniff(_head(source)) or "nwb"


def _head(source: str) -> bytes:
    """The first bytes of a local file or URL (one small range request)."""
    if "://" not in source:
        with open(source, "rb") as f:
            return f.read(16)
    from dandindex.errors import RemoteReadError
    from dandindex.remote.session import api_token, get, make_session

    session = make_session(pool=1, token=api_token(), api_url=source)
    try:
        return get(session, source, headers={"Range": "bytes=0-15"}, retries=2).content[:16]
    except RemoteReadError:
        return b""  # the NWB reader says what is wrong with it
    finally:
        session.close()


@click.command("summarize", context_settings=CONTEXT_SETTINGS)
@click.argument("source")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "tree"]),
    default=None,
    help="json (default when piped) or tree (default on a terminal).",
)
def summarize(source: str, fmt: str | None) -> None:
    """Summarise one file without an index: an NWB file (local HDF5, NWB-Zarr folder or
    http(s) URL), an OME-Zarr folder or store URL, a TIFF/OME-TIFF, a video, or a BIDS
    JSON/TSV file.

    Reads only metadata, streamed with range requests for URLs: an NWB file's neurodata
    types, paths, shapes, units, rates, counts and locations; an image's shape, voxel size,
    channels and levels; a video's codec, size, frame rate, frames and duration. Exits 1 if
    the file could not be summarised (the reason is printed).

    Example: dandindex summarize https://api.dandiarchive.org/api/assets/<asset_id>/download/
    """
    from pathlib import Path

    if "://" not in source and not Path(source).exists():
        raise click.UsageError(f"No such file: {source}")
    kind = _kind(source)
    if kind == "nwb":
        from dandindex.nwb.summary import summarize as run

        result = run(source)
        render = _tree
    else:
        from dandindex.formats.summary import summarize_media

        result = summarize_media(source, kind=kind)
        render = _media_tree
    fmt = fmt or ("tree" if sys.stdout.isatty() else "json")
    if fmt == "json":
        click.echo(json.dumps(result, indent=1, default=str))
    else:
        click.echo(render(result))
    if result["file"].get("error"):
        raise SystemExit(1)
