"""The one `DandiAPIClient` a crawl uses: the API URL resolved from an instance name, a
session set up like every other (`dandindex.remote`), and sentences for an API that does not
answer or refuses the key."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dandindex.errors import CrawlError
from dandindex.instances import KNOWN

if TYPE_CHECKING:
    from dandi.dandiapi import DandiAPIClient

KNOWN_INSTANCES = {name: api for name, (api, _) in KNOWN.items()}


def resolve_api_url(api_url: str | None, instance: str | None) -> str:
    if api_url:
        return api_url.rstrip("/")
    name = instance or "dandi"
    if name not in KNOWN_INSTANCES:
        from dandindex.errors import closest

        hint = ", ".join(closest(name, KNOWN_INSTANCES)) or ", ".join(KNOWN_INSTANCES)
        raise CrawlError(f"Unknown DANDI instance {name!r}; known: {hint}. Or pass --api-url URL.")
    return KNOWN_INSTANCES[name]


def scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def url_hint(api_url: str) -> str:
    """What to check when an API URL does not answer like a DANDI API."""
    if not api_url.rstrip("/").endswith("/api"):
        return f" Did you mean {api_url.rstrip('/')}/api?"
    return (
        " Check the address and that the server is up"
        " (the real archive is https://api.dandiarchive.org/api)."
    )


def make_client(
    api_url: str, api_key: str | None, pool: int, timeout: float = 60.0
) -> DandiAPIClient:
    """A real `DandiAPIClient` over a session set up like every other (`dandindex.remote`):
    a connection pool sized for our workers and a timeout on every request it makes."""
    os.environ.setdefault("DANDI_NO_ET", "1")
    from dandi.dandiapi import DandiAPIClient

    from dandindex.remote.session import mount_pool

    try:
        client = DandiAPIClient(api_url=api_url)
    except Exception as e:  # the client raises RuntimeError/ConnectionError for an unreachable API
        status = _answer_status(api_url, api_key, timeout)
        if status in (401, 403):
            given = "refused the key given" if api_key else "needs an API key"
            raise CrawlError(
                f"The server at {api_url} refused the request (HTTP {status}): it {given}. "
                "Set DANDI_API_KEY to a key of that server (its web page: your name → API key)."
            ) from None
        if status is not None:
            raise CrawlError(
                f"The DANDI API at {api_url} answered HTTP {status} instead of its server "
                f"information: {scrub(str(e), api_key)}.{url_hint(api_url)}"
            ) from None
        raise CrawlError(
            f"Cannot reach the DANDI API at {api_url}: {scrub(str(e), api_key)}.{url_hint(api_url)}"
        ) from None
    mount_pool(client.session, pool=pool, timeout=timeout)
    if api_key:
        import requests as rq

        try:
            client.authenticate(api_key)
        except rq.HTTPError as e:
            code = e.response.status_code if e.response is not None else "?"
            raise CrawlError(
                f"The API key was refused by {api_url} (HTTP {code}); check DANDI_API_KEY."
            ) from None
    return client


def _answer_status(api_url: str, api_key: str | None, timeout: float) -> int | None:
    """The HTTP status the API's ``/info/`` answers with when it is not 200 (None: no
    answer at all, or 200), so a refusal is told apart from a server that is down."""
    import requests

    headers = {"Authorization": f"token {api_key}"} if api_key else {}
    try:
        r = requests.get(f"{api_url.rstrip('/')}/info/", headers=headers, timeout=timeout)
    except requests.RequestException:
        return None
    return None if r.status_code == 200 else r.status_code
