"""The `dandindex` command line: a thin adapter over the library.

Each command lives in its own module (`cmd_*.py`) and is registered here.
"""

from __future__ import annotations

import click

from dandindex._version import __version__
from dandindex.cli.base import CONTEXT_SETTINGS, DandindexGroup
from dandindex.cli.cmd_areas import areas
from dandindex.cli.cmd_crawl import crawl
from dandindex.cli.cmd_plot import plot, show
from dandindex.cli.cmd_publish import publish, pull
from dandindex.cli.cmd_query import query
from dandindex.cli.cmd_search import search
from dandindex.cli.cmd_serve import serve_archive
from dandindex.cli.cmd_sql import info, schema, sql, tables
from dandindex.cli.cmd_summarize import summarize
from dandindex.cli.cmd_ui import ui


@click.group(cls=DandindexGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="dandindex")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """dandindex: index DANDI Archive metadata and NWB contents locally.

    Example: dandindex crawl --api-url http://127.0.0.1:8000/api --index ./idx
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


cli.add_command(crawl)
cli.add_command(serve_archive)
cli.add_command(summarize)
for _cmd in (sql, tables, schema, info, query, search, areas, plot, show, publish, pull, ui):
    cli.add_command(_cmd)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="dandindex")
