"""Make any row fit its table's Arrow schema, saying what had to change.

The row builders (`dandindex.crawl.rows`, the NWB summaries) coerce what they know; this is
the last gate before Parquet: a value of the wrong type or out of range (a number where text
belongs, ``True`` or ``2**70`` as a size, text that is not valid UTF-8) is converted where a
faithful reading exists, else nulled (a list: emptied), and each change is reported, so one
bad value never loses the rest of its row, its dandiset or the crawl. A row whose required
field cannot be filled is dropped, and that is reported too.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

INT64 = (-(2**63), 2**63 - 1)


class Unfit(Exception):
    """A value that cannot be made to fit."""


def clean_text(value: str) -> str:
    """`value` as valid UTF-8 (lone surrogates from undecodable bytes become U+FFFD)."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _text(v: Any, notes: list[str]) -> str:
    if isinstance(v, str):
        fixed = clean_text(v)
        if fixed != v:
            notes.append("text that is not valid UTF-8 (bad bytes replaced)")
        return fixed
    if isinstance(v, (bool, int, float)):
        notes.append(f"expected text, got {type(v).__name__} {v!r:.40} (stored as text)")
        return str(v)
    if isinstance(v, bytes):
        notes.append("expected text, got bytes (decoded)")
        return v.decode("utf-8", "replace")
    notes.append(f"expected text, got {type(v).__name__} (stored as JSON)")
    return json.dumps(v, default=str, sort_keys=True)


def _int(v: Any, notes: list[str]) -> int:
    if isinstance(v, bool):
        raise Unfit(f"expected an integer, got {v!r}")
    if isinstance(v, float) and v.is_integer() and INT64[0] <= v <= INT64[1]:
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        notes.append("integer stored as text")
        v = int(v)
    if not isinstance(v, int):
        raise Unfit(f"expected an integer, got {type(v).__name__} {v!r:.40}")
    if not INT64[0] <= v <= INT64[1]:
        raise Unfit(f"{v} does not fit in 64 bits")
    return v


def _float(v: Any, notes: list[str]) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise Unfit(f"expected a number, got {type(v).__name__} {v!r:.40}")
    try:
        out = float(v)
    except (ValueError, OverflowError):
        raise Unfit(f"expected a number, got {v!r:.40}") from None
    if isinstance(v, str):
        notes.append("number stored as text")
    return out


def _bool(v: Any, notes: list[str]) -> bool:
    if isinstance(v, bool):
        return v
    raise Unfit(f"expected true or false, got {v!r:.40}")


def _time(v: Any, notes: list[str]) -> datetime:
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        try:
            return v.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            raise Unfit(f"{v!r:.40} cannot be converted to UTC") from None
    raise Unfit(f"expected a date-time, got {type(v).__name__} {v!r:.40}")


def fit_value(value: Any, dtype: pa.DataType, notes: list[str]) -> Any:
    """`value` converted to `dtype` (notes say what changed); raises `Unfit`."""
    if value is None:
        return None
    if pa.types.is_list(dtype):
        if not isinstance(value, (list, tuple)):
            notes.append(f"expected a list, got {type(value).__name__} (one-item list)")
            value = [value]
        out = []
        for item in value:
            if item is None:
                continue
            try:
                out.append(fit_value(item, dtype.value_type, notes))
            except Unfit as e:
                notes.append(f"list item dropped: {e}")
        return out
    if pa.types.is_string(dtype):
        return _text(value, notes)
    if pa.types.is_integer(dtype):
        return _int(value, notes)
    if pa.types.is_floating(dtype):
        return _float(value, notes)
    if pa.types.is_boolean(dtype):
        return _bool(value, notes)
    if pa.types.is_timestamp(dtype):
        return _time(value, notes)
    raise Unfit(f"no conversion to {dtype}")


def fit_row(row: dict[str, Any], schema: pa.Schema) -> tuple[dict[str, Any] | None, list[str]]:
    """(the row fitted to `schema`, or None if a required field is missing; the problems,
    each naming its field)."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for field in schema:
        notes: list[str] = []
        try:
            value = fit_value(row.get(field.name), field.type, notes)
        except Unfit as e:
            value = [] if pa.types.is_list(field.type) else None
            notes.append(f"{e}; stored as {'an empty list' if value == [] else 'null'}")
        problems += [f"{field.name}: {n}" for n in notes]
        if value is None and not field.nullable:
            problems.append(f"{field.name}: missing, and the table needs it; the row was dropped")
            return None, problems
        out[field.name] = value
    return out, problems
