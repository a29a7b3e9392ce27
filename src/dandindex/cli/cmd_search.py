"""`dandindex search`: faceted search over the index.

Its facet options are made from the fields of `dandindex.query.SearchQuery`, so a facet
declared there is an option here with no other change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dandindex.cli.base import CONTEXT_SETTINGS, index_option, open_index
from dandindex.cli.output import emit, output_options
from dandindex.query import facets


def facet_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """One click option per facet of `SearchQuery` (two for a min/max range)."""
    for name, facet in reversed(list(facets())):
        if facet.kind == "terms":
            dest = "types" if name == "type" else name
            f = click.option(f"--{name}", dest, multiple=True, help=facet.help)(f)
        else:
            kind = click.INT if facet.number is int else click.FLOAT
            for flag, kw, word in reversed(
                list(zip(facet.flags, facet.keywords, ("at least", "at most"), strict=True))
            ):
                f = click.option(
                    flag,
                    kw,
                    type=kind,
                    default=None,
                    metavar=facet.metavar or None,
                    help=f"{facet.help[0].upper()}{facet.help[1:]}: {word} this",
                )(f)
    return f


@click.command("search", context_settings=CONTEXT_SETTINGS)
@click.argument("text", required=False)
@facet_options
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
    level: str,
    plot_path: str | None,
    plot_dir: str | None,
    plot_n: int,
    index_dir: str | None,
    fmt: str | None,
    limit: int | None,
    out: str | None,
    **facet_values: Any,
) -> None:
    """Search assets (or dandisets) by text and facets; different facets AND.

    TEXT matches dandiset names, descriptions, keywords and asset paths.

    --plot OBJECT_PATH --plot-dir DIR also plots that object of the first --plot-n matches.

    Example: dandindex search --species mouse --modality ophys --area VISp --format table
    """
    from dandindex.query import SearchQuery

    if "types" in facet_values:
        facet_values["type"] = facet_values.pop("types")
    query = SearchQuery.from_keywords(text, level=level, limit=limit, **facet_values)
    with open_index(index_dir) as idx:
        result = idx.run_search(query)
        emit(result, fmt, None, out)
        if plot_path:
            _plot_hits(result, plot_path, plot_dir, plot_n)


def _plot_hits(result: object, object_path: str, plot_dir: str | None, n: int) -> None:
    from pathlib import Path

    from dandindex.errors import DandindexError
    from dandindex.results import AssetSet

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
