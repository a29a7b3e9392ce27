"""Published indexes: a snapshot written once to object storage or a folder a web server
serves, then queried in place or pulled anywhere.

Layout at the destination::

    DEST/manifest.json               the pointer, written last: files by table, row counts,
                                     where and when the index was crawled
    DEST/objects/<sha256>.parquet    every snapshot file under its content hash (immutable)

Publishing uploads only the files whose hash the destination lacks (one listing tells), then
switches ``manifest.json``; a reader sees the old snapshot or the new one, never a mix, and
files a reader is reading are never replaced. `SnapshotFiles` is where an index's files are
(a local snapshot folder, a published index on ``s3://``, ``http(s)://`` or a folder) as an
fsspec filesystem that DuckDB reads through.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dandindex.errors import DandindexError, IndexNotFoundError
from dandindex.fsutil import now_utc
from dandindex.store import MANIFEST, IndexStore

FORMAT = "dandindex-published"
REMOTE_SCHEMES = ("s3://", "http://", "https://", "file://")
#: what a published manifest keeps of the crawl's own manifest
KEPT = (
    "tables_version",
    "api_url",
    "options",
    "crawl_started",
    "crawl_finished",
    "dandindex_version",
    "dandi_version",
    "dandischema_version",
    "row_counts",
)


def is_url(ref: str | os.PathLike[str] | None) -> bool:
    return isinstance(ref, str) and ref.startswith(REMOTE_SCHEMES)


def filesystem(url: str, endpoint_url: str | None = None) -> tuple[Any, str]:
    """An fsspec filesystem and the root path in it for ``s3://bucket/prefix`` (any
    S3-compatible endpoint: `endpoint_url` or ``AWS_ENDPOINT_URL``; credentials as boto finds
    them), ``http(s)://host/path`` (range requests) or ``file://``/a local folder."""
    if url.startswith("s3://"):
        import s3fs

        endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        fs = s3fs.S3FileSystem(
            endpoint_url=endpoint,
            anon=os.environ.get("DANDINDEX_S3_ANON") == "1",
            default_fill_cache=False,
            default_block_size=1 << 20,
        )
        return fs, url.removeprefix("s3://").rstrip("/")
    if url.startswith(("http://", "https://")):
        from fsspec.implementations.http import HTTPFileSystem

        return HTTPFileSystem(block_size=1 << 20), url.rstrip("/")
    from fsspec.implementations.local import LocalFileSystem

    return LocalFileSystem(), str(Path(url.removeprefix("file://")).expanduser().resolve())


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class SnapshotFiles:
    """Where one snapshot's Parquet files are: `fs` (fsspec) under `root`, `keys` by table
    name (relative to `root`), and the manifest that names them. `local` is a folder on
    this machine DuckDB can read natively."""

    fs: Any
    root: str
    keys: dict[str, str]
    manifest: dict[str, Any]
    where: str
    local: Path | None = None
    notes: list[str] = field(default_factory=list)
    keep: Any = None  # what keeps a temporary copy alive (removed with this object)

    def key(self, name: str) -> str | None:
        return self.keys.get(name)

    def native(self, name: str) -> str | None:
        """A path DuckDB reads by itself (local files), else None."""
        key = self.keys.get(name)
        return str(self.local / key) if key is not None and self.local is not None else None


def open_snapshot(ref: str | os.PathLike[str], endpoint_url: str | None = None) -> SnapshotFiles:
    """The current snapshot of an index folder or of a published index (URL or folder)."""
    if not is_url(ref) and not (Path(ref) / MANIFEST).is_file():
        IndexStore(ref).manifest()  # raises IndexNotFoundError with what to do
    if not is_url(ref) or str(ref).startswith("file://"):
        folder = Path(str(ref).removeprefix("file://")).expanduser()
        try:
            raw = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # damaged: IndexStore reads around it and says so
            raw = {}
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:  # a crawled index
            store = IndexStore(folder)
            m = store.manifest()
            snap = folder / m["snapshot"]
            keys = {p.stem: p.name for p in snap.glob("*.parquet")}
            from fsspec.implementations.local import LocalFileSystem

            notes = [store.damaged] if store.damaged else []
            return SnapshotFiles(
                LocalFileSystem(), str(snap), keys, m, str(folder), local=snap, notes=notes
            )
    fs, root = filesystem(str(ref), endpoint_url)
    try:
        raw = json.loads(fs.cat_file(posixpath.join(root, MANIFEST)))
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"No published index at {ref} (no {MANIFEST}). Publish one with "
            f"`dandindex publish {ref}`, or check the address."
        ) from None
    except (OSError, ValueError) as e:
        raise DandindexError(f"Cannot read the index at {ref}: {e}") from None
    if raw.get("format") != FORMAT:
        raise DandindexError(f"{ref}/{MANIFEST} is not a published dandindex index.")
    keys = {name: t["key"] for name, t in raw["files"].items()}
    local = Path(root) if fs.protocol in ("file", ("file", "local")) else None
    if str(ref).startswith(("http://", "https://")) and not serves_ranges(
        posixpath.join(root, MANIFEST)
    ):
        from fsspec.implementations.local import LocalFileSystem

        folder, keep, notes = _whole_files(fs, root, raw)
        return SnapshotFiles(
            LocalFileSystem(), str(folder), keys, raw, str(ref), local=folder, notes=notes,
            keep=keep,
        )  # fmt: skip
    return SnapshotFiles(fs, root, keys, raw, str(ref), local=local)


