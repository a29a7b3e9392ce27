"""A DuckDB connection that can read one snapshot's files and nothing else, and write nothing.

User SQL (``dandindex sql``, named queries, the web page's SQL box) runs here. The guarantee
is DuckDB's own, not a statement filter: external access is off, the only path the engine may
open is ``dxidx://`` (a read-only fsspec filesystem rooted at the snapshot folder, which
refuses writes and paths that leave the folder), extensions are neither installed nor loaded,
and the configuration is locked before any user text runs, so no ``SET`` gives any of it back.
"""

from __future__ import annotations

import io
import os
import posixpath
import threading
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

from dandindex.errors import QueryError

PROTOCOL = "dxidx"


class PositionalFile(io.RawIOBase):
    """A read-only file whose position is kept per thread, reading with positional reads.

    DuckDB reads one file handle from several threads, each as ``seek`` then ``read``; with one
    shared position (as fsspec's file objects have) the reads interleave and return the wrong
    bytes. Here each thread has its own position, and reads are ``os.pread`` (local files) or
    the filesystem's stateless range read (``cat_file``, remote ones).
    """

    def __init__(self, fs: Any, path: str, size: int | None = None) -> None:
        super().__init__()
        self._fs, self._path = fs, path
        self._fd: int | None = None
        if isinstance(fs, LocalFileSystem):
            self._fd = os.open(path, os.O_RDONLY)
            self.size = os.fstat(self._fd).st_size
        else:
            self.size = int(size if size is not None else fs.size(path))
        self._local = threading.local()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return int(getattr(self._local, "pos", 0))

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self.size}[whence]
        self._local.pos = base + offset
        return int(self._local.pos)

    def read(self, size: int | None = -1) -> bytes:
        pos = self.tell()
        n = self.size - pos if size is None or size < 0 else min(size, self.size - pos)
        if n <= 0:
            return b""
        if self._fd is not None:
            data = os.pread(self._fd, n, pos)
        else:
            data = self._fs.cat_file(self._path, start=pos, end=pos + n)
        self._local.pos = pos + len(data)
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        super().close()


class ReadOnlyFileSystem(DirFileSystem):
    """An fsspec filesystem over one folder of another filesystem: reads only, no way out.
    Sizes are remembered: a snapshot's files never change under a name, and a remote size
    costs a request."""

    protocol = PROTOCOL

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sizes: dict[str, int] = {}

    def _join(self, path: Any) -> Any:
        if isinstance(path, str):
            inner = path.split("://", 1)[-1]
            if posixpath.normpath("/" + inner.lstrip("/")).startswith("/.."):
                raise PermissionError(f"{path}: outside the index")
        elif isinstance(path, (list, tuple)):
            for p in path:
                self._join(p)
        return super()._join(path)

    def open(self, path: Any, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if set(mode) - set("rb"):
            raise PermissionError(f"{path}: the index is read-only")
        return PositionalFile(self.fs, self._join(path), self._size(path))

    _open = open

    def _size(self, path: Any) -> int:
        full = self._join(path)
        if full not in self._sizes:
            self._sizes[full] = int(self.fs.size(full))
        return self._sizes[full]

    def exists(self, path: Any, **kwargs: Any) -> bool:
        """By size (one HEAD, remembered): fsspec's HTTP `exists` GETs the whole file."""
        try:
            self._size(path)
        except (FileNotFoundError, OSError):
            return False
        return True

    def isfile(self, path: Any) -> bool:
        return self.exists(path)

    def glob(self, path: Any, **kwargs: Any) -> Any:
        """A name without wildcards is itself if it exists (fsspec's HTTP glob GETs it)."""
        if isinstance(path, str) and not any(c in path for c in "*?["):
            return [path] if self.exists(path) else []
        return super().glob(path, **kwargs)

    def size(self, path: Any) -> int:
        return self._size(path)

    def modified(self, path: Any) -> Any:
        """DuckDB asks; filesystems that cannot say (HTTP) get a fixed time: the files of a
        snapshot never change under a name."""
        try:
            return self.fs.modified(self._join(path))
        except (NotImplementedError, AttributeError, OSError):
            from datetime import datetime, timezone

            return datetime(2000, 1, 1, tzinfo=timezone.utc)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("the index is read-only")

    rm = rm_file = rmdir = mkdir = makedirs = touch = mv = cp_file = put_file = pipe_file = _refuse
    _rm = _rm_file = _rmdir = _mkdir = _makedirs = _touch = _mv = _cp_file = _put_file = _refuse


def sandboxed_connection(
    filesystem: Any, root: str, prepare: Callable[[duckdb.DuckDBPyConnection], None]
) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection whose only readable files are those under `root` of
    `filesystem` (an fsspec filesystem), as ``dxidx://NAME``; `prepare(con)` creates the views
    (and registers any in-memory tables) before the configuration is locked."""
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    con.register_filesystem(ReadOnlyFileSystem(path=root, fs=filesystem))
    con.execute(f"SET allowed_directories = ['{PROTOCOL}://']")
    con.execute("SET enable_external_access = false")
    con.execute("SET parquet_metadata_cache = true")  # snapshot files never change under a name
    prepare(con)
    con.execute("SET lock_configuration = true")
    return con


def checked_params(params: dict[str, Any] | Sequence[Any] | None) -> Any:
    """Bound parameters as DuckDB takes them; values must be text, numbers or booleans."""
    if not params:
        return None
    values = params.values() if isinstance(params, dict) else params
    for v in values:
        if v is not None and not isinstance(v, (str, int, float, bool)):
            raise QueryError(f"A parameter must be text or a number, not {type(v).__name__}.")
        if isinstance(v, str) and "\x00" in v:
            raise QueryError("A parameter contains a NUL character; remove it.")
        if isinstance(v, int) and not -(2**63) <= v < 2**63:
            raise QueryError(f"The parameter {v} is too large for a 64-bit integer.")
    return params
