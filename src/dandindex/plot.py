"""Plots of NWB objects, by neurodata type, reading only the slices shown.

`plot_object(h5file, "/processing/ophys/DfOverF/DfOverF", start=0, stop=1000, columns=range(5))`
returns a matplotlib ``Figure`` (no pyplot, no ``show()``). Supported:

- TimeSeries family (RoiResponseSeries, SpatialSeries, PatchClampSeries, generic): lines
  against time from ``starting_time``/``rate`` or ``timestamps``, the unit on the axis;
- ElectricalSeries: channels stacked with offsets, labelled from the electrodes table;
- Units: a spike raster for a time window, colored by electrode group where known;
- images (Image/GrayscaleImage/RGBImage) and frames of ImageSeries/TwoPhotonSeries: imshow;
- PlaneSegmentation: ROI outlines over the mean or max image of the plane;
- spike waveforms: a Units table's ``waveform_mean`` (one trace per unit) and the snippets of a
  SpikeEventSeries (overlaid, their mean in bold);
- pose estimation (ndx-pose ``PoseEstimation``): the keypoints of one frame with the skeleton.

Anything else raises a `DandindexError` naming what can be plotted in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dandindex.errors import DandindexError

PLOTTABLE = (
    "TimeSeries",
    "Units",
    "Image",
    "ImageSeries",
    "PlaneSegmentation",
    "Images",
    "PoseEstimation",
)
WAVEFORMS = ("waveform_mean", "waveform_sd")


def _text(value: Any) -> str | None:
    from dandindex.nwb.walk import text

    return text(value)


def _kinds(obj: Any) -> list[str]:
    from dandindex.nwb.hierarchy import TypeHierarchy

    ndtype = _text(obj.attrs.get("neurodata_type"))
    if not ndtype:
        return []
    return [ndtype, *TypeHierarchy().ancestors(ndtype)]


def plottable_objects(f: Any) -> list[str]:
    """Paths of objects in the file that `plot_object` can draw."""
    out: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if name.startswith("specifications"):
            return
        kinds = _kinds(obj)
        if any(k in PLOTTABLE for k in kinds) or _is_waveform_column(obj):
            out.append("/" + name)

    f.visititems(visit)
    return sorted(out)


def _is_waveform_column(obj: Any) -> bool:
    """A Units table's mean (or sd) waveform column."""
    name = obj.name.rsplit("/", 1)[-1]
    return name in WAVEFORMS and "Units" in _kinds(obj.parent)


def _figure(ax: Any) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), dpi=100)
    return fig, fig.add_subplot(1, 1, 1)


def _window(n: int, start: int | None, stop: int | None, default: int = 1000) -> tuple[int, int]:
    a = max(0, start or 0)
    b = min(n, stop if stop is not None else a + default)
    if b <= a:
        raise DandindexError(f"Empty window [{start}, {stop}) for an object with {n} samples.")
    return a, b


def _times(group: Any, a: int, b: int) -> tuple[Any, str]:
    import numpy as np

    if "timestamps" in group:
        return np.asarray(group["timestamps"][a:b]), "time (s)"
    if "starting_time" in group:
        st = group["starting_time"]
        rate = float(st.attrs.get("rate", 1.0))
        t0 = float(st[()])
        return t0 + np.arange(a, b) / rate, "time (s)"
    return np.arange(a, b), "sample"


def plot_object(
    f: Any,
    object_path: str,
    *,
    start: int | None = None,
    stop: int | None = None,
    columns: Iterable[int] | None = None,
    channels: Iterable[int] | None = None,
    ax: Any = None,
) -> Any:
    """Plot one object of an open ``h5py.File``; returns the matplotlib Figure."""
    obj = f.get(object_path)
    if obj is None:
        raise DandindexError(
            f"No object {object_path!r} in this file. Plottable objects: {', '.join(plottable_objects(f)) or 'none'}."
        )
    kinds = _kinds(obj)
    if _is_waveform_column(obj):
        return _waveform_column(obj, start, stop, ax)
    if "PoseEstimation" in kinds:
        return _pose(obj, start or 0, ax)
    if "SpikeEventSeries" in kinds:
        return _spike_events(obj, start, stop, ax)
    if "PlaneSegmentation" in kinds:
        return _plane_segmentation(f, obj, ax)
    if "Units" in kinds:
        return _units(f, obj, start, stop, ax)
    if "ElectricalSeries" in kinds:
        return _electrical(f, obj, start, stop, channels or columns, ax)
    if "ImageSeries" in kinds and "data" in obj and len(obj["data"].shape) >= 3:
        return _image(obj["data"], start or 0, object_path, ax)
    if "TimeSeries" in kinds:
        return _timeseries(obj, start, stop, columns or channels, ax)
    if "Image" in kinds:
        return _image(obj, None, object_path, ax)
    if "Images" in kinds:
        first = sorted(obj.keys())
        if first:
            return _image(obj[first[0]], None, f"{object_path}/{first[0]}", ax)
    raise DandindexError(
        f"No plot for type {kinds[0] if kinds else 'untyped'} ({object_path}). "
        f"Plottable objects in this file: {', '.join(plottable_objects(f)) or 'none'}."
    )


