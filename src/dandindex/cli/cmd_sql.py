"""`dandindex sql`, `tables`, `schema`, `info`: the index through DuckDB."""

from __future__ import annotations

import json
import sys

import click

from dandindex.cli.base import (
    CONTEXT_SETTINGS,
    format_choice,
    index_option,
    open_index,
    params_option,
    parse_params,
)
from dandindex.cli.output import Output, output_options
from dandindex.display import info_lines


@click.command("sql", context_settings=CONTEXT_SETTINGS)
@click.argument("query")
@params_option
@index_option
@output_options
def sql(
    query: str,
    params: tuple[str, ...],
    index_dir: str | None,
    output: Output,
) -> None:
    """Run one read-only SQL query (DuckDB) on the index; QUERY '-' reads stdin.

    Tables: dandisets, versions, contributors, assets, crawl_errors, nwb_files, nwb_objects,
    nwb_locations. Statements that write are refused.

    Example: dandindex sql "SELECT species, count(*) n FROM assets GROUP BY 1 ORDER BY n DESC"
    """
    text = sys.stdin.read() if query == "-" else query
    with open_index(index_dir) as idx:  # --limit reaches the query: one more row, to tell
        more = None if output.limit is None else output.limit + 1
        output.emit(idx.sql(text, parse_params(params), limit=more))


@click.command("tables", context_settings=CONTEXT_SETTINGS)
@index_option
@output_options
def tables(index_dir: str | None, output: Output) -> None:
    """List the index's tables with their row counts.

    Example: dandindex tables --format table
    """
    import pyarrow as pa

    with open_index(index_dir) as idx:
        counts = idx.info()["row_counts"]
        names = idx.tables()
        output.emit(pa.table({"table": names, "rows": [counts.get(n) for n in names]}))


@click.command("schema", context_settings=CONTEXT_SETTINGS)
@click.argument("table")
@index_option
@output_options
def schema(table: str, index_dir: str | None, output: Output) -> None:
    """Columns of one table: name, type, description.

    Example: dandindex schema assets --format table
    """
    import pyarrow as pa

    with open_index(index_dir) as idx:
        cols = idx.schema(table)
    output.emit(
        pa.table(
            {
                "column": [c[0] for c in cols],
                "type": [c[1] for c in cols],
                "description": [c[2] for c in cols],
            }
        ),
        protected=("column", "type", "description"),
    )


@click.command("info", context_settings=CONTEXT_SETTINGS)
@format_choice("text", "json", help="text (default) or json (everything, for scripts).")
@index_option
def info(index_dir: str | None, fmt: str) -> None:
    """What the index holds: where it was crawled from, when, row counts, NWB area coverage,
    versions (--format json for all of it).

    Example: dandindex info --index ./idx
    """
    with open_index(index_dir) as idx:
        data = idx.info()
    if fmt == "json":
        click.echo(json.dumps(data, indent=1, default=str))
    else:
        click.echo("\n".join(info_lines(data)))
