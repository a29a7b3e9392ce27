"""TIFF, OME-TIFF and ImageJ TIFF described from their first IFD and its description.

`tifffile` opens the file (the header and the first page's IFD: a few reads). Then:

- OME-TIFF: the OME-XML of the first page gives the image's size along X, Y, Z, C, T, the
  pixel type, the physical sizes with their units, the time increment and the channels
  (names, colours, fluorophores), so the page count is known without walking the IFDs
  (tifffile's own series would visit every one: a round trip each over HTTP);
- ImageJ hyperstacks and tifffile's shaped files: their description gives the shape;
- any other TIFF: the IFD chain is walked at most `WALK` pages; a longer chain whose IFDs
  are evenly spaced (the usual layout: each page's IFD after its data) is checked at its
  predicted last page, else reported as "at least N pages" (``pages_known`` false).

Pyramidal files (SubIFDs, OME levels) report their levels' shapes.
"""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from typing import Any

from dandindex.formats import FormatError, misnamed
from dandindex.formats.omezarr import LENGTH_UM, SECONDS

WALK = 8  # IFDs walked one by one before the layout is used to find the last
#: µm per ResolutionUnit (2: inch, 3: centimeter)
RESOLUTION_UM = {2: 25400.0, 3: 10000.0}
SCREEN_DPI = {72.0, 96.0, 150.0, 300.0}  # resolutions that say nothing about the sample


def summarize_tiff(fh: Any, size: int | None = None) -> dict[str, Any]:
    """The ``file_summaries`` facts of a TIFF file object (seekable, binary)."""
    import tifffile

    try:
        tif = tifffile.TiffFile(fh, _multifile=False)
    except tifffile.TiffFileError as e:
        raise FormatError(f"not a TIFF file ({misnamed(fh, 'tiff') or e})") from None
    except (struct.error, ValueError, IndexError) as e:
        raise FormatError(f"damaged TIFF header ({e})") from None
    with tif:
        page = tif.pages.first
        facts: dict[str, Any] = {
            "format": "tiff",
            "dtype": str(page.dtype) if page.dtype is not None else None,
            "compressor": _compression(page),
            "chunks": [int(page.tilelength), int(page.tilewidth)] if page.is_tiled else None,
        }
        details: dict[str, Any] = {"byteorder": tif.byteorder, "bigtiff": tif.is_bigtiff,
                                   "photometric": _name(page.photometric)}  # fmt: skip
        levels = _levels(page)
        if tif.is_ome and tif.ome_metadata:
            facts.update(_ome(tif.ome_metadata, details))
            facts["format"] = "ome-tiff"
        elif tif.is_imagej and tif.imagej_metadata is not None:
            facts.update(_imagej(tif, page, details))
        elif tif.is_shaped and tif.shaped_metadata:
            shaped = tif.shaped_metadata[0]
            shape = [int(x) for x in shaped.get("shape") or page.shape]
            facts["shape"] = shape
            facts["axes"] = str(shaped.get("axes") or "").lower() or _generic_axes(len(shape))
            facts["pages"], facts["pages_known"] = _count_pages(tif, size, page)
            details["shaped"] = {k: v for k, v in shaped.items() if _jsonable(v)}
        if "shape" not in facts:  # a plain TIFF: pages of the first page's shape
            pages, known = _count_pages(tif, size, page)
            shape = ([pages] if pages > 1 else []) + [int(x) for x in page.shape]
            facts.update(shape=shape, pages=pages, pages_known=known)
            facts["axes"] = ("i" if pages > 1 else "") + _page_axes(page)
        if "voxel_size" not in facts:
            xy = _resolution_um(page)
            if xy is not None:
                facts["voxel_size"] = [xy[1], xy[0]]
                facts["voxel_um"] = max(xy)
        if levels:
            facts["n_levels"] = len(levels) + 1
            facts["level_shapes"] = [[int(x) for x in page.shape], *levels]
        else:
            facts.setdefault("n_levels", 1)
        facts["details"] = json.dumps(details, default=str, sort_keys=True)
        return facts


def _name(value: Any) -> str | None:
    return getattr(value, "name", None) or (str(value) if value is not None else None)


def _compression(page: Any) -> str | None:
    name = _name(page.compression)
    return None if name in (None, "NONE") else str(name).lower()


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def _page_axes(page: Any) -> str:
    axes = str(getattr(page, "axes", "") or "").lower()
    return axes if len(axes) == len(page.shape) else _generic_axes(len(page.shape))