def _timeseries(
    group: Any, start: int | None, stop: int | None, columns: Iterable[int] | None, ax: Any
) -> Any:
    import numpy as np

    data = group["data"]
    a, b = _window(data.shape[0], start, stop)
    cols = list(columns) if columns is not None else None
    if data.ndim == 1:
        values = np.asarray(data[a:b])[:, None]
        labels = [group.name.rsplit("/", 1)[-1]]
    else:
        idx = cols if cols is not None else list(range(min(data.shape[1], 10)))
        values = np.asarray(data[a:b, sorted(idx)] if idx == sorted(idx) else data[a:b][:, idx])
        labels = [f"column {i}" for i in idx]
    t, xlabel = _times(group, a, b)
    fig, ax = _figure(ax)
    for i in range(values.shape[1]):
        ax.plot(t, values[:, i], lw=0.8, label=labels[i])
    unit = _text(data.attrs.get("unit")) or ""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(unit)
    ax.set_title(f"{group.name} [{_text(group.attrs.get('neurodata_type'))}]")
    if values.shape[1] <= 10:
        ax.legend(fontsize=7, loc="upper right")
    return fig


def _electrical(
    f: Any, group: Any, start: int | None, stop: int | None, channels: Iterable[int] | None, ax: Any
) -> Any:
    import numpy as np

    data = group["data"]
    a, b = _window(data.shape[0], start, stop, default=3000)
    n_ch = data.shape[1] if data.ndim > 1 else 1
    chans = sorted(channels) if channels is not None else list(range(min(n_ch, 16)))
    values = np.asarray(data[a:b, chans] if data.ndim > 1 else data[a:b][:, None], dtype=float)
    conversion = float(data.attrs.get("conversion", 1.0))
    values *= conversion
    labels = [f"ch {c}" for c in chans]
    region = group.get("electrodes")
    table = f.get("/general/extracellular_ephys/electrodes")
    if region is not None and table is not None and "location" in table:
        try:
            rows = np.asarray(region[()])
            locs = table["location"][()]
            labels = [f"{rows[c]}: {_text(locs[rows[c]])}" for c in chans]
        except (IndexError, KeyError, ValueError, TypeError):
            pass
    spread = float(np.nanstd(values)) * 6 or 1.0
    t, xlabel = _times(group, a, b)
    fig, ax = _figure(ax)
    for i in range(values.shape[1]):
        ax.plot(t, values[:, i] + i * spread, lw=0.6)
    ax.set_yticks([i * spread for i in range(len(labels))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_title(f"{group.name} (offset per channel; {_text(data.attrs.get('unit')) or 'volts'})")
    return fig


def _units(f: Any, units: Any, start: float | None, stop: float | None, ax: Any) -> Any:
    import numpy as np

    times = np.asarray(units["spike_times"][()])
    index = (
        np.asarray(units["spike_times_index"][()])
        if "spike_times_index" in units
        else np.array([len(times)])
    )
    t0 = float(start) if start is not None else float(times.min()) if times.size else 0.0
    t1 = float(stop) if stop is not None else float(times.max()) if times.size else 1.0
    groups: list[str | None] = [None] * len(index)
    table = f.get("/general/extracellular_ephys/electrodes")
    if "electrodes" in units and table is not None and "location" in table:
        try:
            el = np.asarray(units["electrodes"][()])
            el_index = np.asarray(units["electrodes_index"][()])
            locs = table["location"][()]
            lo = 0
            for u, hi in enumerate(el_index):
                groups[u] = _text(locs[el[lo]]) if hi > lo else None
                lo = hi
        except (KeyError, IndexError, ValueError, TypeError):
            pass
    names = sorted({g for g in groups if g})
    fig, ax = _figure(ax)
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    lo = 0
    for u, hi in enumerate(index):
        spikes = times[lo:hi]
        spikes = spikes[(spikes >= t0) & (spikes <= t1)]
        color = None
        group = groups[u]
        if group:
            color = cmap(names.index(group) % 10)
        ax.vlines(spikes, u + 0.6, u + 1.4, colors=color or "k", lw=0.8)
        lo = hi
    ax.set_xlim(t0, t1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("unit")
    ax.set_title(f"{units.name}: {len(index)} units" + (f" ({', '.join(names)})" if names else ""))
    return fig


def _image(data: Any, frame: int | None, title: str, ax: Any) -> Any:
    import numpy as np

    img = np.asarray(data[frame] if frame is not None else data[()], dtype=float)
    fig, ax = _figure(ax)
    im = ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    fig.colorbar(im, ax=ax)
    ax.set_title(title + (f" frame {frame}" if frame is not None else ""))
    return fig


def _plane_segmentation(f: Any, ps: Any, ax: Any) -> Any:
    import numpy as np

    if "image_mask" not in ps:
        raise DandindexError(
            f"{ps.name} stores no image_mask (pixel or voxel masks are not drawn yet)."
        )
    masks = np.asarray(ps["image_mask"][()])
    background = None
    module = ps.parent.parent
    for candidate in ("max", "mean", "maximum", "average"):
        for obj in module.values():
            if _text(obj.attrs.get("neurodata_type")) == "Images" and candidate in obj:
                background = np.asarray(obj[candidate][()], dtype=float)
                break
        if background is not None:
            break
    if background is None or background.shape != masks.shape[1:]:
        background = masks.max(axis=0)
    fig, ax = _figure(ax)
    ax.imshow(background, cmap="gray")
    for m in masks:
        if m.max() > 0:
            ax.contour(m, levels=[0.5 * m.max()], colors="yellow", linewidths=0.8)
    ax.set_title(f"{ps.name}: {len(masks)} ROIs")
    return fig


def _waveform_column(column: Any, start: int | None, stop: int | None, ax: Any) -> Any:
    """One trace per unit (units `start`..`stop`, first 20 by default), first channel."""
    import numpy as np

    a, b = _window(column.shape[0], start, stop, default=20)
    values = np.asarray(column[a:b], dtype=float)
    if values.ndim == 3:  # (units, samples, channels): the first channel
        values = values[:, :, 0]
    rate = column.attrs.get("sampling_rate")
    x = np.arange(values.shape[1], dtype=float)
    xlabel = "sample"
    if rate:
        x, xlabel = x / float(rate) * 1000.0, "time (ms)"
    fig, ax = _figure(ax)
    for i, trace in enumerate(values):
        ax.plot(x, trace, lw=0.9, label=f"unit {a + i}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_text(column.attrs.get("unit")) or "")
    if len(values) <= 10:
        ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"{column.name}: {len(values)} units")
    return fig


def _spike_events(group: Any, start: int | None, stop: int | None, ax: Any) -> Any:
    """Snippets of a SpikeEventSeries (events `start`..`stop`), first channel, mean in bold."""
    import numpy as np

    data = group["data"]
    a, b = _window(data.shape[0], start, stop, default=50)
    values = np.asarray(data[a:b], dtype=float) * float(data.attrs.get("conversion", 1.0))
    if values.ndim == 3:  # (events, channels, samples): the first channel
        values = values[:, 0, :]
    fig, ax = _figure(ax)
    x = np.arange(values.shape[1])
    for trace in values:
        ax.plot(x, trace, lw=0.5, color="0.6")
    ax.plot(x, values.mean(axis=0), lw=2.0, color="C3", label="mean")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("sample")
    ax.set_ylabel(_text(data.attrs.get("unit")) or "volts")
    ax.set_title(f"{group.name}: events {a}-{b - 1} of {data.shape[0]}")
    return fig


def _pose(pe: Any, frame: int, ax: Any) -> Any:
    """The keypoints of every PoseEstimationSeries of `pe` at `frame`, joined by the skeleton."""
    import numpy as np

    names: list[str] = []
    points: list[Any] = []
    for name, obj in sorted(pe.items()):
        if _text(obj.attrs.get("neurodata_type")) == "PoseEstimationSeries" and "data" in obj:
            data = obj["data"]
            if frame >= data.shape[0]:
                raise DandindexError(
                    f"Frame {frame} is past the end of {obj.name} ({data.shape[0]} frames)."
                )
            names.append(name)
            points.append(np.asarray(data[frame], dtype=float)[:2])
    if not points:
        raise DandindexError(f"{pe.name} holds no PoseEstimationSeries to draw.")
    xy = np.vstack(points)
    fig, ax = _figure(ax)
    skeleton = next(  # a link named after the Skeleton (ndx-pose >= 0.2) or "skeleton"
        (o for o in pe.values() if _text(o.attrs.get("neurodata_type")) == "Skeleton"), None
    )
    if skeleton is not None and "edges" in skeleton and "nodes" in skeleton:
        nodes = [_text(n) for n in skeleton["nodes"][()]]
        for i, j in np.asarray(skeleton["edges"][()]):
            if nodes[i] in names and nodes[j] in names:
                p, q = xy[names.index(nodes[i])], xy[names.index(nodes[j])]
                ax.plot([p[0], q[0]], [p[1], q[1]], color="0.5", lw=1.5)
    ax.scatter(xy[:, 0], xy[:, 1], c=[f"C{i % 10}" for i in range(len(xy))], s=40, zorder=3)
    for (x, y), name in zip(xy, names, strict=True):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    video = pe.get("source_video")
    size = pe.get("dimensions") or (video.get("dimension") if video is not None else None)
    if size is not None:  # the video frame's width and height, in pixels
        width, height = np.asarray(size[()]).reshape(-1)[:2]
        ax.set_xlim(0, float(width))
        ax.set_ylim(float(height), 0)
    else:
        ax.invert_yaxis()  # image coordinates: y grows downwards
    ax.set_aspect("equal")
    ax.set_title(f"{pe.name}: frame {frame}, {len(names)} keypoints")
    return fig
