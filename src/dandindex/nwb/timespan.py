"""A series' time span: its first and last time (seconds, session time) and duration.

Samples / rate after its starting time when it has a rate; else its first and last
timestamp: read whole when the timestamps fit the walk's value budget, else only the two
ends, located from the dataset's layout (a contiguous dataset's offset, or the chunks that
hold them when those are small) and fetched for every such series of the file in one
burst after the walk. Otherwise unknown (None), never guessed.
"""

from __future__ import annotations

from typing import Any

from dandindex.errors import RemoteReadError

#: timestamps too big to read whole: their first and last values are read (one burst for
#: the file) from at most this many series, where the chunk holding each is at most END_CHUNK
MAX_ENDS = 256
END_CHUNK = 256 * 1024


def time_span(walker: Any, row: dict[str, Any], group: Any) -> None:
    """A series' first and last time (s) and duration: samples / rate after its
    starting time, else its first and last timestamp when the timestamps are small
    enough to read within the walk's value budget; otherwise unknown (None)."""
    shape = row["shape"]
    if row["rate"] and row["rate"] > 0 and shape and shape[0] > 0:
        start = row["starting_time"] or 0.0
        _span(row, start, start + shape[0] / row["rate"])
        return
    if not row["n_timestamps"]:
        return
    import numpy as np

    member = walker._member(group, "timestamps")
    stamps = walker.value(member)
    if stamps is None and member is not None and len(walker.ends) < MAX_ENDS:
        walker.ends.append((row, member))  # too big to read whole: its two ends, later
        return
    if not isinstance(stamps, np.ndarray) or stamps.ndim != 1 or stamps.dtype.kind not in "fiu":
        return
    finite = stamps[np.isfinite(stamps)] if stamps.dtype.kind == "f" else stamps
    if len(finite):
        _span(row, float(finite.min()), float(finite.max()))


def read_ends(walker: Any) -> None:
    """First and last timestamp of the series whose timestamps were too big to read:
    where each end is (a contiguous dataset's offset, or the chunk holding it, when
    that chunk is small) is found from the layout, fetched in one burst, then read."""
    import numpy as np

    wanted: list[tuple[dict[str, Any], Any]] = []
    ranges: list[tuple[int, int]] = []
    for row, ds in walker.ends:
        try:
            if ds.ndim != 1 or ds.dtype.kind not in "fiu" or not ds.shape[0]:
                continue
            places = _end_ranges(ds)
        except (OSError, KeyError, TypeError, ValueError, RuntimeError) as e:
            reraise_transfer(e)
            continue
        if places:
            wanted.append((row, ds))
            ranges += places
    if walker.rf is not None and ranges:
        walker.rf.prefetch(ranges)
    for row, ds in wanted:
        try:
            first, last = float(ds[0]), float(ds[-1])
        except (OSError, TypeError, ValueError) as e:
            reraise_transfer(e)
            continue
        if np.isfinite(first) and np.isfinite(last) and last >= first:
            _span(row, first, last)


def _span(row: dict[str, Any], first: float, last: float) -> None:
    row["t_start"], row["t_stop"], row["duration"] = first, last, last - first


def _end_ranges(ds: Any) -> list[tuple[int, int]] | None:
    """Byte ranges holding a 1-D dataset's first and last values: the values themselves in
    a contiguous layout, the chunks holding them when chunked (None if a chunk is bigger
    than `END_CHUNK`, or the layout is neither: compact data is in the header already)."""
    n, size = int(ds.shape[0]), ds.dtype.itemsize
    if ds.chunks is None:
        offset = ds.id.get_offset()
        if offset is None:
            return []
        return [(int(offset), size), (int(offset) + (n - 1) * size, size)]
    step = int(ds.chunks[0])
    out = []
    for coord in (0, (n - 1) // step * step):
        info = ds.id.get_chunk_info_by_coord((coord,))
        if info.byte_offset is None or info.size > END_CHUNK:
            return None
        out.append((int(info.byte_offset), int(info.size)))
    return out


def reraise_transfer(e: BaseException) -> None:
    """A read that failed over the network is not a property of the file: never swallow it
    as a warning (the summary would be incomplete and cached as if whole)."""
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, RemoteReadError):
            raise seen
        seen = seen.__cause__ or seen.__context__
