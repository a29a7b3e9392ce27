"""One output path for every row-emitting command: --format and --limit.

`table` on a terminal, `json` (an array of objects, streamed row by row) otherwise; `jsonl`,
`csv`, `parquet` (to --out or stdout). A result cut by --limit says so on stderr, so stdout
stays parseable.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import click

FORMATS = ["table", "json", "jsonl", "csv", "parquet"]
F = TypeVar("F", bound=Callable[..., Any])


def output_options(f: F) -> F:
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="table (default on a terminal), json (default otherwise), jsonl, csv, parquet.",
    )(f)
    f = click.option(
        "--limit", type=click.IntRange(0, 2**63 - 1), default=None, help="At most this many rows."
    )(f)
    f = click.option(
        "--out",
        type=click.Path(dir_okay=False),
        default=None,
        help="Write parquet here (with --format parquet).",
    )(f)
    return f


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any, width: int = 40) -> str:
    v = _plain(value)
    text = "" if v is None else (", ".join(map(str, v)) if isinstance(v, list) else str(v))
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def emit(result: Any, fmt: str | None, limit: int | None, out: str | None = None) -> None:
    """Write a `Result` (or an Arrow table) in the chosen format."""
    import pyarrow as pa

    table: pa.Table = result.to_arrow() if hasattr(result, "to_arrow") else result
    truncated = bool(getattr(result, "truncated", False))
    if limit is not None and table.num_rows > limit:
        table = table.slice(0, limit)
        truncated = True
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        if out:
            pq.write_table(table, out)
        else:
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            sys.stdout.buffer.write(sink.getvalue().to_pybytes())
    elif fmt == "json":
        click.echo("[", nl=False)
        for i, row in enumerate(table.to_pylist()):
            click.echo(
                ("," if i else "") + "\n" + json.dumps(_plain(row), ensure_ascii=False), nl=False
            )
        click.echo("\n]")
    elif fmt == "jsonl":
        for row in table.to_pylist():
            click.echo(json.dumps(_plain(row), ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow([_cell(row[c], 10**9) for c in table.column_names])
        sys.stdout.flush()
    else:
        names = table.column_names
        rows = [[_cell(r[c]) for c in names] for r in table.to_pylist()]
        widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
        click.echo("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
        click.echo("  ".join("-" * w for w in widths))
        for r in rows:
            click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    if truncated:
        click.echo(
            f"(showing the first {table.num_rows} rows; more matched: raise --limit)", err=True
        )


def object_tree(objects: list[dict[str, Any]]) -> list[str]:
    """NWB object rows (summary or nwb_objects) as an indented tree, one line each."""
    lines = []
    for o in sorted(objects, key=lambda o: o["path"]):
        depth = 0 if o["path"] == "/" else o["path"].count("/")
        bits = [f"{o['path'].rsplit('/', 1)[-1] or '/'}  [{o['neurodata_type']}]"]
        if o.get("shape"):
            bits.append(f"shape={tuple(o['shape'])}")
        if o.get("dtype"):
            bits.append(str(o["dtype"]))
        if o.get("unit"):
            bits.append(f"unit={o['unit']}")
        if o.get("rate"):
            bits.append(f"rate={o['rate']:g} Hz")
        if o.get("n_rows") is not None:
            bits.append(f"rows={o['n_rows']}")
        lines.append("  " * depth + " ".join(bits))
    return lines
