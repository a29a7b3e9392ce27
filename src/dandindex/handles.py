"""From a search result to a streamed file: asset handles and sets of them.

    hits = idx.search(species="mouse", modality="ophys", area="VISp")
    with hits[0].open() as nwb:            # pynwb NWBFile, streamed and read lazily
        nwb.processing["ophys"]
    hits[0].plot("/processing/ophys/DfOverF/DfOverF", start=0, stop=1000, columns=range(5))

An `AssetHandle` is a small immutable value; its methods import their backends (h5py, pynwb,
matplotlib) when called. Files are read through the index's API (``{api_url}/assets/{id}/
download/``) with `RangeFile`; when the index recorded the byte ranges the metadata walk
needed, `open()` fetches them up front in one concurrent burst.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dandindex.errors import DandindexError
from dandindex.index import Result

if TYPE_CHECKING:
    from dandindex.index import Index


@dataclass(frozen=True)
class AssetHandle:
    """One asset of one indexed version, ready to be opened, downloaded or plotted."""

    asset_id: str
    dandiset_id: str
    version: str
    path: str
    size: int | None = None
    api_url: str | None = None
    s3_url: str | None = None
    blob_id: str | None = None
    sha256: str | None = None
    index_path: str | None = field(default=None, repr=False, compare=False)
    metadata_ranges: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)
    read_url: str | None = field(default=None, repr=False, compare=False)

    # -- URLs ------------------------------------------------------------------------

    def url(self, kind: str = "api") -> str:
        """``api``: the download URL on the crawled API (302 to the blob); ``s3``: direct."""
        if kind == "api" and self.api_url:
            return self.api_url
        if kind == "s3" and self.s3_url:
            return self.s3_url
        raise DandindexError(f"Asset {self.asset_id} has no {kind} URL in the index.")

    # -- reading ---------------------------------------------------------------------

    def _rangefile(self) -> Any:
        """A `RangeFile` with the file's metadata already fetched, in as few round trips as
        the index allows: with the recorded ranges, the blob URL the crawl read from and the
        size, one burst of concurrent requests; then whatever else a pynwb read needs (every
        attribute, small dataset values), one level of the HDF5 tree per round trip."""
        from dandindex.crawl.rangefile import RangeFile, RangeReadError
        from dandindex.nwb.prefetch import prefetch_metadata
        from dandindex.nwb.walk import walked

        ranges, read_url = self._recorded()
        # Opening for reading: round trips matter more than bytes, so read ahead generously.
        options: dict[str, Any] = {"readahead": 16, "max_readahead": 512, "budget": 64.0}
        rf = None
        if read_url and self.size:
            rf = RangeFile(read_url, size=self.size, first_read=0, **options)
            try:
                rf.prefetch([(0, OPEN_FIRST_READ), *ranges])  # open and metadata in one burst
            except RangeReadError:  # moved or expired: go through the API as below
                rf.close()
                rf = None
        if rf is None:
            rf = RangeFile(self.url("api"), first_read=OPEN_FIRST_READ, **options)
            rf.prefetch(ranges)
        prefetch_metadata(rf, follow=walked, value_limit=_open_value_limit)
        return rf

    def _recorded(self) -> tuple[tuple[tuple[int, int], ...], str | None]:
        """The byte ranges the crawl's metadata walk needed and the URL it read them from,
        from the handle or the index (no network)."""
        if self.metadata_ranges or not self.index_path:
            return self.metadata_ranges, self.read_url
        from dandindex.index import Index

        with Index(self.index_path) as idx:
            if "read_url" not in idx.sql("SELECT * FROM nwb_files LIMIT 0").columns:
                # an index from an older crawl: plain streaming
                return (), None
            rows = idx.sql(
                "SELECT metadata_ranges, read_url FROM nwb_files"
                " WHERE asset_id = $a AND error IS NULL",
                {"a": self.asset_id},
            ).rows()
        if not rows or not rows[0]["metadata_ranges"]:
            return (), None
        ranges = tuple((int(a), int(n)) for a, n in rows[0]["metadata_ranges"])
        return ranges, rows[0]["read_url"]

    @contextlib.contextmanager
    def open_h5(self) -> Iterator[Any]:
        """The file as an ``h5py.File``, streamed (a context manager)."""
        import h5py

        rf = self._rangefile()
        try:
            with h5py.File(rf, "r") as f:
                yield f
        finally:
            rf.close()

    @contextlib.contextmanager
    def open(self) -> Iterator[Any]:
        """The file as a pynwb ``NWBFile``, streamed and read lazily (a context manager)."""
        from pynwb import NWBHDF5IO

        rf = self._rangefile()
        try:
            import h5py

            with h5py.File(rf, "r") as f, NWBHDF5IO(file=f, mode="r", manager=_manager(f)) as io:
                yield io.read()
        finally:
            rf.close()

    def download(
        self, dest: str | os.PathLike[str], *, chunk: int = 1 << 20, progress: bool = True
    ) -> Path:
        """Download to `dest` (a file or a folder), resuming a partial file; checks sha256."""
        import requests
        from tqdm import tqdm

        target = Path(dest)
        if target.is_dir():
            target = target / Path(self.path).name
        part = target.with_name(target.name + ".part")
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(self.url("api"), headers=headers, stream=True, timeout=60) as r:
            if r.status_code == 200:
                have = 0
            elif r.status_code != 206:
                raise DandindexError(f"Download of {self.path} failed: HTTP {r.status_code}.")
            mode = "ab" if have else "wb"
            bar = tqdm(
                total=self.size,
                initial=have,
                unit="B",
                unit_scale=True,
                disable=not progress,
                desc=target.name,
            )
            with open(part, mode) as f, bar:
                for block in r.iter_content(chunk):
                    f.write(block)
                    bar.update(len(block))
        if self.sha256:
            h = hashlib.sha256()
            with open(part, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            if h.hexdigest() != self.sha256:
                raise DandindexError(
                    f"{target.name}: sha256 mismatch after download; the partial file is kept at {part}."
                )
        os.replace(part, target)
        return target

    # -- the index's view of it ------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The indexed NWB summary (file row, objects, locations); no network."""
        from dandindex.index import Index

        if not self.index_path:
            raise DandindexError("This handle was not made from an index; summary() needs one.")
        with Index(self.index_path) as idx:
            file = idx.sql(
                "SELECT * FROM nwb_files WHERE asset_id = $a", {"a": self.asset_id}
            ).rows()
            objects = idx.sql(
                "SELECT * FROM nwb_objects WHERE asset_id = $a ORDER BY path", {"a": self.asset_id}
            ).rows()
            locations = idx.sql(
                "SELECT * FROM nwb_locations WHERE asset_id = $a", {"a": self.asset_id}
            ).rows()
        if not file:
            raise DandindexError(f"No NWB summary for asset {self.asset_id}; crawl with --nwb.")
        return {"file": file[0], "objects": objects, "locations": locations}

    def plot(self, object_path: str, **kwargs: Any) -> Any:
        """Plot one object of the file (see `dandindex.plot.plot_object`); returns the Figure."""
        from dandindex.plot import plot_object

        with self.open_h5() as f:
            return plot_object(f, object_path, **kwargs)


