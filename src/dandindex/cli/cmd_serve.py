"""`dandindex serve-archive`: serve a snapshot folder as a DANDI API."""

from __future__ import annotations

import click

from dandindex.cli.base import CONTEXT_SETTINGS, listen_error


@click.command("serve-archive", context_settings=CONTEXT_SETTINGS)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=0, type=int, help="Port (default: a free one).")
@click.option(
    "--api-key",
    envvar="DANDI_API_KEY",
    show_envvar=True,
    default=None,
    help="Key that unlocks embargoed dandisets (Authorization: token KEY).",
)
@click.option("--latency", default=0.0, type=float, help="Seconds added to every request.")
@click.option(
    "--counters",
    is_flag=True,
    help="Serve request and byte counters at /_dandindex/counters (for benchmarks).",
)
@click.option(
    "--local-content-urls",
    is_flag=True,
    help="Rewrite production contentUrl download links to this server.",
)
def serve_archive(
    folder: str,
    host: str,
    port: int,
    api_key: str | None,
    latency: float,
    counters: bool,
    local_content_urls: bool,
) -> None:
    """Serve an archive snapshot folder as a local DANDI API until Ctrl-C.

    FOLDER holds dandisets/<id>/dandiset.json, assets.jsonl and versions/ (see README).
    Prints the API URL to use with --api-url or DandiAPIClient(api_url=...).

    Example: dandindex serve-archive ../shared/corpus --port 8000
    """
    from dandindex.testing.archive import ArchiveServer, Faults

    try:
        server = ArchiveServer(
            folder,
            host=host,
            port=port,
            api_key=api_key,
            faults=Faults(latency=latency),
            content_urls="local" if local_content_urls else "stored",
            counters_route=counters,
        )
    except OSError as e:
        raise listen_error(e, host, port) from None
    n = len(server.snapshot.dandisets())
    click.echo(server.api_url)
    click.echo(f"Serving {n} dandisets from {folder}; Ctrl-C to stop.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
