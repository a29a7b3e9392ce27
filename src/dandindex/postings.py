"""Posting bitmaps: for every value of every facet kind, the rows that hold it.

A snapshot's ``facet_bitmaps`` table has one row per (kind, value) of ``facet_values`` with
the ``asset_facets`` row numbers holding it as a compressed bitmap (Roaring, serialized by
pyroaring). Kinds that hold numbers (units, sizes, rates, ...) have one bitmap per *bin*:
a run of numbers holding about 1/`BINS` of the kind's rows (a number that alone holds more
is a bin of its own), with the bin's lowest and highest number. A search ORs the bitmaps of
each facet's values (for a range: the bins inside it, plus the rows of the at most two bins
it cuts, read from ``facet_values``, which is sorted by kind and number so only their row
groups are read) and intersects the facets. Intersections and counts of Roaring bitmaps
cost microseconds and grow with the compressed size of the answer, not with the index.

Why Roaring rather than DuckDB's own plans: intersecting facets in SQL hash-aggregates every
row of every facet (a broad facet is most of the index), which made search cost grow with
the index; here a broad facet at 1M assets is a 125 kB bitmap, deserialised in 60 µs.
"""

from __future__ import annotations

import array
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyroaring import BitMap

from dandindex.registry import NUMERIC_KINDS, Lookup

BINS = 1024
SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("value", pa.string()),
        ("lo", pa.float64()),
        ("hi", pa.float64()),
        ("n", pa.int64()),
        ("start", pa.int64()),
        ("stop", pa.int64()),
        ("bitmap", pa.binary()),
    ]
)
#: kinds with many values (or big bitmaps): read a value at a time, never all at once
BY_VALUE = ("dandiset", "raw_area", "file_raw_area", "trigram", "has", "column")
_BATCH = 1 << 20


def _bitmap(chunks: list[np.ndarray]) -> BitMap:
    rows = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    bm = BitMap(array.array("I", rows.astype(np.uint32).tobytes()))
    bm.run_optimize()
    return bm


def _categorical(con: Any, source: str, kind: str) -> Iterator[dict[str, Any]]:
    """(value → bitmap) rows of a kind of text values, streamed in value order."""
    reader = con.sql(
        f"SELECT value, row FROM {source} WHERE kind = $k ORDER BY value, row", params={"k": kind}
    ).to_arrow_reader(_BATCH)
    current: str | None = None
    chunks: list[np.ndarray] = []
    for batch in reader:
        values = batch.column(0).to_numpy(zero_copy_only=False)
        rows = batch.column(1).to_numpy()
        starts = np.flatnonzero(values[1:] != values[:-1]) + 1
        for a, b in zip(np.r_[0, starts], np.r_[starts, len(values)], strict=True):
            if a == b:
                continue
            if values[a] != current and chunks:
                yield _row(kind, current, None, None, _bitmap(chunks))
                chunks = []
            current = values[a]
            chunks.append(rows[a:b])
    if chunks:
        yield _row(kind, current, None, None, _bitmap(chunks))


def _numeric(con: Any, source: str, kind: str, first: int) -> Iterator[dict[str, Any]]:
    """Bins of a kind of numbers: runs of whole numbers holding about 1/BINS of its rows,
    with where their rows are in `source` (whose rows of this kind start at `first`)."""
    total = con.execute(f"SELECT count(*) FROM {source} WHERE kind = $k", {"k": kind}).fetchall()
    target = max(1, int(total[0][0]) // BINS)
    reader = con.sql(
        f"SELECT num, row FROM {source} WHERE kind = $k AND num IS NOT NULL ORDER BY num, row",
        params={"k": kind},
    ).to_arrow_reader(_BATCH)
    offset = 0  # position of the batch's first row among the kind's rows
    last_num, last_start = None, 0
    bin_id, lo, hi, start = -1, 0.0, 0.0, 0
    chunks: list[np.ndarray] = []
    for batch in reader:
        nums = batch.column(0).to_numpy()
        rows = batch.column(1).to_numpy()
        pos = offset + np.arange(len(nums))
        new = np.r_[nums[0] != last_num, nums[1:] != nums[:-1]]
        starts = np.where(new, pos, last_start)
        starts = np.maximum.accumulate(starts)  # each row: where its number's run starts
        bins = starts // target  # a number's rows share its run's bin
        cuts = np.flatnonzero(bins[1:] != bins[:-1]) + 1
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(nums)], strict=True):
            if bins[a] != bin_id and chunks:
                yield _row(kind, None, lo, hi, _bitmap(chunks), (start, first + offset + a))
                chunks = []
            if bins[a] != bin_id:
                bin_id, lo, start = int(bins[a]), float(nums[a]), first + offset + a
            hi = float(nums[b - 1])
            chunks.append(rows[a:b])
        offset += len(nums)
        last_num, last_start = nums[-1], int(starts[-1])
    if chunks:
        yield _row(kind, None, lo, hi, _bitmap(chunks), (start, first + offset))


