"""What every plot shares: the figure class, titles that say what is shown, checked windows."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

from dandindex.errors import UsageError

# colours that read on white and on a grey image alike (Okabe-Ito, colour-blind safe)
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")


@dataclass(frozen=True)
class PlotContext:
    """Where the plotted file comes from, for the title: dandiset, version, file path."""

    dandiset_id: str | None = None
    version: str | None = None
    path: str | None = None

    def caption(self) -> str:
        bits = []
        if self.dandiset_id:
            bits.append(f"DANDI:{self.dandiset_id}" + (f"/{self.version}" if self.version else ""))
        if self.path:
            bits.append(self.path.rsplit("/", 1)[-1])
        return "  ·  ".join(bits)


@functools.lru_cache(maxsize=1)
def figure_class() -> type:
    """A matplotlib Figure that shows itself in a notebook (as PNG) without pyplot."""
    from matplotlib.figure import Figure

    class NWBFigure(Figure):
        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", bbox_inches="tight", dpi=100)
            return buf.getvalue()

        def _repr_html_(self) -> None:  # let the notebook use the PNG
            return None

    return NWBFigure


def new_figure(ax: Any = None, size: tuple[float, float] = (9, 4.8)) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    fig = figure_class()(figsize=size, dpi=100)
    return fig, fig.add_subplot(1, 1, 1)


def titled(fig: Any, ax: Any, what: str, context: PlotContext | None) -> Any:
    """The object and what is shown as the title; the dandiset and file above it."""
    ax.set_title(what, fontsize=11, loc="left")
    if context is not None and context.caption():
        fig.suptitle(context.caption(), fontsize=9, color="0.35", x=0.01, ha="left")
    return fig


def window(
    n: int,
    start: int | None,
    stop: int | None,
    what: str,
    noun: str = "samples",
    default: int = 1000,
) -> tuple[int, int]:
    """[start, stop) checked against `n`; a sentence with the valid range if it is off."""
    if n <= 0:
        raise UsageError(f"{what} holds no {noun}: there is nothing to plot.")
    a = start or 0
    if a < 0 or a >= n:
        raise UsageError(f"--start {a} is outside {what}, which has {n:,} {noun} (0 to {n - 1:,}).")
    b = min(n, stop) if stop is not None else min(n, a + default)
    if stop is not None and stop <= a:
        raise UsageError(f"--stop {stop} must be above --start {a} (valid: 1 to {n:,}).")
    return a, b


def pick(
    wanted: Any, available: int, what: str, noun: str = "channels", default: int = 16
) -> list[int]:
    """Column indices: the ones asked for, checked, or the first `default`."""
    if wanted is None:
        return list(range(min(available, default)))
    out = sorted(set(int(c) for c in wanted))
    bad = [c for c in out if c < 0 or c >= available]
    if bad:
        raise UsageError(
            f"{noun.capitalize()[:-1]} {bad[0]} does not exist: {what} has {available:,} {noun} "
            f"(0 to {available - 1:,})."
        )
    return out


def text(value: Any) -> str | None:
    from dandindex.nwb.walk import text as _text

    return _text(value)


def kinds(obj: Any) -> list[str]:
    """The object's neurodata type and its ancestors."""
    from dandindex.nwb.hierarchy import TypeHierarchy

    ndtype = text(obj.attrs.get("neurodata_type"))
    if not ndtype:
        return []
    return [ndtype, *TypeHierarchy().ancestors(ndtype)]


def unit_of(ds: Any, default: str = "") -> str:
    unit = text(ds.attrs.get("unit")) or default
    return "" if unit in ("n.a.", "n/a", "NA", "none") else unit


def times(group: Any, a: int, b: int) -> tuple[Any, str]:
    """Sample times of a TimeSeries (seconds) from its timestamps or starting_time and rate."""
    import numpy as np

    if "timestamps" in group:
        return np.asarray(group["timestamps"][a:b]), "time (s)"
    if "starting_time" in group:
        st = group["starting_time"]
        rate = float(st.attrs.get("rate", 1.0))
        t0 = float(st[()])
        return t0 + np.arange(a, b) / rate, "time (s)"
    return np.arange(a, b), "sample"


def scale_bar(ax: Any, length: float, label: str) -> None:
    """A vertical scale bar of `length` (data units) just right of `ax`, labelled beside it,
    outside the traces so it never covers them."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x1 + 0.015 * (x1 - x0)
    base = y0 + 0.04 * (y1 - y0)
    ax.plot([x, x], [base, base + length], color="k", lw=2.5, clip_on=False)
    ax.text(x + 0.01 * (x1 - x0), base + length / 2, label, ha="left", va="center", fontsize=8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def nice(value: float) -> float:
    """A round number near `value` (1, 2 or 5 times a power of ten) for scale bars."""
    import math

    if value <= 0 or not math.isfinite(value):
        return 1.0
    exp = math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * 10**exp >= value:
            return float(m * 10**exp)
    return float(10 ** (exp + 1))  # pragma: no cover
