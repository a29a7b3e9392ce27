"""Damaged and crafted HDF5/NWB files for reliability tests: every file must end in a summary
or an error within the per-file limit, never hang the crawl or crash it.

- `corrupt(path, out, how, seed)`: a copy truncated, bit-flipped or zeroed in places (seeded);
- `write_crafted(folder)`: files made to trip a reader: groups linking back into themselves,
  an exponential fan of hard links, deep nesting, a huge number of attributes, a file that is
  not HDF5 at all, an empty file.
"""

from __future__ import annotations

import random
from pathlib import Path

CORRUPTIONS = ("truncate", "bitflip", "zero")


def corrupt(path: Path, out: Path, how: str, seed: int = 0) -> Path:
    data = bytearray(path.read_bytes())
    rng = random.Random(f"{seed}:{path.name}:{how}")
    if how == "truncate":
        data = data[: rng.randint(len(data) // 8, max(len(data) // 8 + 1, len(data) * 3 // 4))]
    elif how == "bitflip":
        for _ in range(max(8, len(data) // 2000)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif how == "zero":
        for _ in range(4):
            start, n = rng.randrange(len(data)), rng.randint(64, 4096)
            data[start : start + n] = bytes(len(data[start : start + n]))
    else:
        raise ValueError(f"corruption must be one of {CORRUPTIONS}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bytes(data))
    return out


def _nwb_root(f: object) -> None:
    f.attrs["neurodata_type"] = "NWBFile"  # type: ignore[attr-defined]
    f.attrs["namespace"] = "core"  # type: ignore[attr-defined]
    f.attrs["nwb_version"] = "2.6.0"  # type: ignore[attr-defined]
    f["identifier"] = "crafted"  # type: ignore[index]


def write_crafted(folder: Path) -> dict[str, Path]:
    """The crafted files, by name."""
    import h5py
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}

    path = out.setdefault("link_cycle", folder / "link_cycle.nwb")
    with h5py.File(path, "w") as f:
        _nwb_root(f)
        loop = f.create_group("acquisition").create_group("loop")
        loop.attrs["neurodata_type"] = "TimeSeries"
        loop["back_to_root"] = f["/"]
        loop["itself"] = loop
        loop["up"] = f["/acquisition"]

    path = out.setdefault("link_fan", folder / "link_fan.nwb")
    with h5py.File(path, "w") as f:  # 2**40 paths through 40 groups
        _nwb_root(f)
        groups = [f.create_group(f"processing/g{i}") for i in range(40)]
        for a, b in zip(groups, groups[1:], strict=False):
            a["left"] = b
            a["right"] = b

    path = out.setdefault("deep", folder / "deep.nwb")
    with h5py.File(path, "w") as f:
        _nwb_root(f)
        g = f.create_group("acquisition")
        for i in range(300):
            g = g.create_group(f"d{i}")
            g.attrs["neurodata_type"] = "NWBDataInterface"

    path = out.setdefault("many_attributes", folder / "many_attributes.nwb")
    with h5py.File(path, "w", libver="latest") as f:
        _nwb_root(f)
        g = f.create_group("acquisition/crowded")
        g.attrs["neurodata_type"] = "TimeSeries"
        for i in range(20000):
            g.attrs[f"a{i}"] = np.int64(i)
        g["data"] = np.zeros(10)

    path = out.setdefault("not_hdf5", folder / "not_hdf5.nwb")
    path.write_bytes(b"this is not an HDF5 file\n" * 200)
    path = out.setdefault("empty", folder / "empty.nwb")
    path.write_bytes(b"")
    return out
