"""Summarise an NWB (HDF5) file by walking its metadata with h5py, never its bulk data.

`summarize_h5(fileobj_or_path)` returns the file-level summary, one row per typed group or
dataset (the root NWBFile included, ``/specifications`` excluded) and the brain-area location
strings with counts. It does not use pynwb's ``io.read()``: types, namespaces and ancestry come
from the ``neurodata_type``/``namespace`` attributes, the file's cached specifications (for
extensions) and the installed core schema. Values are read only when a summary needs them and
they are small (`max_value_bytes`). Old and odd files are handled: byte-array attributes
(MatNWB 2018), ``nwb_version`` stored as a dataset (2017 pre-release), missing fields, soft and
external links (recorded, not followed).

With a `RangeFile`, `dandindex.nwb.prefetch` first fetches what the walk will read, parsing the
HDF5 structures itself and fetching each level of the object graph in one concurrent burst, so
the number of round trips grows with the depth of the tree, not with the number of objects.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dandindex.nwb.hierarchy import INSTALLED, TypeHierarchy, parents_from_sources
from dandindex.nwb.timespan import read_ends, time_span
from dandindex.nwb.timespan import reraise_transfer as _reraise_transfer
from dandindex.rowfit import clean_text

MAX_VALUE_BYTES = 64 * 1024
MAX_OBJECTS = 200_000  # objects visited at most (a crafted file can hold any number of paths)
DESCRIPTION_CHARS = 300
HEADER_GUESS = 512  # bytes prefetched per child object header (HDF5's own first read)
LOCATION_SOURCES = ("electrodes", "imaging_plane", "intracellular_electrode", "other")


# what the walk reads, so that a prefetch can fetch exactly that ahead of it
WALK_ATTRIBUTES = frozenset(
    ("neurodata_type", "namespace", "object_id", "description", "unit", "conversion", "rate")
    + ("location", "nwb_version", "colnames")
)
FILE_FIELDS = frozenset(
    ("/nwb_version", "/identifier", "/session_description", "/session_start_time")
    + ("/general/institution", "/general/lab", "/general/experimenter", "/general/keywords")
    + tuple(f"/general/subject/{k}" for k in ("subject_id", "species", "sex", "age", "genotype"))
)
#: datasets whose value the walk reads when small; timestamps give a series' time span
VALUE_NAMES = frozenset(
    ("starting_time", "imaging_rate", "sampling_rate", "location", "timestamps")
    + ("external_file", "original_videos")
)
#: datasets of a group naming files outside the NWB file (ImageSeries, ndx-pose)
EXTERNAL_NAMES = ("external_file", "original_videos")


def walked(path: str) -> bool:
    """Whether the walk opens the object at `path` (installed specs are skipped)."""
    parts = path.split("/")
    return not (len(parts) > 2 and parts[1] == "specifications" and parts[2] in INSTALLED)


def _value_read(path: str) -> bool:
    """Whether the walk reads the value of the dataset at `path` (when small)."""
    if path in FILE_FIELDS or path.rsplit("/", 1)[-1] in VALUE_NAMES:
        return True
    parts = path.split("/")
    return len(parts) == 5 and parts[1] == "specifications" and parts[4] != "namespace"


@dataclass
class WalkResult:
    file: dict[str, Any] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    prefetch_rounds: int = 0


def text(value: Any) -> str | None:
    """An attribute or dataset value as text: bytes, numpy bytes arrays (MatNWB), scalars."""
    import numpy as np

    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return clean_text(value)  # h5py keeps undecodable bytes as surrogates
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return ""
        if value.size == 1:
            return text(value.reshape(-1)[0])
        if value.dtype.kind in ("S", "O", "U"):
            return ", ".join(t for t in (text(v) for v in value.reshape(-1)) if t is not None)
        return None
    if isinstance(value, np.generic):
        return text(value.item())
    return str(value)


def texts(value: Any) -> list[str]:
    """A value as a list of strings (scalar → one item)."""
    import numpy as np

    if value is None:
        return []
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return [t for t in (text(v) for v in value.reshape(-1)) if t is not None]
    t = text(value)
    return [t] if t is not None else []


def number(value: Any) -> float | None:
    import numpy as np

    try:
        if isinstance(value, np.ndarray):
            if value.size != 1:
                return None
            value = value.reshape(-1)[0]
        if isinstance(value, (bytes, str)):
            return float(value)
        return float(value)
    except (TypeError, ValueError):
        return None


class _Walker:
    def __init__(self, h5: Any, rangefile: Any | None, max_value_bytes: int) -> None:
        import h5py

        self.h5py = h5py
        self.f = h5
        self.rf = rangefile
        self.max_value_bytes = max_value_bytes
        self.out = WalkResult()
        self.hierarchy = TypeHierarchy()
        self.locations: Counter[tuple[str, str, str]] = Counter()
        self.ends: list[tuple[dict[str, Any], Any]] = []  # (row, timestamps) read after the walk

    # -- small reads -----------------------------------------------------------------

    def attr(self, obj: Any, name: str) -> Any:
        try:
            if name not in obj.attrs:
                return None
            return obj.attrs[name]
        except (OSError, KeyError, TypeError, ValueError) as e:
            _reraise_transfer(e)
            self.out.warnings.append(f"{obj.name}@{name}: {type(e).__name__}: {e}")
            return None

    def value(self, obj: Any) -> Any:
        """A dataset's value if it is small, else None."""
        try:
            if not isinstance(obj, self.h5py.Dataset):
                return None
            n = int(obj.size or 0)
            itemsize = obj.dtype.itemsize if obj.dtype.kind != "O" else 64
            if n * itemsize > self.max_value_bytes:
                return None
            return obj[()]
        except (OSError, KeyError, TypeError, ValueError) as e:
            _reraise_transfer(e)
            self.out.warnings.append(f"{obj.name}: {type(e).__name__}: {e}")
            return None

    def get(self, path: str) -> Any:
        try:
            link = self.f.get(path, getlink=True)
            if link is None or isinstance(link, self.h5py.ExternalLink):
                return None
            return self.f.get(path)
        except (OSError, KeyError, TypeError, ValueError) as e:
            _reraise_transfer(e)
            return None

    def dataset_text(self, path: str) -> str | None:
        return text(self.value(self.get(path))) if self.get(path) is not None else None

    # -- the walk --------------------------------------------------------------------

    def run(self) -> WalkResult:
        self._load_file_specs()
        root = self.f["/"]
        self._visit("/", root, None)
        # every object once: a second hard link to an object already seen (a group linking
        # back into itself, or a fan of links; only crafted files have them) is recorded as a
        # link, not followed, so the walk ends after the file's distinct objects
        seen = {_address(root): "/"}
        level = [("/", root)]
        while level:
            children: list[tuple[str, Any, str]] = []
            addresses: list[int] = []
            for path, group in level:
                for name, info in self._links(group):
                    child_path = f"{path.rstrip('/')}/{name}"
                    if child_path == "/specifications":
                        continue
                    if info.type == self.h5py.h5l.TYPE_HARD:
                        addr = int(info.u)
                        if addr in seen:
                            self.out.links.append(
                                {"path": child_path, "kind": "hard", "target": seen[addr]}
                            )
                            continue
                        if len(seen) >= MAX_OBJECTS:
                            self.out.warnings.append(
                                f"more than {MAX_OBJECTS} objects: the walk stopped there"
                            )
                            break
                        seen[addr] = child_path
                        addresses.append(addr)
                        children.append((child_path, group, name))
                    else:
                        self._record_link(group, name, child_path, info)
            if self.rf is not None and addresses:
                # usually all cached by the prefetch already (then no request); this covers
                # what it could not parse, e.g. groups with large dense link storage
                self.rf.prefetch((a, HEADER_GUESS) for a in addresses)
            next_level = []
            for child_path, group, name in children:
                try:
                    obj = group[name]
                except (OSError, KeyError, ValueError) as e:
                    _reraise_transfer(e)
                    self.out.warnings.append(f"{child_path}: cannot open: {e}")
                    continue
                self._visit(child_path, obj, group)
                if isinstance(obj, self.h5py.Group):
                    next_level.append((child_path, obj))
            level = next_level if len(seen) < MAX_OBJECTS else []
        read_ends(self)
        self._file_summary()
        self.out.locations = [
            {"source": s, "object_path": p, "location": loc, "count": n}
            for (s, p, loc), n in sorted(self.locations.items())
        ]
        return self.out

    def _links(self, group: Any) -> list[tuple[str, Any]]:
        out = []
        try:
            for raw in group:
                info = group.id.links.get_info(raw.encode("utf-8"))
                out.append((raw, info))
        except (OSError, KeyError, ValueError, RuntimeError) as e:
            _reraise_transfer(e)
            self.out.warnings.append(f"{group.name}: cannot list members: {e}")
        return out

    def _record_link(self, group: Any, name: str, path: str, info: Any) -> None:
        try:
            link = group.get(name, getlink=True)
        except (OSError, KeyError, ValueError) as e:
            _reraise_transfer(e)
            link = None
        if isinstance(link, self.h5py.ExternalLink):
            self.out.links.append(
                {"path": path, "kind": "external", "target": f"{link.filename}::{link.path}"}
            )
        elif isinstance(link, self.h5py.SoftLink):
            self.out.links.append({"path": path, "kind": "soft", "target": link.path})

    def _load_file_specs(self) -> None:
        """Parents of extension types from the file's cached specs (installed ones skipped)."""
        specs = self.get("/specifications")
        if specs is None or not isinstance(specs, self.h5py.Group):
            return
        sources: list[Any] = []
        try:
            for ns_name in specs:
                if ns_name in INSTALLED:
                    continue
                ns = specs[ns_name]
                for version in ns:
                    vgroup = ns[version]
                    for src in vgroup:
                        if src == "namespace":
                            continue
                        v = self.value(vgroup[src])
                        if v is not None:
                            sources.append(v if isinstance(v, (bytes, str)) else text(v))
        except (OSError, KeyError, ValueError, TypeError) as e:
            _reraise_transfer(e)
            self.out.warnings.append(f"/specifications: {e}")
        self.hierarchy = TypeHierarchy(parents_from_sources(s for s in sources if s))

    def _visit(self, path: str, obj: Any, parent: Any) -> None:
        h5py = self.h5py
        ndtype = text(self.attr(obj, "neurodata_type"))
        if ndtype is None:
            return
        namespace = text(self.attr(obj, "namespace"))
        row: dict[str, Any] = {
            "path": path,
            "neurodata_type": ndtype,
            "namespace": namespace,
            "base_types": self.hierarchy.ancestors(ndtype),
            "parent_path": None if path == "/" else (path.rsplit("/", 1)[0] or "/"),
            "object_id": text(self.attr(obj, "object_id")),
            "is_dataset": isinstance(obj, h5py.Dataset),
            "shape": None,
            "dtype": None,
            "chunks": None,
            "compression": None,
            "unit": None,
            "conversion": None,
            "rate": None,
            "starting_time": None,
            "n_timestamps": None,
            "n_rows": None,
            "description": None,
            "columns": None,
            "external_files": None,
            "t_start": None,
            "t_stop": None,
            "duration": None,
        }
        desc = text(self.attr(obj, "description"))
        row["description"] = desc[:DESCRIPTION_CHARS] if desc else None
        data = obj if isinstance(obj, h5py.Dataset) else self._member(obj, "data")
        if data is not None:
            self._dataset_facts(row, data)
        if isinstance(obj, h5py.Group):
            self._series_facts(row, obj)
            ids = self._member(obj, "id")
            if ids is not None and ids.shape:
                row["n_rows"] = int(ids.shape[0])
            colnames = self.attr(obj, "colnames")
            if colnames is not None:  # a DynamicTable: its columns, in order (no extra read)
                row["columns"] = texts(colnames)
            if "TimeSeries" in (ndtype, *row["base_types"]):
                time_span(self, row, obj)
            for name in EXTERNAL_NAMES:  # files it names outside itself (videos, frames)
                member = self._member(obj, name)
                if member is not None:
                    names = texts(self.value(member))
                    row["external_files"] = (row["external_files"] or []) + names
        self.out.objects.append(row)
        self._locations(path, ndtype, row["base_types"], obj)

    def _member(self, group: Any, name: str) -> Any:
        try:
            link = group.get(name, getlink=True)
            if link is None or isinstance(link, self.h5py.ExternalLink):
                return None
            child = group.get(name)
            return child if isinstance(child, self.h5py.Dataset) else None
        except (OSError, KeyError, ValueError, TypeError) as e:
            _reraise_transfer(e)
            return None

    def _dataset_facts(self, row: dict[str, Any], ds: Any) -> None:
        try:
            row["shape"] = [int(x) for x in ds.shape] if ds.shape is not None else None
            row["dtype"] = str(ds.dtype)
            row["chunks"] = [int(x) for x in ds.chunks] if ds.chunks else None
            row["compression"] = ds.compression
        except (OSError, TypeError, ValueError) as e:
            _reraise_transfer(e)
            self.out.warnings.append(f"{ds.name}: {e}")
        unit = text(self.attr(ds, "unit"))
        if unit is not None:
            row["unit"] = unit
        conv = number(self.attr(ds, "conversion"))
        if conv is not None:
            row["conversion"] = conv

    def _series_facts(self, row: dict[str, Any], group: Any) -> None:
        start = self._member(group, "starting_time")
        if start is not None:
            row["starting_time"] = number(self.value(start))
            row["rate"] = number(self.attr(start, "rate"))
        stamps = self._member(group, "timestamps")
        if stamps is not None and stamps.shape:
            row["n_timestamps"] = int(stamps.shape[0])
        if row["rate"] is None:
            rate = self._member(group, "imaging_rate") or self._member(group, "sampling_rate")
            if rate is not None:
                row["rate"] = number(self.value(rate))

    def _locations(self, path: str, ndtype: str, bases: list[str], obj: Any) -> None:
        kinds = {ndtype, *bases}
        if path.endswith("/extracellular_ephys/electrodes") or ndtype == "ElectrodesTable":
            loc = self._member(obj, "location")
            if loc is not None:
                for name, n in Counter(texts(self.value(loc))).items():
                    self.locations[("electrodes", path, name)] += n
        elif "ImagingPlane" in kinds:
            loc = self._member(obj, "location")
            where = text(self.value(loc)) if loc is not None else None
            if where is not None:
                self.locations[("imaging_plane", path, where)] += 1
        elif "IntracellularElectrode" in kinds:
            loc = self._member(obj, "location")
            where = text(self.value(loc)) if loc is not None else None
            if where is not None:
                self.locations[("intracellular_electrode", path, where)] += 1
        elif "ElectrodeGroup" in kinds:
            where = text(self.attr(obj, "location"))
            if where is not None:
                self.locations[("other", path, where)] += 1

    def _file_summary(self) -> None:
        f = self.f
        version = text(self.attr(f, "nwb_version"))
        if version is None:  # 2017 pre-release: a root dataset
            version = self.dataset_text("/nwb_version")
        objects = self.out.objects
        by_type = Counter(o["neurodata_type"] for o in objects)

        def rows_of(*types: str) -> int:
            return sum(
                o["n_rows"] or 0
                for o in objects
                if o["neurodata_type"] in types or set(types) & set(o["base_types"])
            )

        electrodes = [o for o in objects if o["path"] == "/general/extracellular_ephys/electrodes"]
        n_electrodes = electrodes[0]["n_rows"] if electrodes else None
        units = [o for o in objects if o["neurodata_type"] == "Units"]
        keywords = (
            self.value(self.get("/general/keywords"))
            if self.get("/general/keywords") is not None
            else None
        )
        experimenters = (
            self.value(self.get("/general/experimenter"))
            if self.get("/general/experimenter") is not None
            else None
        )
        self.out.file = {
            "nwb_version": version,
            "identifier": self.dataset_text("/identifier"),
            "session_description": self.dataset_text("/session_description"),
            "session_start": self.dataset_text("/session_start_time"),
            "institution": self.dataset_text("/general/institution"),
            "lab": self.dataset_text("/general/lab"),
            "experimenters": texts(experimenters),
            "keywords": texts(keywords),
            "subject_id": self.dataset_text("/general/subject/subject_id"),
            "species": self.dataset_text("/general/subject/species"),
            "sex": self.dataset_text("/general/subject/sex"),
            "age": self.dataset_text("/general/subject/age"),
            "genotype": self.dataset_text("/general/subject/genotype"),
            "n_objects": len(objects),
            "duration": max(
                (o["duration"] for o in objects if o.get("duration") is not None), default=None
            ),
            "n_electrodes": n_electrodes,
            "n_units": sum(u["n_rows"] or 0 for u in units) if units else None,
            "n_rois": rows_of("PlaneSegmentation") if by_type.get("PlaneSegmentation") else None,
            "n_imaging_planes": sum(
                1 for o in objects if "ImagingPlane" in (o["neurodata_type"], *o["base_types"])
            ),
            "neurodata_types": sorted(by_type),
            "links": json.dumps(self.out.links) if self.out.links else None,
        }


def _address(obj: Any) -> int:
    """The object header address of an open h5py object."""
    import h5py

    return int(h5py.h5o.get_info(obj.id).addr)


def prefetch_for_walk(rangefile: Any, max_value_bytes: int = MAX_VALUE_BYTES) -> Any:
    """Fetch what the walk (and opening the file) will read, a level of the tree per round
    trip; returns the prefetch's `PrefetchStats`."""
    from dandindex.nwb.prefetch import prefetch_metadata

    return prefetch_metadata(
        rangefile,
        follow=walked,
        attribute=WALK_ATTRIBUTES.__contains__,
        value_limit=lambda path: max_value_bytes if _value_read(path) else 0,
    )


def summarize_h5(
    source: Any, *, rangefile: Any | None = None, max_value_bytes: int = MAX_VALUE_BYTES
) -> WalkResult:
    """Walk an NWB HDF5 file (a path or a file-like object) and summarise it."""
    import h5py

    rounds = prefetch_for_walk(rangefile, max_value_bytes).rounds if rangefile is not None else 0
    with h5py.File(source, "r") as f:
        result = _Walker(f, rangefile, max_value_bytes).run()
    result.prefetch_rounds = rounds
    return result
