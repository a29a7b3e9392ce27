"""Shared pieces of the CLI: context settings, common options, error handling."""

from __future__ import annotations

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


class DandindexGroup(click.Group):
    """Turns user errors (`DandindexError`) into one-line messages; bugs stay tracebacks.

    ``--debug`` re-raises user errors too, with their traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DandindexError as e:
            if (ctx.obj or {}).get("debug"):
                raise
            raise click.ClickException(str(e)) from None
