"""Files that are not NWB, written by their real writers for tests and benchmarks.

`write_media(folder)` writes, and returns by name with what each must be described as:

- OME-Zarr: NGFF 0.4 (Zarr v2, three levels, axes with units, omero channels DAPI/GFP),
  NGFF 0.5 (Zarr v3), a bioformats2raw layout, an HCS plate, written with ``zarr``;
- TIFF: an OME-TIFF (``tifffile`` with ``ome=True``: physical sizes, channel names), an
  ImageJ hyperstack, a 300-page plain TIFF whose pages are appended one by one (IFD, data,
  IFD, data...), a pyramidal OME-TIFF with SubIFDs;
- video: an MP4 (H.264, 60 fps, ``moov`` at the end), an MP4 with ``faststart``, an AVI
  (MPEG-4 Part 2, 30 fps), a Matroska file, encoded with PyAV;
- bad input: a truncated TIFF, a Zarr missing a level's ``.zarray``, an MP4 cut before its
  ``moov``, a corrupt sidecar JSON;

and `write_bids(folder)` a BIDS tree (microscopy OME-Zarr/OME-TIFF and EEG data files with
inherited sidecars, participants/sessions/scans tables).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Media:
    """A written file (or Zarr folder) and the facts a summary of it must hold."""

    path: Path
    kind: str  # zarr, tiff, video, json, tsv
    expect: dict[str, Any] = field(default_factory=dict)  # column → value
    bad: bool = False  # a summary must say why it could not be read


def cells(shape: tuple[int, ...], n: int = 40, seed: int = 0, radius: float = 3.0) -> Any:
    """A uint16 image of `shape` (the last two or three axes spatial: z, y, x) holding `n`
    bright round cells on a dim background, like a fluorescence stack; other leading axes
    (t, c) get their own cells."""
    import numpy as np

    rng = np.random.default_rng(seed)
    spatial = shape[-3:] if len(shape) >= 3 else shape[-2:]
    lead = shape[: len(shape) - len(spatial)]
    out = np.empty(shape, dtype=np.uint16)
    grids = np.meshgrid(*[np.arange(k) for k in spatial], indexing="ij")
    for idx in np.ndindex(*lead) if lead else [()]:
        img = rng.normal(200, 20, spatial)
        for _ in range(n):
            centre = [rng.uniform(0, k) for k in spatial]
            r2 = sum((g - c) ** 2 for g, c in zip(grids, centre, strict=True))
            img += rng.uniform(1500, 3500) * np.exp(-r2 / (2 * radius**2))
        out[idx] = np.clip(img, 0, 65535).astype(np.uint16)
    return out


def _group(path: str, mode: str, version: int) -> Any:
    """A Zarr group (format `version`: 2 or 3), its attributes free-form JSON."""
    import zarr

    group: Any = zarr.open_group(path, mode=mode, zarr_format=version)  # type: ignore[arg-type]
    return group


def _zarr_levels(
    root: Path, version: int, shape: tuple[int, ...], levels: int, chunks: tuple[int, ...]
) -> list[tuple[int, ...]]:
    """Arrays 0..levels-1 under `root` (Zarr format `version`) of `cells`, every other voxel
    of the level before along the spatial axes (the last three)."""
    group = _group(str(root), "a", version)
    shapes = []
    full = cells(shape, n=12 * len(shape), seed=len(shape))
    data = full
    for i in range(levels):
        s = data.shape
        arr = group.create_array(
            str(i), shape=s, chunks=tuple(min(c, n) for c, n in zip(chunks, s, strict=True)),
            dtype="uint16", fill_value=0, overwrite=True,
        )  # fmt: skip
        arr[...] = data
        shapes.append(tuple(s))
        # the next level: every other voxel along the spatial axes (the last three)
        data = data[tuple(slice(None, None, 2) if j >= len(s) - 3 and s[j] > 1 else slice(None)
                          for j in range(len(s)))]  # fmt: skip
    return shapes


def _multiscales(names: str, scale0: list[float], levels: int, version: str) -> dict[str, Any]:
    units = {"t": "second", "c": None, "z": "micrometer", "y": "micrometer", "x": "micrometer"}
    types = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
    axes = []
    for n in names:
        a: dict[str, Any] = {"name": n, "type": types[n]}
        if units[n]:
            a["unit"] = units[n]
        axes.append(a)
    datasets = []
    for i in range(levels):
        factor = [1.0 if n in "tc" else 2.0**i for n in names]
        if "z" in names:  # z halves too, like x and y
            pass
        datasets.append({
            "path": str(i),
            "coordinateTransformations": [{"type": "scale", "scale": [a * b for a, b in zip(scale0, factor, strict=True)]}],
        })  # fmt: skip
    out = {"version": version, "name": "image", "axes": axes, "datasets": datasets}
    if version == "0.5":
        out.pop("version")
    return out


OMERO = {
    "channels": [
        {"label": "DAPI", "color": "0000FF", "active": True, "window": {"start": 0, "end": 4000, "min": 0, "max": 65535}},
        {"label": "GFP", "color": "00FF00", "active": True, "window": {"start": 0, "end": 4000, "min": 0, "max": 65535}},
    ]
}  # fmt: skip


def write_ome_zarr(path: Path, version: str = "0.4") -> Media:
    """A 2-channel volume (c, z, y, x) of 0.5 x 0.5 x 2 µm voxels, three levels."""

    shutil.rmtree(path, ignore_errors=True)
    fmt = 3 if version == "0.5" else 2
    shape = (2, 16, 128, 96)
    shapes = _zarr_levels(path, fmt, shape, 3, (1, 8, 64, 64))
    ms = _multiscales("czyx", [1.0, 2.0, 0.5, 0.5], 3, version)
    group = _group(str(path), "a", fmt)
    if version == "0.5":
        group.attrs["ome"] = {"version": "0.5", "multiscales": [ms], "omero": OMERO}
    else:
        group.attrs["multiscales"] = [ms]
        group.attrs["omero"] = OMERO
    return Media(
        path,
        "zarr",
        {
            "format": "ome-zarr", "axes": "czyx", "shape": list(shape), "dtype": "uint16",
            "n_levels": 3, "level_shapes": [list(s) for s in shapes], "voxel_size": [2.0, 0.5, 0.5],
            "voxel_um": 2.0, "channels": ["DAPI", "GFP"], "n_channels": 2,
            "chunks": [1, 8, 64, 64],
        },
    )  # fmt: skip


def write_bioformats2raw(path: Path) -> Media:
    """bioformats2raw's layout: the image at ``0/``, a t/c/z/y/x volume of 0.25 µm voxels."""

    shutil.rmtree(path, ignore_errors=True)
    root = _group(str(path), "w", 2)
    root.attrs["bioformats2raw.layout"] = 3
    shapes = _zarr_levels(path / "0", 2, (3, 1, 4, 64, 64), 2, (1, 1, 4, 32, 32))
    image = _group(str(path / "0"), "a", 2)
    ms = _multiscales("tczyx", [1.5, 1.0, 0.25, 0.25, 0.25], 2, "0.4")
    image.attrs["multiscales"] = [ms]
    return Media(path, "zarr", {"format": "ome-zarr", "axes": "tczyx", "shape": list(shapes[0]),
                                "n_timepoints": 3, "voxel_um": 0.25, "time_step": 1.5, "n_levels": 2})  # fmt: skip


