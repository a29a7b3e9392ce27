"""Tolerant metadata parsing: durations, taxon ids, dates, wrong types."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from dandindex.crawl.rows import (
    asset_row,
    duration_days,
    normalize_taxon,
    parse_datetime,
    version_rows,
)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("P90D", 90.0),
        ("P105.0D", 105.0),
        ("P90DT0H0M0S", 90.0),
        ("P2Y", 730.5),
        ("P3W", 21.0),
        ("P1DT12H", 1.5),
        ("P8M/P10M", 9 * 30.4375),
        ("P60D/", 60.0),
        ("P-1DT0H", -1.0),
        ("three weeks", None),
        ("P", None),
        ("", None),
    ],
)
def test_duration_days(text, days):
    got = duration_days(text)
    if days is None:
        assert got is None
    else:
        assert got == pytest.approx(days)


@pytest.mark.parametrize(
    "ident",
    [
        "http://purl.obolibrary.org/obo/NCBITaxon_10090",
        "http://purl.obolibrary.org/obo/NCBITaxon_10090/",
        "NCBITaxon:10090",
        "NCBITaxon_10090",
        "https://identifiers.org/taxonomy:10090",
        "10090",
        10090,
    ],
)
def test_taxon_spellings_normalise(ident):
    assert normalize_taxon(ident) == "http://purl.obolibrary.org/obo/NCBITaxon_10090"


def test_taxon_garbage_is_none():
    assert normalize_taxon("mouse") is None
    assert normalize_taxon(None) is None


def test_datetimes_are_utc_and_bad_ones_reported():
    problems: list[str] = []
    assert parse_datetime("2021-08-12T14:48:43.199600", "x", problems) == datetime(
        2021, 8, 12, 14, 48, 43, 199600, tzinfo=timezone.utc
    )
    assert parse_datetime("2022-05-10T10:07:33-04:00", "x", problems) == datetime(
        2022, 5, 10, 14, 7, 33, tzinfo=timezone.utc
    )
    assert problems == []
    assert parse_datetime("2020-13-45T99:00:00", "when", problems) is None
    assert parse_datetime(12, "when", problems) is None
    assert len(problems) == 2 and all(p.startswith("when:") for p in problems)


def test_asset_row_keeps_what_it_can_from_broken_metadata():
    item = {
        "asset_id": "a1",
        "blob": "b1",
        "path": "sub-x1/sub-x1_ses-s9_ecephys.nwb",
        "size": 10,
        "created": "2022-01-01T00:00:00Z",
        "modified": "not a date",
        "metadata": {
            "schemaVersion": "0.6.4",
            "approach": "electrophysiology",
            "wasAttributedTo": [
                {
                    "species": {"identifier": "NCBITaxon:9606", "name": "Human"},
                    "age": {"value": "P2Y"},
                }
            ],
            "digest": {"dandi:sha2-256": "ab"},
        },
    }
    row, problems = asset_row(item, "000001", "draft", "http://x/api")
    assert row["approach"] == ["electrophysiology"]
    assert row["species_id"] == "http://purl.obolibrary.org/obo/NCBITaxon_9606"
    assert row["age_days"] == pytest.approx(730.5)
    assert row["subject_id"] == "x1" and row["session_id"] == "s9"
    assert row["modified"] is None and row["sha256"] == "ab"
    assert row["api_url"] == "http://x/api/assets/a1/download/"
    assert any(p.startswith("approach") for p in problems)
    assert any(p.startswith("modified") for p in problems)


def test_version_rows_from_a_non_dict():
    row, contributors, problems = version_rows("000001", "draft", ["not", "a", "dict"], {})
    assert row["name"] is None and contributors == []
    assert problems and "expected an object" in problems[0]
