"""`dandindex search`: faceted search over the index.

Its facet options are made from the facets of `dandindex.registry.FACETS`, so a facet
declared there is an option here with no other change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dandindex.cli.base import CONTEXT_SETTINGS, describe_read_error, index_option, open_index
from dandindex.cli.output import Output, emit, output_options
from dandindex.display import counted
from dandindex.registry import FACETS

PAGE = 20  # rows a bare search shows on a terminal


class UnitNumber(click.ParamType):
    """A number with units, read by one of `dandindex.facet.UNIT_PARSERS` (sizes: 10GB,
    durations: 10min, lengths: 500nm); its sentence says how to write one."""

    def __init__(self, kind: str) -> None:
        self.name = kind

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        from dandindex.errors import UsageError
        from dandindex.facet import UNIT_PARSERS

        try:
            return UNIT_PARSERS[self.name][0](value)
        except UsageError as e:
            self.fail(str(e), param, ctx)


def complete_facet(kind: str) -> Callable[..., list[str]]:
    """Shell completion of a facet's values: modalities from the vocabulary, other kinds
    from the index (nothing when there is no index yet)."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        if kind == "modality":
            from dandindex.vocab.modality import MODALITIES

            return [m for m in MODALITIES if m.startswith(incomplete.lower())]
        try:
            from dandindex.index import Index

            with Index(ctx.params.get("index_dir")) as idx:
                values = idx.facet_counts(kind)
        except Exception:  # completion must never fail the shell
            return []
        low = incomplete.lower()
        return sorted(v for v in values if v.lower().startswith(low))[:500]

    return complete


NUMBER_TYPES: dict[str | None, Any] = {"int": click.INT, "float": click.FLOAT, None: None}


