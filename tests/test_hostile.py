"""Hostile input at every door: SQL, named queries (shipped and the user's), query parameters,
search flags and the Python API. Each case ends in a clean refusal or a plain result: no
traceback, no file written outside the index, no file of the index changed."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.errors import DandindexError
from dandindex.index import Index


@pytest.fixture(scope="module")
def hostile_index(index_dir, tmp_path_factory):
    """A private copy of the crawled index (these tests try to damage it)."""
    copy = tmp_path_factory.mktemp("hostile") / "index"
    shutil.copytree(index_dir, copy)
    return copy


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def guard(hostile_index, tmp_path):
    """Checks after the test that nothing changed in the index and nothing appeared beside
    it or in a bait folder the SQL names."""
    bait = tmp_path / "bait"
    bait.mkdir()
    (bait / "secret.txt").write_text("the secret text\n")
    before, around = fingerprint(hostile_index), sorted(os.listdir(hostile_index.parent))
    yield bait
    assert fingerprint(hostile_index) == before, "a file of the index changed"
    assert sorted(os.listdir(hostile_index.parent)) == around, "a file appeared beside the index"
    assert sorted(os.listdir(bait)) == ["secret.txt"], "a file was written outside the index"


def snapshot_file(index: Path, table: str = "assets") -> Path:
    return next(index.glob(f"snapshots/*/{table}.parquet"))


def hostile_sql(index: Path, bait: Path) -> list[str]:
    target = snapshot_file(index)
    outside = bait / "out.csv"
    return [
        f"COPY assets TO '{outside}'",
        f"COPY (SELECT 1 AS x) TO '{target}' (USE_TMP_FILE false)",
        f"EXPLAIN ANALYZE COPY assets TO '{outside}'",
        f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{target}' (FORMAT csv, USE_TMP_FILE false)",
        "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO 'dxidx://assets.parquet' (USE_TMP_FILE false)",
        "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO 'dxidx://new.parquet'",
        f"ATTACH '{bait / 'x.db'}' AS x",
        f"EXPLAIN ANALYZE ATTACH '{target.parent / 'x.db'}' AS x",
        "CREATE TABLE t AS SELECT 1",
        "INSERT INTO assets SELECT * FROM assets",
        f"EXPORT DATABASE '{bait / 'export'}'",
        f"SELECT 1; COPY assets TO '{outside}'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT * FROM read_parquet('https://example.org/x.parquet')",
        "SET enable_external_access = true",
        "RESET lock_configuration",
        "PRAGMA memory_limit = '1TB'",
        f"SELECT * FROM read_text('{bait / 'secret.txt'}')",
        f"SELECT * FROM read_csv('{bait / 'secret.txt'}')",
        f"SELECT * FROM sniff_csv('{bait / 'secret.txt'}')",
        "SELECT * FROM read_csv('/etc/passwd')",
        f"SELECT * FROM glob('{bait}/*')",
        "SELECT * FROM read_text('dxidx://../../manifest.json')",
        "SELECT * FROM read_text('dxidx://../../../bait/secret.txt')",
        f"SELECT * FROM query('COPY assets TO ''{outside}''')",
        "SELECT getenv('HOME') AS home",
        "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
        "SELECT 99999999999999999999999999999999999999 AS big",
        "SELECT count(*) AS n FROM assets WHERE path = '\x00'",
        "SELECT 'x' || repeat('y', 100) AS s",
        "",
        "   ;  ",
        "SELECT",
    ]


def no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output


def test_sql_of_every_hostile_kind_is_refused_or_harmless(hostile_index, guard):
    refused = []
    for text in hostile_sql(hostile_index, guard):
        r = CliRunner().invoke(
            cli, ["sql", text, "--index", str(hostile_index), "--format", "json"]
        )
        no_traceback(r)
        if r.exit_code:
            assert r.output.startswith("Error: ") and r.output.count("\n") <= 6, r.output
            refused.append(text)
        assert "the secret text" not in r.output
    # every statement that writes, reads outside or configures is among the refused ones
    for text in hostile_sql(hostile_index, guard):
        if text.split(None, 1)[:1] and text.split()[0].upper() in (
            "COPY",
            "ATTACH",
            "CREATE",
            "INSERT",
            "EXPORT",
            "INSTALL",
            "LOAD",
            "SET",
            "RESET",
            "PRAGMA",
        ):
            assert text in refused, text


def test_the_sandbox_refuses_what_the_statement_check_lets_through(hostile_index, guard):
    """SELECTs that try to read outside, and EXPLAIN ANALYZE of writes, reach DuckDB's
    sandbox (the statement check alone would let them pass) and are refused there."""
    with Index(hostile_index) as idx:
        for text in hostile_sql(hostile_index, guard):
            if text.startswith(
                ("SELECT * FROM read_text", "SELECT * FROM read_csv", "EXPLAIN ANALYZE")
            ):
                with pytest.raises(DandindexError, match="Refused|SQL error"):
                    idx.sql(text)
        # the sandbox still reads the index, and the search tables
        assert idx.sql("SELECT count(*) AS n FROM assets").rows()[0]["n"] > 0
        assert idx.sql("SELECT count(*) AS n FROM asset_facets").rows()[0]["n"] > 0


@pytest.mark.parametrize(
    "args",
    [
        ["--area", "'; DROP TABLE assets; --"],
        ["--area", "CA1\x00"],
        ["--species", "x" * 10000],
        ["--modality", "\x00"],
        ["--type", "Units' OR 1=1 --"],
        ["--dandiset", "../../etc/passwd"],
        ["--min-units", "99999999999999999999999999"],
        ["--min-electrodes", "-99999999999999999999999999"],
        ["--rate-min", "nan"],
        ["--rate-max", "inf"],
        ["--size-min", "1e400"],
        ["--limit", str(2**70)],
        ["--limit", "-1"],
        ["--level", "everything"],
        ["'; DROP TABLE assets; --"],
        ["\x00"],
    ],
)
def test_search_flags_take_anything(hostile_index, guard, args):
    r = CliRunner().invoke(
        cli, ["search", *args, "--index", str(hostile_index), "--format", "json"]
    )
    no_traceback(r)
    assert r.exit_code in (0, 1, 2)


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("changed_since", "since='; DROP TABLE assets; --"),
        ("changed_since", "since=\x00"),
        ("changed_since", "since=99999999999999999999999999"),
        ("largest_nwb_files", "top=99999999999999999999999999"),
        ("largest_nwb_files", "top=-5"),
        ("largest_nwb_files", "top=COPY assets TO '/tmp/x'"),
        ("largest_nwb_files", "nonsense"),
    ],
)
def test_named_query_params_take_anything(hostile_index, guard, name, param):
    r = CliRunner().invoke(
        cli, ["query", "run", name, "--param", param, "--index", str(hostile_index)]
    )
    no_traceback(r)


def test_a_user_named_query_is_sandboxed_too(hostile_index, guard, tmp_path, monkeypatch):
    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "leak.sql").write_text(
        f"-- name: leak\n-- description: reads a file outside\nSELECT * FROM read_text('{guard / 'secret.txt'}')\n"
    )
    (folder / "scribble.sql").write_text(
        "-- name: scribble\n-- description: writes into the index\n"
        "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO 'dxidx://assets.parquet' (USE_TMP_FILE false)\n"
    )
    monkeypatch.setenv("DANDINDEX_QUERIES", str(folder))
    for name in ("leak", "scribble"):
        r = CliRunner().invoke(cli, ["query", "run", name, "--index", str(hostile_index)])
        no_traceback(r)
        assert r.exit_code == 1 and "the secret text" not in r.output


@pytest.mark.parametrize(
    "kwargs",
    [
        {"area": 5},
        {"species": [None, object()]},
        {"type": {"a": 1}},
        {"min_units": "many"},
        {"rate_min": float("nan")},
        {"size_max": 2**70},
        {"limit": 2**70},
        {"level": 3},
        {"nonsense": 1},
        {"text": b"bytes"},
    ],
)
def test_the_python_api_refuses_bad_values_with_a_user_error(hostile_index, kwargs):
    with Index(hostile_index) as idx, pytest.raises(DandindexError):
        idx.search(**kwargs)


def test_sql_api_refuses_bad_values_with_a_user_error(hostile_index):
    with Index(hostile_index) as idx:
        for bad in (5, None, b"SELECT 1"):
            with pytest.raises(DandindexError):
                idx.sql(bad)  # type: ignore[arg-type]
        with pytest.raises(DandindexError):
            idx.sql("SELECT $x AS x", {"x": object()})
        with pytest.raises(DandindexError):
            idx.sql("SELECT $x AS x", {"x": 2**80})
        assert idx.sql("SELECT $x AS x", {"x": "'; DROP TABLE assets; --"}).rows() == [
            {"x": "'; DROP TABLE assets; --"}
        ]


def test_dandindex_error_is_exported():
    import dandindex

    assert dandindex.DandindexError is DandindexError