#: an index on a server that ignores Range is read whole, if it is no bigger than this
WHOLE_FILES_LIMIT = 2 << 30


def serves_ranges(url: str, timeout: float = 30.0) -> bool:
    """Whether the web server at `url` answers a range request with the range (206), not
    the whole file (200: Python's http.server, some CDNs); asked once per index."""
    import requests

    try:
        with requests.get(url, headers={"Range": "bytes=0-0"}, stream=True, timeout=timeout) as r:
            return r.status_code == 206
    except requests.RequestException as e:
        raise DandindexError(f"Cannot reach the index at {url}: {e}") from None


def _whole_files(fs: Any, ref: str, manifest: dict[str, Any]) -> tuple[Path, Any, list[str]]:
    """The index's files downloaded whole (never a range the server would answer with other
    bytes) into a temporary folder, each checked against its sha256; or, above
    `WHOLE_FILES_LIMIT`, a sentence saying to pull. Returns (folder, its keeper, notes)."""
    import tempfile

    files = manifest.get("files", {})
    size = sum(int(t.get("size") or 0) for t in files.values())
    if size > WHOLE_FILES_LIMIT:
        raise DandindexError(
            f"The server at {ref} ignores HTTP Range requests, so its index "
            f"({size / 1e6:,.0f} MB) cannot be queried in place without downloading it all. "
            f"Copy it once and query the copy: dandindex pull {ref} ./idx"
        )
    keep = tempfile.TemporaryDirectory(prefix="dandindex-whole-")
    folder = Path(keep.name)
    for t in files.values():
        target = folder / t["key"]
        target.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(posixpath.join(ref.rstrip("/"), t["key"]), str(target))
        if t.get("sha256") and sha256_of(target) != t["sha256"]:
            keep.cleanup()
            raise DandindexError(
                f"{ref}/{t['key']} does not match its sha256 in the manifest (a publish under "
                "way, or a damaged copy); try again, or pull it."
            )
    return (
        folder,
        keep,
        [
            f"The server at {ref} ignores HTTP Range requests: the index was downloaded whole "
            f"({size / 1e6:,.1f} MB) into a temporary folder; `dandindex pull` keeps a copy."
        ],
    )


@dataclass
class PublishReport:
    uploaded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    bytes_total: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.uploaded)} files uploaded ({self.bytes_uploaded / 1e6:.1f} MB), "
            f"{len(self.kept)} already there; {self.bytes_total / 1e6:.1f} MB in all"
        )


