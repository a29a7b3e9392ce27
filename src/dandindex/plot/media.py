"""Previews of files that are not NWB, each from a bounded read: an OME-Zarr's lowest
resolution level (a max projection over z, or one plane), one TIFF page (the smallest level of
a pyramid), one video frame (decoded from the key frame before it), and pose keypoints drawn
over the frame of their video.

    zarr_preview(keys)        # keys: a Zarr store read by key (`dandindex.formats.source`)
    tiff_preview(fh)          # a seekable file (local, or a RangeFile over HTTP)
    video_preview(fh, 12.5)   # the frame shown 12.5 s in
"""

from __future__ import annotations

from typing import Any

from dandindex.errors import UsageError
from dandindex.plot.common import PALETTE, PlotContext, new_figure, titled

MAX_CHUNKS = 64  # chunks a Zarr preview fetches at most
MAX_PAGE_BYTES = 64 << 20  # a TIFF page larger than this is not read for a preview
SHOWN = 1024  # pixels along the longer side of a preview (strided down to it)


def _shrink(img: Any) -> Any:
    step = max(1, -(-max(img.shape[:2]) // SHOWN))
    return img[::step, ::step]


def _contrast(img: Any) -> Any:
    """Scaled to 0..1 between its 0.5th and 99.5th percentiles (a microscope's auto-contrast)."""
    import numpy as np

    img = np.asarray(img, dtype=float)
    lo, hi = np.nanpercentile(img, [0.5, 99.5]) if img.size else (0.0, 1.0)
    return np.clip((img - lo) / (hi - lo if hi > lo else 1.0), 0, 1)


def _composite(planes: list[Any], colors: list[str]) -> Any:
    """Channels blended additively in their colours (RRGGBB), as viewers show them."""
    import numpy as np

    out = np.zeros((*planes[0].shape, 3))
    for plane, color in zip(planes, colors, strict=True):
        rgb = np.array([int(color[i : i + 2], 16) / 255 for i in (0, 2, 4)])
        out += _contrast(plane)[..., None] * rgb
    return np.clip(out, 0, 1)


DEFAULT_COLORS = ["00FF00", "FF00FF", "00FFFF", "FFFF00"]


def _colors(given: list[str], n: int) -> list[str]:
    out = []
    for i in range(n):
        c = given[i] if i < len(given) else ""
        ok = len(c) == 6 and all(ch in "0123456789abcdefABCDEF" for ch in c)
        out.append(c if ok else DEFAULT_COLORS[i % len(DEFAULT_COLORS)])
    return out


def _show(
    img: Any, what: str, context: PlotContext | None, ax: Any, pixel_um: float | None,
    legend: list[tuple[str, str]] | None = None,
) -> Any:  # fmt: skip
    fig, ax = new_figure(ax, (7, 6))
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    if pixel_um:
        from dandindex.plot.common import nice

        length = nice(img.shape[1] * pixel_um / 5)  # µm: about a fifth of the width
        unit, value = ("mm", length / 1000) if length >= 1000 else ("µm", length)
        h, w = img.shape[:2]
        px = length / pixel_um
        x1, y = w * 0.96, h * 0.94
        ax.plot([x1 - px, x1], [y, y], color="white", lw=3, solid_capstyle="butt")
        ax.text(x1 - px / 2, y - h * 0.02, f"{value:g} {unit}", color="white", ha="center",
                va="bottom", fontsize=9)  # fmt: skip
    if legend:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=f"#{c}", label=n) for n, c in legend], loc="upper right",
                  fontsize=8, framealpha=0.7)  # fmt: skip
    return titled(fig, ax, what, context)


# -- OME-Zarr -------------------------------------------------------------------------------


