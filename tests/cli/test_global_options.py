"""Options every command shares: --version, -v before or after the command, shell completion, plain help."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from paths import SAMPLES
from typer.testing import CliRunner

from tbs_doccheck._version import __version__
from tbs_doccheck.cli.app import app


@pytest.fixture
def quiet_root_logger() -> Iterator[None]:
    """The root logger at WARNING, as a fresh process has it (other tests may have lowered it)."""
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)
    yield
    root.setLevel(before)


def audit_args(tmp_path: Path) -> list[str]:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "s01_pass_radiology.txt", folder)
    return ["audit", str(folder), "--out", str(tmp_path / "out")]


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"tbs-doccheck {__version__}\n")


@pytest.mark.usefixtures("quiet_root_logger")
def test_verbose_after_the_command_turns_on_info_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    result = CliRunner().invoke(app, [*audit_args(tmp_path), "-v"])
    assert result.exit_code == 0, result.output
    assert "auditing 1 files" in caplog.text


@pytest.mark.usefixtures("quiet_root_logger")
def test_verbose_before_the_command_still_works(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    result = CliRunner().invoke(app, ["-v", *audit_args(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "auditing 1 files" in caplog.text


@pytest.mark.usefixtures("quiet_root_logger")
def test_without_verbose_info_logs_stay_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert CliRunner().invoke(app, audit_args(tmp_path)).exit_code == 0
    assert "auditing 1 files" not in caplog.text


@pytest.mark.parametrize(
    "command", ["check", "eval", "explain", "audit", "prebill", "serve", "bench", "queries", "recheck"]
)
def test_every_command_accepts_verbose(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "-v, --verbose" in result.stdout


def test_shell_completion_is_offered() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


@pytest.mark.parametrize("command", ["check", "audit", "prebill", "explain"])
def test_help_shows_flags_without_type_noise(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
