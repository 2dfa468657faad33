"""Mistyped paths, folders without reports and an --out that already holds an audit are usage errors (exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from paths import SAMPLES
from typer.testing import CliRunner

from tbs_doccheck.audit.journal import JOURNAL_NAME
from tbs_doccheck.cli.app import app
from tbs_doccheck.readers import SUPPORTED_SUFFIXES

PASSING = SAMPLES / "s01_pass_radiology.txt"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def reports_folder(root: Path, *names: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names or ("s01_pass_radiology.txt",):
        shutil.copy(SAMPLES / name, root / name)
    return root


def test_check_of_a_path_that_does_not_exist_names_it_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    result = invoke("check", str(tmp_path / "nosuchdir"), str(PASSING), "-f", "csv", "-o", str(out))
    assert result.exit_code == 2
    assert f"no such file or folder: {tmp_path / 'nosuchdir'}" in result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_audit_of_a_path_that_does_not_exist_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    result = invoke("audit", str(tmp_path / "nosuchdir"), "--out", str(tmp_path / "X"))
    assert result.exit_code == 2
    assert str(tmp_path / "nosuchdir") in result.stderr
    assert not (tmp_path / "X").exists()


def test_every_missing_path_is_named_at_once(tmp_path: Path) -> None:
    result = invoke("check", str(tmp_path / "a.txt"), str(tmp_path / "b"))
    assert result.exit_code == 2
    assert str(tmp_path / "a.txt") in result.stderr and str(tmp_path / "b") in result.stderr


@pytest.mark.parametrize("command", ["check", "audit"])
def test_an_empty_folder_names_the_path_and_the_supported_types(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [command, str(empty)] + (["--out", str(tmp_path / "out")] if command == "audit" else [])
    result = invoke(*args)
    assert result.exit_code == 2
    assert f"no supported report files found in {empty}" in result.stderr
    assert all(suffix in result.stderr for suffix in SUPPORTED_SUFFIXES)
    assert not (tmp_path / "out").exists()


def test_a_folder_of_other_file_types_says_how_many_were_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "scan.tiff").write_bytes(b"II*\x00")
    (folder / "notes.md").write_text("no report here")
    result = invoke("check", str(folder))
    assert result.exit_code == 2
    assert "2 file(s) of other types skipped" in result.stderr and ".txt" in result.stderr


def test_a_dangling_symlink_given_by_name_is_still_read_and_reported_as_e001(tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "deleted.txt")
    result = invoke("check", str(link), "-f", "jsonl")
    assert result.exit_code == 2
    assert '"error_code": "E001-not-found"' in result.stdout


def test_audit_refuses_an_out_folder_that_already_holds_an_audit(tmp_path: Path) -> None:
    reports = reports_folder(tmp_path / "in")
    out = tmp_path / "out"
    assert invoke("audit", str(reports), "--out", str(out)).exit_code == 0
    before = (out / "summary.json").read_bytes()
    again = invoke("audit", str(reports), "--out", str(out))
    assert again.exit_code == 2
    assert f"{out} already holds an audit" in again.stderr and "--force" in again.stderr
    assert (out / "summary.json").read_bytes() == before


def test_audit_force_replaces_the_audit_in_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("audit", str(reports_folder(tmp_path / "a")), "--out", str(out)).exit_code == 0
    second = reports_folder(tmp_path / "b", "s01_pass_radiology.txt", "s03_pass_uk_letter.txt")
    result = invoke("audit", str(second), "--out", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert "2 report(s) in 2 file(s)" in result.stdout


def test_audit_resume_into_a_finished_audit_is_allowed(tmp_path: Path) -> None:
    reports = reports_folder(tmp_path / "in")
    out = tmp_path / "out"
    assert invoke("audit", str(reports), "--out", str(out)).exit_code == 0
    assert invoke("audit", str(reports), "--out", str(out), "--resume").exit_code == 0


def test_audit_refuses_an_interrupted_audit_without_resume_or_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / JOURNAL_NAME).write_text("{}\n")
    result = invoke("audit", str(reports_folder(tmp_path / "in")), "--out", str(out))
    assert result.exit_code == 2
    assert "holds an interrupted audit" in result.stderr and "--resume" in result.stderr
    assert (out / JOURNAL_NAME).read_text() == "{}\n"


def test_an_out_folder_holding_other_files_is_used_as_before(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert invoke("audit", str(reports_folder(tmp_path / "in")), "--out", str(out)).exit_code == 0
    assert (out / "notes.txt").read_text() == "mine"
