"""The lower bound for streaming a metadata walk: the distinct blocks it reads locally.

Used by the benchmark and the tests: ``lower_bound(path)`` walks the local file exactly as the
crawl walks a remote one and counts the distinct 4 KiB blocks that were read.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

BLOCK = 4096


class BlockRecorder(io.RawIOBase):
    """A local file that remembers which blocks were read."""

    def __init__(self, path: str | Path, block: int = BLOCK) -> None:
        super().__init__()
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.block = block
        self.blocks: set[int] = set()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def readinto(self, buffer: Any) -> int:
        pos = self._f.tell()
        n = self._f.readinto(buffer)
        if n:
            self.blocks.update(range(pos // self.block, (pos + n - 1) // self.block + 1))
        return n or 0

    def close(self) -> None:
        self._f.close()
        super().close()


def lower_bound(path: str | Path) -> int:
    """Bytes in the distinct 4 KiB blocks the metadata walk reads from the local file."""
    from dandindex.nwb.walk import summarize_h5

    rec = BlockRecorder(path)
    try:
        summarize_h5(rec)
    finally:
        rec.close()
    return len(rec.blocks) * BLOCK
