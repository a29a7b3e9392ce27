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
    for i, m in enumerate(masks):
        if m.max() <= 0:
            continue
        color = PALETTE[i % len(PALETTE)]
        ax.contour(m, levels=[0.5 * m.max()], colors=[color], linewidths=1.0)
        ys, xs = np.nonzero(m > 0.5 * m.max())
        ax.text(  # beside the outline, not over it
            xs.max() + 1,
            ys.min(),
            str(ids[i]),
            color=color,
            fontsize=8,
            ha="left",
            va="bottom",
            fontweight="bold",
            path_effects=halo,
        )
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return titled(fig, ax, f"{len(masks)} ROIs of {ps.name}\non the {source}", context)


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
        ax.set_xlim(0, float(width))
        ax.set_ylim(float(height), 0)
    else:
        ax.invert_yaxis()  # image coordinates: y grows downwards
    ax.set_aspect("equal")
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
