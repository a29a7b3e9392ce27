"""The SQL page of `dandindex ui`: one read-only statement or a named query, paged (each
page reads no more rows than it shows, plus one)."""

from __future__ import annotations

from typing import Any

from dandindex.errors import DandindexError
from dandindex.ui.common import MAX_PAGES, PAGE, current_index, href, query_pairs


def sql() -> Any:
    from flask import render_template, request

    from dandindex import queries

    idx, lock = current_index()
    args = {k: request.args.get(k, "") for k in ("q", "params", "query")}
    try:
        page = min(max(int(request.args.get("page", 0)), 0), MAX_PAGES - 1)
    except ValueError:
        page = 0
    result: Any = None
    error = None
    try:
        with lock:
            if args["query"]:
                params: dict[str, object] = {
                    k[2:]: v for k, v in request.args.items() if k.startswith("p_") and v != ""
                }
                result = queries.run(idx, args["query"], params, limit=PAGE + 1, offset=page * PAGE)
            elif args["q"].strip():
                lines = tuple(line.strip() for line in args["params"].splitlines() if line.strip())
                bound = queries.parse_params(lines) or None
                result = idx.sql(args["q"], bound, limit=PAGE + 1, offset=page * PAGE)
    except DandindexError as e:
        error = str(e)
    rows = result.rows()[:PAGE] if result is not None else []
    pairs = query_pairs(request.args)
    return render_template(
        "sql.html",
        args=args,
        tables=idx.tables(),
        named=sorted(queries.load().values(), key=lambda q: q.name),
        error=error,
        columns=result.columns if result is not None else None,
        rows=rows,
        summary=f"rows {page * PAGE + 1:,}-{page * PAGE + len(rows):,}" if rows else "no rows",
        page=page,
        prev_href=href([*pairs, ("page", str(page - 1))], "/sql") if page else None,
        next_href=href([*pairs, ("page", str(page + 1))], "/sql")
        if result is not None and len(result) > PAGE
        else None,
    )
