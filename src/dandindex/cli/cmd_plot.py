"""`dandindex plot` and `dandindex show`: one asset's objects, streamed."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import click

from dandindex.cli.base import CONTEXT_SETTINGS, format_choice, index_option, open_index
from dandindex.errors import DandindexError, UsageError
from dandindex.tree import object_tree


def parse_ints(text: str | None, option: str = "--channels") -> list[int] | None:
    """``0-4,7`` → [0, 1, 2, 3, 4, 7]; anything else is a sentence naming the option."""
    from dandindex.display import parse_ints as parse

    try:
        return parse(text, option)
    except UsageError as e:
        raise click.BadParameter(str(e).split(": ", 1)[1], param_hint=option) from None


def check_out(out: str) -> Path:
    """Where the picture goes, checked before anything is streamed."""
    from matplotlib.backend_bases import FigureCanvasBase

    from dandindex.cli.base import outside_index

    path = Path(outside_index(out, "--out")).expanduser()
    if path.is_dir():
        raise click.BadParameter(f"{out!r} is a folder; give a file name.", param_hint="--out")
    kinds = FigureCanvasBase.get_supported_filetypes()
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in kinds:
        raise click.BadParameter(
            f"{out!r} does not end in a picture format matplotlib writes "
            f"({', '.join('.' + k for k in ('png', 'svg', 'pdf', 'jpg'))}, ...).",
            param_hint="--out",
        )
    if not path.parent.is_dir():
        raise click.BadParameter(
            f"the folder {str(path.parent)!r} does not exist; create it or pick another.",
            param_hint="--out",
        )
    return path


def or_list(words: list[str]) -> str:
    """['a', 'b', 'c'] → 'a, b or c'."""
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _check_object(object_path: str, objects: list[dict[str, Any]], asset: str) -> str:
    """The object's path as the file spells it, or a sentence with the nearest ones."""
    path = "/" + object_path.strip("/")
    known = {o["path"] for o in objects}
    if not known or path in known or path.rsplit("/", 1)[-1] in ("waveform_mean", "waveform_sd"):
        return path
    lowered = {k.lower(): k for k in known}
    if path.lower() in lowered:
        return lowered[path.lower()]
    near = difflib.get_close_matches(path, sorted(known), n=3, cutoff=0.5)
    hint = f" Did you mean {or_list(near)}?" if near else ""
    raise UsageError(
        f"{asset} has no object {path}.{hint} `dandindex show {asset}` lists them "
        "(* marks what can be plotted)."
    )


@click.command("plot", context_settings=CONTEXT_SETTINGS)
@click.argument("asset")
@click.argument("object_path", required=False)
@click.option(
    "--start",
    type=float,
    default=None,
    help="First sample (frame, event, unit); seconds for a Units raster.",
)
@click.option("--stop", type=float, default=None, help="Stop (exclusive), same units as --start.")
@click.option("--channels", default=None, help="Channels or columns, e.g. 0-4,7.")
@click.option(
    "--at",
    type=float,
    default=None,
    help="A file that is not NWB: a video's time (seconds), a TIFF's page, an OME-Zarr's "
    "z plane (default: the first frame, page 0, a max projection).",
)
@click.option(
    "--out",
    "out",
    default=None,
    help="Picture file: .png, .svg, .pdf, ... (default: FILE_OBJECT.png here).",
)
@index_option
def plot(
    asset: str,
    object_path: str | None,
    start: float | None,
    stop: float | None,
    channels: str | None,
    at: float | None,
    out: str | None,
    index_dir: str | None,
) -> None:
    """Plot one object of an asset, reading only the slice shown; without OBJECT_PATH, list
    what can be plotted. An OME-Zarr, TIFF or video asset is previewed from a bounded read
    (its lowest resolution level, one page, one frame: --at); a pose estimation whose video
    is an asset of the dandiset is drawn over that video's frame.

    ASSET is an asset id, DANDISET/PATH, DANDISET@VERSION/PATH, a dandi:// URL or an API URL.

    Example: dandindex plot 000003/sub-x/sub-x_ophys.nwb /processing/ophys/DfOverF/DfOverF --stop 1000 --channels 0-4 --out dff.png
    """
    from dandindex.handles import PREVIEWED

    columns = parse_ints(channels)
    target = check_out(out) if out else None
    with open_index(index_dir) as idx:
        handle = idx.asset(asset)
        if handle.kind in PREVIEWED:
            if target is None:
                from dandindex.display import file_stem

                target = check_out(f"{file_stem(handle.path)}.png")
            fig = handle.preview(at=at, channels=columns)
            fig.savefig(target, bbox_inches="tight", dpi=100)
            click.echo(str(target))
            return
        if not _is_nwb(handle) and handle.kind is not None:  # BIDS JSON/TSV and the like
            raise UsageError(
                f"{handle.path} is not an NWB file, an image or a video: nothing to plot. "
                f"`dandindex show {asset}` prints what the index holds of it."
            )
        why = " (it has no NWB summary: crawl with --nwb)"
        try:
            summary = handle.summary()
            objects = summary["objects"]
            if summary["file"].get("error"):
                why = f" (the crawl could not read it: {summary['file']['error']})"
        except DandindexError:  # not summarised: plot still tries the file itself
            objects = []
        video = handle.linked_video(object_path) if object_path else None
    if object_path is None:
        tree = object_tree(objects, mark_plottable=True)
        plottable = [line[2:].strip() for line in tree if line.startswith("*")]
        if not plottable:
            raise UsageError(
                f"The index holds no plottable objects for {asset}"
                + ("" if objects else why)
                + ". Give an OBJECT_PATH to try one anyway."
            )
        click.echo(f"Plottable objects in {handle.path}:")
        for line in plottable:
            click.echo(f"  {line}")
        click.echo(f"Plot one: dandindex plot {asset} {plottable[0].split()[0]} --out fig.png")
        return
    object_path = _check_object(object_path, objects, asset)
    if target is None:
        from dandindex.display import file_stem

        stem = file_stem(handle.path)
        target = check_out(f"{stem}_{file_stem(object_path.rsplit('/', 1)[-1])}.png")
    fig = handle.plot(
        object_path,
        start=start if at is None else at,
        stop=stop,
        columns=columns,
        video=video.frame if video is not None else None,
    )
    fig.savefig(target, bbox_inches="tight", dpi=100)
    click.echo(str(target))


