"""What every page of `dandindex ui` shares: paging bounds, the index, links."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

PAGE = 50
MAX_PAGES = 100  # pages a search can be paged to: PAGE * MAX_PAGES rows at most in memory


def current_index() -> tuple[Any, Any]:
    from flask import current_app

    return current_app.config["INDEX"], current_app.config["LOCK"]


def href(pairs: list[tuple[str, str]], base: str = "/") -> str:
    """A link with these parameters (each pair quoted once per process: a search page links
    every sidebar value with the current parameters, hundreds of links)."""
    return base + ("?" + "&".join(_pair(k, str(v)) for k, v in pairs) if pairs else "")


@functools.lru_cache(maxsize=65536)
def _pair(name: str, value: str) -> str:
    return urlencode([(name, value)])


# -- search ----------------------------------------------------------------------------


def query_pairs(args: Any, *, drop: tuple[str, ...] = ("page",)) -> list[tuple[str, str]]:
    """The request's parameters as (name, value) pairs, empty ones and `drop` left out."""
    return [(k, v) for k, vs in args.lists() for v in vs if v != "" and k not in drop]
