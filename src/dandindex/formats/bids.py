"""BIDS datasets in DANDI: file-name entities, JSON sidecars with the inheritance principle,
and the participants, sessions and scans tables.

A dandiset version is a BIDS dataset when it holds ``dataset_description.json`` at its
root. Each of its data files (a BIDS name with a ``sub-`` entity, not a ``.json``/``.tsv``)
gets the key/values of every sidecar that applies to it: a ``.json`` in its folder or a
folder above, with its suffix and a subset of its entities, the more specific ones (deeper,
more entities) overriding (BIDS specification, "The Inheritance Principle"); and its rows of
``participants.tsv`` (``participant.*``: species, age, sex...), ``sub-*_sessions.tsv``
(``session.*``) and ``*_scans.tsv`` (``scan.*``).

The crawl reads each JSON and TSV asset once (cached per blob, like every summary) and
derives this per data file from those contents, without reading the data files.
"""

from __future__ import annotations

import csv
import io
import json
import math
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dandindex.formats import FormatError

#: BIDS datatype folders (BIDS 1.10, with the microscopy, motion, NIRS and MRS ones)
DATATYPES = frozenset({"anat", "func", "dwi", "fmap", "perf", "eeg", "ieeg", "meg", "beh",
                       "pet", "micr", "nirs", "motion", "mrs", "ecephys", "icephys"})  # fmt: skip
_ENTITY = re.compile(r"^([a-zA-Z0-9]+)-([a-zA-Z0-9.+]+)$")
MAX_TABLE_ROWS = 50_000  # rows of a participants/sessions/scans table kept
MAX_VALUE_CHARS = 200  # a sidecar value longer than this is left out of the key/values


@dataclass(frozen=True)
class Name:
    """A BIDS file name: its entities in order, suffix, extension and datatype folder."""

    folder: str
    entities: tuple[tuple[str, str], ...]
    suffix: str | None
    extension: str
    datatype: str | None

    @property
    def keys(self) -> dict[str, str]:
        return dict(self.entities)


def parse_name(path: str) -> Name | None:
    """The entities of a BIDS-named path (``sub-01/ses-1/eeg/sub-01_ses-1_task-rest_eeg.edf``),
    or None when the name is not one (no ``key-value`` part)."""
    folder, base = posixpath.split(path.strip("/"))
    stem, ext = _split_ext(base)
    parts = stem.split("_")
    entities: list[tuple[str, str]] = []
    suffix = None
    for i, part in enumerate(parts):
        m = _ENTITY.match(part)
        if m:
            entities.append((m.group(1), m.group(2)))
        elif i == len(parts) - 1 and part and re.fullmatch(r"[a-zA-Z0-9]+", part):
            suffix = part
        else:
            return None
    if not entities and suffix is None:
        return None
    datatype = posixpath.basename(folder) if posixpath.basename(folder) in DATATYPES else None
    return Name(folder, tuple(entities), suffix, ext, datatype)


def _split_ext(base: str) -> tuple[str, str]:
    """``x_T2w.nii.gz`` → (``x_T2w``, ``.nii.gz``); ``x_SPIM.ome.zarr`` → (..., ``.ome.zarr``)."""
    lowered = base.lower()
    for ext in (".nii.gz", ".ome.zarr", ".ome.tif", ".ome.tiff", ".ome.btf", ".tsv.gz"):
        if lowered.endswith(ext):
            return base[: -len(ext)], base[-len(ext) :]
    stem, ext = posixpath.splitext(base)
    return stem, ext


def is_dataset(paths: Iterable[str]) -> bool:
    """Whether these paths (one version's) are a BIDS dataset: a root dataset_description."""
    return any(p.strip("/") == "dataset_description.json" for p in paths)


def is_data_file(path: str) -> bool:
    name = parse_name(path)
    if name is None or "sub" not in name.keys:
        return False
    return name.extension.lower() not in (".json", ".tsv", ".tsv.gz", ".bval", ".bvec")


def is_text_file(path: str) -> bool:
    """A BIDS text file the crawl reads: a JSON sidecar or description, or a
    participants/sessions/scans table."""
    p = path.lower()
    base = posixpath.basename(p)
    return p.endswith(".json") or base == "participants.tsv" or p.endswith(("_sessions.tsv", "_scans.tsv"))  # fmt: skip


# -- reading the text files ---------------------------------------------------------------


