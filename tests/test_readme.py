"""Every example of the README runs as written: each command of its bash blocks and each of
its Python blocks, in README order, in a folder of its own beside ``../shared`` (so its
relative paths hold) holding the offline tour's output (``demo-output/``, made as `make demo`
makes it). A command fails on a traceback, a non-zero exit it does not announce
(``[exits N]``), or, for a command that prints rows (search, sql, query run, tables, areas,
or a file it writes with ``>``/``--manifest``), on printing none.

What cannot run here is marked in the README itself, and only that is left out: a line whose
comment says ``[needs ...]`` (the internet, S3, a Dask scheduler, zsh or fish),
``[long-running]`` (a web server) or ``[opens a browser]``, a Python block whose first line
says so, and the set-up lines (``make install``, ``make test``, activating the venv, ``make
demo``: this test makes the tour itself). The ports the README names (8137, the tour's
archive; 8000, the corpus) are swapped for free ones so parallel tests never meet.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARK = re.compile(r"\[(needs [^\]]+|long-running|opens a browser)\]")
EXITS = re.compile(r"\[exits (\d+)\]")
SETUP = re.compile(r"^(make (install|test|demo)\b|\. \.venv/bin/activate)")
ROWS = re.compile(r"^dandindex (search|sql|query run|tables|areas)\b")
PORTS = {"8137": None, "8000": None}  # the README's ports → free ones


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def blocks() -> list[tuple[str, str, int]]:
    """(bash|python, body, line number) of every fenced code block, in order."""
    text = README.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```(bash|python)\n(.*?)^```", text, re.S | re.M):
        out.append((m.group(1), m.group(2), text[: m.start()].count("\n") + 1))
    return out


def commands(body: str) -> list[str]:
    """A bash block's commands: continuation lines joined, comment-only lines dropped."""
    out, current = [], ""
    for line in body.splitlines():
        current += line.rstrip("\\") + (" " if line.endswith("\\") else "")
        if line.endswith("\\"):
            continue
        if current.strip() and not current.strip().startswith("#"):
            out.append(current.strip())
        current = ""
    return out


def comment_of(command: str) -> str:
    """The trailing comment of a command: from an unquoted ``#`` after a space."""
    quote = None
    for i, ch in enumerate(command):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or command[i - 1].isspace()):
            return command[i:]
    return ""


def ported(text: str) -> str:
    for readme, free in PORTS.items():
        text = text.replace(f"--port {readme}", f"--port {free}").replace(f"127.0.0.1:{readme}", f"127.0.0.1:{free}")  # fmt: skip
    return text


def has_rows(command: str, out: str, work: Path) -> bool:
    """Whether a row-printing command printed (or wrote) at least one row."""
    target = re.search(r">\s*(\S+)\s*(#.*)?$", command)
    manifest = re.search(r"--manifest\s+(\S+)", command)
    if target or manifest:
        path = work / (target or manifest).group(1)  # type: ignore[union-attr]
        lines = [x for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")]
        return len(lines) > 1  # a header and a row
    text = out.strip()
    if not text or text == "[]":
        return False
    if text.startswith("["):  # JSON: a list with something in it
        return "{" in text
    lines = [x for x in text.splitlines() if x.strip()]
    return len(lines) > (2 if "---" in text else 1)  # a table: header, rule, a row


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A folder beside ``shared`` (a link to ../shared) holding the tour's output."""
    root = tmp_path_factory.mktemp("readme")
    work = root / "work"
    work.mkdir()
    (work / "home").mkdir()
    if SHARED.is_dir():
        (root / "shared").symlink_to(SHARED)
    for k in PORTS:
        PORTS[k] = str(free_port())
    env = dict(os.environ, DANDI_NO_ET="1")
    run = subprocess.run(
        [sys.executable, "-m", "dandindex.demo", "--out", str(work / "demo-output"),
         "--port", str(PORTS["8137"])],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    (work / "docs").symlink_to(ROOT / "docs")
    background: list[subprocess.Popen[bytes]] = []
    yield work, background
    for proc in background:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def wait_for(port: str, seconds: float = 30.0) -> None:
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", int(port))) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


@pytest.mark.slow
def test_every_readme_example_runs_as_written(place):
    work, background = place
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, DANDI_NO_ET="1", HOME=str(work / "home"),
               PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))  # fmt: skip
    env.pop("DANDINDEX_INDEX", None)
    ran, skipped, failures = [], [], []
    python_prefix = ""  # a Python block that continues the one before it
    for kind, body, line in blocks():
        if kind == "python":
            first = body.splitlines()[0] if body.strip() else ""
            if MARK.search(first):
                skipped.append((line, first))
                continue
            code = (python_prefix + "\n" + body) if "[continues the block above]" in first else body
            python_prefix = body
            r = subprocess.run([sys.executable, "-c", ported(code)], cwd=work, env=env,
                               capture_output=True, text=True, timeout=600)  # fmt: skip
            ran.append((line, "python"))
            if r.returncode != 0 or "Traceback" in r.stderr:
                failures.append((line, "python block", r.stdout[-1500:] + r.stderr[-1500:]))
            continue
        for command in commands(body):
            comment = comment_of(command)
            if MARK.search(comment) or SETUP.match(command):
                skipped.append((line, command))
                continue
            cmd = ported(command)
            m = re.match(r"^export (\w+)=(.*)$", cmd)
            if m:
                env[m.group(1)] = os.path.expandvars(m.group(2).replace("$PWD", str(work)))
                continue
            if cmd.rstrip().endswith("&"):  # a server in the background
                proc = subprocess.Popen(["bash", "-c", cmd.rstrip().rstrip("&")], cwd=work,
                                        env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)  # fmt: skip
                background.append(proc)
                wait_for(re.search(r"--port (\d+)", cmd).group(1))  # type: ignore[union-attr]
                ran.append((line, command))
                continue
            r = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, capture_output=True,
                               text=True, timeout=600)  # fmt: skip
            ran.append((line, command))
            expected = EXITS.search(comment)
            code = int(expected.group(1)) if expected else 0
            shown = r.stdout[-1200:] + r.stderr[-1200:]
            if r.returncode != code:
                failures.append((line, command, f"exit {r.returncode}: {shown}"))
            elif "Traceback" in r.stdout + r.stderr:
                failures.append((line, command, f"a traceback: {shown}"))
            elif ROWS.match(command) and code == 0 and not has_rows(command, r.stdout, work):
                failures.append((line, command, f"no rows: {shown}"))
    report = "\n\n".join(f"README line {ln}: {c}\n{why}" for ln, c, why in failures)
    assert not failures, report
    assert len(ran) >= 50 and len(ran) > 2 * len(skipped), (ran, skipped)  # run, not skipped
    reasons = {MARK.search(comment_of(c) or c).group(0) for _, c in skipped if MARK.search(comment_of(c) or c)}  # fmt: skip
    assert reasons <= {"[needs internet]", "[needs S3]", "[needs a Dask scheduler]", "[needs zsh]",
                       "[needs fish]", "[long-running]", "[opens a browser]"}, reasons  # fmt: skip
