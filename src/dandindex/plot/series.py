"""Traces: TimeSeries (ΔF/F and fluorescence stacked by ROI), ElectricalSeries (stacked
channels with a scale bar), spike event snippets and a Units table's mean waveforms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dandindex.plot.common import (
    PlotContext,
    new_figure,
    nice,
    pick,
    scale_bar,
    text,
    times,
    titled,
    unit_of,
    window,
)

VOLT_SCALES = ((1e-6, "µV"), (1e-3, "mV"), (1.0, "V"))


def _roi_ids(f: Any, group: Any, cols: list[int]) -> list[str] | None:
    """The ids of the ROIs a RoiResponseSeries' columns are (from its `rois` region)."""
    import numpy as np

    try:
        region = group["rois"]
        rows = np.asarray(region[()])
        table = region.attrs.get("table")
        ids = np.asarray(f[table]["id"][()]) if table is not None else None
        return [str(ids[rows[c]]) if ids is not None else str(rows[c]) for c in cols]
    except (KeyError, IndexError, TypeError, ValueError, OSError):
        return None


def _area(location: str | None) -> str:
    """An electrode's location as its atlas acronym when it has one, else the raw text; a
    placeholder ("brain area", "unknown", "N/A") says nothing: empty."""
    from dandindex.vocab.areas import parse_location

    parsed = parse_location(location or "")
    if parsed.areas:
        return parsed.areas[0].acronym
    return "" if parsed.placeholder else (location or "")[:24]


def timeseries(
    f: Any,
    group: Any,
    kinds: list[str],
    start: int | None,
    stop: int | None,
    columns: Iterable[int] | None,
    ax: Any,
    context: PlotContext | None,
) -> Any:
    """Lines against time; several columns (ROIs, channels) stacked with an offset and
    labelled (ROI ids for a RoiResponseSeries), the unit on the axis."""
    import numpy as np

    data = group["data"]
    name = group.name
    a, b = window(data.shape[0], start, stop, name)
    unit = unit_of(data)
    roi = "RoiResponseSeries" in kinds
    parent_type = text(group.parent.attrs.get("neurodata_type")) or ""
    is_dff = roi and ("dfoverf" in name.lower() or parent_type == "DfOverF")
    quantity = "ΔF/F" if is_dff else ("fluorescence" if roi else (unit or "value"))
    t, xlabel = times(group, a, b)
    fig, ax = new_figure(ax, (9, 5))
    if data.ndim == 1:
        ax.plot(t, np.asarray(data[a:b]), lw=0.8, color="C0")
        ax.set_ylabel(f"{quantity} ({unit})" if unit and unit != quantity else quantity)
        shown = f"{b - a:,} samples"
    else:
        cols = pick(columns, data.shape[1], name, "columns", default=10)
        values = np.asarray(data[a:b, cols], dtype=float)
        values -= np.nanmedian(values, axis=0)  # each trace on its own baseline
        labels = (_roi_ids(f, group, cols) if roi else None) or [str(c) for c in cols]
        spread = float(np.nanpercentile(values, 99) - np.nanpercentile(values, 1)) or 1.0
        for i in range(values.shape[1]):
            ax.plot(t, values[:, i] + i * spread, lw=0.8, color=f"C{i % 10}")
        ax.set_yticks([i * spread for i in range(len(cols))])
        ax.set_yticklabels(labels, fontsize=8)
        ax.set_ylabel("ROI" if roi else "column")
        bar = nice(spread / 2)
        scale_bar(ax, bar, f"{bar:g} {'ΔF/F' if is_dff else unit or 'a.u.'}")
        shown = f"{len(cols)} {'ROIs' if roi else 'columns'}, {b - a:,} samples"
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return titled(fig, ax, f"{quantity} · {name}  ({shown})", context)


