"""`dandindex summarize`: one NWB file's summary, without an index."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from dandindex.cli.base import CONTEXT_SETTINGS
from dandindex.tree import object_tree


def _tree(summary: dict[str, Any]) -> str:
    f = summary["file"]
    lines = []
    if f.get("error"):
        lines.append(f"error: {f['error']}")
    head = ", ".join(
        f"{k}={f[k]}"
        for k in ("nwb_version", "identifier", "n_objects", "n_electrodes", "n_units", "n_rois")
        if f.get(k) is not None
    )
    lines.append(head or "(no NWB summary)")
    lines += object_tree(summary["objects"])
    for loc in summary["locations"]:
        lines.append(
            f"location [{loc['source']}] {loc['location']!r} x{loc['count']}  ({loc['object_path']})"
        )
    if f.get("bytes_read") is not None:
        lines.append(
            f"read {f['bytes_read']} bytes in {f.get('requests')} requests, {f.get('seconds')} s"
        )
    return "\n".join(lines)


@click.command("summarize", context_settings=CONTEXT_SETTINGS)
@click.argument("source")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "tree"]),
    default=None,
    help="json (default when piped) or tree (default on a terminal).",
)
def summarize(source: str, fmt: str | None) -> None:
    """Summarise one NWB file (local path, NWB-Zarr folder or http(s) URL) without an index.

    Reads only the HDF5 metadata (streamed with range requests for URLs): neurodata types,
    paths, shapes, units, rates, counts and brain-area locations. Exits 1 if the file could
    not be summarised (the reason is printed).

    Example: dandindex summarize https://api.dandiarchive.org/api/assets/<asset_id>/download/
    """
    from pathlib import Path

    from dandindex.nwb.summary import summarize as run

    if "://" not in source and not Path(source).exists():
        raise click.UsageError(f"No such file: {source}")
    result = run(source)
    fmt = fmt or ("tree" if sys.stdout.isatty() else "json")
    if fmt == "json":
        click.echo(json.dumps(result, indent=1, default=str))
    else:
        click.echo(_tree(result))
    if result["file"].get("error"):
        raise SystemExit(1)
