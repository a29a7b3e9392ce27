"""Pictures: images and ImageSeries frames, ROI outlines on the plane's projection, and
pose-estimation keypoints."""

from __future__ import annotations

from typing import Any

from dandindex.errors import DandindexError
from dandindex.plot.common import PALETTE, PlotContext, new_figure, text, titled, unit_of, window


def image(data: Any, frame: int | None, what: str, ax: Any, context: PlotContext | None) -> Any:
    """An image (or one frame of an ImageSeries) in pixels, with a colorbar in its unit."""
    import numpy as np

    if frame is not None:
        a, _ = window(data.shape[0], frame, frame + 1, what, "frames")
        img = np.asarray(data[a], dtype=float)
        label = f"{what}  (frame {a:,} of {data.shape[0]:,})"
    else:
        img = np.asarray(data[()], dtype=float)
        label = what
    fig, ax = new_figure(ax, (7, 6))
    im = ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label(unit_of(data) or "intensity (a.u.)")
    return titled(fig, ax, label, context)


def plane_segmentation(f: Any, ps: Any, ax: Any, context: PlotContext | None) -> Any:
    """ROI outlines, numbered by ROI id, over the max (else mean) projection of the plane,
    which the title names."""
    import numpy as np

    if "image_mask" not in ps:
        raise DandindexError(
            f"{ps.name} stores no image_mask (pixel or voxel masks are not drawn yet)."
        )
    masks = np.asarray(ps["image_mask"][()])
    ids = np.asarray(ps["id"][()]) if "id" in ps else np.arange(len(masks))
    background, source = None, "the ROIs' own masks"
    module = ps.parent.parent
    for candidate in ("max", "maximum", "max_projection", "mean", "average", "mean_image"):
        for name, obj in module.items():
            if text(obj.attrs.get("neurodata_type")) == "Images" and candidate in obj:
                img = np.asarray(obj[candidate][()], dtype=float)
                if img.shape == masks.shape[1:]:
                    background, source = (
                        img,
                        f"{'max' if 'max' in candidate else 'mean'} projection ({name}/{candidate})",
                    )
                    break
        if background is not None:
            break
    if background is None:
        background = masks.max(axis=0)
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2, foreground="black")]
    fig, ax = new_figure(ax, (7, 6.5))
    ax.imshow(background, cmap="gray")
    height, width = background.shape[:2]
    placed: list[tuple[float, float, float, float]] = []  # boxes of the labels drawn
    for i, m in enumerate(masks):
        if m.max() <= 0:
            continue
        color = PALETTE[i % len(PALETTE)]
        ax.contour(m, levels=[0.5 * m.max()], colors=[color], linewidths=1.0)
        ys, xs = np.nonzero(m > 0.5 * m.max())
        label = str(ids[i])
        x, y, moved = _free_spot(xs, ys, label, placed, width, height)
        if moved:  # away from its outline: a leader line back to it
            ax.plot([x, float(np.median(xs))], [y, float(np.median(ys))], color=color, lw=0.6)
        ax.text(x, y, label, color=color, fontsize=8, ha="center", va="center",
                fontweight="bold", path_effects=halo)  # fmt: skip
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return titled(fig, ax, f"{len(masks)} ROIs of {ps.name}\non the {source}", context)


def _free_spot(
    xs: Any, ys: Any, label: str, placed: list[tuple[float, float, float, float]],
    width: int, height: int,
) -> tuple[float, float, bool]:  # fmt: skip
    """Where an ROI's label goes: beside its outline (right, above, left, below, then
    further out), the first spot inside the image whose box overlaps no label placed yet;
    (x, y, whether it is away from the outline). The box is the label's size in pixels of
    the image, for an image about 500 points wide."""
    import numpy as np

    w = max(width, height) / 500 * 7 * (len(label) + 0.5)  # 8-point bold: ~7 pt a digit
    h = max(width, height) / 500 * 11
    x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    cx, cy = float(np.median(xs)), float(np.median(ys))
    candidates = []
    for gap in (1.0, 2.5, 4.5, 7.0):
        candidates += [(x1 + gap * w / 2 + w / 2, cy), (cx, y0 - gap * h), (x0 - gap * w / 2 - w / 2, cy),
                       (cx, y1 + gap * h), (x1 + gap * w / 2, y0 - gap * h), (x0 - gap * w / 2, y1 + gap * h)]  # fmt: skip

    def free(x: float, y: float) -> bool:
        if x - w / 2 < 0 or x + w / 2 > width or y - h / 2 < 0 or y + h / 2 > height:
            return False
        return all(
            abs(x - px) > (w + pw) / 2 or abs(y - py) > (h + ph) / 2 for px, py, pw, ph in placed
        )

    for k, (x, y) in enumerate(candidates):
        if free(x, y):
            placed.append((x, y, w, h))
            return x, y, k >= 6  # beyond the first ring: drawn with a leader line
    x, y = candidates[0]
    placed.append((x, y, w, h))
    return min(max(x, w / 2), width - w / 2), min(max(y, h / 2), height - h / 2), False