class AssetSet(Result):
    """What an asset-level search returns: a table of rows that are also asset handles."""

    index_path: str | None = None

    def handle(self, row: dict[str, Any]) -> AssetHandle:
        ranges: tuple[tuple[int, int], ...] = ()
        raw = row.get("metadata_ranges")
        if raw:
            ranges = tuple((int(a), int(n)) for a, n in raw)
        return AssetHandle(
            asset_id=row["asset_id"],
            dandiset_id=row["dandiset_id"],
            version=row["version"],
            path=row["path"],
            size=row.get("size"),
            api_url=row.get("api_url"),
            s3_url=row.get("s3_url"),
            blob_id=row.get("blob_id"),
            sha256=row.get("sha256"),
            index_path=self.index_path,
            metadata_ranges=ranges,
            read_url=row.get("read_url"),
        )

    def handles(self) -> list[AssetHandle]:
        return [self.handle(r) for r in self.rows()]

    def __getitem__(self, i: int) -> AssetHandle:
        rows = self.table.slice(i if i >= 0 else len(self) + i, 1).to_pylist()
        if not rows:
            raise IndexError(i)
        return self.handle(rows[0])

    def plot(self, object_path: str, n: int = 4, **kwargs: Any) -> list[Any]:
        """Plot `object_path` for the first `n` matches; returns their Figures."""
        return [h.plot(object_path, **kwargs) for h in self.handles()[:n]]

    def __repr__(self) -> str:
        rows = self.rows()
        head = f"AssetSet: {len(rows)} assets" + (" (more matched)" if self.truncated else "")
        lines = [head] + [f"  {r['dandiset_id']}/{r['version']}  {r['path']}" for r in rows[:10]]
        if len(rows) > 10:
            lines.append(f"  ... {len(rows) - 10} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        cols = [
            c
            for c in ("dandiset_id", "version", "path", "size", "species", "modalities", "areas")
            if c in self.columns
        ]
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(json.dumps(r[c]) if isinstance(r[c], list) else str(r[c]))}</td>"
                for c in cols
            )
            + "</tr>"
            for r in self.rows()[:50]
        )
        return f"<table><thead><tr>{''.join(f'<th>{c}</th>' for c in cols)}</tr></thead><tbody>{body}</tbody></table>"


