"""Shared pieces of the CLI: context settings, common options, error handling."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from dandindex.errors import DandindexError

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

F = TypeVar("F", bound=Callable[..., Any])


def index_option(f: F) -> F:
    """`--index DIR`, defaulting to $DANDINDEX_INDEX, then the user data dir."""
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False),
        envvar="DANDINDEX_INDEX",
        show_envvar=True,
        default=None,
        help="Index folder (default: the user data dir).",
    )(f)


def run_guarded(cli: click.Group, argv: list[str] | None) -> int:
    """Run the CLI; user errors become one-line messages, bugs stay tracebacks."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="dandindex", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except DandindexError as e:
        if debug:
            raise
        click.secho(f"Error: {e}", fg="red", err=True)
        return 1
    return 0