def _generic_axes(n: int) -> str:
    return "yx" if n == 2 else "yxs" if n == 3 else "?" * n


def _levels(page: Any) -> list[list[int]]:
    """Shapes of a pyramid's SubIFD levels (read only when the first page has some)."""
    out = []
    for i in range(len(page.subifds or ()))[:16]:
        try:
            sub = page.pages[i] if hasattr(page, "pages") else None
        except Exception:  # noqa: BLE001 - a damaged SubIFD: the levels we could read
            break
        if sub is not None and getattr(sub, "shape", None):
            out.append([int(x) for x in sub.shape])
    return out


def _resolution_um(page: Any) -> tuple[float, float] | None:
    """(x, y) µm per pixel from XResolution/YResolution, when they describe the sample."""
    unit = int(getattr(page, "resolutionunit", 1) or 1)
    if unit not in RESOLUTION_UM:
        return None
    try:
        (xn, xd), (yn, yd) = page.tags["XResolution"].value, page.tags["YResolution"].value
    except (KeyError, TypeError, ValueError):
        return None
    if not (xn and xd and yn and yd):
        return None
    x, y = xn / xd, yn / yd
    if unit == 2 and x in SCREEN_DPI and y in SCREEN_DPI:
        return None
    return round(RESOLUTION_UM[unit] / x, 9), round(RESOLUTION_UM[unit] / y, 9)


# -- OME-XML ------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ome(xml: str, details: dict[str, Any]) -> dict[str, Any]:
    """Facts from the OME-XML of the first IFD: the first Image's Pixels and Channels."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise FormatError(f"the OME-XML description is damaged ({e})") from None
    images = [el for el in root if _local(el.tag) == "Image"]
    if not images:
        raise FormatError("the OME-XML describes no Image")
    pixels = next((el for el in images[0] if _local(el.tag) == "Pixels"), None)
    if pixels is None:
        raise FormatError("the OME-XML Image has no Pixels")
    a = pixels.attrib

    def size(axis: str) -> int:
        try:
            return max(1, int(a.get(f"Size{axis}", "1")))
        except ValueError:
            return 1

    order = a.get("DimensionOrder", "XYZCT").upper()
    axes = [ax for ax in reversed(order) if ax in "XYZCT"]  # slowest first
    samples = max((int(c.get("SamplesPerPixel", "1") or 1) for c in pixels if _local(c.tag) == "Channel"), default=1)  # fmt: skip
    shape = [size(ax) for ax in axes]
    facts: dict[str, Any] = {
        "shape": shape,
        "axes": "".join(axes).lower(),
        "dtype": a.get("Type") or None,
        "n_channels": size("C"),
        "n_timepoints": size("T"),
    }
    planes = size("Z") * size("C") * size("T") // max(1, samples)
    facts["pages"] = planes * len(images)
    facts["pages_known"] = True
    voxel: list[float] = []
    for ax in "ZYX":
        value = a.get(f"PhysicalSize{ax}")
        if value is None:
            if ax == "Z" and size("Z") == 1:
                continue
            voxel = []
            break
        unit = a.get(f"PhysicalSize{ax}Unit", "µm")
        factor = LENGTH_UM.get(unit.lower()) or LENGTH_UM.get(unit)
        try:
            voxel.append(round(float(value) * (factor or 1.0), 9))
        except ValueError:
            voxel = []
            break
    if voxel:
        facts["voxel_size"] = voxel
        facts["voxel_um"] = max(voxel)
    step = a.get("TimeIncrement")
    if step is not None:
        try:
            facts["time_step"] = float(step) * SECONDS.get(a.get("TimeIncrementUnit", "s").lower(), 1.0)  # fmt: skip
        except ValueError:
            pass
    channels = [c for c in pixels if _local(c.tag) == "Channel"]
    names = [c.get("Name") or c.get("Fluor") or "" for c in channels]
    if any(names):  # unnamed channels (only an ID) name nothing a search could ask for
        facts["channels"] = [n or f"channel {i}" for i, n in enumerate(names)]
    if any(c.get("Color") for c in channels):
        facts["channel_colors"] = [_rgba(c.get("Color")) for c in channels]
    details["ome"] = {
        "images": len(images),
        "pixels": dict(a),
        "channels": [dict(c.attrib) for c in channels],
    }
    instrument = [el for el in root if _local(el.tag) == "Instrument"]
    if instrument:
        details["ome"]["objectives"] = [
            dict(o.attrib) for o in instrument[0] if _local(o.tag) == "Objective"
        ]
    return facts


def _rgba(value: str | None) -> str:
    """OME's signed 32-bit RGBA integer → ``RRGGBB``."""
    if value is None:
        return ""
    try:
        v = int(value) & 0xFFFFFFFF
    except ValueError:
        return ""
    return f"{(v >> 24) & 255:02X}{(v >> 16) & 255:02X}{(v >> 8) & 255:02X}"


