"""How values look to people, in a terminal and in a notebook: sizes, cells, tables.

Pure formatting with no dandindex imports, shared by the results' reprs and the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import Any

SIZE_COLUMNS = {"size", "number_of_bytes", "bytes_read"}
LINK_COLUMNS = {"web_url", "dandi_url", "api_url", "s3_url"}
NOTEBOOK_ROWS = 50

STYLE = (
    "<style>.dandindex-table td,.dandindex-table th{text-align:left;padding:2px 8px;"
    "vertical-align:top}.dandindex-table td{font-family:monospace;font-size:90%}"
    ".dandindex-table caption{caption-side:top;text-align:left;padding:4px 0;"
    "font-weight:bold}</style>"
)


def counted(n: int, noun: str) -> str:
    """``1 asset``, ``2,048 assets``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def human_size(n: Any) -> str:
    """Bytes as people read them: 4.7 GB, 120 kB, 512 B (powers of 1000, as DANDI shows)."""
    if n is None:
        return ""
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover


def when(value: Any) -> str:
    """A timestamp to the minute (no microseconds); a date as it is."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.tzinfo else "")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def plain(value: Any) -> Any:
    """A value as JSON holds it: dates as ISO text, decimals as numbers, bytes as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def cell(value: Any, column: str = "") -> str:
    """One value as a table shows it: sizes in kB/MB/GB, timestamps to the minute, lists
    joined, big counts with thousands separators, nothing for None; one line."""
    if isinstance(value, datetime):
        return when(value)
    v = plain(value)
    if v is None:
        return ""
    if column in SIZE_COLUMNS and isinstance(v, int | float):
        return human_size(v)
    if isinstance(v, list):
        text = ", ".join("" if x is None else str(x) for x in v)
    elif isinstance(v, dict):
        text = json.dumps(v, default=str)
    elif isinstance(v, float):
        text = f"{v:g}"
    elif isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10000:
        text = f"{v:,}"
    else:
        text = str(v)
    return text.replace("\n", " ")


def count_caption(shown: int, total: int | None, noun: str, *, more: bool = False) -> str:
    """'50 of 4,672 assets', '12 assets', '20 assets (more matched)'."""
    if total is not None and total > shown:
        return f"{shown:,} of {total:,} {noun}"
    return f"{shown:,} {noun}" + (" (more matched; raise the limit)" if more else "")


