"""Shared fixtures: real NWB files written by pynwb, generated archives, local servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DANDI_NO_ET", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
SHARED_NWB = SHARED / "nwb"
API_KEY = "test-key-0123456789"


def pytest_report_header(config: pytest.Config) -> list[str]:
    from importlib.metadata import version

    names = ["dandi", "dandischema", "pynwb", "hdmf", "h5py", "duckdb", "pyarrow", "pydantic"]
    return ["versions: " + ", ".join(f"{n} {version(n)}" for n in names)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DANDINDEX_NETWORK") == "1":
        return
    skip = pytest.mark.skip(reason="talks to the live archive; set DANDINDEX_NETWORK=1 to run")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


def need_corpus() -> Path:
    if not (CORPUS / "dandisets").is_dir():
        pytest.skip(f"../shared/corpus not found at {CORPUS}: the real-metadata corpus is absent")
    return CORPUS


def need_shared_nwb() -> Path:
    if not (SHARED_NWB / "manifest.json").is_file():
        pytest.skip(f"../shared/nwb not found at {SHARED_NWB}: the real NWB files are absent")
    return SHARED_NWB


@pytest.fixture(scope="session")
def corpus() -> Path:
    return need_corpus()


@pytest.fixture(scope="session")
def nwb_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small real NWB file per modality, written with pynwb."""
    from dandindex.testing.nwbfiles import write_all

    return write_all(tmp_path_factory.mktemp("nwb"))


@pytest.fixture(scope="session")
def cohort_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Allen-like visual sessions (`dandindex.testing.cohort.SESSIONS`), written with pynwb."""
    from dandindex.testing.cohort import write_sessions

    return write_sessions(tmp_path_factory.mktemp("cohort"))


@pytest.fixture(scope="session")
def generated(
    tmp_path_factory: pytest.TempPathFactory,
    nwb_files: dict[str, Path],
    cohort_files: dict[str, Path],
):
    """A generated archive with NWB blobs (one file per modality and the cohort's visual
    sessions), an embargoed and an empty dandiset, bad metadata."""
    from dandindex.testing.cohort import attachments
    from dandindex.testing.generate import attachments_from, generate_archive

    root = tmp_path_factory.mktemp("archive")
    return generate_archive(
        root,
        n_dandisets=9,
        n_assets=400,
        seed=7,
        nwb_files=attachments_from(nwb_files) + attachments(cohort_files),
        malformed=6,
    )


@pytest.fixture(scope="session")
def server(generated) -> Iterator:
    """The local archive server over the generated archive (faults off)."""
    from dandindex.testing.archive import ArchiveServer

    with ArchiveServer(generated.root, api_key=API_KEY, content_urls="local") as srv:
        yield srv


@pytest.fixture
def fresh_server(generated) -> Iterator:
    """A server of its own, for tests that switch faults on or read counters."""
    from dandindex.testing.archive import ArchiveServer

    with ArchiveServer(generated.root, api_key=API_KEY, content_urls="local") as srv:
        yield srv


@pytest.fixture(scope="session")
def corpus_server(corpus: Path) -> Iterator:
    from dandindex.testing.archive import ArchiveServer

    with ArchiveServer(corpus, api_key=API_KEY) as srv:
        yield srv


@pytest.fixture
def client_for():
    """Make a real DandiAPIClient for a server (closed at teardown)."""
    from dandi.dandiapi import DandiAPIClient

    made = []

    def make(srv, token: str | None = None) -> DandiAPIClient:
        c = DandiAPIClient(api_url=srv.api_url, token=token)
        made.append(c)
        return c

    yield make
    for c in made:
        c.session.close()


@pytest.fixture(scope="session")
def index_dir(server, tmp_path_factory) -> Path:
    """The generated archive crawled with NWB summaries (read-only for tests)."""
    return crawled_with_nwb(server.api_url, tmp_path_factory.mktemp("nwb-index"), workers=4)


def crawled_with_nwb(api_url: str, path: Path, *, workers: int) -> Path:
    """`path`, an index of the archive at `api_url` crawled with NWB and file summaries."""
    from dandindex.crawl import Crawler, CrawlOptions

    Crawler(CrawlOptions(api_url=api_url, index_dir=str(path), nwb=True, nwb_workers=workers)).run()
    return path


@pytest.fixture
def idx(index_dir: Path) -> Iterator:
    from dandindex.index import Index

    with Index(index_dir) as i:
        yield i


@pytest.fixture(scope="session")
def media_archive(tmp_path_factory: pytest.TempPathFactory):
    """Files that are not NWB (OME-Zarr, TIFF, video, BIDS; good and damaged), written by
    their real writers and laid out as two dandisets (`dandindex.testing.mediaarchive`)."""
    from dandindex.testing.mediaarchive import archive_of_media

    root = tmp_path_factory.mktemp("media")
    return archive_of_media(root / "archive", root / "files")


@pytest.fixture(scope="session")
def media_server(media_archive) -> Iterator:
    from dandindex.testing.archive import ArchiveServer

    with ArchiveServer(media_archive.root, content_urls="local") as srv:
        yield srv


@pytest.fixture(scope="session")
def media_index(media_server, tmp_path_factory) -> Path:
    """The media archive crawled with --nwb (read-only for tests)."""
    return crawled_with_nwb(media_server.api_url, tmp_path_factory.mktemp("media-index"), workers=2)  # fmt: skip