def pose_points(pe: Any, frame: int) -> tuple[list[str], Any, list[tuple[str, str]], float | None]:
    """(keypoint names, their x/y at `frame`, the skeleton's edges by name, the frame's time
    in seconds when the series say it) of a PoseEstimation."""
    import numpy as np

    names: list[str] = []
    points: list[Any] = []
    when = None
    for name, obj in sorted(pe.items()):
        if text(obj.attrs.get("neurodata_type")) == "PoseEstimationSeries" and "data" in obj:
            data = obj["data"]
            window(data.shape[0], frame, frame + 1, obj.name, "frames")
            names.append(name)
            points.append(np.asarray(data[frame], dtype=float)[:2])
            if when is None:
                when = _time_of(obj, frame)
    if not points:
        raise DandindexError(f"{pe.name} holds no PoseEstimationSeries to draw.")
    edges: list[tuple[str, str]] = []
    skeleton = next(  # a link named after the Skeleton (ndx-pose >= 0.2) or "skeleton"
        (o for o in pe.values() if text(o.attrs.get("neurodata_type")) == "Skeleton"), None
    )
    if skeleton is not None and "edges" in skeleton and "nodes" in skeleton:
        nodes = [text(n) for n in skeleton["nodes"][()]]
        edges = [(str(nodes[i]), str(nodes[j])) for i, j in np.asarray(skeleton["edges"][()])]
    return names, np.vstack(points), edges, when


def _time_of(series: Any, frame: int) -> float | None:
    """Seconds of sample `frame` of a series: starting_time + frame / rate, or its timestamp."""
    if "starting_time" in series:
        st = series["starting_time"]
        rate = st.attrs.get("rate")
        if rate:
            return float(st[()]) + frame / float(rate)
    if "timestamps" in series and frame < series["timestamps"].shape[0]:
        return float(series["timestamps"][frame])
    return None


def pose_on_video(pe: Any, frame: int, video: Any, ax: Any, context: PlotContext | None) -> Any:
    """The keypoints of `frame` drawn over the video frame shown at the same time (`video`:
    seconds → (RGB frame, its time), the linked video asset read by range requests)."""
    from dandindex.plot.media import keypoints_over

    names, xy, edges, when = pose_points(pe, frame)
    source = pe.get("source_video")
    offset = 0.0
    if source is not None and "starting_time" in source:  # the video's own clock
        offset = float(source["starting_time"][()])
    image, shown = video(max(0.0, (when or 0.0) - offset))
    points = [(n, float(x), float(y)) for n, (x, y) in zip(names, xy, strict=True)]
    what = f"{pe.name}: frame {frame}" + (f" ({when:.2f} s)" if when is not None else "")
    what += f", on the video frame at {shown + offset:.2f} s"
    return keypoints_over(image, points, edges, what, ax=ax, context=context)


def pose(pe: Any, frame: int, ax: Any, context: PlotContext | None) -> Any:
    """The keypoints of every PoseEstimationSeries of `pe` at `frame`, joined by the skeleton."""
    import numpy as np

    names, xy, edges, _ = pose_points(pe, frame)
    fig, ax = new_figure(ax, (7, 6))
    where = dict(zip(names, xy, strict=True))
    for a, b in edges:
        if a in where and b in where:
            p, q = where[a], where[b]
            ax.plot([p[0], q[0]], [p[1], q[1]], color="0.5", lw=1.5)
    ax.scatter(
        xy[:, 0], xy[:, 1], c=[PALETTE[i % len(PALETTE)] for i in range(len(xy))], s=40, zorder=3
    )
    for (x, y), name in zip(xy, names, strict=True):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    video = pe.get("source_video")
    size = pe.get("dimensions") or (video.get("dimension") if video is not None else None)
    if size is not None:  # the video frame's width and height, in pixels
        width, height = np.asarray(size[()]).reshape(-1)[:2]
        x0, x1, y0, y1 = 0.0, float(width), 0.0, float(height)
    else:  # the keypoints with a margin around them
        pad = 0.15 * max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1.0)
        x0, x1 = float(xy[:, 0].min() - pad), float(xy[:, 0].max() + pad)
        y0, y1 = float(xy[:, 1].min() - pad), float(xy[:, 1].max() + pad)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)  # image coordinates: y grows downwards
    ax.set_aspect("equal")
    # the figure takes the picture's shape: no empty band above or below an equal-aspect box
    fig.set_size_inches(7, min(8.0, max(2.5, 6.2 * (y1 - y0) / max(x1 - x0, 1e-9))) + 1.0)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return titled(fig, ax, f"{pe.name}: frame {frame}, {len(names)} keypoints", context)


def external_frame(
    series: Any, frame: int, video: Any, ax: Any, context: PlotContext | None
) -> Any:
    """Frame `frame` of an ImageSeries whose frames are in an external video file."""
    from dandindex.plot.media import _show

    when = _time_of(series, frame) or 0.0
    offset = float(series["starting_time"][()]) if "starting_time" in series else 0.0
    image, shown = video(max(0.0, when - offset))
    name = series.name.rsplit("/", 1)[-1]
    return _show(image, f"{name}: frame {frame}, the external video at {shown + offset:.2f} s",
                 context, ax, None)  # fmt: skip
