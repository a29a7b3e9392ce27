"""The CLI's shape: version, help for every command, README coverage, lazy heavy imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dandindex import __version__
from dandindex.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS = sorted(cli.list_commands(click.Context(cli)))


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"dandindex, version {__version__}"


def test_help_lists_every_command():
    result = CliRunner().invoke(cli, ["-h"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert re.search(rf"^\s+{re.escape(name)}\b", result.output, re.M), name


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_in_the_readme(name):
    assert f"dandindex {name}" in README.read_text()


def test_python_dash_m_works():
    out = subprocess.run(
        [sys.executable, "-m", "dandindex", "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in out.stdout


def test_cli_import_does_not_load_heavy_packages():
    code = (
        "import sys, dandindex.cli; "
        "heavy = [m for m in ('pynwb', 'h5py', 'matplotlib', 'remfile', 'hdmf', 'dandi') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_readme_table_schemas_are_current():
    from dandindex.schemas import markdown_tables

    text = README.read_text()
    section = text.split("<!-- schemas:start -->", 1)[1].split("<!-- schemas:end -->", 1)[0]
    assert section.strip() == markdown_tables().strip()
