"""The search tables are derived in bounded memory at any size: an index larger than the
memory limit allows in one go is derived in slices, with the same result."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest

from dandindex import facets
from dandindex.schemas import SCHEMAS
from dandindex.testing.bigindex import write_index


@pytest.mark.slow
def test_facets_of_an_index_too_large_for_one_go(tmp_path, monkeypatch):
    write_index(tmp_path, 80_000, 600_000, 120_000, 400)
    snap = tmp_path / "snapshots" / "bench"
    limit = "128MB"  # measured: one go needs more (it fits in 160 MB); slices of 10,000 fit
    # one go (a single slice): more than the limit allows
    monkeypatch.setattr(facets, "SLICE_ROWS", 10**9)
    monkeypatch.setattr(facets, "SLICE_BYTES", 10**15)
    with pytest.raises(duckdb.OutOfMemoryException):
        facets.write_facets(snap, memory_limit=limit)
    # in slices: it finishes, and agrees with a derivation that had memory to spare
    monkeypatch.setattr(facets, "SLICE_ROWS", 10_000)
    facets.write_facets(snap, memory_limit=limit)
    tables = ("asset_facets", "facet_values", "facet_bitmaps", "version_rows")
    sliced = {t: pq.read_table(snap / f"{t}.parquet") for t in tables}
    roomy = tmp_path / "roomy"
    roomy.mkdir()
    for f in snap.glob("*.parquet"):
        if f.stem in SCHEMAS:
            (roomy / f.name).symlink_to(f)
    monkeypatch.setattr(facets, "SLICE_ROWS", 10**9)  # one go (SLICE_BYTES is still huge)
    facets.write_facets(roomy, memory_limit="2GB")
    for t, table in sliced.items():
        other = pq.read_table(roomy / f"{t}.parquet")
        assert table.num_rows == other.num_rows > 0
        assert table.equals(other), t
