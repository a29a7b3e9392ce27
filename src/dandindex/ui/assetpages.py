"""The pages of `dandindex ui` about one asset: its metadata, NWB object tree or file
summary, plots of its objects and previews of images and videos, drawn from the streamed
file on demand (the last few kept)."""

from __future__ import annotations

import base64
from collections import OrderedDict
from typing import Any

from dandindex.errors import DandindexError
from dandindex.ui.common import current_index

PLOTS_KEPT = 32  # plots and previews kept, most recent last


def _handle(asset_id: str) -> Any:
    """The asset's handle, or a 404 page with the index's sentence."""
    from flask import abort

    idx, lock = current_index()
    with lock:
        try:
            return idx.asset(asset_id)
        except DandindexError as e:
            abort(404, str(e))


def asset(asset_id: str) -> Any:
    from flask import render_template

    from dandindex.display import cell
    from dandindex.tree import object_tree, plottable

    h = _handle(asset_id)
    idx, lock = current_index()
    with lock:
        row = idx.asset_row(h.asset_id, h.version)
        try:
            summary = h.summary()
        except DandindexError:
            summary = {"file": {}, "objects": [], "locations": []}
        media = idx.file_summary(h.asset_id) or {}
    keys = ("size", "encoding_format", "species", "sex", "age", "approach",
            "measurement_technique", "variables_measured", "session_start", "sha256", "created",
            "modified")  # fmt: skip
    facts = [(k.replace("_", " "), cell(row.get(k), k)) for k in keys if row.get(k)]
    f = summary["file"]
    facts += [
        (k.replace("_", " "), cell(f.get(k), k))
        for k in ("nwb_version", "session_description", "lab", "institution")
        if f.get(k)
    ]
    objects = summary["objects"]
    drawable = [
        {**o, "shape": "×".join(map(str, o["shape"])) if o.get("shape") else ""}
        for o in plottable(objects)
    ]
    from dandindex.handles import PREVIEWED
    from dandindex.instances import dandi_url

    file_facts = [(k.replace("_", " "), cell(media.get(k), k)) for k in MEDIA_FACTS
                  if media.get(k) not in (None, [], "")]  # fmt: skip
    if media.get("voxel_size"):
        file_facts.append(("voxel", " × ".join(f"{v:g}" for v in media["voxel_size"]) + " µm"))
    return render_template(
        "asset.html",
        a=h,
        file_facts=file_facts,
        file_error=media.get("error"),
        previewable=h.kind in PREVIEWED and not media.get("error"),
        links=[lk for lk in media.get("links") or []],
        dandi_url=dandi_url(idx.manifest.get("api_url") or "", h.dandiset_id, h.version, h.path),
        facts=facts,
        error=f"This file could not be summarised: {f['error']}" if f.get("error") else None,
        tree="\n".join(object_tree(objects, mark_plottable=True)),
        plottable=drawable,
        locations=sorted({str(loc.get("location")) for loc in summary.get("locations", [])}),
    )


#: a file summary's columns an asset page lists (in this order, empty ones left out)
MEDIA_FACTS = ("format", "container", "codec", "width", "height", "fps", "n_frames", "duration",
               "shape", "axes", "dtype", "channels", "n_levels", "compressor", "plate", "pages",
               "bids_datatype", "bids_suffix", "bids")  # fmt: skip


def preview(asset_id: str) -> Any:
    """A PNG preview of an image or video asset (kept like plots), or a 404 sentence."""
    from flask import Response

    from dandindex.errors import RemoteReadError, describe_read_error

    h = _handle(asset_id)
    try:
        png = _cached_png(h, "", {"start": "", "stop": "", "channels": ""})
    except RemoteReadError as e:
        return Response(f"Could not read the file: {describe_read_error(e)}", 404,
                        mimetype="text/plain")  # fmt: skip
    except DandindexError as e:
        return Response(str(e), 404, mimetype="text/plain")
    return Response(base64.b64decode(png), mimetype="image/png",
                    headers={"Cache-Control": "max-age=3600"})  # fmt: skip


def _cached_png(h: Any, path: str, args: dict[str, str]) -> str:
    """The base64 PNG of a plot or preview, from the app's cache of recent ones."""
    from flask import current_app

    idx, lock = current_index()
    key = (h.asset_id, path, args["start"], args["stop"], args["channels"])
    with lock:
        kept: OrderedDict[Any, str] = current_app.config["CACHE"].setdefault("plots", OrderedDict())
        png = kept.get(key)
    if png is None:
        png = base64.b64encode(_png(h, path, args)).decode()  # streams: outside the lock
        with lock:
            kept[key] = png
            while len(kept) > PLOTS_KEPT:
                kept.popitem(last=False)
    return png


def plot(asset_id: str) -> Any:
    """An object plotted from the streamed file, as a PNG in the page, or a sentence."""
    from flask import render_template, request

    from dandindex.errors import RemoteReadError, describe_read_error

    path = request.args.get("path", "")
    args = {k: request.args.get(k, "") for k in ("start", "stop", "channels")}
    h = _handle(asset_id)
    png, error = None, None
    try:
        png = _cached_png(h, path, args)
    except RemoteReadError as e:
        error = f"Could not read the file: {describe_read_error(e)}"
    except DandindexError as e:
        error = str(e)
    from dandindex.handles import PREVIEWED

    return render_template("plot.html", a=h, path=path, args=args, png=png, error=error,
                           media=h.kind in PREVIEWED)  # fmt: skip


def _png(handle: Any, path: str, args: dict[str, str]) -> bytes:
    import io

    from dandindex.display import parse_ints

    def number(name: str) -> float | None:
        text = args[name].strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise DandindexError(f"{name}: {text!r} is not a number.") from None

    columns = parse_ints(args["channels"], "channels")
    fig = handle.plot(path or None, start=number("start"), stop=number("stop"), columns=columns)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=100)
    return buf.getvalue()
