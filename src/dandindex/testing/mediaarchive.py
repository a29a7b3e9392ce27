"""A local archive of files that are not NWB, for tests, the tour and benchmarks.

`archive_of_media(root, folder)` writes the files of `dandindex.testing.mediafiles` (good and
bad) and serves them as the assets of two dandisets of a snapshot folder at `root`:

- ``MEDIA_ID``: OME-Zarr stores as Zarr assets (``zarr/<id>/``), TIFF and video files as
  blobs, the damaged ones beside them, and a pose-estimation NWB file whose video (an
  ``external_file``, relative to its folder) is one of the video assets;
- ``BIDS_ID``: a BIDS dataset (`write_bids`): its JSON/TSV files and data files as blobs,
  its OME-Zarr stores as Zarr assets.

It returns what each asset is, so tests can compute what a crawl must find.
"""

from __future__ import annotations

import json
import mimetypes
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from dandindex.testing.mediafiles import Media, write_bids, write_media
from dandindex.testing.metadata import AssetsSummary, MetadataWriter, dandiset_meta, sha256_file

MEDIA_ID = "000101"
BIDS_ID = "000102"
POSE_PATH = "sub-01/sub-01_ses-1_behavior+image.nwb"
POSE_VIDEO = "sub-01_ses-1_behavior+image/video.mp4"  # relative to the NWB file's folder
MIME = {".mkv": "video/x-matroska", ".edf": "application/octet-stream",
        ".tsv": "text/tab-separated-values", ".json": "application/json"}  # fmt: skip


@dataclass
class MediaArchive:
    root: Path
    media: dict[str, Media]  # name → file
    assets: dict[str, str] = field(default_factory=dict)  # asset id → media name or BIDS path
    paths: dict[str, str] = field(default_factory=dict)  # asset id → path in its dandiset
    bids: dict[str, Any] = field(default_factory=dict)  # write_bids' answer

    def asset_of(self, name: str) -> str:
        """The asset id of a media file (by its `write_media` name) or a BIDS path."""
        return next(a for a, n in self.assets.items() if n == name)


def _mime(path: str) -> str:
    low = path.lower()
    for ext, kind in MIME.items():
        if low.endswith(ext):
            return kind
    return mimetypes.guess_type(low)[0] or "application/octet-stream"


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


class _Writer:
    """Assets of one dandiset, written as they are added."""

    def __init__(self, root: Path, ds: str, w: MetadataWriter, out: MediaArchive) -> None:
        self.root, self.ds, self.w, self.out = root, ds, w, out
        self.folder = root / "dandisets" / ds
        self.folder.mkdir(parents=True, exist_ok=True)
        self.items: list[dict[str, Any]] = []
        self.summary = AssetsSummary()
        self.created = w.when(0)
        self.blobs: dict[str, str] = {}

    def add(self, rel: str, source: Path, name: str) -> None:
        zarr = source.is_dir()
        item, ident = self.w.asset(
            path=rel, size=_size(source), encoding=_mime(rel), schema="0.6.7",
            created=self.created + timedelta(minutes=len(self.items)), modality=None,
            taxon=None, subject=None, embargoed=False,
            sha256=None if zarr else sha256_file(source)[0], zarr=zarr,
        )  # fmt: skip
        if zarr:
            target = self.root / "zarr" / ident
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
        else:
            self.blobs[ident] = str(source.resolve())
        self.items.append(item)
        self.summary.add(item)
        self.out.assets[item["asset_id"]] = name
        self.out.paths[item["asset_id"]] = rel

    def close(self, title: str) -> None:
        with open(self.folder / "assets.jsonl", "w", encoding="utf-8") as f:
            for item in self.items:
                f.write(json.dumps(item, separators=(",", ":")) + "\n")
        meta = dandiset_meta(self.w, self.ds, "ecephys", "0.6.7", self.created, self.summary,
                             embargoed=False)  # fmt: skip
        meta["name"] = title
        (self.folder / "dandiset.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        index = self.root / "blobs" / "index.json"
        index.parent.mkdir(parents=True, exist_ok=True)
        known = json.loads(index.read_text()) if index.exists() else {}
        index.write_text(json.dumps({**known, **self.blobs}, indent=1), encoding="utf-8")


def archive_of_media(
    root: str | Path, folder: str | Path, media_id: str = MEDIA_ID, bids_id: str = BIDS_ID
) -> MediaArchive:
    """Write the media files into `folder` and an archive serving them at `root` (beside
    what the archive holds already), as dandisets `media_id` and `bids_id`."""
    from dandindex.testing.nwbfiles import write_pose_video

    root, folder = Path(root), Path(folder)
    media = write_media(folder / "media")
    out = MediaArchive(root, media)
    w = MetadataWriter(root, 11)
    one = _Writer(root, media_id, w, out)
    for name, m in media.items():
        if m.kind == "json":  # a sidecar: it belongs in the BIDS dataset
            continue
        if name == "video_mp4":
            rel = f"sub-01/{POSE_VIDEO}"
        else:
            rel = f"sub-01/{name}{''.join(m.path.suffixes[-2:]) if '.ome.' in m.path.name else m.path.suffix}"
        one.add(rel, m.path, name)
    video = media["video_mp4"].expect
    pose = write_pose_video(
        folder / "pose.nwb", POSE_VIDEO, frames=int(video["n_frames"]), fps=video["fps"],
        size=(int(video["width"]), int(video["height"])),
    )  # fmt: skip
    one.add(POSE_PATH, pose, "pose")
    one.close("Media of every kind: OME-Zarr, TIFF, video")
    out.bids = write_bids(folder / "bids", media)
    two = _Writer(root, bids_id, w, out)
    for rel, path in sorted(out.bids["files"].items()):
        two.add(rel, path, rel)
    two.close("A BIDS dataset: microscopy and EEG")
    return out
