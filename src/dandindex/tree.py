"""An NWB file's objects as people read them: the indented tree of whole paths, and which
objects `dandindex plot` can draw (by neurodata type and ancestry)."""

from __future__ import annotations

from typing import Any


def object_tree(objects: list[dict[str, Any]], *, mark_plottable: bool = False) -> list[str]:
    """NWB object rows (summary or nwb_objects) as an indented tree of whole paths, one line
    each; untyped groups between them shown as ``(group)``. With `mark_plottable`, objects
    `dandindex plot` can draw start with ``*``."""
    from dandindex.nwb.hierarchy import TypeHierarchy
    from dandindex.plot import is_plottable

    hierarchy = TypeHierarchy()
    by_path = {o["path"]: o for o in objects}
    paths = set(by_path)
    for path in list(paths):  # the untyped groups on the way down
        parts = path.strip("/").split("/")
        paths.update("/" + "/".join(parts[:i]) for i in range(1, len(parts)))
    lines = []
    for path in sorted(paths):
        depth = 0 if path == "/" else path.count("/") - 1
        o = by_path.get(path)
        if o is None:
            bits = [path, "(group)"]
        else:
            ndtype = o.get("neurodata_type") or ""
            bits = [path, f"[{ndtype}]" if ndtype else "(dataset)"]
            if o.get("shape"):
                bits.append("×".join(str(n) for n in o["shape"]))
            if o.get("dtype"):
                bits.append(str(o["dtype"]))
            if o.get("unit"):
                bits.append(str(o["unit"]))
            if o.get("rate"):
                bits.append(f"{o['rate']:g} Hz")
            if o.get("duration") is not None:
                bits.append(_seconds(o["duration"]))
            if o.get("n_rows") is not None:
                bits.append(f"{o['n_rows']:,} rows")
            if o.get("columns"):
                bits.append("columns: " + ", ".join(o["columns"]))
        mark = ""
        if mark_plottable:
            types = (
                [o["neurodata_type"], *hierarchy.ancestors(o["neurodata_type"])]
                if o and o.get("neurodata_type")
                else []
            )
            mark = "* " if o is not None and is_plottable(types, path) else "  "
        lines.append(mark + "  " * depth + "  ".join(bits))
    return lines


def _seconds(s: float) -> str:
    """A duration as people say it: 0.1 s, 42.5 s, 15 min, 2.5 h."""
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    return f"{s / 3600:.3g} h"


def plottable(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects (summary rows) `dandindex plot` can draw, by type and ancestry."""
    from dandindex.nwb.hierarchy import TypeHierarchy
    from dandindex.plot import is_plottable

    hierarchy = TypeHierarchy()
    out = []
    for o in objects:
        t = o.get("neurodata_type")
        types = [t, *hierarchy.ancestors(t)] if t else []
        if is_plottable(types, o["path"]):
            out.append(o)
    return out