# -- ImageJ ---------------------------------------------------------------------------------


def _imagej(tif: Any, page: Any, details: dict[str, Any]) -> dict[str, Any]:
    meta = dict(tif.imagej_metadata or {})
    frames, slices = int(meta.get("frames", 1) or 1), int(meta.get("slices", 1) or 1)
    channels = int(meta.get("channels", 1) or 1)
    images = int(meta.get("images", frames * slices * channels) or 1)
    yx = [int(x) for x in page.shape[-2:]] if page.shape else []
    shape = [frames, slices, channels, *yx]
    facts: dict[str, Any] = {
        "format": "tiff",
        "shape": shape,
        "axes": "tzcyx",
        "n_channels": channels,
        "n_timepoints": frames,
        "pages": images,
        "pages_known": True,
    }
    unit = str(meta.get("unit") or "").replace("\\u00B5", "µ").lower()
    factor = LENGTH_UM.get(unit) or (1.0 if unit in ("micron", "microns") else None)
    xy = None
    try:
        (xn, xd), (yn, yd) = page.tags["XResolution"].value, page.tags["YResolution"].value
        if xn and yn:
            xy = (xd / xn, yd / yn)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        xy = None
    if factor is not None and xy is not None:
        z = float(meta.get("spacing") or 0) * factor
        voxel = ([round(z, 9)] if slices > 1 and z else []) + [round(xy[1] * factor, 9), round(xy[0] * factor, 9)]  # fmt: skip
        if slices > 1 and not z:
            voxel = []
        if voxel:
            facts["voxel_size"] = voxel
            facts["voxel_um"] = max(voxel)
    if meta.get("finterval"):
        facts["time_step"] = float(meta["finterval"])
    labels = meta.get("Labels")
    if isinstance(labels, list) and channels > 1 and len(labels) >= channels:
        facts["channels"] = [str(x) for x in labels[:channels]]
    details["imagej"] = {k: v for k, v in meta.items() if _jsonable(v) and k not in ("Ranges", "LUTs")}  # fmt: skip
    return facts


# -- the IFD chain ------------------------------------------------------------------------


def _count_pages(tif: Any, size: int | None, page: Any) -> tuple[int, bool]:
    """(pages, whether that is all): walk the IFD chain `WALK` pages; if it goes on and
    its IFDs are evenly spaced, read the IFD where the last one would be."""
    fh = tif.filehandle
    big = tif.is_bigtiff
    order = tif.byteorder
    count_fmt, entry, off_fmt = ("Q", 20, "Q") if big else ("H", 12, "I")

    def next_of(offset: int) -> int | None:
        """The offset of the IFD after the one at `offset` (None: not an IFD)."""
        try:
            fh.seek(offset)
            raw = fh.read(struct.calcsize(count_fmt))
            (n,) = struct.unpack(order + count_fmt, raw)
            if not 0 < n < 4096:
                return None
            fh.seek(offset + len(raw) + n * entry)
            raw = fh.read(struct.calcsize(off_fmt))
            return int(struct.unpack(order + off_fmt, raw)[0])
        except (struct.error, OSError, ValueError):
            return None

    offsets = [int(page.offset)]
    nxt = next_of(offsets[0])
    while nxt and len(offsets) < WALK:
        if nxt in offsets:  # a chain that loops back (damaged): what was seen, not all
            return len(offsets), False
        offsets.append(nxt)
        nxt = next_of(nxt)
    if not nxt:
        return len(offsets), True
    end = size if size is not None else _size_of(fh)
    steps = {b - a for a, b in zip(offsets[1:], offsets[2:], strict=False)} | {nxt - offsets[-1]}
    if len(steps) == 1 and end:
        step = steps.pop()
        if step > 0:
            k = (end - 1 - nxt) // step  # IFDs after `nxt` that fit before the end
            if next_of(nxt + k * step) == 0:  # the predicted last IFD is one, and ends the chain
                return len(offsets) + 1 + int(k), True
    return len(offsets) + 1, False


def _size_of(fh: Any) -> int | None:
    try:
        return int(fh.size)
    except (AttributeError, TypeError, ValueError):
        return None