def zarr_preview(
    keys: Any,
    *,
    z: int | None = None,
    t: int = 0,
    channels: list[int] | None = None,
    ax: Any = None,
    context: PlotContext | None = None,
) -> Any:
    """The lowest-resolution level of an OME-Zarr image: a max projection over z (or plane
    `z` of that level), time point `t`, up to four channels blended in their ``omero``
    colours; at most `MAX_CHUNKS` chunks fetched."""
    import json

    import numpy as np

    from dandindex.formats.omezarr import summarize_ngff

    facts = summarize_ngff(keys)
    if facts.get("format") != "ome-zarr":
        raise UsageError("This Zarr store holds no OME-Zarr image (no multiscales) to preview.")
    details = json.loads(facts["details"])
    prefix = (details.get("image_path") + "/") if details.get("image_path") else ""
    level = str(details["multiscales"]["datasets"][-1]["path"]).strip("/")
    axes = facts.get("axes") or ""
    array = _open_level(keys, f"{prefix}{level}")
    shape = array.shape
    index: list[Any] = []
    for name, n in zip(axes, shape, strict=True):
        if name == "t":
            if not 0 <= t < n:
                raise UsageError(f"--at {t} is outside the image's {n} time points.")
            index.append(t)
        elif name == "c":
            chans = channels if channels is not None else list(range(min(n, 4)))
            bad = [c for c in chans if not 0 <= c < n]
            if bad:
                raise UsageError(f"--channels {bad[0]} is outside the image's {n} channels (0 to {n - 1}).")  # fmt: skip
            index.append(chans)
        elif name == "z":
            if z is not None and not 0 <= z < n:
                raise UsageError(f"--at {z} is outside the lowest level's {n} z planes (0 to {n - 1}).")  # fmt: skip
            index.append(slice(None) if z is None else z)
        else:
            index.append(slice(None))
    sel = tuple(index)
    needed = _chunk_keys(array, sel)
    if len(needed) > MAX_CHUNKS and "z" in axes and z is None:  # too many: the middle plane
        z = shape[axes.index("z")] // 2
        index[axes.index("z")] = z
        sel = tuple(index)
        needed = _chunk_keys(array, sel)
    if len(needed) > MAX_CHUNKS:
        raise UsageError(
            f"Even the lowest level of this image needs {len(needed)} chunks (a preview reads "
            f"at most {MAX_CHUNKS}); open it with zarr instead."
        )
    found = keys.get_many([f"{prefix}{level}/{k}" for k in needed])
    array = _open_level(
        keys, f"{prefix}{level}", {k: found[f"{prefix}{level}/{k}"] for k in needed}
    )
    data = np.asarray(array.oindex[sel] if hasattr(array, "oindex") else array[sel], dtype=float)
    kept = [n for n, i in zip(axes, index, strict=True) if not isinstance(i, int)]
    if "z" in kept:  # max projection over z
        data = data.max(axis=kept.index("z"))
        kept.remove("z")
    names = facts.get("channels") or []
    if "c" in kept:
        c_at = kept.index("c")
        planes = [np.take(data, i, axis=c_at) for i in range(data.shape[c_at])]
        chans = index[axes.index("c")]
        colors = _colors([(facts.get("channel_colors") or [""] * 99)[i] for i in chans], len(chans))
        img = _composite(planes, colors) if len(planes) > 1 else _contrast(planes[0])
        legend = [(names[i] if i < len(names) else f"channel {i}", c) for i, c in zip(chans, colors, strict=True)]  # fmt: skip
    else:
        img, legend = _contrast(data), None
    n_levels = facts.get("n_levels") or 1
    scale = facts.get("level_shapes") or []
    factor = scale[0][-1] / shape[-1] if scale and shape[-1] else 1.0
    pixel = facts["voxel_size"][-1] * factor if facts.get("voxel_size") else None
    how = (
        "max projection over z"
        if "z" in axes and z is None
        else (f"z plane {z}" if z is not None else "")
    )
    what = f"level {n_levels - 1} of {n_levels} ({'×'.join(map(str, shape))})" + (f", {how}" if how else "")  # fmt: skip
    shown = _shrink(img)
    if pixel:
        pixel *= img.shape[1] / shown.shape[1]
    return _show(shown, what, context, ax, pixel, legend)


def _open_level(keys: Any, path: str, chunks: dict[str, bytes | None] | None = None) -> Any:
    """A Zarr array of one level over an in-memory store holding its metadata document and
    the `chunks` given (others read as the fill value)."""
    import zarr
    from zarr.core.buffer import cpu
    from zarr.storage import MemoryStore

    docs = keys.get_many([f"{path}/.zarray", f"{path}/zarr.json"])
    store: dict[str, Any] = {}
    fmt = 3 if docs.get(f"{path}/zarr.json") else 2
    for name in (".zarray", "zarr.json"):
        if docs.get(f"{path}/{name}") is not None:
            store[name] = cpu.Buffer.from_bytes(docs[f"{path}/{name}"])
    if not store:
        raise UsageError(f"The level {path!r} has no array metadata.")
    for k, v in (chunks or {}).items():
        if v is not None:
            store[k] = cpu.Buffer.from_bytes(v)
    return zarr.open_array(store=MemoryStore(store), mode="r", zarr_format=fmt)  # type: ignore[arg-type]