def facet_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The click options of every facet of the registry (`dandindex.registry.FACETS`)."""
    for facet in reversed(FACETS):
        for o in reversed(facet.options()):
            kind = NUMBER_TYPES[o.number] if o.number in NUMBER_TYPES else UnitNumber(str(o.number))
            f = click.option(
                o.flag,
                o.dest,
                multiple=o.multiple,
                type=kind,
                default=None,
                metavar=o.metavar,
                help=o.help,
                shell_complete=complete_facet(o.complete) if o.complete else None,
            )(f)
    return f


@click.command("search", context_settings=CONTEXT_SETTINGS)
@click.argument("text", required=False)
@facet_options
@click.option(
    "--level", type=click.Choice(["asset", "dandiset"]), default="asset", show_default=True
)
@click.option(
    "--versions",
    type=click.Choice(["latest", "all"]),
    default="latest",
    show_default=True,
    help="latest: one row per asset (its most recent published version, else the draft); "
    "all: a row for every version that holds it",
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
@click.option(
    "--urls",
    is_flag=True,
    help="Only the dandi:// URLs of the matches, one a line (what `dandi download` takes).",
)
@click.option(
    "--facets",
    "facets",
    is_flag=True,
    help="Instead of the matches, how many of them hold each value of species, modality, "
    "area, type, file format, channel and dandiset (--limit values each, default 10): where "
    "to narrow the search.",
)
@click.option(
    "--manifest",
    "manifest",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write a cohort manifest (TSV) of every match: the query, the index snapshot and "
    "crawl time, then each asset's dandi:// URL, id, path, size and sha256.",
)
@index_option
@output_options
def search(
    text: str | None,
    level: str,
    versions: str,
    plot_path: str | None,
    plot_dir: str | None,
    plot_n: int,
    urls: bool,
    facets: bool,
    manifest: str | None,
    index_dir: str | None,
    output: Output,
    **facet_values: Any,
) -> None:
    """Search assets (or dandisets) by text and facets; different facets AND.

    TEXT matches dandiset names, descriptions, keywords and asset paths.

    On a terminal, a search without --limit shows a first page and says how many more match.
    Sizes take units (10GB, 512MiB, 1e9). --urls prints the matches' dandi:// URLs, one a
    line: `dandindex search ... --urls | xargs dandi download`.

    --plot OBJECT_PATH --plot-dir DIR also plots that object of the first --plot-n matches
    (a PNG each; files that cannot be read are skipped with a sentence).

    --facets prints how the matches split by species, modality, area, type, file format,
    channel and dandiset.

    --has, --column and --area-all name what a file must hold: repeating them ANDs (each
    must be there), unlike the other facets. --manifest FILE writes the matches as a cohort
    manifest to download and cite later.

    Example: dandindex search --species mouse --modality ophys --area VISp --format table
    """
    from dandindex.query import SearchQuery

    limit = output.limit
    if limit is None and not urls and output.format == "table" and output.out is None:
        limit = PAGE  # a first page on a terminal; the notice says how many more
    query = SearchQuery.from_keywords(
        text, level=level, versions=versions, limit=limit, **facet_values
    )
    with open_index(index_dir) as idx:
        if manifest:
            from dandindex.cli.base import outside_index
            from dandindex.cohort import write_manifest

            target = outside_index(manifest, "--manifest")
            n = write_manifest(idx, query.replace(limit=output.limit), target)
            click.echo(f"{n:,} assets written to the manifest {target}.", err=True)
            return
        if facets:
            table = idx.result_facets(query, top=output.limit or 10)
            note = f"Values of the {counted(table.total, 'matching asset')} (top {output.limit or 10} per facet)."
            emit(table.table, output.format, None, output.out, columns=output.columns,
                 wide=output.wide, notes=[note])  # fmt: skip
            return
        result = idx.run_search(query)
        if urls:
            if level != "asset":
                raise click.UsageError("--urls lists assets: leave out --level dandiset.")
            for url in result.to_arrow().column("dandi_url").to_pylist():
                click.echo(url)
            for note in result.notes:
                click.echo(note, err=True)
        else:
            asked = {"area": "areas", "species": "species", "modality": "modalities"}
            output.emit(
                result,
                default_columns=DANDISET_COLUMNS if level == "dandiset" else ASSET_COLUMNS,
                notes=result.notes,
                keep=[col for facet, col in asked.items() if facet_values.get(facet)],
            )
        if plot_path:
            _plot_hits(result, plot_path, plot_dir, plot_n)


ASSET_COLUMNS = ["dandiset_id", "path", "size", "species", "modalities", "areas"]
DANDISET_COLUMNS = ["dandiset_id", "name", "assets", "size", "species", "modalities"]


def _plot_hits(result: object, object_path: str, plot_dir: str | None, n: int) -> None:
    import itertools
    from pathlib import Path

    from dandindex.errors import DandindexError
    from dandindex.results import AssetSet

    if not plot_dir:
        raise click.UsageError("--plot needs --plot-dir DIR for the pictures.")
    if not isinstance(result, AssetSet):
        raise click.UsageError("--plot works with --level asset.")
    from dandindex.cli.base import outside_index
    from dandindex.display import file_stem

    folder = Path(outside_index(plot_dir, "--plot-dir"))
    folder.mkdir(parents=True, exist_ok=True)
    from dandindex.errors import RemoteReadError

    done, used = 0, set()
    for handle in result.handles()[:n]:
        stem = f"{handle.dandiset_id}_{handle.version}_{file_stem(handle.path)}"
        target = folder / f"{stem}_{handle.asset_id[:8]}.png"
        for k in itertools.count(2):  # --versions all: one asset, a picture per version row
            if target not in used:
                break
            target = folder / f"{stem}_{handle.asset_id[:8]}-{k}.png"
        used.add(target)
        try:
            handle.plot(object_path).savefig(target, bbox_inches="tight")
        except (DandindexError, RemoteReadError) as e:
            click.echo(f"Skipped {handle.path}: {describe_read_error(e)}", err=True)
            continue
        done += 1
        click.echo(f"Plotted {object_path} of {handle.path} -> {target}", err=True)
    click.echo(f"{done} of {min(n, len(result))} pictures written to {folder}.", err=True)
