"""The index folder on disk: per-dandiset parts, atomic snapshots and the manifest.

Layout::

    <index>/manifest.json                 the current snapshot, row counts, per-dandiset stamps
    <index>/snapshots/<crawl_id>/*.parquet one file per table (what readers query)
    <index>/parts/<dandiset_id>/<key>/    per-dandiset tables of one listing stamp (immutable)
    <index>/.lock                         held by the one crawl that may write

A crawl writes each finished dandiset as a part (into a temporary folder, renamed into place),
so an interrupted crawl keeps what it finished and its rerun skips it. At the end it merges the
parts of every current dandiset into a new snapshot folder and switches `manifest.json` with an
atomic rename: readers always see one complete snapshot.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dandindex.errors import CrawlError, IndexDamagedError, IndexNotFoundError
from dandindex.fsutil import fsync_dir, now_utc, write_json_atomic
from dandindex.rowfit import fit_row
from dandindex.schemas import PART_TABLES, SCHEMAS, TABLES_VERSION

MANIFEST = "manifest.json"
COMPRESSION = "zstd"
BATCH_ROWS = 5000


def default_index_dir() -> Path:
    """$DANDINDEX_INDEX, else ``<user data dir>/dandindex/index``."""
    env = os.environ.get("DANDINDEX_INDEX")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("dandindex", appauthor=False)) / "index"


def resolve_index_dir(path: str | os.PathLike[str] | None) -> Path:
    return Path(path).expanduser() if path else default_index_dir()


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` with `schema`'s columns in order: columns it lacks are null, extra ones dropped."""
    names = batch.schema.names
    columns = [
        batch.column(names.index(f.name)).cast(f.type)
        if f.name in names
        else pa.nulls(batch.num_rows, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def error_row(
    stage: str,
    error: str,
    *,
    dandiset_id: str | None = None,
    version: str | None = None,
    asset_id: str | None = None,
) -> dict[str, Any]:
    """A crawl_errors row."""
    return {
        "dandiset_id": dandiset_id,
        "version": version,
        "asset_id": asset_id,
        "stage": stage,
        "error": error[:2000],
        "at": now_utc(),
    }


def stamp_key(stamp: dict[str, Any]) -> str:
    text = json.dumps(stamp, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


Problem = Callable[[dict[str, Any], str], None]


class TableWriter:
    """Rows (dicts) → one Parquet file in batches, so memory stays bounded.

    A batch Arrow cannot convert is fitted row by row (`dandindex.rowfit`): bad values are
    converted or nulled, and `on_problem(row, message)` hears of each, so one bad value never
    loses its batch.
    """

    def __init__(self, path: Path, table: str, on_problem: Problem | None = None) -> None:
        self.path = path
        self.table = table
        self.schema = SCHEMAS[table]
        self.on_problem = on_problem
        self.rows = 0
        self._buffer: list[dict[str, Any]] = []
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            str(path), self.schema, compression=COMPRESSION
        )

    def add(self, row: dict[str, Any]) -> None:
        self._buffer.append(row)
        if len(self._buffer) >= BATCH_ROWS:
            self.flush()

    def add_batch(self, batch: pa.RecordBatch) -> None:
        self.flush()
        assert self._writer is not None
        if batch.schema != self.schema:  # a part from an older version: conform it
            batch = conform(batch, self.schema)
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def flush(self) -> None:
        if self._buffer and self._writer is not None:
            try:
                table = pa.Table.from_pylist(self._buffer, schema=self.schema)
            except (pa.ArrowException, OverflowError, UnicodeError, TypeError, ValueError):
                table = pa.Table.from_pylist(self._fitted(self._buffer), schema=self.schema)
            self._writer.write_table(table)
            self.rows += table.num_rows
            self._buffer = []

    def _fitted(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            fitted, problems = fit_row(row, self.schema)
            for message in problems:
                if self.on_problem is not None:
                    self.on_problem(row, f"{self.table}.{message}")
            if fitted is not None:
                out.append(fitted)
        return out

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        with open(self.path, "rb") as f:
            os.fsync(f.fileno())


class PartWriter:
    """The tables of one dandiset, written to a temporary folder and renamed into place."""

    def __init__(self, store: IndexStore, dandiset_id: str, key: str) -> None:
        self.final = store.root / "parts" / dandiset_id / key
        self.tmp = self.final.with_name(f".tmp-{key}-{os.getpid()}")
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self.dandiset_id = dandiset_id
        self.tables = {
            t: TableWriter(self.tmp / f"{t}.parquet", t, on_problem=self._problem)
            for t in PART_TABLES
        }

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.tables[table].add(row)

    def _problem(self, row: dict[str, Any], message: str) -> None:
        """A value that had to be changed to be stored: a crawl_errors row of this part."""
        if message.startswith("crawl_errors."):
            return  # an error row's own text was cleaned: nothing more to say
        self.tables["crawl_errors"].add(
            error_row(
                "asset_metadata" if message.startswith("assets.") else "version_metadata",
                message,
                dandiset_id=self.dandiset_id,
                version=row.get("version") if isinstance(row.get("version"), str) else None,
                asset_id=row.get("asset_id") if isinstance(row.get("asset_id"), str) else None,
            )
        )

    def commit(self, info: dict[str, Any]) -> dict[str, int]:
        counts = {}
        # crawl_errors last: closing the others may add rows to it
        for name in sorted(self.tables, key=lambda t: t == "crawl_errors"):
            w = self.tables[name]
            w.close()
            counts[name] = w.rows
        write_json_atomic(self.tmp / "part.json", {**info, "rows": counts})
        if self.final.exists():  # an identical part from an earlier run: keep the new one
            shutil.rmtree(self.final)
        os.rename(self.tmp, self.final)
        fsync_dir(self.final.parent)
        return counts

    def abort(self) -> None:
        for w in self.tables.values():
            with contextlib.suppress(Exception):
                w.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class IndexStore:
    """Reads and writes one index folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.damaged: str | None = None  # what was wrong with manifest.json, if it was

    # -- reading ------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> dict[str, Any]:
        """The current manifest. If ``manifest.json`` is damaged (not JSON, or naming no
        snapshot on disk), the newest complete snapshot's own copy stands in, and `damaged`
        says what was wrong; with no complete snapshot either, an error says what to do."""
        if not self.exists():
            raise IndexNotFoundError(
                f"No index at {self.root} (no {MANIFEST}). Build one with "
                f"`dandindex crawl --index {self.root}` or point --index/DANDINDEX_INDEX at one."
            )
        try:
            return self._read_manifest(self.manifest_path)
        except (OSError, ValueError) as e:
            reason = str(e).splitlines()[0][:200]
        fallback = self._newest_snapshot()
        if fallback is None:
            raise IndexDamagedError(
                f"{self.manifest_path} is damaged ({reason}) and no complete snapshot is on disk "
                f"to read instead. Crawl again: dandindex crawl --index {self.root}"
            )
        self.damaged = (
            f"{self.manifest_path} is damaged ({reason}); reading the newest complete snapshot "
            f"on disk, {fallback['snapshot']}. The next crawl writes a new manifest."
        )
        return fallback

    def _read_manifest(self, path: Path) -> dict[str, Any]:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or not isinstance(data.get("snapshot"), str):
            raise ValueError("it names no snapshot")
        if not (self.root / data["snapshot"]).is_dir() or "/.." in "/" + data["snapshot"]:
            raise ValueError(f"its snapshot {data['snapshot']!r} is not on disk")
        return data

    def _newest_snapshot(self) -> dict[str, Any] | None:
        """The manifest of the newest snapshot folder holding every table (its own copy, or
        one made from its files for a snapshot written before snapshots had copies)."""
        base = self.root / "snapshots"
        if not base.is_dir():
            return None
        for snap in sorted(base.iterdir(), reverse=True):
            if snap.name.startswith(".") or not all(
                (snap / f"{t}.parquet").is_file() for t in ("dandisets", *PART_TABLES)
            ):
                continue
            try:
                return self._read_manifest(snap / MANIFEST)
            except (OSError, ValueError):
                counts = {
                    f.stem: pq.ParquetFile(str(f)).metadata.num_rows for f in snap.glob("*.parquet")
                }
                return {
                    "format": "dandindex-index",
                    "snapshot": f"snapshots/{snap.name}",
                    "row_counts": counts,
                    "dandisets": {},
                }
        return None

    def table_path(self, table: str, manifest: dict[str, Any] | None = None) -> Path:
        m = manifest or self.manifest()
        return self.root / m["snapshot"] / f"{table}.parquet"

    def part_dir(self, dandiset_id: str, key: str) -> Path:
        return self.root / "parts" / dandiset_id / key

    def has_part(self, dandiset_id: str, key: str) -> bool:
        return (self.part_dir(dandiset_id, key) / "part.json").is_file()

    def part_info(self, dandiset_id: str, key: str) -> dict[str, Any]:
        with open(self.part_dir(dandiset_id, key) / "part.json", encoding="utf-8") as f:
            data: dict[str, Any] = json.load(f)
        return data

    # -- writing ------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive right to write this index; a second crawl fails with a clear message."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CrawlError(
                    f"Another crawl is writing to {self.root}; wait for it to finish "
                    "(or use another --index)."
                ) from None
            try:
                self._clean_temporaries()
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _clean_temporaries(self) -> None:
        """Remove half-written parts and snapshots left by a killed crawl."""
        for base in (self.root / "parts", self.root / "snapshots"):
            if not base.is_dir():
                continue
            for p in base.rglob(".tmp-*"):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)

    def new_part(self, dandiset_id: str, key: str) -> PartWriter:
        return PartWriter(self, dandiset_id, key)

    def publish(
        self,
        *,
        crawl_id: str,
        dandiset_rows: list[dict[str, Any]],
        parts: dict[str, str],
        extra_errors: list[dict[str, Any]],
        manifest: dict[str, Any],
        extra_tables: dict[str, Iterable[dict[str, Any]]] | None = None,
        finalize: Callable[[Path], None] | None = None,
    ) -> dict[str, Any]:
        """Merge `parts` ({dandiset_id: key}) into a new snapshot and switch to it atomically."""
        snapshots = self.root / "snapshots"
        snapshots.mkdir(parents=True, exist_ok=True)
        tmp = snapshots / f".tmp-{crawl_id}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        counts: dict[str, int] = {}
        late_errors = list(extra_errors)

        def problem(stage: str) -> Problem:
            def record(row: dict[str, Any], message: str) -> None:
                late_errors.append(
                    error_row(
                        stage,
                        message,
                        dandiset_id=_text_or_none(row.get("dandiset_id")),
                        asset_id=_text_or_none(row.get("asset_id")),
                    )
                )

            return record

        dw = TableWriter(tmp / "dandisets.parquet", "dandisets", on_problem=problem("dandiset"))
        for row in sorted(dandiset_rows, key=lambda r: str(r.get("dandiset_id"))):
            dw.add(row)
        dw.close()
        counts["dandisets"] = dw.rows
        for table, rows in (extra_tables or {}).items():
            w = TableWriter(tmp / f"{table}.parquet", table, on_problem=problem("nwb_summary"))
            for row in rows:
                w.add(row)
            w.close()
            counts[table] = w.rows
        for table in sorted(
            PART_TABLES, key=lambda t: t == "crawl_errors"
        ):  # errors last: the tables above may add to it
            w = TableWriter(tmp / f"{table}.parquet", table)
            for ds in sorted(parts):
                path = self.part_dir(ds, parts[ds]) / f"{table}.parquet"
                for batch in pq.ParquetFile(str(path)).iter_batches(batch_size=BATCH_ROWS):
                    w.add_batch(batch)
            if table == "crawl_errors":
                for row in late_errors:
                    w.add(row)
            w.close()
            counts[table] = w.rows
        if finalize is not None:  # e.g. derive the search tables (before anyone sees it)
            finalize(tmp)
        manifest = {
            **manifest,
            "crawl_finished": now_utc().isoformat(),  # everything done but this last write
            "snapshot": f"snapshots/{crawl_id}",
            "tables": {
                t: {"file": f"snapshots/{crawl_id}/{t}.parquet", "rows": n}
                for t, n in counts.items()
            },
            "row_counts": counts,
        }
        write_json_atomic(
            tmp / MANIFEST, manifest
        )  # the snapshot's own copy, if the main one breaks
        final = snapshots / crawl_id
        os.rename(tmp, final)
        fsync_dir(snapshots)
        try:
            previous = self.manifest().get("snapshot") if self.exists() else None
        except IndexDamagedError:
            previous = None
        write_json_atomic(self.manifest_path, manifest)
        self._collect_garbage(keep_snapshots={manifest["snapshot"], previous}, parts=parts)
        return manifest

    def _collect_garbage(
        self, *, keep_snapshots: Iterable[str | None], parts: dict[str, str]
    ) -> None:
        keep = {self.root / s for s in keep_snapshots if s}
        for snap in (self.root / "snapshots").iterdir():
            if snap not in keep and not snap.name.startswith(".tmp-"):
                shutil.rmtree(snap, ignore_errors=True)
        parts_root = self.root / "parts"
        if parts_root.is_dir():
            for ds_dir in parts_root.iterdir():
                for part in ds_dir.iterdir():
                    if parts.get(ds_dir.name) != part.name:
                        shutil.rmtree(part, ignore_errors=True)
                if not any(ds_dir.iterdir()):
                    ds_dir.rmdir()


def manifest_base(api_url: str, options: dict[str, Any], started: datetime) -> dict[str, Any]:
    from importlib.metadata import version

    from dandindex._version import __version__

    def v(name: str) -> str | None:
        try:
            return version(name)
        except Exception:  # pragma: no cover - missing distribution metadata
            return None

    return {
        "format": "dandindex-index",
        "tables_version": TABLES_VERSION,
        "api_url": api_url,
        "options": options,
        "crawl_started": started.isoformat(),
        "crawl_finished": now_utc().isoformat(),
        "dandindex_version": __version__,
        "dandi_version": v("dandi"),
        "dandischema_version": v("dandischema"),
    }