def _chunk_keys(array: Any, sel: tuple[Any, ...]) -> list[str]:
    """The chunk keys a selection (ints, lists of ints, full slices) touches."""
    import itertools

    ranges = []
    for s, n, c in zip(sel, array.shape, array.chunks, strict=True):
        if isinstance(s, int):
            ranges.append([s // c])
        elif isinstance(s, list):
            ranges.append(sorted({i // c for i in s}))
        else:
            ranges.append(list(range(-(-n // c))))
    return [array.metadata.encode_chunk_key(coords) for coords in itertools.product(*ranges)]


# -- TIFF -------------------------------------------------------------------------------------


def tiff_preview(
    fh: Any, *, page: int | None = None, ax: Any = None, context: PlotContext | None = None
) -> Any:
    """Page `page` (default 0; a pyramid's smallest level), strided to `SHOWN` pixels; a page
    of more than `MAX_PAGE_BYTES` is refused with a sentence."""
    import numpy as np
    import tifffile

    from dandindex.formats.tiff import summarize_tiff

    facts = summarize_tiff(fh)  # the pixel size, for a scale bar (the same first reads)
    fh.seek(0)
    with tifffile.TiffFile(fh, _multifile=False) as tif:
        first = tif.pages.first
        target: Any = first
        label = "page 0"
        if page is None and first.subifds:  # a pyramid: its smallest level
            try:
                target = first.pages[len(first.subifds) - 1]  # type: ignore[index]
                label = f"level {len(first.subifds)} of the pyramid"
            except Exception:  # noqa: BLE001 - a damaged SubIFD: the full page then
                target = first
        elif page:
            pages, known = facts.get("pages") or 1, facts.get("pages_known")
            try:
                if page < 0 or (known and page >= pages):
                    raise IndexError(page)
                target = tif.pages[page]
            except IndexError:
                count = f"{pages:,} pages (0 to {pages - 1:,})" if known else "fewer pages"
                raise UsageError(f"--at {page} is outside the file, which has {count}.") from None
            label = f"page {page}"
        size = sum(int(n) for n in (getattr(target, "databytecounts", None) or [0]))
        if size > MAX_PAGE_BYTES:
            raise UsageError(
                f"This page is {size / 1e6:.0f} MB (a preview reads at most "
                f"{MAX_PAGE_BYTES >> 20} MB): download the file to look at it."
            )
        img = np.asarray(target.asarray())
    while img.ndim > 3 or (img.ndim == 3 and img.shape[-1] not in (3, 4)):
        img = img[0]  # the first plane of a multi-sample page
    img = _contrast(img) if img.ndim == 2 else np.clip(img / max(1, img.max()), 0, 1)
    pixel = None
    if facts.get("voxel_size"):  # µm per pixel of the full page, times this level's stride
        pixel = facts["voxel_size"][-1] * first.shape[-1] / max(1, target.shape[-1])
    shown = _shrink(img)
    if pixel:
        pixel *= img.shape[1] / shown.shape[1]
    return _show(shown, f"{label} ({'×'.join(map(str, target.shape))})", context, ax, pixel)


# -- video ------------------------------------------------------------------------------------


def video_preview(
    fh: Any, seconds: float = 0.0, *, ax: Any = None, context: PlotContext | None = None
) -> Any:
    """The frame shown `seconds` into the video."""
    from dandindex.formats.video import frame_at

    frame, t = frame_at(fh, seconds)
    return _show(
        frame, f"frame at {t:.2f} s ({frame.shape[1]}×{frame.shape[0]})", context, ax, None
    )


def keypoints_over(
    frame: Any,
    points: list[tuple[str, float, float]],
    edges: list[tuple[str, str]],
    what: str,
    *,
    ax: Any = None,
    context: PlotContext | None = None,
) -> Any:
    """Pose keypoints (name, x, y in pixels) and the skeleton's edges over a video frame."""
    fig, ax = new_figure(ax, (8, 6))
    ax.imshow(frame, interpolation="nearest")
    where = {n: (x, y) for n, x, y in points}
    for a, b in edges:
        if a in where and b in where:
            ax.plot([where[a][0], where[b][0]], [where[a][1], where[b][1]], color="white", lw=1.5)
    for i, (name, x, y) in enumerate(points):
        ax.scatter([x], [y], s=60, color=PALETTE[i % len(PALETTE)], edgecolors="black", zorder=3)
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(6, 6), fontsize=8,
                    color="white", bbox={"boxstyle": "round,pad=0.15", "fc": "black", "alpha": 0.5})  # fmt: skip
    ax.set_xlim(0, frame.shape[1])
    ax.set_ylim(frame.shape[0], 0)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return titled(fig, ax, what, context)
