"""Whole-file downloads: resumable (``.part`` files), sha256-checked, with a progress bar."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import requests

from dandindex.errors import DandindexError, RemoteReadError
from dandindex.remote.session import TRANSIENT_STATUSES

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def download(
    session: requests.Session,
    url: str,
    target: Path,
    *,
    size: int | None = None,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 4,
) -> Path:
    """Download `url` to `target` through ``target.part``, resuming a partial file and a
    connection lost mid-way; with `sha256`, the result is checked before it is renamed."""
    from tqdm import tqdm

    intact = (
        target.is_file()
        and (size is None or target.stat().st_size == size)
        and (sha256 is None or sha256_of(target) == sha256)
    )
    if intact:  # downloaded before and intact: nothing to fetch
        if progress:
            checked = "size and sha256" if sha256 else "size" if size is not None else "name"
            print(
                f"{target} is already there ({checked} match): not downloaded again.",
                file=sys.stderr,
            )
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DandindexError(f"Cannot create the folder {target.parent}: {e.strerror}.") from None
    part = target.with_name(target.name + ".part")
    attempt = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with session.get(url, headers=headers, stream=True, timeout=timeout) as r:
                if r.status_code == 416 and have and size is not None and have >= size:
                    break  # the part is complete already
                if r.status_code == 200:
                    have = 0
                elif r.status_code != 206:
                    raise RemoteReadError(
                        f"HTTP {r.status_code} downloading {url}",
                        transient=r.status_code in TRANSIENT_STATUSES,
                        status=r.status_code,
                        url=url,
                    )
                bar = tqdm(
                    total=size,
                    initial=have,
                    unit="B",
                    unit_scale=True,
                    disable=not progress,
                    desc=target.name,
                )
                with open(part, "ab" if have else "wb") as f, bar:
                    for block in r.iter_content(CHUNK):
                        f.write(block)
                        bar.update(len(block))
            break
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ):
            attempt += 1
            if attempt > retries:
                raise
            time.sleep(min(8.0, 0.5 * 2**attempt))
    if sha256:
        got = sha256_of(part)
        if got != sha256:
            raise DandindexError(
                f"{target.name}: sha256 mismatch after download (expected {sha256[:12]}..., "
                f"got {got[:12]}...); the partial file is kept at {part}."
            )
    os.replace(part, target)
    return target
