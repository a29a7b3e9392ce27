"""Plots of NWB objects, by neurodata type, reading only the slices shown.

`plot_object(h5file, "/processing/ophys/DfOverF/DfOverF", start=0, stop=1000, columns=range(5))`
returns a matplotlib ``Figure`` (no pyplot, no ``show()``) that also shows itself in a
notebook. Titles name the object and what is shown, with the dandiset and file above when a
`PlotContext` is given; axes carry units. Supported:

- TimeSeries family: lines against time; several columns stacked with an offset and labelled
  (ROI ids for ΔF/F and fluorescence), a scale bar in the series' unit;
- ElectricalSeries: channels stacked, labelled by electrode and brain area, a scale bar in µV
  or mV;
- Units: a spike raster for a time window, coloured by brain area, with a legend;
- images (Image/GrayscaleImage/RGBImage) and frames of ImageSeries/TwoPhotonSeries, in pixels
  with a colorbar;
- PlaneSegmentation: ROI outlines numbered by ROI id over the plane's max (else mean)
  projection, named in the title;
- spike waveforms: a Units table's ``waveform_mean`` (one trace per unit) and the snippets of
  a SpikeEventSeries (overlaid, their mean in bold);
- pose estimation (ndx-pose ``PoseEstimation``): the keypoints of one frame with the skeleton.

Windows and channels are checked first: out of range is one sentence with the valid range.
Anything else raises a `DandindexError` naming what can be plotted in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dandindex.errors import DandindexError
from dandindex.plot.common import PlotContext, kinds

__all__ = ["PLOTTABLE", "PlotContext", "plot_object", "plottable_objects"]

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


def is_plottable(types: Iterable[str], path: str = "") -> bool:
    """Whether an object of these types (its type and ancestors) can be plotted."""
    return any(t in PLOTTABLE for t in types) or path.rsplit("/", 1)[-1] in WAVEFORMS


def plottable_objects(f: Any) -> list[str]:
    """Paths of objects in the file that `plot_object` can draw."""
    out: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if name.startswith("specifications"):
            return
        if any(k in PLOTTABLE for k in kinds(obj)) or _is_waveform_column(obj):
            out.append("/" + name)

    f.visititems(visit)
    return sorted(out)


def _is_waveform_column(obj: Any) -> bool:
    """A Units table's mean (or sd) waveform column."""
    name = obj.name.rsplit("/", 1)[-1]
    return name in WAVEFORMS and "Units" in kinds(obj.parent)


def plot_object(
    f: Any,
    object_path: str,
    *,
    start: float | None = None,
    stop: float | None = None,
    columns: Iterable[int] | None = None,
    channels: Iterable[int] | None = None,
    ax: Any = None,
    context: PlotContext | None = None,
    video: Any = None,
) -> Any:
    """Plot one object of an open ``h5py.File``; returns the matplotlib Figure.

    `start`/`stop` are seconds for a Units raster, else sample (frame, event, unit) numbers.
    `video` (seconds → (RGB frame, its time)): the video a PoseEstimation or an external
    ImageSeries names, whose frame is then drawn (under the keypoints)."""
    from dandindex.plot import images, series, units

    obj = f.get(object_path)
    if obj is None:
        raise DandindexError(
            f"No object {object_path!r} in this file. Plottable objects: {', '.join(plottable_objects(f)) or 'none'}."
        )
    types = kinds(obj)
    if "Units" in types:
        return units.raster(f, obj, start, stop, ax, context)
    start = None if start is None else int(start)
    stop = None if stop is None else int(stop)
    if _is_waveform_column(obj):
        return series.waveform_column(obj, start, stop, ax, context)
    if "PoseEstimation" in types:
        if video is not None:
            return images.pose_on_video(obj, start or 0, video, ax, context)
        return images.pose(obj, start or 0, ax, context)
    if "ImageSeries" in types and video is not None and "external_file" in obj:
        return images.external_frame(obj, start or 0, video, ax, context)
    if "SpikeEventSeries" in types:
        return series.spike_events(obj, start, stop, ax, context)
    if "PlaneSegmentation" in types:
        return images.plane_segmentation(f, obj, ax, context)
    if "ElectricalSeries" in types:
        return series.electrical(f, obj, start, stop, channels or columns, ax, context)
    if "ImageSeries" in types and "data" in obj and len(obj["data"].shape) >= 3:
        return images.image(obj["data"], start or 0, object_path, ax, context)
    if "TimeSeries" in types:
        return series.timeseries(f, obj, types, start, stop, columns or channels, ax, context)
    if "Image" in types:
        return images.image(obj, None, object_path, ax, context)
    if "Images" in types:
        first = sorted(obj.keys())
        if first:
            return images.image(obj[first[0]], None, f"{object_path}/{first[0]}", ax, context)
    raise DandindexError(
        f"No plot for type {types[0] if types else 'untyped'} ({object_path}). "
        f"Plottable objects in this file: {', '.join(plottable_objects(f)) or 'none'}."
    )
