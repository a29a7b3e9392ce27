"""`dandindex ui`: the index in a web browser."""

from __future__ import annotations

import click

from dandindex.cli.base import CONTEXT_SETTINGS, index_option, listen_error


@click.command("ui", context_settings=CONTEXT_SETTINGS)
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: a free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
def ui(index_dir: str | None, host: str, port: int, open_browser: bool) -> None:
    """A local, read-only web page over the index: faceted search, dandisets, assets with
    their object tree, plots of the streamed file, SQL. Ctrl-C stops it.

    Example: dandindex ui --index ./idx --open
    """
    import socket

    from dandindex.ui import create_app, serve

    with socket.socket() as probe:  # werkzeug would print its own advice and exit
        try:
            probe.bind((host, port))
        except OSError as e:
            raise listen_error(e, host, port) from None
    app = create_app(index_dir)
    server = serve(app, host, port)
    url = f"http://{host}:{server.port}/"
    click.echo(f"dandindex ui on {url} (Ctrl-C to stop)")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
