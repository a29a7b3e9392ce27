"""`dandindex areas`: the index's location strings and the brain areas they map to."""

from __future__ import annotations

import click

from dandindex.cli.base import CONTEXT_SETTINGS, index_option, open_index
from dandindex.cli.output import Output, output_options


@click.command("areas", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--unmapped",
    is_flag=True,
    help="Only strings that name no area the atlas knows (and are not placeholders).",
)
@index_option
@output_options
def areas(unmapped: bool, index_dir: str | None, output: Output) -> None:
    """Location strings (NWB locations, anatomy) with their Allen areas, files and dandisets.

    Most used first. --unmapped lists what search cannot place yet: the next aliases to add
    (src/dandindex/vocab/data/area_aliases.csv).

    Example: dandindex areas --unmapped --format table
    """
    with open_index(index_dir) as idx:
        result = idx.areas(unmapped=unmapped)
        coverage = idx.area_coverage()
    output.emit(result, default_columns=["location", "areas", "hemisphere", "files", "dandisets"])
    if coverage["nwb_files"]:
        click.echo(
            f"{coverage['with_mapped_area']:,} of {coverage['nwb_files']:,} summarised NWB files "
            f"name a brain area the atlas knows ({coverage['share_mapped']:.0%}).",
            err=True,
        )
