"""The SQL page of `dandindex ui`: one read-only statement or a named query, paged."""

from __future__ import annotations

from typing import Any

from dandindex.errors import DandindexError
from dandindex.ui.common import MAX_PAGES, PAGE, current_index, href, query_pairs


class _Paged:
    """An index whose `sql` runs a statement one page at a time (bounded rows)."""

    def __init__(self, idx: Any, page: int) -> None:
        self.idx, self.page = idx, page

    def sql(self, text: str, params: Any = None) -> Any:
        body = text.strip().rstrip(";")
        try:
            statements = self.idx._sandboxed().extract_statements(body)
            kind = str(statements[0].type).rsplit(".", 1)[-1] if len(statements) == 1 else ""
        except Exception:  # not SQL: the guard below says what is wrong
            kind = ""
        if kind != "SELECT":  # EXPLAIN, or what the guard refuses with its own sentence
            return self.idx.sql(body, params)
        return self.idx.sql(
            f"SELECT * FROM (\n{body}\n) AS q LIMIT {PAGE + 1} OFFSET {self.page * PAGE}", params
        )


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
                result = queries.run(_Paged(idx, page), args["query"], params)
            elif args["q"].strip():
                from dandindex.cli.base import parse_params

                lines = tuple(line.strip() for line in args["params"].splitlines() if line.strip())
                result = _Paged(idx, page).sql(args["q"], parse_params(lines) or None)
    except DandindexError as e:
        error = str(e)
    except Exception as e:  # click's BadParameter for a parameter line that is not name=value
        error = getattr(e, "message", None) or str(e)
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