def write_plate(path: Path) -> Media:
    """An HCS plate (NGFF 0.4): 2 x 3 wells, the first well's first field an image."""

    shutil.rmtree(path, ignore_errors=True)
    root = _group(str(path), "w", 2)
    wells = [{"path": f"{r}/{c}", "rowIndex": i, "columnIndex": j}
             for i, r in enumerate("AB") for j, c in enumerate("123")]  # fmt: skip
    root.attrs["plate"] = {
        "version": "0.4", "name": "plate", "field_count": 1,
        "rows": [{"name": "A"}, {"name": "B"}], "columns": [{"name": str(i)} for i in (1, 2, 3)],
        "wells": wells,
    }  # fmt: skip
    well = _group(str(path / "A" / "1"), "w", 2)
    well.attrs["well"] = {"images": [{"path": "0"}], "version": "0.4"}
    _zarr_levels(path / "A" / "1" / "0", 2, (1, 32, 32), 1, (1, 32, 32))
    image = _group(str(path / "A" / "1" / "0"), "a", 2)
    image.attrs["multiscales"] = [_multiscales("cyx", [1.0, 0.65, 0.65], 1, "0.4")]
    return Media(path, "zarr", {"format": "ome-zarr", "plate": "2 x 3, 6 wells, 1 fields",
                                "axes": "cyx", "shape": [1, 32, 32], "voxel_um": 0.65})  # fmt: skip


