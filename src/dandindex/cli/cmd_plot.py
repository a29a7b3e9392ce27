"""`dandindex plot` and `dandindex show`: one asset's objects, streamed."""

from __future__ import annotations

import click

from dandindex.cli.base import CONTEXT_SETTINGS, index_option, open_index
from dandindex.cli.output import object_tree


def _ints(text: str | None) -> list[int] | None:
    if not text:
        return None
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


@click.command("plot", context_settings=CONTEXT_SETTINGS)
@click.argument("asset")
@click.argument("object_path")
@click.option(
    "--start",
    type=int,
    default=None,
    help="First sample (or time in s for Units; frame for images).",
)
@click.option(
    "--stop", type=int, default=None, help="Stop sample (exclusive; time in s for Units)."
)
@click.option("--channels", default=None, help="Channels or columns, e.g. 0-4,7.")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), required=True, help="fig.png, .svg or .pdf"
)
@index_option
def plot(
    asset: str,
    object_path: str,
    start: int | None,
    stop: int | None,
    channels: str | None,
    out: str,
    index_dir: str | None,
) -> None:
    """Plot one object of an asset, reading only the slice shown.

    ASSET is an asset id, DANDISET_ID/PATH, or a download URL found in the index.

    Example: dandindex plot 000003/sub-x/sub-x_ophys.nwb /processing/ophys/DfOverF/DfOverF --stop 1000 --channels 0-4 --out dff.png
    """
    with open_index(index_dir) as idx:
        handle = idx.asset(asset)
    fig = handle.plot(object_path, start=start, stop=stop, columns=_ints(channels))
    fig.savefig(out, bbox_inches="tight")
    click.echo(out)


@click.command("show", context_settings=CONTEXT_SETTINGS)
@click.argument("asset")
@index_option
def show(asset: str, index_dir: str | None) -> None:
    """The object tree of an asset's NWB file: paths, types, shapes, units (from the index).

    Example: dandindex show 000003/sub-x/sub-x_ecephys.nwb
    """
    with open_index(index_dir) as idx:
        handle = idx.asset(asset)
        s = handle.summary()
    f = s["file"]
    click.echo(
        f"{handle.dandiset_id}/{handle.version} {handle.path} ({f.get('size') or handle.size} bytes, NWB {f.get('nwb_version')})"
    )
    if f.get("error"):
        click.echo(f"error: {f['error']}")
    for line in object_tree(s["objects"]):
        click.echo(line)