def html_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    caption: str,
    *,
    link: dict[str, str] | None = None,
) -> str:
    """An HTML table for a notebook: `caption` above, values as `cell` shows them; `link`
    maps a column to the column holding its URL (e.g. path → web_url)."""
    link = link or {}
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for r in rows:
        tds = []
        for c in columns:
            text = escape(cell(r.get(c), c))
            url = r.get(link[c]) if c in link else (r.get(c) if c in LINK_COLUMNS else None)
            if url and str(url).startswith(("http://", "https://")):
                text = f'<a href="{escape(str(url))}" target="_blank">{text}</a>'
            tds.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (
        f'{STYLE}<table class="dandindex-table"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def text_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], width: int = 100) -> str:
    """A plain aligned table for a repr: the last column is never cut, the others are cut
    to share `width`."""
    cells = [[cell(r.get(c), c) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    for i in range(len(columns) - 1):
        widths[i] = min(widths[i], max(8, width // max(len(columns), 1)))

    def line(values: Sequence[str]) -> str:
        out = []
        for i, v in enumerate(values):
            w = widths[i]
            v = v if len(v) <= w or i == len(values) - 1 else v[: w - 1] + "…"
            out.append(v if i == len(values) - 1 else v.ljust(w))
        return "  ".join(out).rstrip()

    return "\n".join([line(list(columns))] + [line(row) for row in cells])


def duration_text(start: str | None, end: str | None) -> str:
    try:
        seconds = datetime.fromisoformat(end or "") - datetime.fromisoformat(start or "")
    except ValueError:
        return ""
    s = seconds.total_seconds()
    return f" ({s:.0f} s)" if s < 120 else f" ({s / 60:.0f} min)"


def info_lines(info: dict[str, Any]) -> list[str]:
    """`dandindex info` for a terminal: what the index holds, in a few sentences."""
    n = info["row_counts"]
    opts = info.get("options") or {}
    v = info.get("versions") or {}

    def count(table: str, word: str) -> str:
        return f"{n.get(table, 0):,} {word}"

    lines = [
        f"Index {info['path']}",
        f"  crawled from {info.get('api_url') or 'an unknown API'}"
        + (f" on {when(info['crawl_finished'])}" if info.get("crawl_finished") else "")
        + duration_text(info.get("crawl_started"), info.get("crawl_finished")),
        "  "
        + ", ".join(
            [
                count("dandisets", "dandisets"),
                count("versions", "versions"),
                count("assets", "assets"),
                count("contributors", "contributor rows"),
            ]
        ),
    ]
    if info.get("published"):
        lines.append(f"  published on {when(info['published'])} (read in place)")
    if info.get("pulled"):
        pulled = info["pulled"]
        lines.append(
            f"  pulled from {pulled.get('source')} on {when(pulled.get('pulled_at'))} "
            f"(published {when(pulled.get('published'))})"
        )
    which = "all versions" if opts.get("versions") == "all" else "latest versions"
    only = opts.get("dandisets") or []
    lines.append(
        f"  {which} of {'dandisets ' + ', '.join(only) if only else 'every dandiset'}"
        + (", embargoed included" if opts.get("include_embargoed") else "")
    )
    if opts.get("nwb_dandisets"):
        only_nwb = opts["nwb_dandisets"]
        lines.append(
            f"  NWB files read only of {len(only_nwb)} dandisets ({', '.join(only_nwb[:4])}"
            + (", ...)" if len(only_nwb) > 4 else ")")
        )
    if n.get("crawl_errors"):
        lines.append(
            f"  {count('crawl_errors', 'crawl errors')}: dandindex sql "
            '"SELECT * FROM crawl_errors" shows them; the next crawl retries them'
        )
    if n.get("nwb_files"):
        cov = info.get("nwb_area_coverage") or {}
        readable = cov.get("nwb_files", n["nwb_files"])
        unread = n["nwb_files"] - readable
        lines.append(
            f"NWB summaries: {readable:,} files read, {count('nwb_objects', 'objects')}, "
            f"{count('nwb_locations', 'electrode/imaging locations')}"
        )
        if unread:
            lines.append(
                f"  {unread:,} files could not be read: dandindex sql "
                '"SELECT asset_id, error FROM nwb_files WHERE error IS NOT NULL"'
            )
        if cov.get("nwb_files"):
            lines.append(
                f"  {cov['with_mapped_area']:,} of {cov['nwb_files']:,} readable files name a brain "
                f"area the atlas knows ({cov['share_mapped']:.0%}); "
                "`dandindex areas --unmapped` lists the rest"
            )
        inside = info.get("nwb_inside") or {}
        if inside.get("nwb_files"):
            lines.append(
                f"  {inside['with_duration']:,} files with a known duration "
                f"({inside['hours']:,.1f} hours), {inside['with_tables']:,} with tables "
                f"(--column), {inside['with_two_areas']:,} recording two or more areas "
                "(--area-all, the area_pairs query)"
            )
            if inside.get("older_summaries"):
                lines.append(
                    f"  {inside['older_summaries']:,} summaries from an older dandindex (no "
                    "columns or durations): crawl --nwb reads them again"
                )
    else:
        lines.append("No NWB summaries: crawl with --nwb to search neurodata types and areas.")
    files = info.get("other_files") or {}
    by_format = files.get("by_format") or {}
    if by_format:
        read = ", ".join(f"{c['read']:,} {f}" for f, c in by_format.items()
                         if c["read"] and f != "unread")  # fmt: skip
        failed = sum(c["failed"] for c in by_format.values())
        missing = sum(c["missing"] for c in by_format.values())
        lines.append(f"Other files described from their headers: {read or 'none'}"
                     + (f"; {failed:,} could not be read" if failed else "")
                     + (f"; {missing:,} not on the server" if missing else ""))  # fmt: skip
        if files.get("bids_data_files") or files.get("links"):
            lines.append(
                f"  {files.get('bids_data_files', 0):,} BIDS data files with their sidecars' "
                f"values (--bids); {files.get('links_resolved', 0):,} of "
                f"{files.get('links', 0):,} external files named in NWB files found as assets "
                "of their dandiset (file_links)"
            )
    lines.append(
        f"dandindex {v.get('dandindex_version') or '?'}, dandi {v.get('dandi_version') or '?'}, "
        f"dandischema {v.get('dandischema_version') or '?'}"
        + (f", tables v{info['tables_version']}" if info.get("tables_version") else "")
    )
    lines += [f"Note: {note}" for note in info.get("notes") or []]
    return lines


def write_rows(table: Any, fmt: str, f: Any) -> None:
    """An Arrow table's rows as `fmt` text to `f`: ``json`` (an array of objects, a row a
    line), ``jsonl`` or ``csv`` (lists joined with ", "); what the commands and the web
    page's twins write."""
    import csv
    import json

    rows = table.to_pylist()
    if fmt == "json":
        f.write("[")
        for i, row in enumerate(rows):
            f.write(("," if i else "") + "\n" + json.dumps(plain(row), ensure_ascii=False))
        f.write("\n]\n")
    elif fmt == "jsonl":
        for row in rows:
            f.write(json.dumps(plain(row), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in rows:
            writer.writerow(
                ["" if row[c] is None else _csvcell(row[c]) for c in table.column_names]
            )
    else:
        raise ValueError(f"no text format {fmt!r}")


def render(table: Any, fmt: str) -> str:
    """Rows as `fmt` text (json, jsonl, csv), exactly as the commands write them."""
    import io

    f = io.StringIO()
    write_rows(table, fmt, f)
    return f.getvalue()


def _csvcell(value: Any) -> str:
    v = plain(value)
    text = ", ".join(map(str, v)) if isinstance(v, list) else str(v)
    return text.replace("\n", " ")


def parse_ints(text: str | None, option: str = "--channels") -> list[int] | None:
    """``0-4,7`` → [0, 1, 2, 3, 4, 7]; anything else is a `UsageError` naming the option."""
    from dandindex.errors import UsageError

    if not text:
        return None
    out: list[int] = []
    for part in text.replace(" ", "").split(","):
        a, dash, b = part.partition("-")
        try:
            lo, hi = int(a), int(b) if dash else int(a)
        except ValueError:
            raise UsageError(
                f"{option}: {text!r} is not a list of numbers and ranges, e.g. 0-4,7."
            ) from None
        if hi < lo:
            raise UsageError(f"{option}: the range {part} runs backwards.")
        out += range(lo, hi + 1)
    return out


def file_stem(path: str, limit: int = 60) -> str:
    """A safe file-name stem from an asset path's last part: letters, digits, ``-_.``
    only (``..``, separators, NUL and control characters never reach a file name)."""
    import re

    last = re.split(r"[\\/]", path)[-1].split(".")[0]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", last).strip("_")
    return stem[:limit] or "asset"
