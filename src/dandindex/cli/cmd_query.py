"""`dandindex query list|run`: named queries (queries/*.sql)."""

from __future__ import annotations

import click

from dandindex.cli.base import (
    CONTEXT_SETTINGS,
    index_option,
    open_index,
    params_option,
    parse_params,
)
from dandindex.cli.output import Output, output_options


@click.group("query", context_settings=CONTEXT_SETTINGS)
def query() -> None:
    """Named queries: the .sql files shipped in queries/ and in your own queries folder.

    Example: dandindex query run changed_since --param since=2024-01-01
    """


@query.command("list", context_settings=CONTEXT_SETTINGS)
@output_options
def list_queries(output: Output) -> None:
    """List named queries with their descriptions and parameters.

    Example: dandindex query list --format table
    """
    import pyarrow as pa

    from dandindex import queries

    qs = sorted(queries.load().values(), key=lambda q: q.name)
    output.emit(
        pa.table(
            {
                "name": [q.name for q in qs],
                "description": [q.description for q in qs],
                "params": [", ".join(q.params) for q in qs],
                "file": [str(q.path) for q in qs],
            }
        ),
        default_columns=["name", "params", "description"],
        protected=("name", "description"),
        wrap=("description",),
    )


@query.command("run", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@params_option
@index_option
@output_options
def run_query(
    name: str,
    params: tuple[str, ...],
    index_dir: str | None,
    output: Output,
) -> None:
    """Run a named query on the index.

    Example: dandindex query run largest_nwb_files --param top=5 --format table
    """
    from dandindex import queries

    with open_index(index_dir) as idx:
        more = None if output.limit is None else output.limit + 1  # read no further
        output.emit(queries.run(idx, name, parse_params(params), limit=more))
