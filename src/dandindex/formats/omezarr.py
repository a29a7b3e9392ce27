"""OME-Zarr (OME-NGFF 0.1-0.5) described from its metadata documents, never a chunk.

NGFF 0.4 and older: the image group's ``.zattrs`` (``multiscales``, ``omero``, ``plate``,
``well``) and each level's ``.zarray`` (Zarr v2); NGFF 0.5: ``zarr.json`` documents (Zarr
v3) with the same attributes under ``attributes.ome``. A ``bioformats2raw.layout`` store is
read through its first image (``0/``), an HCS plate through its first well's first field.
The keys are known from the JSON itself, so a store of millions of chunks costs its root
document, at most two more for a plate, and one per resolution level (fetched together).

Axes come with their types and units; the voxel size is level 0's ``scale`` (times a
multiscale-wide ``scale``) along the spatial axes, in µm when the axes give units; channels
are ``omero.channels`` labels and colours.
"""

from __future__ import annotations

import json
from typing import Any

from dandindex.formats import FormatError
from dandindex.formats.source import Keys, read_json

#: µm per unit of length (NGFF uses UDUNITS-2 names)
LENGTH_UM = {
    "angstrom": 1e-4, "nanometer": 1e-3, "micrometer": 1.0, "micron": 1.0, "millimeter": 1e3,
    "centimeter": 1e4, "meter": 1e6, "picometer": 1e-6, "nm": 1e-3, "um": 1.0, "µm": 1.0,
    "mm": 1e3, "cm": 1e4, "m": 1e6,
}  # fmt: skip
SECONDS = {"second": 1.0, "millisecond": 1e-3, "microsecond": 1e-6, "minute": 60.0,
           "hour": 3600.0, "s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}  # fmt: skip
DEFAULT_AXES = "tczyx"
NGFF_KEYS = {
    "multiscales",
    "plate",
    "well",
    "bioformats2raw.layout",
    "omero",
}  # NGFF 0.1/0.2: five dimensions in this order


def summarize_ngff(store: Keys) -> dict[str, Any]:
    """The ``file_summaries`` facts of an OME-Zarr store (or of any Zarr: a store with no
    ``multiscales`` is described by its root array, or said to hold no image)."""
    root, version3 = _group(store, "")
    if root is None:
        raise NoStore("not a Zarr store: no .zgroup, .zattrs, .zarray or zarr.json at its root")
    attrs = _ome(root)
    prefix = ""
    details: dict[str, Any] = {}
    if "bioformats2raw.layout" in attrs and "multiscales" not in attrs:
        details["bioformats2raw.layout"] = attrs["bioformats2raw.layout"]
        prefix = "0/"
        found, version3 = _group(store, prefix)
        attrs = _ome(found or {})
    plate = attrs.get("plate")
    facts: dict[str, Any] = {}
    if isinstance(plate, dict):
        facts["plate"] = _plate_text(plate)
        details["plate"] = plate
        well = _first(plate.get("wells"))
        if well and isinstance(well.get("path"), str):
            wattrs = _ome(_group(store, f"{prefix}{well['path'].strip('/')}/")[0] or {})
            image = _first((wattrs.get("well") or {}).get("images"))
            if image and isinstance(image.get("path"), str):
                prefix = f"{prefix}{well['path'].strip('/')}/{image['path'].strip('/')}/"
                found, version3 = _group(store, prefix)
                attrs = _ome(found or {})
    multiscales = attrs.get("multiscales")
    if not isinstance(multiscales, list) or not multiscales:
        if root.get("shape") is not None:  # a bare array at the root
            return {**facts, "format": "zarr", **_array_facts(root), "details": _dump(details)}
        if plate is not None:
            raise FormatError("an HCS plate whose first well holds no multiscale image")
        return {**facts, "format": "zarr", "n_levels": 0, "details": _dump(details),
                "error": None}  # fmt: skip
    ms = multiscales[0] if isinstance(multiscales[0], dict) else {}
    datasets = [d for d in ms.get("datasets") or [] if isinstance(d, dict) and "path" in d]
    if not datasets:
        raise FormatError("multiscales[0] lists no datasets")
    names, types, units = _axes(ms.get("axes"), attrs)
    meta_name = "zarr.json" if version3 else ".zarray"
    keys = [f"{prefix}{str(d['path']).strip('/')}/{meta_name}" for d in datasets]
    found_arrays = store.get_many(keys)
    levels = []
    for key in keys:
        doc = read_json(found_arrays.get(key), key)
        if doc is None:
            raise FormatError(f"level {key.rsplit('/', 2)[-2]} has no {meta_name} ({key})")
        levels.append(doc)
    first = _array_facts(levels[0])
    shape = first.get("shape") or []
    if names and len(names) != len(shape):
        names, types, units = _axes(None, {"_ndim": len(shape)})
    scale = _scale(datasets[0], ms, len(shape))
    facts.update(first)
    facts["format"] = "ome-zarr"
    facts["axes"] = "".join(n[0] if n else "?" for n in names).lower() if names else None
    facts["n_levels"] = len(levels)
    facts["level_shapes"] = [list(_array_facts(doc).get("shape") or []) for doc in levels]
    voxel, step = _physical(names, types, units, scale)
    facts["voxel_size"] = voxel
    facts["voxel_um"] = max(voxel) if voxel else None
    facts["time_step"] = step
    for axis, n in zip(names, shape, strict=True):
        if axis == "c":
            facts["n_channels"] = int(n)
        if axis == "t":
            facts["n_timepoints"] = int(n)
    omero = attrs.get("omero")
    if isinstance(omero, dict):
        chans = [c for c in omero.get("channels") or [] if isinstance(c, dict)]
        facts["channels"] = [str(c.get("label") or f"channel {i}") for i, c in enumerate(chans)]
        facts["channel_colors"] = [str(c.get("color") or "") for c in chans]
        facts.setdefault("n_channels", len(chans) or None)
        details["omero"] = omero
    details["multiscales"] = ms
    details["axes"] = [{"name": n, "type": t, "unit": u} for n, t, u in zip(names, types, units, strict=True)]  # fmt: skip
    details["ngff_version"] = ms.get("version") or attrs.get("version")
    details["image_path"] = prefix.rstrip("/")
    facts["details"] = _dump(details)
    return facts


class NoStore(FormatError):
    """No Zarr metadata at the store's root: over HTTP, the store is not on the server."""


def _group(store: Keys, prefix: str) -> tuple[dict[str, Any] | None, bool]:
    """(the group's attributes merged with its array metadata if it is one, Zarr v3?)."""
    got = store.get_many([f"{prefix}.zattrs", f"{prefix}zarr.json"])
    v3 = read_json(got[f"{prefix}zarr.json"], f"{prefix}zarr.json")
    if isinstance(v3, dict):
        doc = dict(v3.get("attributes") or {})
        if v3.get("node_type") == "array":
            doc.update({k: v for k, v in v3.items() if k != "attributes"})
        return doc, True
    attrs = read_json(got[f"{prefix}.zattrs"], f"{prefix}.zattrs")
    if isinstance(attrs, dict) and NGFF_KEYS & set(attrs):
        return attrs, False  # an image, plate or well group: nothing more to ask
    more = store.get_many([f"{prefix}.zarray"] + ([] if attrs else [f"{prefix}.zgroup"]))
    array = read_json(more.get(f"{prefix}.zarray"), f"{prefix}.zarray")
    group = read_json(more.get(f"{prefix}.zgroup"), f"{prefix}.zgroup")
    if attrs is None and array is None and group is None:
        return None, False
    doc = dict(attrs) if isinstance(attrs, dict) else {}
    if isinstance(array, dict):
        doc.update(array)
    return doc, False


def _ome(attrs: dict[str, Any]) -> dict[str, Any]:
    """NGFF 0.5 keeps its keys under ``ome``; older versions at the top."""
    inner = attrs.get("ome")
    return {**attrs, **inner} if isinstance(inner, dict) else attrs


def _first(items: Any) -> dict[str, Any] | None:
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None


def _plate_text(plate: dict[str, Any]) -> str:
    rows, cols = plate.get("rows") or [], plate.get("columns") or []
    wells = plate.get("wells") or []
    fields = plate.get("field_count")
    text = f"{len(rows)} x {len(cols)}, {len(wells)} wells"
    return text + (f", {fields} fields" if fields else "")


def _axes(axes: Any, attrs: dict[str, Any]) -> tuple[list[str], list[str | None], list[str | None]]:
    """(names, types, units) of the axes; NGFF 0.3 gives names only, 0.1/0.2 nothing."""
    if isinstance(axes, list) and axes:
        names, types, units = [], [], []
        for a in axes:
            if isinstance(a, dict):
                name = str(a.get("name") or "?").lower()
                names.append(name)
                types.append(a.get("type") or _type_of(name))
                units.append(a.get("unit"))
            else:
                names.append(str(a).lower())
                types.append(_type_of(str(a).lower()))
                units.append(None)
        return names, types, units
    n = int(attrs.get("_ndim") or len(DEFAULT_AXES))
    names = list(DEFAULT_AXES[-n:]) if n <= len(DEFAULT_AXES) else [f"d{i}" for i in range(n)]
    return names, [_type_of(x) for x in names], [None] * len(names)


def _type_of(name: str) -> str | None:
    return {"x": "space", "y": "space", "z": "space", "t": "time", "c": "channel"}.get(name)


def _scale(dataset: dict[str, Any], ms: dict[str, Any], n: int) -> list[float] | None:
    """Level 0's scale along each axis (its own times the multiscale's), or None."""
    out = None
    for source in (dataset.get("coordinateTransformations"), ms.get("coordinateTransformations")):
        for t in source or []:
            if (
                isinstance(t, dict)
                and t.get("type") == "scale"
                and isinstance(t.get("scale"), list)
            ):
                values = t["scale"]
                if len(values) == n and all(isinstance(v, (int, float)) for v in values):
                    out = [float(v) for v in values] if out is None else [a * float(b) for a, b in zip(out, values, strict=True)]  # fmt: skip
    return out


def _physical(
    names: list[str], types: list[str | None], units: list[str | None], scale: list[float] | None
) -> tuple[list[float] | None, float | None]:
    """(µm per pixel along the spatial axes when every one has a known unit, seconds per
    time point when the time axis has one)."""
    if scale is None:
        return None, None
    voxel: list[float] = []
    step = None
    for _name, kind, unit, s in zip(names, types, units, scale, strict=True):
        if kind == "space":
            factor = LENGTH_UM.get(str(unit).lower()) if unit else None
            if factor is None:
                voxel = []
                break
            voxel.append(round(s * factor, 9))
        elif kind == "time" and unit and str(unit).lower() in SECONDS:
            step = s * SECONDS[str(unit).lower()]
    spatial = [t for t in types if t == "space"]
    return (voxel if voxel and len(voxel) == len(spatial) else None), step


def _array_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """Shape, chunks, dtype and compressor of a Zarr v2 ``.zarray`` or v3 ``zarr.json``."""
    out: dict[str, Any] = {}
    shape = doc.get("shape")
    if isinstance(shape, list):
        out["shape"] = [int(x) for x in shape]
    chunks = doc.get("chunks")
    grid = doc.get("chunk_grid")
    if isinstance(grid, dict):
        chunks = (grid.get("configuration") or {}).get("chunk_shape")
    if isinstance(chunks, list):
        out["chunks"] = [int(x) for x in chunks]
    dtype = doc.get("dtype", doc.get("data_type"))
    if dtype is not None:
        out["dtype"] = _dtype_name(dtype)
    comp = doc.get("compressor")
    if isinstance(comp, dict):
        out["compressor"] = str(comp.get("cname") or comp.get("id") or "")
        if comp.get("id") == "blosc" and comp.get("cname"):
            out["compressor"] = f"blosc/{comp['cname']}"
    codecs = doc.get("codecs")
    if isinstance(codecs, list):
        names = []
        for c in codecs:
            if not isinstance(c, dict):
                continue
            name = str(c.get("name"))
            conf = c.get("configuration") or {}
            if name == "sharding_indexed":
                inner = conf.get("chunk_shape")
                if isinstance(inner, list):
                    out["chunks"] = [int(x) for x in inner]
                names += [
                    str(x.get("name")) for x in conf.get("codecs") or [] if isinstance(x, dict)
                ]
                names.append("sharding")
            else:
                names.append(name if name != "blosc" else f"blosc/{conf.get('cname', '')}")
        names = [n for n in names if n not in ("bytes", "transpose")]
        out["compressor"] = "+".join(names) or None
    return out


def _dtype_name(dtype: Any) -> str:
    """``<u2`` → uint16; a v3 name stays as it is."""
    if isinstance(dtype, str) and len(dtype) >= 2 and dtype[0] in "<>|=":
        import numpy as np

        try:
            return str(np.dtype(dtype))
        except TypeError:
            return dtype
    return str(dtype)


def _dump(details: dict[str, Any]) -> str | None:
    return json.dumps(details, default=str, sort_keys=True) if details else None
