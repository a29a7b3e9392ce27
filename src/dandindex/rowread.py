"""Reading a snapshot's Parquet files by position and by key, a few row groups at a time.

`RowReader` reads rows by number (search results: `asset_facets` rows), spans (an asset's
objects), or scans one column; `KeyReader` finds the rows of a key in a file sorted by it
(``asset_rows``, by asset id) from each row group's min/max statistics, read once. Both use
pyarrow single-threaded: the rows wanted are few, and threads cost more than they save.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyroaring import BitMap


class RowReader:
    """Rows of a Parquet file by row number (``row``: its position from 1), reading only the
    row groups that hold them and only the columns asked for."""

    def __init__(self, file: Any) -> None:
        self.file = file
        meta = file.metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        self.ends = np.cumsum(sizes, dtype=np.int64)  # rows before the end of each group
        self.schema = file.schema_arrow

    def read(self, rows: BitMap, columns: list[str]) -> pa.Table:
        """The rows numbered `rows` (in order), `columns` of them."""
        if not rows:
            return self.schema.empty_table().select(columns)
        pos = np.frombuffer(rows.to_array(), dtype=np.uint32).astype(np.int64) - 1
        groups = np.unique(np.searchsorted(self.ends, pos, side="right"))
        table = self.file.read_row_groups(groups.tolist(), columns=columns, use_threads=False)
        starts = np.r_[0, self.ends][groups]
        sizes = self.ends[groups] - starts
        base = np.r_[0, np.cumsum(sizes)[:-1]]  # where each group starts in `table`
        g = np.searchsorted(self.ends[groups], pos, side="right")
        return table.take(pa.array(base[g] + pos - starts[g]))

    def read_span(self, start: int, stop: int, columns: list[str]) -> pa.Table:
        """`columns` of the rows at positions `start` to `stop` (from 0, stop excluded)."""
        if stop <= start:
            return self.schema.empty_table().select(columns)
        g0, g1 = np.searchsorted(self.ends, [start, stop - 1], side="right")
        table = self.file.read_row_groups(
            list(range(int(g0), int(g1) + 1)), columns=columns, use_threads=False
        )
        base = int(np.r_[0, self.ends][g0])
        return table.slice(start - base, stop - start)

    def scan(self, column: str, keep: Callable[[pa.Array], pa.Array]) -> np.ndarray:
        """Row numbers of the rows whose `column` passes `keep`, reading that column only."""
        out = []
        for i in range(len(self.ends)):
            col = self.file.read_row_group(i, columns=[column, "row"])
            mask = keep(col.column(0))
            out.append(col.column(1).filter(mask).to_numpy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


class KeyReader:
    """The rows of a Parquet file sorted by `column` whose `column` equals a value, reading
    only the row groups whose statistics may hold it (a binary search over their minima)."""

    def __init__(self, file: Any, column: str) -> None:
        self.file = file
        self.column = column
        meta = file.metadata
        i = file.schema_arrow.names.index(column)
        self.lows: list[Any] = []
        self.highs: list[Any] = []
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(i).statistics
            if stats is None or not stats.has_min_max:
                raise ValueError(f"{column} of row group {g} has no statistics")
            self.lows.append(stats.min)
            self.highs.append(stats.max)

    def find(self, value: Any, columns: list[str] | None = None) -> pa.Table:
        """The rows whose `column` is `value` (an empty table if none)."""
        first = bisect.bisect_left(self.highs, value)
        last = bisect.bisect_right(self.lows, value)
        names = columns or self.file.schema_arrow.names
        if first >= last:
            return self.file.schema_arrow.empty_table().select(names)
        table = self.file.read_row_groups(list(range(first, last)), use_threads=False)
        return table.filter(pc.equal(table.column(self.column), value)).select(names)