OPEN_FIRST_READ = 65536
SPEC_VALUE_LIMIT = 1 << 20
OPEN_VALUE_LIMIT = 4096


def _open_value_limit(path: str) -> int:
    """Datasets whose values a pynwb read takes: cached extension specs and small ones."""
    return SPEC_VALUE_LIMIT if path.startswith("/specifications/") else OPEN_VALUE_LIMIT


def _manager(f: Any) -> Any:
    """pynwb's build manager for `f`: the installed schema plus the file's cached extension
    namespaces. Cached copies of the installed namespaces (core, hdmf-common, ...) are not
    read: pynwb would ignore them for its installed versions anyway."""
    from hdmf.build import BuildManager
    from pynwb import NWBHDF5IO, get_type_map

    from dandindex.nwb.hierarchy import INSTALLED

    tm = get_type_map()
    specs = f.get("/specifications")
    extensions = [ns for ns in (specs or {}) if ns not in INSTALLED]
    if extensions:
        NWBHDF5IO.load_namespaces(tm, file=f, namespaces=extensions)
    return BuildManager(tm)


def find_asset(idx: Index, ref: str) -> AssetHandle:
    """An asset by id, ``dandiset_id/path``, or download URL, from the index."""
    if "/" in ref and not ref.startswith(("http://", "https://")):
        ds, _, path = ref.partition("/")
        rows = idx.sql(
            _HANDLE_SQL + " WHERE a.dandiset_id = $ds AND a.path = $p ORDER BY a.version = 'draft'",
            {"ds": ds, "p": path},
        ).rows()
    else:
        asset_id = (
            ref.rstrip("/").split("/assets/")[-1].split("/")[0] if ref.startswith("http") else ref
        )
        rows = idx.sql(
            _HANDLE_SQL + " WHERE a.asset_id = $a ORDER BY a.version = 'draft'", {"a": asset_id}
        ).rows()
    if not rows:
        raise DandindexError(f"No asset {ref!r} in the index at {idx.path}.")
    out = AssetSet(
        idx.sql(_HANDLE_SQL + " WHERE a.asset_id = $a LIMIT 1", {"a": rows[0]["asset_id"]}).table
    )
    out.index_path = str(idx.path)
    return out[0]


_HANDLE_SQL = """
SELECT a.asset_id, a.dandiset_id, a.version, a.path, a.size, a.api_url, a.s3_url, a.blob_id, a.sha256,
       f.metadata_ranges, f.read_url
FROM assets a LEFT JOIN nwb_files f USING (asset_id)
"""