def write_ome_tiff(path: Path) -> Media:
    import tifffile

    data = cells((3, 20, 64, 128), n=25, seed=1).transpose(1, 0, 2, 3)  # z, c, y, x
    tifffile.imwrite(
        path, data, ome=True, photometric="minisblack",
        metadata={"axes": "ZCYX", "PhysicalSizeX": 0.5, "PhysicalSizeXUnit": "µm",
                  "PhysicalSizeY": 0.5, "PhysicalSizeYUnit": "µm", "PhysicalSizeZ": 2.5,
                  "PhysicalSizeZUnit": "µm", "Channel": {"Name": ["DAPI", "GFP", "NeuN"]}},
    )  # fmt: skip
    return Media(path, "tiff", {"format": "ome-tiff", "pages": 60, "pages_known": True,
                                "voxel_size": [2.5, 0.5, 0.5], "voxel_um": 2.5, "n_channels": 3,
                                "channels": ["DAPI", "GFP", "NeuN"], "dtype": "uint16"})  # fmt: skip


def write_pyramid_tiff(path: Path) -> Media:
    """An OME-TIFF with two SubIFD levels (tifffile's pyramid recipe), 0.25 µm pixels."""
    import numpy as np
    import tifffile

    data = (cells((256, 256), n=60, seed=2, radius=5) >> 6).astype(np.uint8)
    with tifffile.TiffWriter(path, ome=True) as tif:
        opts: dict[str, Any] = {"tile": (64, 64), "photometric": "minisblack",
                                "compression": "zlib"}  # fmt: skip
        tif.write(data, subifds=2, metadata={"axes": "YX", "PhysicalSizeX": 0.25,
                                              "PhysicalSizeY": 0.25}, **opts)  # fmt: skip
        tif.write(data[::2, ::2], subfiletype=1, **opts)
        tif.write(data[::4, ::4], subfiletype=1, **opts)
    return Media(path, "tiff", {"format": "ome-tiff", "n_levels": 3, "voxel_um": 0.25,
                                "level_shapes": [[256, 256], [128, 128], [64, 64]],
                                "compressor": "adobe_deflate", "chunks": [64, 64]})  # fmt: skip


def write_imagej_tiff(path: Path) -> Media:
    import tifffile

    data = cells((5, 2, 10, 32, 48), n=8, seed=3, radius=2).transpose(0, 2, 1, 3, 4)  # TZCYX
    tifffile.imwrite(
        path, data, imagej=True, resolution=(1 / 0.3, 1 / 0.3),
        metadata={"axes": "TZCYX", "spacing": 1.5, "unit": "um", "finterval": 0.5,
                  "Labels": ["GCaMP", "tdTomato"] * 50},
    )  # fmt: skip
    return Media(path, "tiff", {"format": "tiff", "shape": [5, 10, 2, 32, 48], "axes": "tzcyx",
                                "pages": 100, "pages_known": True, "voxel_size": [1.5, 0.3, 0.3],
                                "voxel_um": 1.5, "time_step": 0.5, "n_timepoints": 5,
                                "channels": ["GCaMP", "tdTomato"]})  # fmt: skip


def write_plain_tiff(path: Path, pages: int = 300) -> Media:
    """`pages` 2-D pages appended one at a time, with no description (tifffile's
    ``metadata=None``): only the IFD chain says how many there are."""
    import numpy as np
    import tifffile

    path.unlink(missing_ok=True)
    rng = np.random.default_rng(4)
    with tifffile.TiffWriter(path) as tif:
        for _ in range(pages):
            tif.write(rng.integers(0, 255, (40, 60), dtype=np.uint8), metadata=None,
                      contiguous=False)  # fmt: skip
    return Media(path, "tiff", {"format": "tiff", "pages": pages, "pages_known": True,
                                "shape": [pages, 40, 60], "dtype": "uint8"})  # fmt: skip


