"""One output path for every row-emitting command: --format, --limit, --out, --columns, --wide.

`table` on a terminal, `json` (an array of objects, streamed row by row) otherwise; `jsonl`,
`csv`, `parquet`. `--out FILE` writes any format to a file (Parquet, being binary, is not
written to a terminal). A table shows each command's few useful columns (``--columns`` to
choose, ``--wide`` for all): whole paths, sizes like ``4.7 GB``, lists joined; on a terminal,
columns that do not fit are shortened, never the path. Notices (a result cut by --limit, why a
result is empty) go to stderr, so stdout stays parseable. JSON, JSONL, CSV and Parquet output
keep every column unless --columns says otherwise.
"""

from __future__ import annotations

import contextlib
import functools
import io
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import click

from dandindex.display import cell, write_rows
from dandindex.errors import UsageError, hint

FORMATS = ["table", "json", "jsonl", "csv", "parquet"]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Output:
    """How a command's rows are written (its output options)."""

    fmt: str | None = None
    limit: int | None = None
    out: str | None = None
    columns: str | None = None
    wide: bool = False

    @property
    def format(self) -> str:
        if self.fmt:
            return self.fmt
        if self.out:
            return {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}.get(
                "." + self.out.rsplit(".", 1)[-1].lower() if "." in self.out else "", "json"
            )
        return "table" if sys.stdout.isatty() else "json"

    def emit(
        self,
        result: Any,
        *,
        default_columns: Sequence[str] | None = None,
        protected: Sequence[str] = ("path", "location", "name", "description", "table", "column"),
        notes: Sequence[str] = (),
        keep: Sequence[str] = (),
        wrap: Sequence[str] = (),
    ) -> None:
        emit(
            result,
            self.format,
            self.limit,
            self.out,
            columns=self.columns,
            wide=self.wide,
            default_columns=default_columns,
            protected=protected,
            notes=notes,
            keep=keep,
            wrap=wrap,
        )