def publish(
    index_dir: str | os.PathLike[str],
    dest: str,
    *,
    endpoint_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> PublishReport:
    """Publish the current snapshot of `index_dir` to `dest` (``s3://bucket/prefix``, a
    folder or ``file://``): upload the files the destination lacks, then switch its
    manifest."""
    if dest.startswith(("http://", "https://")):
        raise DandindexError(
            "Publish to s3://BUCKET/PREFIX or to a folder a web server serves; an http(s) URL "
            "is where readers find it afterwards."
        )
    store = IndexStore(index_dir)
    source = store.manifest()
    snap = Path(index_dir) / source["snapshot"]
    files = sorted(snap.glob("*.parquet"))
    fs, root = filesystem(dest, endpoint_url)
    try:
        there = json.loads(fs.cat_file(posixpath.join(root, MANIFEST)))
    except (FileNotFoundError, ValueError):
        there = {}
    if isinstance(there, dict) and there and there.get("format") != FORMAT:
        raise DandindexError(
            f"{dest} holds an index made by a crawl (or something else with a {MANIFEST}); "
            "publish into an empty place or an earlier publication, so nothing is overwritten."
        )
    try:
        present = {
            posixpath.basename(p) for p in fs.ls(posixpath.join(root, "objects"), detail=False)
        }
    except FileNotFoundError:
        present = set()
    report = PublishReport()
    entries: dict[str, dict[str, Any]] = {}
    for path in files:
        digest = sha256_of(path)
        key = f"objects/{digest}.parquet"
        size = path.stat().st_size
        entries[path.stem] = {"key": key, "sha256": digest, "size": size}
        report.bytes_total += size
        if f"{digest}.parquet" in present:
            report.kept.append(path.stem)
            continue
        target = posixpath.join(root, key)
        if isinstance(root, str) and not dest.startswith("s3://"):
            fs.makedirs(posixpath.dirname(target), exist_ok=True)
            tmp = f"{target}.tmp-{os.getpid()}"
            fs.put_file(str(path), tmp)
            fs.mv(tmp, target)
        else:
            fs.put_file(str(path), target)
        report.uploaded.append(path.stem)
        report.bytes_uploaded += size
        if progress:
            progress(path.stem)
    manifest = {
        "format": FORMAT,
        "published": now_utc().isoformat(),
        **{k: source.get(k) for k in KEPT},
        "files": entries,
    }
    body = json.dumps(manifest, indent=1, default=str).encode()
    target = posixpath.join(root, MANIFEST)
    if dest.startswith("s3://"):
        fs.pipe_file(target, body)  # one PUT: readers see the old object or the new one
    else:
        fs.makedirs(root, exist_ok=True)
        tmp = f"{target}.tmp-{os.getpid()}"
        fs.pipe_file(tmp, body)
        fs.mv(tmp, target)  # a rename: atomic on one file system
    return report


@dataclass
class PullReport:
    fetched: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    bytes_fetched: int = 0
    unchanged: bool = False

    def summary(self) -> str:
        if self.unchanged:
            return "already up to date (the published manifest has not changed)"
        return (
            f"{len(self.fetched)} files fetched ({self.bytes_fetched / 1e6:.1f} MB), "
            f"{len(self.kept)} already here"
        )


def pull(
    source: str,
    index_dir: str | os.PathLike[str],
    *,
    endpoint_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> PullReport:
    """Mirror the published index at `source` into the folder `index_dir`: fetch the files
    not already here, check each against its sha256, then switch the local manifest. With
    nothing new published, this is one request (the manifest)."""
    from dandindex.fsutil import write_json_atomic

    local = Path(index_dir).expanduser()
    fs, root = filesystem(source, endpoint_url)
    try:
        body = fs.cat_file(posixpath.join(root, MANIFEST))
    except FileNotFoundError:
        raise IndexNotFoundError(f"No published index at {source} (no {MANIFEST}).") from None
    digest = hashlib.sha256(body).hexdigest()
    mine: dict[str, Any] = {}
    if (local / MANIFEST).is_file():
        try:
            mine = json.loads((local / MANIFEST).read_text(encoding="utf-8"))
        except ValueError:
            mine = {}
        if mine and not mine.get("pulled"):
            raise DandindexError(
                f"{local} holds an index made by a crawl; pull into another folder "
                "(--index DIR) so the crawl's work is kept."
            )
    if mine.get("pulled", {}).get("manifest_sha256") == digest:
        return PullReport(unchanged=True)
    try:
        published = json.loads(body)
    except ValueError:
        published = None
    if not isinstance(published, dict) or published.get("format") != FORMAT:
        raise DandindexError(f"{source}/{MANIFEST} is not a published dandindex index.")
    report = PullReport()
    objects = local / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    snap_name = f"snapshots/pulled-{digest[:16]}"
    snap = local / snap_name
    building = local / "snapshots" / f".pulled-{digest[:16]}.tmp-{os.getpid()}"
    building.mkdir(parents=True, exist_ok=True)
    for name, entry in sorted(published["files"].items()):
        target = objects / f"{entry['sha256']}.parquet"
        if target.is_file() and target.stat().st_size == entry["size"]:
            report.kept.append(name)
        else:
            part = target.with_name(target.name + ".part")
            fs.get_file(posixpath.join(root, entry["key"]), str(part))
            if sha256_of(part) != entry["sha256"]:
                part.unlink()
                raise DandindexError(
                    f"{entry['key']} of {source} does not match its sha256; nothing was changed "
                    "here. Pull again, or tell whoever publishes it."
                )
            os.replace(part, target)
            report.fetched.append(name)
            report.bytes_fetched += entry["size"]
            if progress:
                progress(name)
        try:
            os.link(target, building / f"{name}.parquet")
        except OSError:  # a file system without hard links: a copy
            import shutil

            shutil.copyfile(target, building / f"{name}.parquet")
    if snap.exists():
        import shutil

        shutil.rmtree(snap)
    os.replace(building, snap)
    manifest = {
        "format": "dandindex-index",
        **{k: published.get(k) for k in KEPT},
        "snapshot": snap_name,
        "dandisets": {},
        "pulled": {
            "source": source,
            "manifest_sha256": digest,
            "published": published.get("published"),
            "pulled_at": now_utc().isoformat(),
        },
    }
    write_json_atomic(snap / MANIFEST, manifest)
    write_json_atomic(local / MANIFEST, manifest)
    _prune(local, keep={snap.name, Path(mine.get("snapshot", "")).name})
    return report


def _prune(local: Path, keep: set[str]) -> None:
    """Remove pulled snapshots other than `keep` (the new one, and the one a reader may still
    have open) and the objects no kept snapshot links to."""
    import shutil

    snaps = local / "snapshots"
    for d in snaps.iterdir():
        if d.name.startswith(("pulled-", ".pulled-")) and d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
    used = {p.stat().st_ino for d in snaps.iterdir() if d.is_dir() for p in d.glob("*.parquet")}
    for obj in (local / "objects").glob("*.parquet"):
        if obj.stat().st_ino not in used:
            obj.unlink()
