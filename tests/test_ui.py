"""`dandindex ui` in a real headless browser: Debian's chromium driven by Playwright.

The index is crawled from a local archive whose dandiset title carries markup (`<script>`,
`&`, quotes); the archive server stays up so that plots stream. Screenshots of every page go
to $DANDINDEX_SCREENSHOTS when set (the README's come from there), else to a temp folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from dandindex.cli import cli

TITLE = '<script>window.hacked = 1</script> Tom & Jerry\'s "cortex" <b>bold</b>'
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        "--disable-component-update", "--disable-sync", "--disable-quic"]  # fmt: skip


@pytest.fixture(scope="module")
def ui(nwb_files, tmp_path_factory):
    """A crawled index of real pynwb-written files, its archive served, and the UI on it."""
    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.testing.archive import ArchiveServer
    from dandindex.testing.generate import archive_of_files
    from dandindex.ui import create_app, serve

    root = tmp_path_factory.mktemp("ui")
    files = {m: nwb_files[m] for m in ("ecephys", "ophys", "icephys")}
    archive_of_files(
        root / "archive", files, modalities={m: m for m in files}, dandiset_id="000007",
        name=TITLE,
    )  # fmt: skip
    with ArchiveServer(root / "archive", content_urls="local") as api:
        Crawler(CrawlOptions(api_url=api.api_url, index_dir=str(root / "idx"), nwb=True)).run()
        app = create_app(root / "idx")
        server = serve(app, "127.0.0.1", 0)
        t = threading.Thread(target=server.serve_forever, daemon=True)
        t.start()
        yield {"url": f"http://127.0.0.1:{server.port}", "index": root / "idx"}
        server.shutdown()


@pytest.fixture(scope="module")
def browser():
    sync = pytest.importorskip("playwright.sync_api", reason="playwright comes with test extras")
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (make install installs Debian's chromium)")
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    yield pg
    context.close()


def shots() -> Path:
    folder = Path(os.environ.get("DANDINDEX_SCREENSHOTS") or Path("/tmp") / "dandindex-ui-shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def non_blank(png: bytes) -> float:
    """Share of pixels that are not white in a PNG."""
    import io

    import matplotlib.image as mpimg

    img = mpimg.imread(io.BytesIO(png), format="png")[..., :3]
    return float((img.min(axis=2) < 0.95).mean())


def test_search_two_facets_asset_plot_and_back(ui, page):
    page.goto(ui["url"] + "/")
    page.screenshot(path=str(shots() / "search.png"))
    page.get_by_role("link", name="House mouse").first.click()
    page.get_by_role("link", name="ecephys", exact=True).first.click()
    assert "species=" in page.url and "modality=ecephys" in page.url
    summary = page.locator("#summary").inner_text()
    assert re.match(r"1-(\d) of \1 assets? ", summary), summary
    table = page.locator("#results").inner_text()
    assert "Units" in table and "NWBContainer" not in table  # the specific types, not bases
    page.screenshot(path=str(shots() / "search_facets.png"))
    page.locator("#results a", has_text="_ecephys.nwb").first.click()  # the file's path
    assert "/asset/" in page.url
    assert "/acquisition/ElectricalSeries" in page.locator("#tree").inner_text()
    page.screenshot(path=str(shots() / "asset.png"), full_page=True)
    asset_url = page.url
    page.locator('#plottable a[href$="path=/units"]').click()
    img = page.locator("img#plot")
    img.wait_for(timeout=60_000)
    assert page.evaluate("document.getElementById('plot').naturalWidth") > 200
    assert non_blank(img.screenshot()) > 0.02
    page.screenshot(path=str(shots() / "plot.png"), full_page=True)
    page.go_back()
    assert page.url == asset_url


def test_a_bookmarked_url_restores_the_results(ui, page, browser):
    page.goto(ui["url"] + "/?modality=ophys&species=mouse")
    first = page.locator("#results").inner_text()
    other = browser.new_page()
    other.goto(page.url)
    assert other.locator("#results").inner_text() == first
    assert "ophys" in first
    other.close()


def test_the_json_twin_equals_the_cli(ui, page):
    page.goto(ui["url"] + "/?modality=ecephys&modality=ophys")
    href = page.get_by_role("link", name="JSON").get_attribute("href")
    body = page.request.get(ui["url"] + href).text()
    r = CliRunner().invoke(
        cli, ["search", "--modality", "ecephys", "--modality", "ophys", "--format", "json",
              "--index", str(ui["index"])],
    )  # fmt: skip
    assert r.exit_code == 0
    assert json.loads(body) == json.loads(r.stdout) and len(json.loads(body)) >= 2


def test_markup_in_metadata_is_text(ui, page):
    page.goto(ui["url"] + "/dandiset/000007")
    assert page.locator("h1").inner_text() == f"DANDI:000007 · {TITLE}"
    assert page.evaluate("window.hacked === undefined")
    assert page.locator("h1 b").count() == 0  # not rendered as markup either
    assert page.dialogs == []
    page.screenshot(path=str(shots() / "dandiset.png"), full_page=True)
    page.goto(ui["url"] + "/?level=dandiset")
    assert TITLE in page.locator("#results").inner_text()
    assert page.evaluate("window.hacked === undefined")


def test_sql_page_runs_read_only_queries(ui, page):
    page.goto(ui["url"] + "/sql")
    page.locator("textarea[name=q]").fill(
        "SELECT dandiset_id, count(*) AS n FROM assets WHERE dandiset_id = $d GROUP BY 1"
    )
    page.locator("textarea[name=params]").fill("d=000007")
    page.get_by_role("button", name="Run").first.click()
    assert "000007" in page.locator("#sql-results").inner_text()
    page.screenshot(path=str(shots() / "sql.png"), full_page=True)
    page.locator("textarea[name=q]").fill("DROP TABLE assets")
    page.get_by_role("button", name="Run").first.click()
    assert "Only read-only queries are allowed" in page.locator(".error").inner_text()


def test_plot_errors_are_sentences_on_the_page(ui, page):
    page.goto(ui["url"] + "/?modality=ophys")
    page.locator("#results a").first.click()
    page.goto(page.url + "/plot?path=/processing/nope")
    assert "Plottable objects" in page.locator("#plot-error").inner_text()
    page.goto(page.url.split("?")[0] + "?path=/units&channels=5-2")
    assert "runs backwards" in page.locator("#plot-error").inner_text()


def test_unknown_assets_and_dandisets_are_404_with_a_sentence(ui, page):
    for path in ("/asset/nope", "/asset/nope/plot?path=/units", "/dandiset/999999", "/nowhere"):
        r = page.request.get(ui["url"] + path)
        assert r.status == 404, path
        assert ("No " in r.text() or "no page" in r.text()) and "Traceback" not in r.text()
    page.goto(ui["url"] + "/dandiset/999999")  # a styled page, with a way back
    assert "No dandiset 999999" in page.inner_text("#not-found")
    page.click("#back-to-search")
    assert page.url.rstrip("/") == ui["url"]
    page.screenshot(path=str(shots() / "not_found.png"))


@pytest.fixture(scope="module")
def media_ui(media_index, media_server):
    """The web page over the media archive's index (its server streams the files)."""
    from dandindex.ui import create_app, serve

    server = serve(create_app(media_index), "127.0.0.1", 0)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()


def test_media_asset_pages_show_a_preview_and_links(media_ui, media_archive, page):
    """A volume's page: what its headers say and its preview (the lowest level, loaded after
    the page); from the sidebar's file formats to a video and on to the NWB file naming it."""
    page.goto(media_ui + "/?file_format=ome-zarr&channel=gfp")
    assert "of" in page.locator("#summary").inner_text()
    page.locator("#results a", has_text="zarr_v05.ome.zarr").first.click()
    assert "ome-zarr" in page.locator("#file-facts").inner_text()
    img = page.locator("img#preview")
    img.wait_for(timeout=60_000)
    page.wait_for_function("document.getElementById('preview').complete", timeout=60_000)
    assert page.evaluate("document.getElementById('preview').naturalWidth") > 200
    assert non_blank(img.screenshot()) > 0.02
    page.screenshot(path=str(shots() / "asset_preview.png"), full_page=True)
    video = media_archive.asset_of("video_mp4")
    page.goto(f"{media_ui}/asset/{video}")
    page.locator("#links a").first.click()  # the NWB file that names this video
    assert page.url.endswith(next(a for a, p in media_archive.paths.items() if p.endswith(".nwb")))
    assert "/processing/behavior/PoseEstimation" in page.locator("#tree").inner_text()
