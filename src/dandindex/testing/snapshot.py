"""An archive snapshot folder, read the way the DANDI API would present it.

Layout (the same as ``../shared/corpus``)::

    dandisets/<id>/dandiset.json                    draft raw metadata
    dandisets/<id>/assets.jsonl                     draft asset list items (with metadata)
    dandisets/<id>/versions/<v>/dandiset.json       published version raw metadata
    dandisets/<id>/versions/<v>/assets.jsonl        (optional) that version's assets;
                                                    without it the draft's list is served
    dandisets/<id>/info.json                        (optional) list-level overrides:
                                                    created, modified, star_count, embargo_status
    blobs/<blob_id>                                 (optional) file content for a blob id
    blobs/index.json                                (optional) {blob_id: path} for files elsewhere
    zarr/<zarr_id>/...                              (optional) Zarr folder content

Asset lists are kept as byte offsets into the JSONL files, so a 200,000-asset archive does
not sit in memory; metadata is parsed only for the page being served.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dandindex.errors import ArchiveLayoutError

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class AssetRecord:
    """The list-level fields of one asset, plus where its full line lives."""

    asset_id: str
    blob: str | None
    zarr: str | None
    path: str
    size: int | None
    created: str
    modified: str
    file: Path
    offset: int
    length: int

    def read_item(self) -> dict[str, Any]:
        """The full asset list item (with ``metadata``) as stored."""
        with open(self.file, "rb") as f:
            f.seek(self.offset)
            raw = f.read(self.length)
        item: dict[str, Any] = json.loads(raw)
        return item

    def read_metadata(self) -> dict[str, Any]:
        meta = self.read_item().get("metadata")
        return meta if isinstance(meta, dict) else {}


def read_asset_records(path: Path) -> list[AssetRecord]:
    """Scan an ``assets.jsonl`` file into records; blank lines are skipped."""
    records: list[AssetRecord] = []
    if not path.exists():
        return records
    offset = 0
    with open(path, "rb") as f:
        for raw in f:
            length = len(raw)
            stripped = raw.strip()
            if stripped:
                try:
                    item = json.loads(stripped)
                except json.JSONDecodeError as e:
                    raise ArchiveLayoutError(
                        f"{path}: line at byte {offset} is not JSON ({e}); "
                        "each line must be one asset list item."
                    ) from None
                records.append(
                    AssetRecord(
                        asset_id=str(item["asset_id"]),
                        blob=item.get("blob"),
                        zarr=item.get("zarr"),
                        path=str(item["path"]),
                        # as listed (a hostile archive may list null or negative sizes)
                        size=item["size"] if isinstance(item.get("size"), int) else None,
                        created=str(item.get("created") or ""),
                        modified=str(item.get("modified") or ""),
                        file=path,
                        offset=offset,
                        length=length,
                    )
                )
            offset += length
    return records


def _load_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ArchiveLayoutError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ArchiveLayoutError(f"{path} must hold a JSON object.")
    return data


def _contact_person(meta: dict[str, Any]) -> str:
    contributors = meta.get("contributor")
    if not isinstance(contributors, list):
        return ""
    for c in contributors:
        if isinstance(c, dict):
            roles = c.get("roleName") or []
            if isinstance(roles, list) and "dcite:ContactPerson" in roles:
                return str(c.get("name") or "")
    return ""


def _is_embargoed(meta: dict[str, Any]) -> bool:
    access = meta.get("access")
    if isinstance(access, list):
        for a in access:
            if isinstance(a, dict) and a.get("status") == "dandi:EmbargoedAccess":
                return True
    return False


def _stamp(paths: list[Path]) -> tuple[tuple[str, float, int], ...]:
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_mtime, st.st_size))
        except FileNotFoundError:
            out.append((str(p), -1.0, -1))
    return tuple(out)


@dataclass
class VersionData:
    version: str
    metadata: dict[str, Any]
    assets: list[AssetRecord]
    created: str
    modified: str

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def size(self) -> int:
        return sum(a.size or 0 for a in self.assets)

    @property
    def status(self) -> str:
        return "Valid" if self.version == "draft" else "Published"


@dataclass
class DandisetData:
    identifier: str
    folder: Path
    draft: VersionData
    published: dict[str, VersionData]
    created: str
    modified: str
    embargo_status: str
    contact_person: str
    star_count: int
    stamp: tuple[tuple[str, float, int], ...] = field(repr=False)

    @property
    def most_recent_published(self) -> VersionData | None:
        if not self.published:
            return None
        return self.published[max(self.published)]

    @property
    def most_recent(self) -> VersionData:
        return self.most_recent_published or self.draft

    def version(self, version_id: str) -> VersionData | None:
        if version_id == "draft":
            return self.draft
        return self.published.get(version_id)

    def all_versions(self) -> list[VersionData]:
        """Published versions in creation order, then the draft (as the API orders them)."""
        return [self.published[v] for v in sorted(self.published)] + [self.draft]

    def metadata_text(self) -> str:
        """What the API's free-text search looks through (all versions' metadata)."""
        return "\n".join(
            json.dumps(v.metadata, ensure_ascii=False) for v in self.all_versions()
        ).lower()


def _files_of(folder: Path) -> list[Path]:
    files = [folder / "dandiset.json", folder / "assets.jsonl", folder / "info.json"]
    vdir = folder / "versions"
    if vdir.is_dir():
        for v in sorted(vdir.iterdir()):
            files += [v / "dandiset.json", v / "assets.jsonl"]
    return files


def load_dandiset(folder: Path) -> DandisetData:
    """Read one ``dandisets/<id>`` folder."""
    ident = folder.name
    draft_meta = _load_json(folder / "dandiset.json")
    info = _load_json(folder / "info.json") if (folder / "info.json").exists() else {}
    draft_assets = read_asset_records(folder / "assets.jsonl")
    published: dict[str, VersionData] = {}
    vdir = folder / "versions"
    if vdir.is_dir():
        for v in sorted(p for p in vdir.iterdir() if p.is_dir()):
            meta = _load_json(v / "dandiset.json")
            assets_file = v / "assets.jsonl"
            assets = read_asset_records(assets_file) if assets_file.exists() else draft_assets
            when = str(meta.get("datePublished") or info.get("modified") or "")
            published[v.name] = VersionData(v.name, meta, assets, when, when)
    created = str(info.get("created") or draft_meta.get("dateCreated") or "")
    stamps = [a.modified for a in draft_assets] + [v.modified for v in published.values()]
    stamps.append(created)
    modified = str(info.get("modified") or max(s for s in stamps if s is not None))
    if not created:
        created = modified
    draft = VersionData("draft", draft_meta, draft_assets, created, modified)
    embargoed = info.get("embargo_status") or ("EMBARGOED" if _is_embargoed(draft_meta) else "OPEN")
    newest = published[max(published)].metadata if published else draft_meta
    return DandisetData(
        identifier=ident,
        folder=folder,
        draft=draft,
        published=published,
        created=created,
        modified=modified,
        embargo_status=str(embargoed),
        contact_person=_contact_person(newest) or _contact_person(draft_meta),
        star_count=int(info.get("star_count") or 0),
        stamp=_stamp(_files_of(folder)),
    )


class Snapshot:
    """A snapshot folder, reloaded per dandiset when its files change on disk."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if not (self.root / "dandisets").is_dir():
            raise ArchiveLayoutError(
                f"{self.root} has no 'dandisets' folder; an archive snapshot needs "
                "dandisets/<id>/dandiset.json (see the README's snapshot layout)."
            )
        self._lock = threading.Lock()
        self._dandisets: dict[str, DandisetData] = {}
        self._blob_index: dict[str, Path] = {}
        self._blob_index_stamp: tuple[tuple[str, float, int], ...] = ()
        self._asset_index: dict[str, tuple[str, AssetRecord]] | None = None
        self._blob_owners: dict[str, set[str]] | None = None
        self.refresh()

    def refresh(self) -> None:
        """Pick up added, removed and changed dandisets (cheap when nothing changed)."""
        with self._lock:
            seen = {}
            for folder in sorted((self.root / "dandisets").iterdir()):
                if not (folder / "dandiset.json").is_file():
                    continue
                old = self._dandisets.get(folder.name)
                if old is not None and old.stamp == _stamp(_files_of(folder)):
                    seen[folder.name] = old
                else:
                    seen[folder.name] = load_dandiset(folder)
                    self._asset_index = None
                    self._blob_owners = None
            if seen.keys() != self._dandisets.keys():
                self._asset_index = None
                self._blob_owners = None
            self._dandisets = seen
            index = self.root / "blobs" / "index.json"
            stamp = _stamp([index])
            if stamp != self._blob_index_stamp:
                mapping: dict[str, Path] = {}
                if index.exists():
                    for k, v in _load_json(index).items():
                        p = Path(v)
                        mapping[k] = p if p.is_absolute() else (index.parent / p)
                self._blob_index = mapping
                self._blob_index_stamp = stamp

    def dandisets(self) -> list[DandisetData]:
        with self._lock:
            return list(self._dandisets.values())

    def dandiset(self, identifier: str) -> DandisetData | None:
        with self._lock:
            return self._dandisets.get(identifier)

    def find_asset(self, asset_id: str) -> tuple[DandisetData, AssetRecord] | None:
        """Look an asset up by id in any version of any dandiset."""
        with self._lock:
            if self._asset_index is None:
                index: dict[str, tuple[str, AssetRecord]] = {}
                for ds in self._dandisets.values():
                    for v in ds.all_versions():
                        for a in v.assets:
                            index.setdefault(a.asset_id, (ds.identifier, a))
                self._asset_index = index
            hit = self._asset_index.get(asset_id)
            if hit is None:
                return None
            return self._dandisets[hit[0]], hit[1]

    def _owners(self) -> dict[str, set[str]]:
        """{blob or zarr id: embargo statuses of the dandisets whose assets hold it}."""
        with self._lock:
            if self._blob_owners is None:
                owners: dict[str, set[str]] = {}
                for ds in self._dandisets.values():
                    for v in ds.all_versions():
                        for a in v.assets:
                            for key in (a.blob, a.zarr):
                                if key:
                                    owners.setdefault(key, set()).add(ds.embargo_status)
                self._blob_owners = owners
            return self._blob_owners

    def blob_embargoed(self, blob_id: str) -> bool:
        """Whether the blob (or Zarr) belongs to embargoed dandisets only."""
        status = self._owners().get(blob_id, set())
        return bool(status) and "OPEN" not in status

    def blob_path(self, blob_id: str) -> Path | None:
        """The file of a blob the archive holds (an id, never another file of the folder)."""
        if not _UUID.fullmatch(blob_id):
            return None
        direct = self.root / "blobs" / blob_id
        if direct.is_file():
            return direct
        mapped = self._blob_index.get(blob_id)
        if mapped is not None and mapped.is_file():
            return mapped
        return None

    def zarr_dir(self, zarr_id: str) -> Path | None:
        """The folder of one Zarr of the archive, if it has one."""
        if not _UUID.fullmatch(zarr_id):
            return None
        base = self.root / "zarr" / zarr_id
        return base if base.is_dir() else None

    def zarr_path(self, zarr_id: str, key: str) -> Path | None:
        """A file inside one Zarr of the archive (no way out of it)."""
        if not _UUID.fullmatch(zarr_id) or any(p in ("", ".", "..") for p in key.split("/")):
            return None
        base = (self.root / "zarr" / zarr_id).resolve()
        target = (base / key).resolve()
        if base not in target.parents:
            return None
        return target if target.is_file() else None
