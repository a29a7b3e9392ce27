"""Named queries: ``.sql`` files with a header, shipped in ``dandindex/queries`` and read
from the user's folder too ($DANDINDEX_QUERIES, else ``<user config dir>/dandindex/queries``).

Header lines at the top of a file::

    -- name: changed_since
    -- description: Dandisets modified on or after a date
    -- param: since: an ISO date, e.g. 2024-01-01

Parameters are the ``$names`` used in the SQL; ``-- param:`` lines describe them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dandindex.errors import DandindexError, UsageError, hint

_PARAM_RX = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    sql: str
    path: Path
    params: tuple[str, ...] = ()
    param_help: dict[str, str] = field(default_factory=dict)


def parse(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    name, description, help_ = path.stem, "", {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        key, _, value = line[2:].strip().partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "name" and value:
            name = value
        elif key == "description":
            description = value
        elif key == "param":
            pname, _, phelp = value.partition(":")
            help_[pname.strip()] = phelp.strip()
    params = tuple(dict.fromkeys(_PARAM_RX.findall(text)))
    return NamedQuery(name, description, text, path, params, help_)


def folders() -> list[Path]:
    shipped = Path(__file__).with_name("queries")
    env = os.environ.get("DANDINDEX_QUERIES")
    if env:
        user = Path(env).expanduser()
    else:
        from platformdirs import user_config_dir

        user = Path(user_config_dir("dandindex", appauthor=False)) / "queries"
    return [shipped, user]


def load() -> dict[str, NamedQuery]:
    """Every named query; a user's file overrides a shipped one of the same name."""
    out: dict[str, NamedQuery] = {}
    for folder in folders():
        if folder.is_dir():
            for path in sorted(folder.glob("*.sql")):
                q = parse(path)
                out[q.name] = q
    return out


def get(name: str) -> NamedQuery:
    queries = load()
    if name not in queries:
        raise UsageError(
            f"No named query {name!r}.{hint(name, queries)} See `dandindex query list` for all "
            f"{len(queries)}."
        )
    return queries[name]


def parse_params(values: tuple[str, ...] | list[str]) -> dict[str, object]:
    """``name=value`` pairs; numbers become numbers, everything else stays text."""
    out: dict[str, object] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{item!r} is not name=value")
        parsed: object = value
        for cast in (int, float):
            try:
                parsed = cast(value)
                break
            except ValueError:
                continue
        out[name] = parsed
    return out


def run(
    idx: object, name: str, params: dict[str, object], *, limit: int | None = None, offset: int = 0
) -> object:
    """Run a named query on an open `Index` with its parameters bound (at most `limit`
    rows after `offset`, read no further than that)."""
    q = get(name)
    params = dict(params)
    for p, text in q.param_help.items():
        m = re.search(r"\(default ([^)]*)\)", text)
        if m and p not in params:
            params[p] = m.group(1).strip()
    missing = [p for p in q.params if p not in params]
    if missing:
        details = "; ".join(f"{p}: {q.param_help.get(p, 'a value')}" for p in missing)
        raise DandindexError(f"Query {name!r} needs --param for {', '.join(missing)} ({details}).")
    bound = {p: params[p] for p in q.params}
    return idx.sql(q.sql, bound, limit=limit, offset=offset)  # type: ignore[attr-defined]