def electrical(
    f: Any,
    group: Any,
    start: int | None,
    stop: int | None,
    channels: Iterable[int] | None,
    ax: Any,
    context: PlotContext | None,
) -> Any:
    """Channels stacked with an offset, in the series' unit (conversion applied), labelled by
    electrode and location, with a scale bar."""
    import numpy as np

    data = group["data"]
    name = group.name
    a, b = window(data.shape[0], start, stop, name, default=3000)
    n_ch = data.shape[1] if data.ndim > 1 else 1
    chans = pick(channels, n_ch, name, "channels")
    values = np.asarray(data[a:b, chans] if data.ndim > 1 else data[a:b][:, None], dtype=float)
    values *= float(data.attrs.get("conversion", 1.0))
    unit = unit_of(data, "volts")
    scale, shown_unit = 1.0, unit
    if unit.lower() in ("volts", "v"):
        spread_v = float(np.nanstd(values)) or 1e-6
        scale, shown_unit = next(
            ((s, u) for s, u in VOLT_SCALES if spread_v < 1000 * s), (1.0, "V")
        )
    values /= scale
    values -= np.nanmedian(values, axis=0)  # each channel on its own baseline
    labels = [f"ch {c}" for c in chans]
    ylabel = "channel"
    region = group.get("electrodes")
    table = f.get("/general/extracellular_ephys/electrodes")
    if region is not None and table is not None and "location" in table:
        try:
            rows = np.asarray(region[()])
            locs = table["location"][()]
            areas = [_area(text(locs[rows[c]])) for c in chans]
            if any(areas):
                labels = [f"{rows[c]} · {a}" if a else str(rows[c]) for c, a in zip(chans, areas, strict=True)]  # fmt: skip
                ylabel = "electrode · location"
            else:  # only placeholders: the electrodes' numbers
                labels = [str(rows[c]) for c in chans]
                ylabel = "electrode"
        except (IndexError, KeyError, ValueError, TypeError):
            pass
    spread = float(np.nanstd(values)) * 6 or 1.0
    t, xlabel = times(group, a, b)
    if xlabel == "time (s)" and len(t) > 1 and t[-1] - t[0] < 1.0:  # a short window: ms
        t, xlabel = (t - t[0]) * 1000.0, f"time (ms from {t[0]:.3f} s)"
    fig, ax = new_figure(ax, (9, 5.5))
    for i in range(values.shape[1]):
        ax.plot(t, values[:, i] + i * spread, lw=0.6, color="0.15")
    ax.set_yticks([i * spread for i in range(len(labels))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    bar = nice(spread / 2)
    scale_bar(ax, bar, f"{bar:g} {shown_unit}")
    return titled(
        fig,
        ax,
        f"{name}  ({len(chans)} channels, {(b - a):,} samples, offset per channel)",
        context,
    )


def spike_events(
    group: Any, start: int | None, stop: int | None, ax: Any, context: PlotContext | None
) -> Any:
    """Snippets of a SpikeEventSeries (events `start`..`stop`), first channel, mean in bold."""
    import numpy as np

    data = group["data"]
    a, b = window(data.shape[0], start, stop, group.name, "events", default=50)
    values = np.asarray(data[a:b], dtype=float) * float(data.attrs.get("conversion", 1.0))
    if values.ndim == 3:  # (events, channels, samples): the first channel
        values = values[:, 0, :]
    unit = unit_of(data, "volts")
    scale, shown_unit = 1.0, unit
    if unit.lower() in ("volts", "v"):
        peak = float(np.nanmax(np.abs(values))) or 1e-6
        scale, shown_unit = next(((s, u) for s, u in VOLT_SCALES if peak < 1000 * s), (1.0, "V"))
    values /= scale
    fig, ax = new_figure(ax)
    x = np.arange(values.shape[1])
    for trace in values:
        ax.plot(x, trace, lw=0.5, color="0.7")
    ax.plot(x, values.mean(axis=0), lw=2.0, color="#D55E00", label="mean")
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    ax.set_xlabel("sample")
    ax.set_ylabel(shown_unit)
    ax.spines[["top", "right"]].set_visible(False)
    return titled(fig, ax, f"{group.name}: events {a}-{b - 1} of {data.shape[0]:,}", context)


def waveform_column(
    column: Any, start: int | None, stop: int | None, ax: Any, context: PlotContext | None
) -> Any:
    """One mean waveform per unit (units `start`..`stop`, first 20 by default), first channel."""
    import numpy as np

    a, b = window(column.shape[0], start, stop, column.name, "units", default=20)
    values = np.asarray(column[a:b], dtype=float)
    if values.ndim == 3:  # (units, samples, channels): the first channel
        values = values[:, :, 0]
    units = column.parent
    ids = np.asarray(units["id"][a:b]) if "id" in units else np.arange(a, b)
    rate = column.attrs.get("sampling_rate")
    if rate is None and "sampling_rate" in units:
        try:
            rate = float(np.asarray(units["sampling_rate"][a]))
        except (TypeError, ValueError, IndexError):
            rate = None
    if rate is None:  # the rate of the recording the units were sorted from
        rate = _recording_rate(units.file)
    x = np.arange(values.shape[1], dtype=float)
    xlabel = "sample (the file gives no sampling rate)"
    if rate:
        x, xlabel = x / float(rate) * 1000.0, "time (ms)"
    values *= float(column.attrs.get("conversion", 1.0))
    ylabel, values = _waveform_unit(unit_of(column), values)
    fig, ax = new_figure(ax)
    for i, trace in enumerate(values):
        ax.plot(x, trace, lw=1.0, color=f"C{i % 10}", label=f"unit {ids[i]}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    if len(values) <= 12:
        ax.legend(fontsize=7, loc="upper right", frameon=False, ncol=2)
    noun = "unit" if len(values) == 1 else "units"
    return titled(fig, ax, f"mean waveforms · {column.name}  ({len(values)} {noun})", context)


def _recording_rate(f: Any) -> float | None:
    """The sampling rate of the file's first ElectricalSeries (its acquisition), if any."""
    acquisition = f.get("/acquisition")
    for obj in acquisition.values() if acquisition is not None else ():
        if text(obj.attrs.get("neurodata_type")) == "ElectricalSeries" and "starting_time" in obj:
            rate = obj["starting_time"].attrs.get("rate")
            if rate:
                return float(rate)
    return None


def _waveform_unit(unit: str, values: Any) -> tuple[str, Any]:
    """(the y label, the values) of waveforms: volts shown in µV (a spike is tens to
    hundreds of µV); values far too large to be volts (some writers store µV under
    "volts") are shown as they are stored, and the label says so."""
    import numpy as np

    peak = float(np.nanmax(np.abs(values))) if values.size else 0.0
    if unit.lower() in ("volts", "v", "volt"):
        if peak <= 0.05:
            return "amplitude (µV)", values * 1e6
        return "amplitude (as stored, likely µV: the file says volts)", values
    return f"amplitude ({unit})" if unit else "amplitude", values
