"""Spike rasters of a Units table, coloured by brain area with a legend."""

from __future__ import annotations

from typing import Any

from dandindex.errors import UsageError
from dandindex.plot.common import PALETTE, PlotContext, new_figure, text, titled

DEFAULT_SECONDS = 60.0


def _areas(f: Any, units: Any, n: int) -> list[str | None]:
    """Each unit's brain area: its first electrode's location, as the atlas names it."""
    import numpy as np

    from dandindex.vocab.areas import parse_location

    groups: list[str | None] = [None] * n
    table = f.get("/general/extracellular_ephys/electrodes")
    if "electrodes" not in units or table is None or "location" not in table:
        return groups
    try:
        el = np.asarray(units["electrodes"][()])
        el_index = np.asarray(units["electrodes_index"][()])
        locs = table["location"][()]
        lo = 0
        for u, hi in enumerate(el_index[:n]):
            if hi > lo:
                raw = text(locs[el[lo]]) or ""
                found = parse_location(raw).areas
                groups[u] = found[0].acronym if found else (raw[:30] or None)
            lo = hi
    except (KeyError, IndexError, ValueError, TypeError):
        pass
    return groups


def raster(
    f: Any,
    units: Any,
    start: float | None,
    stop: float | None,
    ax: Any,
    context: PlotContext | None,
    max_units: int = 200,
) -> Any:
    """Spike times of each unit (a row each) between `start` and `stop` seconds."""
    import numpy as np

    times = np.asarray(units["spike_times"][()])
    index = (
        np.asarray(units["spike_times_index"][()])
        if "spike_times_index" in units
        else np.array([len(times)])
    )
    n = min(len(index), max_units)
    t0 = float(start) if start is not None else float(times.min()) if times.size else 0.0
    t1 = float(stop) if stop is not None else float(times.max()) if times.size else 1.0
    end = float(times.max()) if times.size else t1
    first = float(times.min()) if times.size else 0.0
    if t0 > end or t1 < first:
        raise UsageError(
            f"No spikes of {units.name} between {t0:g} and {t1:g} s: they span "
            f"{first:g}-{end:g} s (--start and --stop are seconds here)."
        )
    if t1 <= t0:
        raise UsageError(f"--stop {t1:g} must be above --start {t0:g} (seconds).")
    if start is None and stop is None and t1 - t0 > DEFAULT_SECONDS:
        t1 = t0 + DEFAULT_SECONDS  # a long recording drawn whole is a solid bar per unit
    groups = _areas(f, units, n)
    names = sorted({g for g in groups if g})
    color_of = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    fig, ax = new_figure(ax, (9, 5))
    lo = 0
    rows = []
    for hi in index[:n]:
        spikes = times[lo:hi]
        rows.append(spikes[(spikes >= t0) & (spikes <= t1)])
        lo = hi
    # dense rows (bursts over a long window) get thinner ticks; every other row a faint band,
    # so neighbouring units stay apart however many spikes they hold
    densest = max((len(r) for r in rows), default=0) / max(t1 - t0, 1e-9)
    lw = 0.7 if densest < 20 else 0.4 if densest < 100 else 0.25
    for u, spikes in enumerate(rows):
        if u % 2:
            ax.axhspan(u + 0.5, u + 1.5, color="0.95", lw=0, zorder=0)
        color = color_of.get(groups[u] or "", "0.2")
        ax.vlines(spikes, u + 0.62, u + 1.38, colors=color, lw=lw)
    ax.set_xlim(t0, t1)
    ax.set_ylim(0.4, n + 0.6)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("unit id")
    ids = np.asarray(units["id"][:n]) if "id" in units else np.arange(n)
    step = max(1, n // 20)
    ax.set_yticks(range(1, n + 1, step))
    ax.set_yticklabels([str(i) for i in ids[::step]], fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    if names:
        from matplotlib.lines import Line2D

        handles = [Line2D([0], [0], color=color_of[a], lw=3) for a in names]
        ax.legend(
            handles,
            names,
            title="area",
            fontsize=8,
            title_fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )
    noun = "unit" if len(index) == 1 else "units"
    shown = f"{n} of {len(index)} {noun}" if n < len(index) else f"{n} {noun}"
    digits = 0 if t1 - t0 >= 10 else 1 if t1 - t0 >= 1 else 3  # times as precise as the span
    span = f"{t0:.{digits}f}-{t1:.{digits}f} s" + (f" of {end:.{digits}f} s" if t1 < end else "")
    return titled(fig, ax, f"spike raster · {units.name}  ({shown}, {span})", context)
