"""Benchmark: bytes, requests and wall time to describe files that are not NWB over HTTP,
next to downloading them whole.

Each file is served by the local archive server (20 ms added to every request, counters of
requests and bytes) and summarised by the crawl's own reader through the API
(`dandindex.formats.summary.summarize_media_asset`: a `RangeFile` behind the ``/download/``
redirect, or a Zarr store's keys); in the same run, two baselines: the library read as a
user would write it (zarr-python over fsspec's HTTP store: the group's attributes and each
level's shape; tifffile over the same range-read file: ``series[0].shape`` and
``len(pages)``), and downloading the file (every key of a Zarr store, after listing it).
Video is read by PyAV in both. Files, written by their real writers:

- an OME-Zarr volume (NGFF 0.4, 2 channels, 5 levels, 64³ chunks; several thousand keys);
- an OME-TIFF z-stack (one page per plane and channel) and a plain TIFF of 20,000 small
  pages appended one by one (its IFDs between the pages);
- an MP4 (H.264, ``moov`` at the end, as most cameras write it) and an AVI (MPEG-4 Part 2,
  its ``idx1`` index at the end), several minutes each;
- a BIDS sidecar (read whole: it is the data).

    python benchmarks/formats.py [--scale 1] [--latency 0.02] [--workdir DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def make_files(workdir: Path, scale: float) -> dict[str, Path]:
    import numpy as np
    import tifffile
    import zarr

    from dandindex.testing.mediafiles import _multiscales, cells, encode_video

    out: dict[str, Path] = {}
    z = workdir / "volume.ome.zarr"
    if not z.exists():
        t0 = time.perf_counter()
        shape = (2, int(128 * scale), 1024, 1024)
        group = zarr.open_group(str(z), mode="w", zarr_format=2)
        block = cells((2, 64, 256, 256), n=80, seed=1, radius=4)
        s = shape
        for level in range(5):
            arr = group.create_array(str(level), shape=s, chunks=(1, 64, 64, 64), dtype="uint16")
            for c in range(s[0]):
                for z0 in range(0, s[1], 64):
                    tile = block[c, : min(64, s[1] - z0)]
                    reps = (1, -(-s[2] // tile.shape[1]), -(-s[3] // tile.shape[2]))
                    arr[c, z0 : z0 + tile.shape[0]] = np.tile(tile, reps)[:, : s[2], : s[3]]
            s = (s[0], max(1, s[1] // 2), max(1, s[2] // 2), max(1, s[3] // 2))
        group.attrs["multiscales"] = [_multiscales("czyx", [1.0, 2.0, 0.5, 0.5], 5, "0.4")]
        group.attrs["omero"] = {"channels": [{"label": "DAPI", "color": "0000FF"},
                                             {"label": "GFP", "color": "00FF00"}]}  # fmt: skip
        print(f"wrote {z.name} in {time.perf_counter() - t0:.0f} s")
    out["OME-Zarr volume"] = z
    t = workdir / "stack.ome.tif"
    if not t.exists():
        planes = int(100 * scale)
        with tifffile.TiffWriter(t, ome=True, bigtiff=True) as tif:
            base = cells((2, 1024, 1024), n=300, seed=2, radius=6)  # a plane, shifted along z
            data = np.stack([np.roll(base, 7 * k, axis=-1) for k in range(planes)])
            tif.write(data, metadata={"axes": "ZCYX", "PhysicalSizeX": 0.4, "PhysicalSizeY": 0.4,
                                      "PhysicalSizeZ": 2.0})  # fmt: skip
    out["OME-TIFF stack"] = t
    p = workdir / "pages.tif"
    if not p.exists():
        from dandindex.testing.mediafiles import write_plain_tiff

        write_plain_tiff(p, pages=int(20_000 * scale))
    out["plain TIFF, 20k pages"] = p
    for name, fname, codec, fmt in (("MP4 (moov at the end)", "video.mp4", "libx264", None),
                                    ("AVI", "video.avi", "mpeg4", "avi")):  # fmt: skip
        v = workdir / fname
        if not v.exists():
            t0 = time.perf_counter()
            encode_video(v, codec, fmt=fmt, frames=int(9000 * scale), fps=30, size=(640, 480),
                         grain=24, bit_rate=4_000_000)  # fmt: skip
            print(f"wrote {v.name} in {time.perf_counter() - t0:.0f} s")
        out[name] = v
    j = workdir / "sub-01_task-rest_eeg.json"
    j.write_text(json.dumps({"SamplingFrequency": 1000, "TaskName": "rest"}), encoding="utf-8")
    out["BIDS sidecar"] = j
    return out


def run(files: dict[str, Path], workdir: Path, latency: float) -> list[dict[str, Any]]:
    from dandindex.formats.summary import MediaAsset, summarize_media_asset
    from dandindex.remote.session import make_session
    from dandindex.testing.archive import ArchiveServer
    from dandindex.testing.mediaarchive import MediaArchive, _Writer
    from dandindex.testing.metadata import MetadataWriter

    root = workdir / "archive"
    shutil.rmtree(root, ignore_errors=True)
    arc = MediaArchive(root, {})
    w = _Writer(root, "000201", MetadataWriter(root, 5), arc)
    for name, path in files.items():
        w.add(f"sub-01/{path.name}", path, name)
    w.close("formats benchmark")
    items = {json.loads(line)["asset_id"]: json.loads(line)
             for line in (root / "dandisets" / "000201" / "assets.jsonl").read_text().splitlines()}  # fmt: skip
    results = []
    with ArchiveServer(root, content_urls="local") as srv:
        srv.faults.latency = latency
        session = make_session(pool=16, api_url=srv.api_url)
        for aid, name in arc.assets.items():
            item = items[aid]
            meta = item["metadata"]
            asset = MediaAsset(
                asset_id=aid, dandiset_id="000201", path=item["path"], size=item["size"],
                blob_id=item.get("blob"), zarr_id=item.get("zarr"), sha256=None, etag=None,
                zarr_checksum=None, encoding_format=meta["encodingFormat"],
                api_url=f"{srv.api_url}/assets/{aid}/download/",
                s3_url=f"{srv.url}/s3/zarr/{item['zarr']}/" if item.get("zarr") else None,
            )  # fmt: skip
            srv.counters.reset()
            t0 = time.perf_counter()
            out = summarize_media_asset(asset, srv.api_url, 60.0, session)
            ours = time.perf_counter() - t0
            f = out["file"]
            assert not f.get("error"), (name, f.get("error"))
            ours_requests = sum(srv.counters.requests.values())
            ours_sent = sum(srv.counters.bytes.values())  # body bytes the server sent
            srv.counters.reset()
            t0 = time.perf_counter()
            lib = _library(session, asset)
            lib_seconds = time.perf_counter() - t0
            lib_requests = sum(srv.counters.requests.values())
            lib_bytes = sum(srv.counters.bytes.values())  # body bytes the server sent
            srv.counters.reset()
            t0 = time.perf_counter()
            whole, whole_requests = _download(session, srv, asset, files[name])
            base = time.perf_counter() - t0
            size = _size(files[name])
            results.append({
                "file": name, "size": size, "bytes": f["bytes_read"], "sent": ours_sent,
                "requests": ours_requests,
                "seconds": ours, "share": ours_sent / size,
                "whole_bytes": whole, "whole_requests": whole_requests, "whole_seconds": base,
                "library": lib, "library_bytes": lib_bytes if lib else None,
                "library_requests": lib_requests if lib else None,
                "library_seconds": lib_seconds if lib else None,
                "facts": {k: f.get(k) for k in ("format", "shape", "pages", "pages_known",
                                                 "n_frames", "fps", "duration", "n_levels")},
            })  # fmt: skip
        session.close()
    return results


def _amount(n: int) -> str:
    """9 characters: kB below a MB, else MB."""
    return f"{n / 1e3:8.1f}k" if n < 1e6 else f"{n / 1e6:8.1f}M"


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _library(session: Any, asset: Any) -> str | None:
    """What the library said, or None for a file the crawl already reads
    with the library itself (video: PyAV; a BIDS sidecar: read whole)."""
    from dandindex.formats import kind_of
    from dandindex.formats.source import open_bytes

    kind = kind_of(asset.path, asset.encoding_format, asset.zarr_id is not None)
    if kind == "zarr":
        import zarr
        from zarr.storage import FsspecStore

        store = FsspecStore.from_url(asset.s3_url, read_only=True)
        group = zarr.open_group(store, mode="r")
        datasets = dict(group.attrs)["multiscales"][0]["datasets"]
        shapes = [group[d["path"]].shape for d in datasets]
        return f"{len(shapes)} levels, {shapes[0]}"
    if kind == "tiff":
        import tifffile

        with open_bytes(asset.api_url, session=session, size=asset.size) as fh:
            with tifffile.TiffFile(fh, _multifile=False) as tif:
                shape, pages = tif.series[0].shape, len(tif.pages)
            return f"{shape}, {pages} pages"
    return None


def _download(session: Any, srv: Any, asset: Any, path: Path) -> tuple[int, int]:
    """The baseline: the whole file (a Zarr: its listing, then every key), bytes and requests."""
    from dandindex.remote.session import get

    if asset.zarr_id is None:
        n = len(get(session, asset.api_url, timeout=120).content)
        return n, sum(srv.counters.requests.values())
    listing = f"{srv.api_url}/zarr/{asset.zarr_id}/files/"
    keys, url, params = [], listing, {"prefix": ""}
    while url:
        page = get(session, url, params=params).json()
        keys += [r["Key"] for r in page["results"]]
        url, params = page.get("next"), None
    total = 0
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        for n in pool.map(lambda k: len(get(session, asset.s3_url + k).content), keys):
            total += n
    return total, sum(srv.counters.requests.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dandindex-formats-"))
    work.mkdir(parents=True, exist_ok=True)
    files = make_files(work, args.scale)
    results = run(files, work, args.latency)
    print(f"\n{args.latency * 1000:.0f} ms per request; bytes: body bytes the server sent; "
          "ours = the crawl's reader, whole = a download")  # fmt: skip
    print(f"{'file':24s} {'size':>9s} {'ours':>9s} {'share':>7s} {'req':>4s} {'time':>7s}   "
          f"{'library':>9s} {'req':>5s} {'time':>7s}   {'whole':>9s} {'req':>6s} {'time':>7s}  "
          "ratio (whole / ours)")  # fmt: skip
    for r in results:
        lib = (f"{_amount(r['library_bytes'])} {r['library_requests']:5d} "
               f"{r['library_seconds']:6.2f}s" if r["library"] else f"{'(same)':>9s} {'':5s} {'':7s}")  # fmt: skip
        print(f"{r['file']:24s} {r['size'] / 1e6:8.1f}M {_amount(r['sent'])} "
              f"{100 * r['share']:6.3f}% {r['requests']:4d} {r['seconds']:6.2f}s   {lib}   "
              f"{r['whole_bytes'] / 1e6:8.1f}M {r['whole_requests']:6d} {r['whole_seconds']:6.2f}s  "
              f"{r['whole_seconds'] / r['seconds']:5.1f}x")  # fmt: skip
    print(
        "library: zarr-python (fsspec HTTP) for OME-Zarr, tifffile's series[0] and len(pages) "
        "for TIFF, over the same server; (same): the crawl uses the library as it is"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
