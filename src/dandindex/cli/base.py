"""Shared pieces of the CLI: context settings, common options, error handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from dandindex.errors import DandindexError, RemoteReadError, UsageError, describe_read_error

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

F = TypeVar("F", bound=Callable[..., Any])


def index_option(f: F) -> F:
    """`--index DIR|URL`, defaulting to $DANDINDEX_INDEX, then the user data dir."""
    return click.option(
        "--index",
        "index_dir",
        envvar="DANDINDEX_INDEX",
        show_envvar=True,
        default=None,
        metavar="DIR|URL",
        help="Index folder, or a published index to query in place (s3://BUCKET/PREFIX, "
        "https://HOST/PATH; AWS_ENDPOINT_URL for an S3-compatible store). Default: the "
        "user data dir.",
    )(f)


def outside_index(path: str, flag: str) -> str:
    """`path` (a file or folder a command writes) unless it is inside the index folder of
    the running command (its --index, else the default): the index is written by crawl
    only, and a result written over a snapshot file would break it."""
    import os
    from pathlib import Path

    from dandindex.published import is_url
    from dandindex.store import resolve_index_dir

    ctx = click.get_current_context(silent=True)
    given = ctx.params.get("index_dir") if ctx is not None else None
    given = given or os.environ.get("DANDINDEX_INDEX")
    if is_url(given):
        return path
    index = resolve_index_dir(given).resolve()
    target = Path(path).expanduser().resolve()
    if target == index or target.is_relative_to(index):
        raise UsageError(
            f"{flag} {path} is inside the index folder {index}; the index is written by "
            f"`dandindex crawl` only. Choose a path outside it."
        )
    return path


def listen_error(e: OSError, host: str, port: int) -> Exception:
    """What to say when a server cannot listen on `host`:`port` (`e` itself if it is not
    about the address)."""
    import errno

    if e.errno == errno.EADDRINUSE:
        return UsageError(
            f"Port {port} on {host} is in use: pick another --port, or --port 0 for a free one."
        )
    if e.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
        return UsageError(
            f"Cannot listen on {host}:{port} ({e.strerror}): ports below 1024 need root, "
            "and --host must be an address of this machine."
        )
    return e


def format_choice(*choices: str, help: str) -> Callable[[F], F]:
    """`--format` among `choices` (the first is the default), into the argument `fmt`."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], help=help
    )


def parse_params(values: tuple[str, ...]) -> dict[str, object]:
    """``name=value`` pairs (`dandindex.queries.parse_params`), a bad one naming --param."""
    from dandindex import queries

    try:
        return queries.parse_params(values)
    except UsageError as e:
        raise click.BadParameter(str(e), param_hint="--param") from None


def params_option(f: F) -> F:
    """`--param NAME=VALUE` (repeatable): values bound to ``$NAME`` in the SQL."""
    return click.option(
        "--param", "params", multiple=True, metavar="NAME=VALUE", help="Bind $NAME (repeatable)."
    )(f)


def open_index(index_dir: str | None) -> Any:
    """`dandindex.Index` for a command, its notes (a damaged manifest, ...) on stderr."""
    from dandindex.index import Index

    idx = Index(index_dir)
    for note in idx.notes:
        click.echo(f"Note: {note}", err=True)
    return idx


class BadUsage(click.ClickException):
    """A one-line usage error (exit code 2), without the usage text around it."""

    exit_code = 2


class DandindexGroup(click.Group):
    """Turns user errors (`DandindexError`) into one-line messages; bugs stay tracebacks.

    ``--debug`` re-raises user errors too, with their traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as e:  # values the command cannot use: exit 2, like click's own
            if (ctx.obj or {}).get("debug"):
                raise
            raise BadUsage(str(e)) from None
        except DandindexError as e:
            if (ctx.obj or {}).get("debug"):
                raise
            raise click.ClickException(str(e)) from None
        except RemoteReadError as e:  # a file or page that could not be read: say why
            if (ctx.obj or {}).get("debug"):
                raise
            where = f" {e.url}" if e.url else ""
            raise click.ClickException(f"Could not read{where}: {describe_read_error(e)}") from None
