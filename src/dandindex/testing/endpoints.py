"""The API endpoints of the local archive: auth, lookups, pagination and one method per route.

A mixin of `dandindex.testing.archive`'s request handler: it reads ``self.archive`` (the
`ArchiveServer`), ``self.headers`` and ``self.path`` and returns JSON bodies or raises
`HTTPError`; sending bytes is the handler's job.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from dandindex._version import __version__
from dandindex.testing.shapes import (
    SCHEMA_VERSION,
    HTTPError,
    _order_dandisets,
    _search,
    asset_item,
    dandiset_summary,
    not_found,
    page_params,
    parse_bool,
    rewrite_urls,
    s3_blob_key,
    version_summary,
)
from dandindex.testing.snapshot import AssetRecord, DandisetData, VersionData

if TYPE_CHECKING:
    from email.message import Message


class ApiEndpoints:
    """Endpoint methods ``_api_<route>(match, params)`` and what they share."""

    archive: Any  # the ArchiveServer (snapshot, api_key, counters, urls)
    headers: Message
    path: str

    # -- auth -------------------------------------------------------------------

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        parts = auth.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "token":
            raise HTTPError(401, {"detail": "Invalid token header. No credentials provided."})
        return parts[1].strip()

    def _authenticated(self) -> bool:
        token = self._token()
        if token is None:
            return False
        if self.archive.api_key is None or token != self.archive.api_key:
            raise HTTPError(401, {"detail": "Invalid token."})
        return True

    def _visible(self, ds: DandisetData) -> DandisetData:
        if ds.embargo_status == "OPEN":
            return ds
        if self._token() is None:
            raise HTTPError(401, {"detail": "Authentication credentials were not provided."})
        if not self._authenticated():  # pragma: no cover - _authenticated raises instead
            raise HTTPError(403, {"detail": "You do not have permission to perform this action."})
        return ds

    # -- lookups ----------------------------------------------------------------

    def _dandiset(self, ident: str) -> DandisetData:
        ds = self.archive.snapshot.dandiset(ident)
        if ds is None:
            raise not_found("No Dandiset matches the given query.")
        return self._visible(ds)

    def _version(self, ds: DandisetData, v: str) -> VersionData:
        ver = ds.version(v)
        if ver is None:
            raise not_found("No Version matches the given query.")
        return ver

    def _asset(self, match: re.Match[str]) -> tuple[DandisetData, AssetRecord]:
        groups = match.groupdict()
        if groups.get("ds"):
            ds = self._dandiset(groups["ds"])
            ver = self._version(ds, groups["v"])
            for a in ver.assets:
                if a.asset_id == groups["a"]:
                    return ds, a
            raise not_found("No Asset matches the given query.")
        hit = self.archive.snapshot.find_asset(groups["a"])
        if hit is None:
            raise not_found("No Asset matches the given query.")
        return self._visible(hit[0]), hit[1]

    def _absolute(self, path: str) -> str:
        host = self.headers.get("Host") or self.archive.url.split("//", 1)[1]
        return f"http://{host}{path}"

    def _page(
        self, items: list[Any], params: dict[str, str], *, lazy: bool
    ) -> tuple[list[Any], dict[str, Any]]:
        page, size = page_params(params)
        start = (page - 1) * size
        if start >= len(items) and page != 1 and not lazy:
            # DRF's pager: a page past the end is 404; the asset list's lazy pager does not
            # count, and answers such a page with no results (dandi-archive LazyPagination)
            raise not_found("Invalid page.")
        chunk = items[start : start + size]
        base = urlsplit(self.path).path
        has_next = start + size < len(items)

        def link(n: int | None) -> str | None:
            if n is None:
                return None
            q = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            if n == 1:
                q.pop("page", None)
            else:
                q["page"] = str(n)
            return self._absolute(base + ("?" + urlencode(q) if q else ""))

        meta = {
            "count": len(items) if (page == 1 or not lazy) else None,
            "next": link(page + 1) if has_next else None,
            "previous": link(page - 1) if page > 1 else None,
        }
        return chunk, meta

    # -- endpoints ----------------------------------------------------------------

    def _api_info(self, match: re.Match[str], params: dict[str, str]) -> Any:
        api = self.archive.api_url
        return {
            "schema_version": SCHEMA_VERSION,
            "allowed_schema_versions": [
                "0.6.0",
                "0.6.4",
                "0.6.7",
                "0.6.8",
                "0.6.9",
                SCHEMA_VERSION,
            ],
            "schema_url": f"https://raw.githubusercontent.com/dandi/schema/master/releases/{SCHEMA_VERSION}/dandiset.json",
            "version": f"dandindex-local-{__version__}",
            "cli-minimal-version": "0.74.0",
            "cli-bad-versions": [],
            "cli-requires-python": ">=3.10",
            "services": {
                "api": {"url": api},
                "webui": {"url": self.archive.url},
                "jupyterhub": {"url": self.archive.url},
            },
        }

    def _api_auth_token(self, match: re.Match[str], params: dict[str, str]) -> Any:
        if not self._authenticated():
            raise HTTPError(401, {"detail": "Authentication credentials were not provided."})
        return self.archive.api_key

    def _api_dandisets(self, match: re.Match[str], params: dict[str, str]) -> Any:
        snap = self.archive.snapshot
        snap.refresh()
        draft = parse_bool(params, "draft", True)
        empty = parse_bool(params, "empty", True)
        embargoed = parse_bool(params, "embargoed", False)
        if embargoed and not self._authenticated():
            raise HTTPError(401, {"detail": "Authentication credentials were not provided."})
        found = snap.dandisets()
        if not embargoed:
            found = [d for d in found if d.embargo_status == "OPEN"]
        if not draft:
            found = [d for d in found if d.published]
        if not empty:
            found = [d for d in found if d.most_recent.assets]
        search = params.get("search", "").strip()
        if search:
            found = _search(found, search)
        found = _order_dandisets(found, params.get("ordering", ""))
        chunk, meta = self._page(found, params, lazy=False)
        return {**meta, "results": [dandiset_summary(d) for d in chunk]}

    def _api_dandiset(self, match: re.Match[str], params: dict[str, str]) -> Any:
        return dandiset_summary(self._dandiset(match["ds"]), detail=True)

    def _api_versions(self, match: re.Match[str], params: dict[str, str]) -> Any:
        ds = self._dandiset(match["ds"])
        order = params.get("order", "created")
        if order not in ("created", "-created"):
            raise HTTPError(
                400,
                {"order": [f"Select a valid choice. {order} is not one of the available choices."]},
            )
        versions = ds.all_versions()
        if order == "-created":
            versions = versions[::-1]
        chunk, meta = self._page(versions, params, lazy=False)
        short = {k: v for k, v in dandiset_summary(ds).items() if not k.endswith("_version")}
        return {
            **meta,
            "results": [{**version_summary(v, detail=True), "dandiset": short} for v in chunk],
        }

    def _api_version(self, match: re.Match[str], params: dict[str, str]) -> Any:
        ds = self._dandiset(match["ds"])
        return self._version(ds, match["v"]).metadata

    def _api_version_info(self, match: re.Match[str], params: dict[str, str]) -> Any:
        ds = self._dandiset(match["ds"])
        ver = self._version(ds, match["v"])
        short = {k: v for k, v in dandiset_summary(ds).items() if not k.endswith("_version")}
        return {
            **version_summary(ver, detail=True),
            "dandiset": short,
            "asset_validation_errors": [],
            "version_validation_errors": [],
            "metadata": ver.metadata,
            "contact_person": ds.contact_person,
        }

    def _api_assets(self, match: re.Match[str], params: dict[str, str]) -> Any:
        ds = self._dandiset(match["ds"])
        ver = self._version(ds, match["v"])
        metadata = parse_bool(params, "metadata", False)
        zarr_only = parse_bool(params, "zarr", False)
        order = params.get("order", "created")
        key = order.lstrip("-")
        if key not in ("created", "modified", "path") or order.count("-") > 1:
            raise HTTPError(
                400,
                {"order": [f"Select a valid choice. {order} is not one of the available choices."]},
            )
        assets = list(ver.assets)
        if "path" in params:
            prefix = params["path"]
            exact = [a for a in assets if a.path == prefix]
            assets = exact or [a for a in assets if a.path.lower().startswith(prefix.lower())]
        if "glob" in params:
            rx = re.compile(
                "^" + ".*".join(re.escape(p) for p in params["glob"].split("*")) + "$", re.I
            )
            assets = [a for a in assets if rx.match(a.path)]
        if zarr_only:
            assets = [a for a in assets if a.zarr]
        assets.sort(key=lambda a: (getattr(a, key), a.asset_id), reverse=order.startswith("-"))
        chunk, meta = self._page(assets, params, lazy=True)
        rewrite = self.archive.api_url if self.archive.content_urls == "local" else None
        return {
            **meta,
            "results": [asset_item(a, metadata=metadata, rewrite=rewrite) for a in chunk],
        }

    def _api_asset(self, match: re.Match[str], params: dict[str, str]) -> Any:
        _, rec = self._asset(match)
        rewrite = self.archive.api_url if self.archive.content_urls == "local" else None
        return rewrite_urls(rec.read_metadata(), rewrite)

    def _api_asset_info(self, match: re.Match[str], params: dict[str, str]) -> Any:
        _, rec = self._asset(match)
        rewrite = self.archive.api_url if self.archive.content_urls == "local" else None
        return asset_item(rec, metadata=True, rewrite=rewrite)

    def _zarr_visible(self, zarr_id: str) -> None:
        """An embargoed dandiset's Zarr is listed and downloaded with its owner's key only."""
        if self.archive.snapshot.blob_embargoed(zarr_id):
            if self._token() is None:
                raise HTTPError(401, {"detail": "Authentication credentials were not provided."})
            self._authenticated()

    def _api_zarr_files(self, match: re.Match[str], params: dict[str, str]) -> Any:
        """The Zarr file listing: S3-style keys after a cursor, no count (like the real API)."""
        if (
            self.archive.snapshot.zarr_path(match["zarr"], ".zgroup") is None
            and not (self.archive.snapshot.root / "zarr" / match["zarr"]).is_dir()
        ):
            raise not_found("No ZarrArchive matches the given query.")
        base = self.archive.snapshot.root / "zarr" / match["zarr"]
        if ".." in match["zarr"] or not base.is_dir():
            raise not_found("No ZarrArchive matches the given query.")
        self._zarr_visible(match["zarr"])
        prefix = params.get("prefix", "")
        after = params.get("after", "")
        try:
            limit = max(0, min(1000, int(params.get("limit", 1000))))
        except ValueError:
            raise HTTPError(400, {"limit": ["A valid integer is required."]}) from None
        keys = sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
        keys = [k for k in keys if k.startswith(prefix) and k > after]
        page = keys[:limit]
        results = [
            {
                "Key": k,
                "LastModified": "2024-01-01T00:00:00Z",
                "ETag": "",
                "Size": (base / k).stat().st_size,
            }
            for k in page
        ]
        nxt = None
        if len(keys) > limit and page:
            q = urlencode({"prefix": prefix, "after": page[-1], "limit": limit})
            nxt = self._absolute(urlsplit(self.path).path + "?" + q)
        return {"next": nxt, "results": results}

    def _download(self, match: re.Match[str], params: dict[str, str]) -> tuple[int, dict[str, str]]:
        """302 to a presigned blob URL (6 h); only embargoed blobs check the signature."""
        _, rec = self._asset(match)
        if rec.blob is None:
            raise HTTPError(400, ["Unable to provide download link for zarr assets"])
        name = rec.path.rsplit("/", 1)[-1]
        expires = int(time.time()) + 21600
        query = urlencode(
            {
                "response-content-disposition": f'attachment; filename="{name}"',
                "X-Amz-Expires": "21600",
                "X-Amz-Expires-At": str(expires),
                "X-Amz-Signature": self.archive.sign(rec.blob, expires),
            }
        )
        return 302, {"Location": f"{self.archive.blob_url}/s3/{s3_blob_key(rec.blob)}?{query}"}
