"""``check`` output as a linter's: --quiet, colour only on a terminal, a report read from stdin."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from paths import SAMPLES
from typer.testing import CliRunner

from tbs_doccheck.cli import check as check_module
from tbs_doccheck.cli.app import app

PASSING = sorted(SAMPLES.glob("*_pass_*.txt"))
FAILING = SAMPLES / "s02_fail_prior_tbs_only.txt"
ANSI = "\x1b["


def folder_of(tmp_path: Path, *reports: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for report in reports:
        shutil.copy(report, folder / report.name)
    return folder


def test_check_quiet_on_a_folder_of_passing_reports_prints_one_summary_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "-q", str(folder_of(tmp_path, *PASSING))])
    assert result.exit_code == 0
    assert result.stdout == f"{len(PASSING)} report(s): {len(PASSING)} pass, 0 fail, 0 error\n"


def test_check_quiet_prints_failing_reports_with_only_their_missing_elements(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--quiet", str(folder_of(tmp_path, PASSING[0], FAILING))])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith("s02_fail_prior_tbs_only.txt: FAIL  signed by Corwin Adjaye-Morrell, DO")
    assert PASSING[0].name not in result.stdout
    assert all(line.startswith("  MISSING ") for line in lines[1:4])
    assert "  ok " not in result.stdout
    assert lines[-1] == "2 report(s): 1 pass, 1 fail, 0 error"


def test_check_quiet_still_shows_unreadable_reports(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, PASSING[0])
    (folder / "empty.txt").write_text("")
    result = CliRunner().invoke(app, ["check", "-q", str(folder)])
    assert result.exit_code == 2
    assert "empty.txt: ERROR E003-empty" in result.stdout


def test_without_quiet_every_report_gets_its_block(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(folder_of(tmp_path, PASSING[0], FAILING))])
    assert result.stdout.count("  ok      ") >= 5 and ": PASS" in result.stdout


def test_text_output_is_plain_when_piped() -> None:
    result = CliRunner().invoke(app, ["check", str(FAILING)])
    assert ANSI not in result.stdout


def test_text_output_is_coloured_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(check_module, "_stdout_is_terminal", lambda: True)
    result = CliRunner().invoke(app, ["check", str(FAILING)])
    assert "\x1b[1;31mFAIL\x1b[0m" in result.stdout
    assert "\x1b[31mMISSING\x1b[0m" in result.stdout


def test_no_color_turns_the_colour_off_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_module, "_stdout_is_terminal", lambda: True)
    result = CliRunner().invoke(app, ["check", str(FAILING)], env={"NO_COLOR": "1"})
    assert ANSI not in result.stdout and "FAIL" in result.stdout


def test_an_output_file_is_never_coloured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(check_module, "_stdout_is_terminal", lambda: True)
    out = tmp_path / "out.txt"
    CliRunner().invoke(app, ["check", str(FAILING), "-o", str(out)])
    assert ANSI not in out.read_text(encoding="utf-8")


def test_check_dash_reads_one_report_from_stdin() -> None:
    result = CliRunner().invoke(app, ["check", "-", "-f", "jsonl"], input=FAILING.read_bytes())
    assert result.exit_code == 1
    assert '"id": "stdin"' in result.stdout and '"source": "<stdin>"' in result.stdout
    assert result.stdout.count("\n") == 1


def test_check_dash_says_when_stdin_is_empty() -> None:
    result = CliRunner().invoke(app, ["check", "-"], input=b"  \n")
    assert result.exit_code == 2
    assert "<stdin>: ERROR E003-empty" in result.stdout


def test_check_dash_cannot_be_mixed_with_paths() -> None:
    result = CliRunner().invoke(app, ["check", "-", str(FAILING)], input=b"x")
    assert result.exit_code == 2
    assert "cannot be combined" in result.stderr
