"""Everyday use: ordinary mistakes end in sentences, results print well in a terminal and a
notebook, `info` reads like prose."""

from __future__ import annotations

import json
import re
import socket

from click.testing import CliRunner

from dandindex.cli import cli
from dandindex.results import AssetSet, DandisetSet

from helpers import modality_assets


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def no_traceback(r) -> None:
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)


def test_crawl_of_an_unreachable_api_is_a_sentence(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    r = run("crawl", "--api-url", f"http://127.0.0.1:{port}/api", "--index", str(tmp_path / "i"))
    assert r.exit_code != 0
    assert f"Cannot reach the DANDI API at http://127.0.0.1:{port}/api" in r.output
    assert "Check the address" in r.output
    no_traceback(r)
    assert not (tmp_path / "i" / "manifest.json").exists()


def test_crawl_of_an_api_url_without_api_suggests_it(server, tmp_path):
    base = server.api_url.removesuffix("/api")
    r = run("crawl", "--api-url", base + "/nope", "--index", str(tmp_path / "i"))
    assert r.exit_code != 0
    assert f"Did you mean {base}/nope/api?" in r.output, r.output
    no_traceback(r)


def test_serve_archive_on_a_busy_port_is_a_sentence(generated):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run("serve-archive", str(generated.root), "--port", str(port))
    assert r.exit_code == 2
    assert f"Port {port} on 127.0.0.1 is in use" in r.output
    assert "--port 0 for a free one" in r.output
    no_traceback(r)


def test_ui_on_a_busy_port_is_a_sentence(index_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run("ui", "--index", str(index_dir), "--port", str(port))
    assert r.exit_code == 2
    assert f"Port {port} on 127.0.0.1 is in use" in r.output
    no_traceback(r)


def test_info_reads_like_prose_and_json_keeps_everything(index_dir, idx):
    r = run("info", "--index", str(index_dir))
    assert r.exit_code == 0, r.output
    n = idx.info()["row_counts"]
    assert r.output.startswith(f"Index {index_dir}\n")
    assert f"{n['dandisets']:,} dandisets" in r.output
    assert f"{n['assets']:,} assets" in r.output
    assert re.search(r"on \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ s\)", r.output)  # no microseconds
    assert "readable files name a brain area the atlas knows" in r.output
    assert not r.output.lstrip().startswith("{")
    data = json.loads(run("info", "--format", "json", "--index", str(index_dir)).output)
    assert data["row_counts"] == n and data["nwb_area_coverage"]["nwb_files"] > 0


def test_results_print_as_tables_that_say_how_many(idx):
    hits = idx.search(modality="ecephys")
    assert isinstance(hits, AssetSet) and len(hits) > 10
    text = repr(hits)
    lines = text.splitlines()
    assert lines[0] == f"AssetSet: 10 of {len(hits):,} assets shown"
    assert lines[1].split() == [
        "dandiset_id", "version", "size", "species", "modalities", "areas", "path"
    ]  # fmt: skip
    assert hits[0].path in lines[2]  # whole paths, never cut
    assert lines[-1].startswith(f"  ... {len(hits) - 10:,} more")
    limited = idx.search(modality="ecephys", limit=3)
    assert repr(limited).splitlines()[0] == f"AssetSet: 3 of {len(hits):,} assets shown"
    one = idx.sql("SELECT 1 AS a")
    assert repr(one).splitlines()[0] == "Result: 1 row"


def test_results_show_in_a_notebook_as_linked_tables(idx):
    hits = idx.search(modality="ecephys")
    html = hits._repr_html_()
    assert f"<caption>{min(50, len(hits))} of {len(hits):,} assets shown</caption>" in html or (
        len(hits) <= 50 and f"<caption>{len(hits)} assets</caption>" in html
    )
    assert html.count("<tr>") == min(50, len(hits)) + 1
    first = hits.rows()[0]
    assert f'<a href="{first["web_url"]}" target="_blank">{first["path"]}</a>' in html
    assert " GB</td>" in html or " MB</td>" in html or " kB</td>" in html  # human sizes
    dandisets = idx.search(modality="ecephys", level="dandiset")
    assert isinstance(dandisets, DandisetSet)
    assert "dandisets</caption>" in dandisets._repr_html_()
    hit = dandisets[0]
    assert repr(hit).startswith(f"DandisetHit({hit.dandiset_id}: ")
    assert f"DANDI:{hit.dandiset_id}" in hit._repr_html_()


def test_handles_and_the_index_describe_themselves(idx, generated):
    asset_id = modality_assets(generated)["ecephys"]
    h = idx.asset(asset_id)
    assert (
        repr(h)
        == f"AssetHandle(DANDI:{h.dandiset_id}/{h.version} {h.path}, "
        + (repr(h).rsplit(", ", 1)[1])
    )
    assert re.search(r", [\d.]+ (B|kB|MB|GB)\)$", repr(h))
    html = h._repr_html_()
    assert "ElectricalSeries" in html and "/units" in html and ">download</a>" in html
    assert repr(idx).startswith(f"Index({str(idx.path)!r}: ")
    assert "NWB summaries" in idx._repr_html_()


def test_plot_when_the_server_is_gone_says_so_quickly(nwb_files, tmp_path):
    from dandindex.crawl import Crawler, CrawlOptions
    from dandindex.testing.archive import ArchiveServer
    from dandindex.testing.generate import archive_of_files

    archive_of_files(tmp_path / "archive", {"ecephys": nwb_files["ecephys"]})
    with ArchiveServer(tmp_path / "archive") as srv:
        Crawler(CrawlOptions(api_url=srv.api_url, index_dir=str(tmp_path / "i"), nwb=True)).run()
        host = srv.api_url.split("/")[2]
    r = run("show", "000001/sub-0000/sub-0000_ecephys.nwb", "--index", str(tmp_path / "i"))
    assert r.exit_code == 0 and "/units" in r.output  # the index needs no server
    r = run("plot", "000001/sub-0000/sub-0000_ecephys.nwb", "/units", "--out",
            str(tmp_path / "u.png"), "--index", str(tmp_path / "i"))  # fmt: skip
    assert r.exit_code == 1
    assert f"no connection could be made to {host}: is the server running" in r.output
    no_traceback(r)
    assert not (tmp_path / "u.png").exists()


def test_shell_completion_offers_commands_and_the_index_values(index_dir):
    import os
    import subprocess
    import sys

    def complete(words: str) -> list[str]:
        env = dict(
            os.environ,
            COMP_WORDS=words,
            COMP_CWORD=str(len(words.split()) - 1),
            _DANDINDEX_COMPLETE="bash_complete",
            DANDINDEX_INDEX=str(index_dir),
        )
        out = subprocess.run(
            [sys.executable, "-m", "dandindex"], env=env, capture_output=True, text=True
        ).stdout
        return [line.split(",", 1)[1] for line in out.splitlines()]

    assert complete("dandindex se") == ["search", "serve-archive"]
    assert complete("dandindex search --modality op") == ["ophys", "optogenetics"]
    assert "VISp" in complete("dandindex search --area VIS")
    assert "ElectricalSeries" in complete("dandindex search --type Electr")


def test_every_way_of_writing_an_asset_finds_it(idx):
    from dandindex.errors import DandindexError

    hit = idx.search(modality="ecephys").rows()[0]
    ds, version, path, aid = hit["dandiset_id"], hit["version"], hit["path"], hit["asset_id"]
    refs = [
        aid,
        f"{ds}/{path}",
        f"{int(ds)}/{path}",  # the leading zeros forgotten
        f"{ds}@{version}/{path}",
        f"dandi://dandi/{ds}@{version}/{path}",
        f"dandi://dandi/{ds}/{path}",
        f"DANDI:{ds}/{version}/{path}",
        hit["dandi_url"],  # the API URL by path, for an instance dandi:// does not know
        hit["api_url"],  # .../assets/<id>/download/
        f"  {ds}/{path}\r\n",  # pasted from a CSV
    ]
    for ref in refs:
        assert idx.asset(ref).asset_id == aid, ref
    typo = f"{ds}/{path[:-5]}x.nwb"
    try:
        idx.asset(typo)
    except DandindexError as e:
        assert f"Did you mean {ds}/{path}" in str(e)
    else:
        raise AssertionError("a typo found an asset")
    try:
        idx.asset(f"{ds}@9.9.9/{path}")
    except DandindexError as e:
        assert f"Dandiset {ds} has versions" in str(e) and version in str(e)
    else:
        raise AssertionError("a version the index does not hold found an asset")


def on_a_terminal(args: list[str], columns: int, env: dict[str, str]) -> str:
    """What a user sees running `dandindex ARGS` on a terminal `columns` wide (a real pty)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dandindex", *args],
        stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower side closed: the command ended
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def test_search_on_a_narrow_terminal_fits_and_keeps_whole_paths(index_dir, idx):
    import os

    env = dict(os.environ, DANDINDEX_INDEX=str(index_dir), DANDI_NO_ET="1")
    shown = on_a_terminal(["search", "--modality", "ecephys"], 100, env)
    assert "Traceback" not in shown
    lines = [line for line in shown.splitlines() if line.strip()]
    assert all(len(line) <= 100 for line in lines), "\n".join(lines)
    first = idx.search(modality="ecephys").rows()[0]["path"]
    assert any(first in line for line in lines)  # the path is never cut
    narrow = on_a_terminal(["search", "--modality", "ecephys"], 60, env)
    assert all(len(line) <= 60 for line in narrow.splitlines() if "hidden" not in line)
    assert "hidden to fit the window: --wide or --columns to show them" in narrow
    # the column of the facet searched on is the last to go
    by_area = on_a_terminal(["search", "--area", "CA1"], 84, env)
    header = next(line for line in by_area.splitlines() if line.startswith("dandiset_id"))
    assert "areas" in header.split(), by_area
    hidden = next(line for line in by_area.splitlines() if "hidden to fit" in line)
    assert "modalities" in hidden and "areas" not in hidden


def test_query_list_fits_a_120_column_terminal_with_whole_descriptions():
    import os

    from dandindex import queries

    shown = on_a_terminal(["query", "list"], 120, dict(os.environ, DANDI_NO_ET="1"))
    lines = [line for line in shown.splitlines() if line.strip()]
    assert lines and all(len(line) <= 120 for line in lines), "\n".join(lines)
    words = " ".join(shown.split())
    for q in queries.load().values():  # every description whole, wrapped onto more lines
        assert q.name in shown and " ".join(q.description.split()) in words, q.name