def read_text(data: bytes, path: str) -> dict[str, Any]:
    """The ``file_summaries`` facts of a BIDS JSON or TSV file: its content in ``details``
    (a JSON object; a table as columns and rows). Damaged content is a `FormatError`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FormatError(f"not UTF-8 text ({e})") from None
    if path.lower().endswith(".json"):
        try:
            content = json.loads(text)
        except ValueError as e:
            raise FormatError(f"not valid JSON ({e})") from None
        if not isinstance(content, dict):
            raise FormatError(
                f"a BIDS JSON file must hold an object, not a {type(content).__name__}"
            )
        return {"format": "json", "details": json.dumps(content, sort_keys=True, default=str)}
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    if not rows or not rows[0]:
        raise FormatError("an empty table (no header row)")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1 : MAX_TABLE_ROWS + 1] if any(c.strip() for c in r)]
    ragged = sum(1 for r in body if len(r) != len(header))
    content = {"columns": header, "rows": [r + [""] * (len(header) - len(r)) for r in body]}
    if ragged:
        content["ragged_rows"] = ragged
    return {"format": "tsv", "details": json.dumps(content)}


# -- deriving a data file's values --------------------------------------------------------


class Dataset:
    """One BIDS dataset (a dandiset version): its JSON contents and tables by path, indexed
    once (sidecars by folder and suffix, table rows by their id), so each data file costs its
    own folders' sidecars, not the whole dataset's."""

    def __init__(
        self, jsons: Mapping[str, dict[str, Any]], tables: Mapping[str, dict[str, Any]]
    ) -> None:
        self.jsons = jsons  # path → object
        self.tables = tables  # path → {"columns": [...], "rows": [[...]]}
        self._sidecars: dict[tuple[str, str], list[tuple[frozenset[tuple[str, str]], str]]] = {}
        for p in jsons:
            name = parse_name(p)
            if name is not None and name.suffix is not None and name.extension.lower() == ".json":
                key = (name.folder, name.suffix)
                self._sidecars.setdefault(key, []).append((frozenset(name.entities), p))
        self._rows: dict[tuple[str, str], dict[str, list[str]]] = {}

    def sidecar(self, path: str) -> tuple[dict[str, Any], list[str]]:
        """(the merged sidecar of a data file, the sidecar paths used, top first)."""
        name = parse_name(path)
        if name is None or name.suffix is None:
            return {}, []
        mine = set(name.entities)
        used = []
        for depth, folder in enumerate(_ancestors(name.folder)):
            for entities, p in self._sidecars.get((folder, name.suffix), ()):
                if entities <= mine:
                    used.append((depth, len(entities), p))
        merged: dict[str, Any] = {}
        for _, _, p in sorted(used):
            merged.update(self.jsons[p])
        return merged, [p for _, _, p in sorted(used)]

    def rows_for(self, path: str) -> dict[str, str]:
        """``participant.*``, ``session.*`` and ``scan.*`` values of a data file."""
        name = parse_name(path)
        if name is None:
            return {}
        keys = name.keys
        out: dict[str, str] = {}
        sub = keys.get("sub")
        if not sub:
            return out
        out.update(self._row("participants.tsv", "participant_id", f"sub-{sub}", "participant"))
        ses = keys.get("ses")
        if ses:
            table = f"sub-{sub}/sub-{sub}_sessions.tsv"
            out.update(self._row(table, "session_id", f"ses-{ses}", "session"))
        folder = f"sub-{sub}" + (f"/ses-{ses}" if ses else "")
        stem = f"sub-{sub}" + (f"_ses-{ses}" if ses else "")
        rel = posixpath.relpath(path.strip("/"), folder)
        out.update(self._row(f"{folder}/{stem}_scans.tsv", "filename", rel, "scan"))
        return out

    def _row(self, table_path: str, key: str, value: str, prefix: str) -> dict[str, str]:
        """The values of the table's first row whose `key` column is `value`, as
        ``prefix.column`` (empty and n/a cells left out)."""
        table = self.tables.get(table_path)
        if not table:
            return {}
        cols = table.get("columns") or []
        if key not in cols:
            return {}
        index = self._rows.get((table_path, key))
        if index is None:
            k = cols.index(key)
            index = {}
            for row in table.get("rows") or []:
                if k < len(row):
                    index.setdefault(row[k].strip(), row)
            self._rows[(table_path, key)] = index
        row = index.get(value)
        if row is None:
            return {}
        return {
            f"{prefix}.{c}": v.strip()
            for c, v in zip(cols, row, strict=False)
            if c != key and v.strip() and v.strip().lower() not in ("n/a", "na", "nan")
        }


def _ancestors(folder: str) -> list[str]:
    """'' (the root), then each folder down to `folder`."""
    parts = [p for p in folder.split("/") if p]
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]


def key_values(values: Mapping[str, Any]) -> list[str]:
    """``Key=value`` strings of the scalar values of a sidecar (and table rows), sorted; lists
    of at most 8 scalars are joined with commas; objects and long text are left out."""
    out = []
    for k, v in values.items():
        text = scalar_text(v)
        if text is None and isinstance(v, list) and 0 < len(v) <= 8:
            parts = [scalar_text(x) for x in v]
            text = ",".join(p for p in parts if p is not None) if all(p is not None for p in parts) else None  # fmt: skip
        if text is not None and len(text) <= MAX_VALUE_CHARS:
            out.append(f"{k}={text}")
    return sorted(out)


def scalar_text(v: Any) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return number_text(float(v))
    if isinstance(v, str):
        return v.strip().replace("\n", " ")
    return None


def number_text(x: float) -> str | None:
    """One spelling per number: 1000, 1e3 and 1000.0 are ``1000``; 0.5 is ``0.5``."""
    if math.isnan(x) or math.isinf(x):
        return None
    return str(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x)


def normalize(key_value: str) -> str:
    """What a ``Key=value`` is searched as: the key lower-cased, a number in one spelling,
    text lower-cased (``SamplingFrequency=1000.0`` → ``samplingfrequency=1000``)."""
    key, _, value = key_value.partition("=")
    value = value.strip()
    try:
        spelled = number_text(float(value))
    except ValueError:
        spelled = None
    return f"{key.strip().lower()}={(spelled if spelled is not None else value.lower())}"


def species_age_sex(values: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    return (
        values.get("participant.species"),
        values.get("participant.age"),
        values.get("participant.sex"),
    )