def output_options(f: F) -> F:
    """--format, --limit, --out, --columns, --wide, given to the command as ``output``."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        output = Output(
            kwargs.pop("fmt"),
            kwargs.pop("limit"),
            kwargs.pop("out"),
            kwargs.pop("columns"),
            kwargs.pop("wide"),
        )
        return f(*args, output=output, **kwargs)

    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default=None,
            help="table (default on a terminal), json (default otherwise), jsonl, csv, parquet.",
        ),
        click.option(
            "--limit",
            type=click.IntRange(0, 2**63 - 1),
            default=None,
            help="At most this many rows.",
        ),
        click.option(
            "--out",
            type=click.Path(dir_okay=False),
            default=None,
            help="Write to this file instead of the terminal (any format).",
        ),
        click.option(
            "--columns",
            default=None,
            metavar="A,B,...",
            help="Only these columns, in this order.",
        ),
        click.option("--wide", is_flag=True, help="Every column in a table, not a chosen few."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def _select(
    table: Any, columns: str | None, wide: bool, fmt: str, default: Sequence[str] | None
) -> Any:
    names = table.column_names
    if columns:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in names]
        if unknown:
            raise UsageError(
                f"No column {unknown[0]!r} here. Columns: {', '.join(names)}.{hint(unknown[0], names)}"
            )
        return table.select(wanted)
    if fmt == "table" and not wide and default:
        keep = [c for c in default if c in names]
        if keep:
            return table.select(keep)
    return table


@contextlib.contextmanager
def _sink(out: str | None, binary: bool) -> Iterator[IO[Any]]:
    if out is None:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    from pathlib import Path

    from dandindex.cli.base import outside_index

    folder = Path(outside_index(out, "--out")).expanduser().resolve().parent
    if not folder.is_dir():
        raise UsageError(f"The folder {folder} does not exist; create it or choose another --out.")
    with open(
        out,
        "wb" if binary else "w",
        encoding=None if binary else "utf-8",
        newline="" if not binary else None,
    ) as f:
        yield f


def emit(
    result: Any,
    fmt: str | None,
    limit: int | None,
    out: str | None = None,
    *,
    columns: str | None = None,
    wide: bool = False,
    default_columns: Sequence[str] | None = None,
    protected: Sequence[str] = ("path",),
    notes: Sequence[str] = (),
    keep: Sequence[str] = (),
    wrap: Sequence[str] = (),
) -> None:
    """Write a `Result` (or an Arrow table) in the chosen format; on a terminal too narrow,
    columns in `wrap` are wrapped onto more lines, and those in `keep` are the last to be
    hidden."""
    import pyarrow as pa

    table: pa.Table = result.to_arrow() if hasattr(result, "to_arrow") else result
    truncated = bool(getattr(result, "truncated", False))
    total = getattr(result, "total", None)
    if limit is not None and table.num_rows > limit:
        table = table.slice(0, limit)
        truncated = True
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    if fmt == "parquet" and out is None and sys.stdout.isatty():
        raise UsageError(
            "Parquet is binary and would scramble the terminal: write it to a file with "
            "--out FILE.parquet (or pipe it into another program)."
        )
    table = _select(table, columns, wide, fmt, default_columns)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with _sink(out, binary=True) as f:
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            f.write(sink.getvalue().to_pybytes())
    else:
        with _sink(out, binary=False) as f:
            fit = out is None and sys.stdout.isatty()
            _write_text(table, fmt, f, protected, fit, keep, wrap)
    if truncated:
        shown = f"{table.num_rows:,}"
        click.echo(
            f"Showing {shown} of {total:,} rows; raise --limit for more."
            if total
            else f"Showing the first {shown} rows; more matched: raise --limit.",
            err=True,
        )
    for note in notes:
        click.echo(note, err=True)
    if out is not None:
        click.echo(f"Wrote {table.num_rows:,} rows to {out}.", err=True)


def _write_text(
    table: Any,
    fmt: str,
    f: IO[str],
    protected: Sequence[str],
    fit: bool,
    keep: Sequence[str] = (),
    wrap: Sequence[str] = (),
) -> None:
    if fmt in ("json", "jsonl", "csv"):
        write_rows(table, fmt, f)
    else:
        f.write(render_table(table.column_names, table.to_pylist(), protected, fit, keep, wrap))
    f.flush()


def render_table(
    names: Sequence[str],
    rows: list[dict[str, Any]],
    protected: Sequence[str] = (),
    fit: bool = True,
    keep: Sequence[str] = (),
    wrap: Sequence[str] = (),
) -> str:
    """Aligned columns; on a terminal, columns in `wrap` are wrapped onto more lines to fit
    the window, then the widest unprotected columns are shortened (with …) until it fits."""
    cells = [[cell(r[c], c) for c in names] for r in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    room = shutil.get_terminal_size((120, 24)).columns
    wrapped = [i for i, n in enumerate(names) if n in wrap]
    if fit and wrapped:  # the wrapped column takes what the others leave
        i = wrapped[0]
        left = room - (sum(widths) - widths[i]) - 2 * (len(widths) - 1)
        widths[i] = min(widths[i], max(20, left))
    if fit:
        cuttable = [i for i, n in enumerate(names) if n not in protected]
        while sum(widths) + 2 * (len(widths) - 1) > room and cuttable:
            i = max(cuttable, key=lambda k: widths[k])
            if widths[i] <= max(8, len(names[i])):
                cuttable.remove(i)
                continue
            widths[i] -= 1
        hidden = []
        while sum(widths) + 2 * (len(widths) - 1) > room and len(names) > 1:
            unprotected = [k for k, n in enumerate(names) if n not in protected]
            if not unprotected:
                break
            # the rightmost column that may go, the ones the user asked about last
            i = max(unprotected, key=lambda k: (names[k] not in keep, k))
            hidden.append(names[i])
            names = [n for k, n in enumerate(names) if k != i]
            widths = [w for k, w in enumerate(widths) if k != i]
            cells = [[v for k, v in enumerate(r) if k != i] for r in cells]
        if hidden:
            click.echo(
                f"({', '.join(reversed(hidden))} hidden to fit the window: --wide or "
                "--columns to show them)",
                err=True,
            )
    out = io.StringIO()
    wrap_at = {k for k, n in enumerate(names) if n in wrap} if fit else set()

    def line(values: Sequence[str]) -> None:
        import textwrap

        pieces = [textwrap.wrap(v, w) or [""] if k in wrap_at and len(v) > w else [v]
                  for k, (v, w) in enumerate(zip(values, widths, strict=True))]  # fmt: skip
        for depth in range(max(len(p) for p in pieces)):
            parts = []
            for p, w in zip(pieces, widths, strict=True):
                v = p[depth] if depth < len(p) else ""
                parts.append(v.ljust(w) if len(v) <= w else v[: w - 1] + "…")
            out.write("  ".join(parts).rstrip() + "\n")

    line(list(names))
    line(["-" * w for w in widths])
    for r in cells:
        line(r)
    return out.getvalue()