def encode_video(
    path: Path, codec: str, *, fmt: str | None = None, frames: int = 240, fps: int = 60,
    size: tuple[int, int] = (160, 120), faststart: bool = False, grain: int = 0,
    bit_rate: int | None = None,
) -> None:  # fmt: skip
    """A moving bar on a gradient, `frames` frames at `fps`, encoded with PyAV; `grain`: the
    amplitude of noise added to every frame (a camera's sensor noise: a realistic bitrate)."""
    import av
    import numpy as np

    w, h = size
    opts = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format=fmt, options=opts) as c:
        s: Any = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        if bit_rate:
            s.bit_rate = bit_rate
        if codec == "libx264":
            s.options = {"g": str(fps), "preset": "ultrafast"}
        base = np.tile(np.linspace(0, 200, w, dtype=np.uint8), (h, 1))
        rng = np.random.default_rng(0)
        for i in range(frames):
            img = np.stack([base] * 3, axis=-1)
            if grain:
                img = img + rng.integers(0, grain, img.shape, dtype=np.uint8)
            x = (i * 3) % (w - 8)
            img[:, x : x + 8] = (255, 64, 0)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def write_videos(folder: Path) -> dict[str, Media]:
    out = {}
    specs = {
        "mp4": ("video.mp4", "libx264", None, 240, 60, False, "h264", "mov,mp4,m4a,3gp,3g2,mj2"),
        "mp4_faststart": ("faststart.mp4", "libx264", None, 120, 30, True, "h264", "mov,mp4,m4a,3gp,3g2,mj2"),
        "avi": ("video.avi", "mpeg4", "avi", 90, 30, False, "mpeg4", "avi"),
        "mkv": ("video.mkv", "libx264", "matroska", 100, 25, False, "h264", "matroska,webm"),
    }  # fmt: skip
    for name, (fname, codec, fmt, frames, fps, fast, codec_name, container) in specs.items():
        p = folder / fname
        encode_video(p, codec, fmt=fmt, frames=frames, fps=fps, faststart=fast)
        out[f"video_{name}"] = Media(p, "video", {
            "format": "video", "codec": codec_name, "container": container, "width": 160,
            "height": 120, "fps": float(fps), "n_frames": frames,
            "duration": frames / fps,
        })  # fmt: skip
    return out


def write_bad(folder: Path, good: dict[str, Media]) -> dict[str, Media]:
    """Damaged copies: a truncated TIFF, a Zarr missing a level's metadata, an MP4 cut
    before its moov atom, a sidecar that is not JSON."""
    out = {}
    tiff = good["tiff_ome"].path.read_bytes()
    p = folder / "truncated.ome.tif"
    p.write_bytes(tiff[:6])
    out["bad_tiff_truncated"] = Media(p, "tiff", bad=True)
    z = folder / "missing_zarray.ome.zarr"
    shutil.rmtree(z, ignore_errors=True)
    shutil.copytree(good["zarr_v04"].path, z)
    (z / "1" / ".zarray").unlink()
    out["bad_zarr_no_zarray"] = Media(z, "zarr", bad=True)
    mp4 = good["video_mp4"].path.read_bytes()
    moov = mp4.rfind(b"moov")
    p = folder / "no_moov.mp4"
    p.write_bytes(mp4[: moov - 4])
    out["bad_mp4_no_moov"] = Media(p, "video", bad=True)
    p = folder / "sub-01_corrupt_eeg.json"
    p.write_text('{"SamplingFrequency": 1000, "TaskName": "rest",', encoding="utf-8")
    out["bad_sidecar"] = Media(p, "json", bad=True)
    return out


