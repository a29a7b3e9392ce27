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
    index_dir: str | None,
    fmt: str | None,
    limit: int | None,
    out: str | None,
) -> None:
    """Search assets (or dandisets) by text and facets; different facets AND.

    TEXT matches dandiset names, descriptions, keywords and asset paths.

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
