"""One asset, ready to be opened, downloaded or plotted: `AssetHandle`.

    hits = idx.search(species="mouse", modality="ophys", area="VISp")
    with hits[0].open() as nwb:            # pynwb NWBFile, streamed and read lazily
        nwb.processing["ophys"]
    hits[0].plot("/processing/ophys/DfOverF/DfOverF", start=0, stop=1000, columns=range(5))

A handle is a small immutable value made from a result row: the row carries what opening
needs (URLs, size, sha256, the byte ranges the crawl's metadata walk read and the blob URL it
read them from), so nothing is looked up again. Its methods import their backends (h5py,
pynwb, matplotlib) when called. Files are read through `dandindex.remote` (the API key from
``DANDI_API_KEY`` goes to the API's host only); `summary()` asks the index the handle came
from, through its `source`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dandindex.errors import DandindexError, RemoteReadError, UsageError

OPEN_FIRST_READ = 65536
PREVIEWED = ("zarr", "tiff", "video")  # kinds `AssetHandle.plot` previews
SPEC_VALUE_LIMIT = 1 << 20
OPEN_VALUE_LIMIT = 4096


class SummarySource(Protocol):
    """Where a handle's indexed summaries come from (an open `Index`)."""

    def nwb_summary(self, asset_id: str) -> dict[str, Any]: ...

    def file_summary(self, asset_id: str) -> dict[str, Any] | None: ...

    def asset(self, ref: str) -> AssetHandle: ...


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
    zarr_id: str | None = None
    metadata_ranges: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)
    read_url: str | None = field(default=None, repr=False, compare=False)
    source: SummarySource | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: dict[str, Any], source: SummarySource | None = None) -> AssetHandle:
        """A handle from a result row (search, `Index.asset`); unknown columns are ignored."""
        raw = row.get("metadata_ranges") or ()
        return cls(
            asset_id=row["asset_id"],
            dandiset_id=row["dandiset_id"],
            version=row["version"],
            path=row["path"],
            size=row.get("size"),
            api_url=row.get("api_url"),
            s3_url=row.get("s3_url"),
            blob_id=row.get("blob_id"),
            sha256=row.get("sha256"),
            zarr_id=row.get("zarr_id"),
            metadata_ranges=tuple((int(a), int(n)) for a, n in raw),
            read_url=row.get("read_url"),
            source=source,
        )

    def __repr__(self) -> str:
        from dandindex.display import human_size

        size = f", {human_size(self.size)}" if self.size is not None else ""
        return f"AssetHandle(DANDI:{self.dandiset_id}/{self.version} {self.path}{size})"

    def _repr_html_(self) -> str:
        """The asset, its links and, when the index summarised it, its objects."""
        from html import escape

        from dandindex.display import html_table, human_size

        head = (
            f"<b>DANDI:{escape(self.dandiset_id)}/{escape(self.version)}</b> "
            f"<code>{escape(self.path)}</code> {human_size(self.size)}"
        )
        links = " · ".join(
            f'<a href="{escape(u)}" target="_blank">{label}</a>'
            for label, u in (("download", self.api_url), ("S3", self.s3_url))
            if u
        )
        try:
            objects = self.summary()["objects"] if self.source is not None else []
        except DandindexError:
            objects = []
        cols = ["path", "neurodata_type", "shape", "unit", "rate", "n_rows"]
        rows = [{c: o.get(c) for c in cols} for o in objects]
        for r in rows:
            r["shape"] = "×".join(map(str, r["shape"])) if r["shape"] else None
        table = html_table(rows, cols, f"{len(rows)} objects") if rows else ""
        return f"<p>{head}<br>{links}</p>{table}"

    # -- URLs ------------------------------------------------------------------------

    def url(self, kind: str = "api") -> str:
        """``api``: the download URL on the crawled API (302 to the blob); ``s3``: direct."""
        if kind == "api" and self.api_url:
            return self.api_url
        if kind == "s3" and self.s3_url:
            return self.s3_url
        if kind not in ("api", "s3"):
            raise UsageError(f"url() takes 'api' or 's3', not {kind!r}.")
        raise DandindexError(f"Asset {self.asset_id} has no {kind} URL in the index.")

    def _session(self, pool: int = 16) -> Any:
        from dandindex.remote.session import api_token, make_session

        return make_session(pool=pool, token=api_token(), api_url=self.url("api"))

    # -- reading ---------------------------------------------------------------------

    def _rangefile(self) -> Any:
        """A `RangeFile` with the file's metadata already fetched, in as few round trips as
        the row allows: with the recorded ranges, the blob URL the crawl read from and the
        size, one burst of concurrent requests; then whatever else a pynwb read needs (every
        attribute, small dataset values), one level of the HDF5 tree per round trip."""
        from dandindex.nwb.prefetch import prefetch_metadata
        from dandindex.nwb.walk import walked
        from dandindex.remote.rangefile import RangeFile
        from dandindex.remote.session import api_token

        ranges = self.metadata_ranges
        # Opening for reading: round trips matter more than bytes, so read ahead generously.
        options: dict[str, Any] = {"readahead": 16, "max_readahead": 512, "budget": 64.0}
        rf = None
        if self.read_url and self.size and ranges:
            rf = RangeFile(self.read_url, size=self.size, first_read=0, **options)
            try:
                rf.prefetch([(0, OPEN_FIRST_READ), *ranges])  # open and metadata in one burst
            except RemoteReadError:  # moved, expired or embargoed: go through the API
                rf.close()
                rf = None
        if rf is None:  # through the API's /download/, with the key (if set) for its host
            rf = RangeFile(
                self.url("api"), token=api_token(), first_read=OPEN_FIRST_READ, **options
            )
            rf.prefetch(ranges)
        prefetch_metadata(rf, follow=walked, value_limit=_open_value_limit)
        return rf

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

    def download(self, dest: str | os.PathLike[str], *, progress: bool = True) -> Path:
        """Download to `dest` (a file, or a folder to put it in), resuming a partial file;
        checks the sha256 the index recorded. Returns the file's path."""
        from dandindex.remote.download import download

        target = Path(dest)
        if target.is_dir() or str(dest).endswith(("/", os.sep)):
            target = target / Path(self.path).name
        session = self._session(pool=2)
        try:
            return download(
                session,
                self.url("api"),
                target,
                size=self.size,
                sha256=self.sha256,
                progress=progress,
            )
        finally:
            session.close()

    # -- the index's view of it ------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The indexed NWB summary (file row, objects, locations); no network."""
        if self.source is None:
            raise DandindexError("This handle was not made from an index; summary() needs one.")
        return self.source.nwb_summary(self.asset_id)

    def plot(self, object_path: str | None = None, **kwargs: Any) -> Any:
        """Plot one object of an NWB file (see `dandindex.plot.plot_object`), or preview a
        file that is not NWB (`preview`: `start` is its ``at``, `columns` its channels);
        returns the Figure (it shows itself in a notebook). The title names the dandiset and
        the file. A pose estimation (or an ImageSeries) whose video the index links to an
        asset of the dandiset is drawn over that video's frame."""
        from dandindex.plot import PlotContext, plot_object

        kwargs.setdefault("context", PlotContext(self.dandiset_id, self.version, self.path))
        if self.kind in PREVIEWED:
            chans = kwargs.get("columns") or kwargs.get("channels")
            return self.preview(at=kwargs.get("start"), channels=chans,
                                ax=kwargs.get("ax"), context=kwargs["context"])  # fmt: skip
        if object_path is None:
            if not self.path.lower().endswith((".nwb", ".nwb.zarr")):
                raise UsageError(f"{self.path} is not an image or a video: nothing to preview.")
            raise UsageError(f"{self.path} is an NWB file: give the object to plot "
                             f"(`dandindex plot {self.asset_id}` lists them).")  # fmt: skip
        if "video" not in kwargs:
            linked = self.linked_video(object_path)
            kwargs["video"] = linked.frame if linked is not None else None
        with self.open_h5() as f:
            return plot_object(f, object_path, **kwargs)

    # -- files that are not NWB ------------------------------------------------------

    @property
    def kind(self) -> str | None:
        """``zarr``, ``tiff``, ``video``, ``json``, ``tsv``, or None (NWB, or other)."""
        from dandindex.formats import kind_of

        return kind_of(self.path, None, self.zarr_id is not None)

    def preview(
        self,
        *,
        at: float | None = None,
        channels: Any = None,
        ax: Any = None,
        context: Any = None,
    ) -> Any:
        """A picture of an image or a video from a bounded read: an OME-Zarr's lowest level
        (max projection over z, or z plane `at`), a TIFF page (page `at`; a pyramid's
        smallest level), a video's frame `at` seconds in."""
        from dandindex.plot import PlotContext
        from dandindex.plot.media import tiff_preview, video_preview, zarr_preview

        context = context or PlotContext(self.dandiset_id, self.version, self.path)
        kind = self.kind
        if kind == "zarr":
            session = self._session()
            try:
                chans = list(channels) if channels is not None else None
                z = None if at is None else int(at)
                return zarr_preview(self._zarr_keys(session), z=z, channels=chans, ax=ax,
                                    context=context)  # fmt: skip
            finally:
                session.close()
        if kind not in ("tiff", "video"):
            raise UsageError(f"{self.path} is not an image or a video: nothing to preview.")
        with self._bytes() as fh:
            if kind == "tiff":
                return tiff_preview(fh, page=None if at is None else int(at), ax=ax,
                                    context=context)  # fmt: skip
            return video_preview(fh, float(at or 0.0), ax=ax, context=context)

    def frame(self, seconds: float = 0.0) -> tuple[Any, float]:
        """The video frame shown `seconds` in, as an RGB array, and its time (a bounded read
        through the API: from the key frame before it)."""
        from dandindex.formats.video import frame_at

        with self._bytes() as fh:
            return frame_at(fh, seconds)

    @contextlib.contextmanager
    def _bytes(self) -> Iterator[Any]:
        from dandindex.formats.source import open_bytes

        session = self._session()
        try:
            with open_bytes(self.url("api"), session=session, size=self.size) as fh:
                yield fh
        finally:
            session.close()

    def _zarr_keys(self, session: Any) -> Any:
        from dandindex.formats.source import RemoteKeys

        api = self.url("api").split("/assets/", 1)[0]
        s3 = self.s3_url if self.s3_url and "/zarr/" in self.s3_url else None
        return RemoteKeys(session, base_url=s3, api_url=api, zarr_id=self.zarr_id)

    def linked_video(self, object_path: str) -> AssetHandle | None:
        """The video asset the index links `object_path` to (else the file's one linked
        video: a PoseEstimation's source_video is an ImageSeries naming it); None when there
        is none."""
        if self.source is None:
            return None
        try:
            found = self.source.file_summary(self.asset_id)
        except DandindexError:
            return None
        links = [lk for lk in (found or {}).get("links", []) if lk["asset_id"] == self.asset_id
                 and lk.get("target_asset_id")]  # fmt: skip
        mine = [lk for lk in links if lk["object_path"] == object_path]
        if not mine and len({lk["target_asset_id"] for lk in links}) == 1:
            mine = links
        if not mine:
            return None
        return self.source.asset(mine[0]["target_asset_id"])


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
