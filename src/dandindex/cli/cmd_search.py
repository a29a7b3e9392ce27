"""`dandindex search`: faceted search over the index."""

from __future__ import annotations

import click

from dandindex.cli.base import CONTEXT_SETTINGS, index_option
from dandindex.cli.output import emit, output_options


@click.command("search", context_settings=CONTEXT_SETTINGS)
@click.argument("text", required=False)
@click.option(
    "--modality",
    multiple=True,
    help="ecephys, ophys, icephys, behavior, microscopy, mri, ... (repeat = OR)",
)
@click.option(
    "--species", multiple=True, help='"mouse", "Mus musculus", 10090, NCBITaxon_10090 (repeat = OR)'
)
@click.option(
    "--area",
    multiple=True,
    help='Allen acronym or name, alias (V1, M1) or raw text; "VIS" finds VISp, VISl, ...',
)
@click.option(
    "--type",
    "types",
    multiple=True,
    help="Neurodata type, its subtypes included (TimeSeries finds ElectricalSeries)",
)
@click.option("--dandiset", multiple=True, help="Dandiset id (repeat = OR)")
@click.option(
    "--min-units", type=int, default=None, help="At least this many sorted units in the file"
)
@click.option(
    "--min-electrodes", type=int, default=None, help="At least this many electrodes in the file"
)
@click.option("--rate-min", type=float, default=None, help="A series sampled at >= this rate (Hz)")
@click.option("--rate-max", type=float, default=None, help="A series sampled at <= this rate (Hz)")
@click.option("--size-min", type=int, default=None, help="File size >= BYTES")
@click.option("--size-max", type=int, default=None, help="File size <= BYTES")
@click.option(
    "--level", type=click.Choice(["asset", "dandiset"]), default="asset", show_default=True
)
@click.option(
    "--plot",
    "plot_path",
    default=None,
    metavar="OBJECT_PATH",
    help="Plot this object of the first matches (needs --plot-dir)",
)
@click.option(
    "--plot-dir", type=click.Path(file_okay=False), default=None, help="Folder for the --plot PNGs"
)
@click.option("--plot-n", type=int, default=4, show_default=True, help="How many matches to plot")
@index_option
@output_options
def search(
    text: str | None,
    modality: tuple[str, ...],
    species: tuple[str, ...],
    area: tuple[str, ...],
    types: tuple[str, ...],
    dandiset: tuple[str, ...],
    min_units: int | None,
    min_electrodes: int | None,
    rate_min: float | None,
    rate_max: float | None,
    size_min: int | None,
    size_max: int | None,
    level: str,
    plot_path: str | None,
    plot_dir: str | None,
    plot_n: int,
    index_dir: str | None,
    fmt: str | None,
    limit: int | None,
    out: str | None,
) -> None:
    """Search assets (or dandisets) by text and facets; different facets AND.

    TEXT matches dandiset names, descriptions, keywords and asset paths.

    --plot OBJECT_PATH --plot-dir DIR also plots that object of the first --plot-n matches.

    Example: dandindex search --species mouse --modality ophys --area VISp --format table
    """
    from dandindex.index import Index

    with Index(index_dir) as idx:
        result = idx.search(
            text,
            modality=modality,
            species=species,
            area=area,
            type=types,
            dandiset=dandiset,
            min_units=min_units,
            min_electrodes=min_electrodes,
            rate_min=rate_min,
            rate_max=rate_max,
            size_min=size_min,
            size_max=size_max,
            level=level,
            limit=limit,
        )
        emit(result, fmt, None, out)
        if plot_path:
            _plot_hits(result, plot_path, plot_dir, plot_n)


def _plot_hits(result: object, object_path: str, plot_dir: str | None, n: int) -> None:
    from pathlib import Path

    from dandindex.errors import DandindexError
    from dandindex.handles import AssetSet

    if not plot_dir:
        raise click.UsageError("--plot needs --plot-dir DIR for the pictures.")
    if not isinstance(result, AssetSet):
        raise click.UsageError("--plot works with --level asset.")
    folder = Path(plot_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for handle in result.handles()[:n]:
        target = folder / f"{handle.dandiset_id}_{handle.asset_id}.png"
        try:
            handle.plot(object_path).savefig(target, bbox_inches="tight")
            click.echo(f"plotted {handle.path} -> {target}", err=True)
        except DandindexError as e:
            click.echo(f"skipped {handle.path}: {e}", err=True)