def write_media(folder: str | Path) -> dict[str, Media]:
    """Every good and bad file of this module under `folder`, by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {
        "zarr_v04": write_ome_zarr(folder / "volume_v04.ome.zarr", "0.4"),
        "zarr_v05": write_ome_zarr(folder / "volume_v05.ome.zarr", "0.5"),
        "zarr_bf2raw": write_bioformats2raw(folder / "bf2raw.ome.zarr"),
        "zarr_plate": write_plate(folder / "plate.ome.zarr"),
        "tiff_ome": write_ome_tiff(folder / "stack.ome.tif"),
        "tiff_pyramid": write_pyramid_tiff(folder / "pyramid.ome.tif"),
        "tiff_imagej": write_imagej_tiff(folder / "hyperstack.tif"),
        "tiff_plain": write_plain_tiff(folder / "pages.tif"),
    }
    out.update(write_videos(folder))
    out.update(write_bad(folder, out))
    return out


# -- BIDS ------------------------------------------------------------------------------------


def write_bids(folder: str | Path, media: dict[str, Media]) -> dict[str, Any]:
    """A BIDS dataset: two subjects of microscopy (an OME-Zarr and an OME-TIFF each, stains
    in their names) and EEG (an EDF-named file each) with sidecars at the root (inherited),
    per subject and per file, participants/sessions/scans tables. Returns the layout
    ({path: source file or None for text written here}) and what each data file's BIDS
    key/values must hold."""
    root = Path(folder)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    files: dict[str, Path] = {}

    def text(rel: str, content: Any) -> None:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_text(content, encoding="utf-8")
        else:
            p.write_text(json.dumps(content, indent=1), encoding="utf-8")
        files[rel] = p

    text("dataset_description.json", {"Name": "Synthetic BIDS", "BIDSVersion": "1.9.0",
                                      "DatasetType": "raw"})  # fmt: skip
    text("participants.tsv", "participant_id\tspecies\tage\tsex\n"
         "sub-01\tmus musculus\tP60\tF\nsub-02\tmus musculus\tP90\tM\n")  # fmt: skip
    text("task-rest_eeg.json", {"TaskName": "rest", "SamplingFrequency": 1000,
                                "PowerLineFrequency": 60, "EEGReference": "Cz"})  # fmt: skip
    text("SPIM.json", {"PixelSize": [0.5, 0.5, 2.0], "PixelSizeUnits": "um",
                       "Manufacturer": "LaVision"})  # fmt: skip
    expect: dict[str, dict[str, str]] = {}
    for sub, rate in (("01", None), ("02", 512)):
        ses = "1"
        text(f"sub-{sub}/sub-{sub}_sessions.tsv", f"session_id\tacq_time\nses-{ses}\t2020-01-0{sub[-1]}T10:00:00\n")  # fmt: skip
        eeg = f"sub-{sub}/ses-{ses}/eeg/sub-{sub}_ses-{ses}_task-rest_eeg.edf"
        text(eeg, "0       (an EDF header would start here)\n")
        if rate is not None:  # this subject's own sidecar overrides the root's rate
            text(f"sub-{sub}/ses-{ses}/eeg/sub-{sub}_ses-{ses}_task-rest_eeg.json", {"SamplingFrequency": rate})  # fmt: skip
        text(f"sub-{sub}/ses-{ses}/sub-{sub}_ses-{ses}_scans.tsv",
             f"filename\tacq_time\neeg/sub-{sub}_ses-{ses}_task-rest_eeg.edf\t2020-01-0{sub[-1]}T10:05:00\n")  # fmt: skip
        expect[eeg] = {
            "TaskName": "rest", "SamplingFrequency": str(rate or 1000), "EEGReference": "Cz",
            "participant.species": "mus musculus", "participant.sex": "F" if sub == "01" else "M",
            "session.acq_time": f"2020-01-0{sub[-1]}T10:00:00",
            "scan.acq_time": f"2020-01-0{sub[-1]}T10:05:00",
        }  # fmt: skip
        for stain, src in (("DAPI", "zarr_v04"), ("GFP", "tiff_ome")):
            ext = ".ome.zarr" if src.startswith("zarr") else ".ome.tif"
            rel = f"sub-{sub}/ses-{ses}/micr/sub-{sub}_ses-{ses}_sample-A_stain-{stain}_SPIM{ext}"
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if media[src].path.is_dir():
                shutil.copytree(media[src].path, dest)
            else:
                shutil.copyfile(media[src].path, dest)
            files[rel] = dest
            expect[rel] = {"Manufacturer": "LaVision", "PixelSize": "0.5,0.5,2",
                           "participant.age": "P60" if sub == "01" else "P90"}  # fmt: skip
    text("sub-02/ses-1/eeg/sub-02_ses-1_task-rest_channels.tsv", "name\ttype\nCz\tEEG\n")
    # a damaged sidecar of sub-01's EEG: an error row of its own; the file keeps the rest
    bad = "sub-01/ses-1/eeg/sub-01_ses-1_task-rest_eeg.json"
    shutil.copyfile(media["bad_sidecar"].path, root / bad)
    files[bad] = root / bad
    return {"root": root, "files": files, "expect": expect, "bad": [bad]}