@click.command("show", context_settings=CONTEXT_SETTINGS)
@click.argument("asset")
@format_choice(
    "tree", "json", help="tree (default) or json (the summary: file row, objects, locations)."
)
@index_option
def show(asset: str, fmt: str, index_dir: str | None) -> None:
    """The object tree of an asset's NWB file from the index (no network): whole paths to
    give `dandindex plot`, types, shapes, units; * marks what can be plotted.

    Example: dandindex show 000003/sub-x/sub-x_ecephys.nwb
    """
    with open_index(index_dir) as idx:
        handle = idx.asset(asset)
        media = idx.file_summary(handle.asset_id)
        if media is not None and not _is_nwb(handle):
            _show_media(handle, media, fmt, asset)
            return
        s = handle.summary()
        links = (media or {}).get("links") or []
    if fmt == "json":
        click.echo(json.dumps(s, indent=1, default=str))
        return
    f = s["file"]
    from dandindex.display import human_size

    size = f.get("size") or handle.size
    click.echo(f"DANDI:{handle.dandiset_id}/{handle.version}  {handle.path}")
    click.echo(
        f"{human_size(size) if size is not None else 'size unknown'}, "
        f"NWB {f.get('nwb_version') or 'version unknown'}"
    )
    if f.get("error"):
        click.echo(f"Could not be summarised: {f['error']}")
        return
    if not s["objects"]:
        click.echo("No NWB summary in the index: crawl with --nwb to read the file's objects.")
        return
    for line in object_tree(s["objects"], mark_plottable=True):
        click.echo(line)
    for link in links:
        where = (
            f"asset {link['target_asset_id']}" if link["target_asset_id"] else "not in the dandiset"
        )
        click.echo(f"{link['object_path']} names {link['external_file']}: {where}")
    click.echo(f"* can be plotted: dandindex plot {asset} PATH --out fig.png")


def _is_nwb(handle: Any) -> bool:
    return handle.path.lower().endswith((".nwb", ".nwb.zarr"))


def _show_media(handle: Any, media: dict[str, Any], fmt: str, asset: str) -> None:
    """What the index holds of a file that is not NWB (or a BIDS data file)."""
    from dandindex.cli.cmd_summarize import _media_tree
    from dandindex.handles import PREVIEWED

    if fmt == "json":
        click.echo(json.dumps(media, indent=1, default=str))
        return
    click.echo(f"DANDI:{handle.dandiset_id}/{handle.version}  {handle.path}")
    click.echo(_media_tree({"file": media}))
    for link in media.get("links") or []:
        if link["asset_id"] == handle.asset_id:
            click.echo(f"names {link['external_file']} ({link['object_path']})"
                       + (f" → asset {link['target_asset_id']}" if link["target_asset_id"] else ""))  # fmt: skip
        else:
            click.echo(f"named by asset {link['asset_id']} ({link['object_path']})")
    if handle.kind in PREVIEWED:
        click.echo(f"Preview it: dandindex plot {asset} --out preview.png")
