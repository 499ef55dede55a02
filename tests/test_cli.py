"""The command line: every command has help with an example, and start-up is light."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from vaezip import __version__
from vaezip.cli import COMMANDS, main


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_unknown_command_is_one_clean_error():
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def _imported_modules(code: str) -> set[str]:
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    ).stderr
    return {line.rsplit("|", 1)[-1].strip() for line in err.splitlines() if "|" in line}


@pytest.mark.parametrize("code", ["import vaezip.cli", "import vaezip.cli, vaezip.__main__"])
def test_cli_start_up_imports_neither_torch_nor_numba(code):
    heavy = {m for m in _imported_modules(code) if m.split(".")[0] in {"torch", "numba"}}
    assert not heavy


def test_codec_layer_imports_without_torch():
    modules = _imported_modules("import vaezip.rans, vaezip.codecs")
    assert not {m for m in modules if m.split(".")[0] == "torch"}
    assert "numba" in modules  # the check above can see imports at all


def test_python_dash_m_runs():
    out = subprocess.run([sys.executable, "-m", "vaezip", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout
