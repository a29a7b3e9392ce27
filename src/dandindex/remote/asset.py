"""One asset of an archive as its API describes it: what a crawl needs to read its file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchiveAsset:
    asset_id: str
    dandiset_id: str
    path: str
    size: int | None
    blob_id: str | None
    zarr_id: str | None
    sha256: str | None
    etag: str | None
    api_url: str | None

    @property
    def key(self) -> str:
        """What its summary is cached under: sha256, else etag, else blob/zarr/asset id."""
        return self.sha256 or self.etag or self.blob_id or self.zarr_id or self.asset_id

    @property
    def is_zarr(self) -> bool:
        return self.zarr_id is not None
