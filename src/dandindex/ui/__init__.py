"""`dandindex ui`: a local, read-only web page over an index (Flask, server-rendered HTML).

Pages: faceted search (`/`, with a `.json`, `.csv` and `.urls` twin of every state),
dandisets (`/dandiset/<id>`), assets with their object tree (`/asset/<id>`), plots rendered
on demand from the streamed file (`/asset/<id>/plot?path=...`) and SQL (`/sql`, the same
sandbox as `dandindex sql`). Every value is HTML-escaped by Jinja's autoescaping; no route
writes anything. One `Index` serves every request, behind a lock (DuckDB connections are not
shared across threads); plots stream outside it. A page holds at most
``views.PAGE * views.MAX_PAGES`` rows.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any


def create_app(index_ref: str | Path | None, *, endpoint_url: str | None = None) -> Any:
    """The Flask app over the index at `index_ref` (a folder or a published index URL)."""
    from flask import Flask

    from dandindex.display import cell
    from dandindex.index import Index
    from dandindex.ui import views

    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config["INDEX"] = Index(index_ref, endpoint_url=endpoint_url)
    app.config["LOCK"] = threading.RLock()
    app.config["CACHE"] = {}
    app.jinja_env.globals["cell"] = cell
    app.jinja_env.globals["leaf_types"] = views.leaf_types
    app.jinja_env.globals["index_label"] = str(app.config["INDEX"].path)
    views.register(app)

    @app.errorhandler(404)
    def not_found(error: Any) -> Any:  # a page in the app's style, with a way back
        from flask import render_template, request

        said = getattr(error, "description", "") or ""
        if said.startswith("The requested URL was not found"):
            said = f"There is no page at {request.path}."
        return render_template("404.html", sentence=said), 404

    views.warm(app)
    return app


def serve(app: Any, host: str, port: int) -> Any:
    """A threaded WSGI server (werkzeug's) for `app`; returns it (``serve_forever()`` to
    run, ``shutdown()`` to stop); ``server.port`` is the port it bound."""
    from werkzeug.serving import make_server

    return make_server(host, port, app, threaded=True)