def _row(
    kind: str,
    value: Any,
    lo: float | None,
    hi: float | None,
    bm: BitMap,
    span: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """A facet_bitmaps row; `span`: where a bin's rows are in facet_values."""
    return {"kind": kind, "value": value, "lo": lo, "hi": hi, "n": len(bm),
            "start": int(span[0]), "stop": int(span[1]), "bitmap": bm.serialize()}  # fmt: skip


def trigrams(
    con: Any, source: str, text: str = "text", step: int = 100_000
) -> Iterator[dict[str, Any]]:
    """Bitmap rows (kind ``trigram``) of every three-character piece of column `text` of
    `source` (numbered by ``row`` from 1), made `step` rows at a time (memory: the pieces of
    one step, and a bitmap per distinct piece)."""
    total = con.sql(f"SELECT max(row) FROM {source}").fetchall()[0][0] or 0
    found: dict[str, BitMap] = {}
    for lo in range(1, int(total) + 1, step):
        t = con.sql(
            f"SELECT substr({text}, i::BIGINT, 3) AS value, row FROM {source}, "
            f"range(1, length({text}) - 1) AS r(i) WHERE row BETWEEN $lo AND $hi",
            params={"lo": lo, "hi": lo + step - 1},
        ).to_arrow_table()
        grouped = t.group_by("value").aggregate([("row", "list")])
        for value, rows in zip(
            grouped.column("value").to_pylist(), grouped.column("row_list").to_pylist(), strict=True
        ):
            bm = found.setdefault(value, BitMap())
            bm.update(array.array("I", rows))
    for value in sorted(found):
        found[value].run_optimize()
        yield _row("trigram", value, None, None, found.pop(value))


def latest_rows(con: Any, asset_rows: str) -> Iterator[dict[str, Any]]:
    """The bitmap row (kind ``latest``, value ``1``) of one row per asset: the row of its most
    recent published version, else of the draft (what a search shows unless asked for every
    version), from `asset_rows` (a DuckDB table expression)."""
    reader = con.sql(
        "SELECT max_by(facet_row, CASE WHEN version = 'draft' THEN '' ELSE version END) "
        f"FROM {asset_rows} WHERE facet_row IS NOT NULL GROUP BY asset_id"
    ).to_arrow_reader(_BATCH)
    bm = BitMap()
    for batch in reader:
        bm.update(array.array("I", batch.column(0).to_numpy().astype(np.uint32).tobytes()))
    bm.run_optimize()
    yield _row("latest", "1", None, None, bm)


def write_bitmaps(
    con: Any,
    sources: Iterable[tuple[str, Iterable[str]]],
    target: Path,
    metadata: dict[str, Any],
    more: Iterable[dict[str, Any]] = (),
) -> None:
    """``facet_bitmaps`` of (kind, value, num, row) rows: for each (source, kinds) of
    `sources` (a DuckDB table expression and the kinds to read from it), written to `target`
    a batch at a time (memory: one value's rows, one batch), then the bitmap rows `more`,
    with `metadata` in the file's key/value metadata."""
    schema = SCHEMA.with_metadata({str(k): str(v) for k, v in metadata.items()})
    with pq.ParquetWriter(str(target), schema, compression="zstd") as writer:
        buffer: list[dict[str, Any]] = []
        size = 0
        made = (
            _numeric(con, source, kind, starts[kind])
            if kind in NUMERIC_KINDS
            else _categorical(con, source, kind)
            for source, kinds in sources
            for starts in [_kind_starts(con, source, list(kinds))]
            for kind in kinds
        )
        for row in itertools.chain(itertools.chain.from_iterable(made), more):
            buffer.append(row)
            size += len(row["bitmap"])
            if size > 1 << 20 or len(buffer) >= 256:  # small row groups: values looked up
                writer.write_table(pa.Table.from_pylist(buffer, schema=schema))
                buffer, size = [], 0
        writer.write_table(pa.Table.from_pylist(buffer, schema=schema))


def _kind_starts(con: Any, source: str, kinds: list[str]) -> dict[str, int]:
    """Where each kind's rows start in `source`, whose rows are in `kinds` order."""
    counts = dict(con.sql(f"SELECT kind, count(*) FROM {source} GROUP BY 1").fetchall())
    at = np.cumsum([0] + [counts.get(k, 0) for k in kinds])
    return {k: int(at[i]) for i, k in enumerate(kinds)}


class Postings:
    """The posting bitmaps of one snapshot, read from its connection a kind at a time and
    kept (a kind's bitmaps are a few MB at a million assets); kinds with many values
    (`BY_VALUE`) a value at a time. `values` reads positions of ``facet_values``."""

    def __init__(self, con: Any, values: Any, bitmaps: str = "facet_bitmaps") -> None:
        self.con = con
        self.values_file = values
        self.bitmaps = bitmaps
        self._kinds: dict[str, dict[Any, Any]] = {}
        self._decoded: dict[tuple[str, Any], BitMap] = {}

    def _kind(self, kind: str) -> dict[Any, Any]:
        if kind not in self._kinds:
            t = self.con.sql(
                f"SELECT value, lo, hi, n, start, stop, bitmap FROM {self.bitmaps} "
                "WHERE kind = $k ORDER BY value, lo",
                params={"k": kind},
            ).to_arrow_table()
            v, lo, hi, n, start, stop, b = (t.column(i).to_pylist() for i in range(7))
            if kind in NUMERIC_KINDS:
                self._kinds[kind] = {
                    (x, y): (c, s, e, m)
                    for x, y, c, s, e, m in zip(lo, hi, n, start, stop, b, strict=True)
                }
            else:
                self._kinds[kind] = {x: (c, 0, 0, m) for x, c, m in zip(v, n, b, strict=True)}
        return self._kinds[kind]

    def _get(self, kind: str, key: Any) -> BitMap:
        hit = self._decoded.get((kind, key))
        if hit is None:
            hit = BitMap.deserialize(self._kind(kind)[key][3])
            self._decoded[(kind, key)] = hit
        return hit

    def counts(self, kind: str) -> dict[str, int]:
        """Value → rows holding it, for a kind of text values."""
        if kind in BY_VALUE:
            rows = self.con.sql(
                f"SELECT value, n FROM {self.bitmaps} WHERE kind = $k", params={"k": kind}
            ).fetchall()
            return dict(rows)
        return {v: c for v, (c, *_) in self._kind(kind).items()}

    def cardinalities(self, kind: str, rows: BitMap) -> dict[str, int]:
        """Value → how many of `rows` hold it, for a kind of text values (values none of
        them holds left out): an intersection count per value, no bitmap made."""
        out = {}
        for value in self._kind(kind):
            n = rows.intersection_cardinality(self._get(kind, value))
            if n:
                out[value] = n
        return out

    def value(self, kind: str, value: str) -> BitMap:
        """Rows holding `value` of `kind` (empty if none does)."""
        return self.values_of(kind, [value])[0]

    def values_of(self, kind: str, values: list[str]) -> list[BitMap]:
        """Rows holding each of `values` of `kind` (empty bitmaps for those none holds)."""
        if kind not in BY_VALUE:
            have = self._kind(kind)
            return [self._get(kind, v) if v in have else BitMap() for v in values]
        missing = [v for v in values if (kind, v) not in self._decoded]
        if missing:
            names = ", ".join(f"$v{i}" for i in range(len(missing)))  # IN prunes row groups
            rows = self.con.sql(
                f"SELECT value, bitmap FROM {self.bitmaps} WHERE kind = $k AND value IN ({names})",
                params={"k": kind, **{f"v{i}": v for i, v in enumerate(missing)}},
            ).fetchall()
            found = {v: BitMap.deserialize(b) for v, b in rows}
            for v in missing:
                self._decoded[(kind, v)] = found.get(v, BitMap())
        return [self._decoded[(kind, v)] for v in values]

    def lookup(self, lk: Lookup) -> BitMap:
        """Rows answering one `Lookup`."""
        if not lk.numeric:
            found = [b for b in self.values_of(lk.kind, list(lk.values)) if b]
            return BitMap.union(*found) if found else BitMap()
        lo = -np.inf if lk.lo is None else lk.lo
        hi = np.inf if lk.hi is None else lk.hi
        inside = []
        for (blo, bhi), (_, start, stop, _) in self._kind(lk.kind).items():
            if bhi < lo or blo > hi:
                continue
            if lo <= blo and bhi <= hi:
                inside.append(self._get(lk.kind, (blo, bhi)))
            else:  # a bin the range cuts: its rows, read by their place in facet_values
                t = self.values_file.read_span(start, stop, ["num", "row"])
                num = t.column(0).to_numpy()
                rows = t.column(1).to_numpy()[(num >= lo) & (num <= hi)]
                inside.append(BitMap(array.array("I", rows.astype(np.uint32).tobytes())))
        return BitMap.union(*inside) if inside else BitMap()

    def any_of(self, lookups: list[Lookup]) -> BitMap:
        found = [self.lookup(lk) for lk in lookups]
        return BitMap.union(*found) if len(found) != 1 else found[0]


def intersect(sets: list[BitMap]) -> BitMap:
    """Rows in every one of `sets`, smallest first."""
    sets = sorted(sets, key=len)
    out = sets[0]
    for s in sets[1:]:
        if not out:
            break
        out = out & s
    return out
