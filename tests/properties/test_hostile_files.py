"""Hostile files through ``tbs-doccheck check``: every bad file is one error row, the batch goes on.

One folder holds a zoo of broken inputs — empty, binary, misnamed, undecodable, oversized,
a zip bomb, a truncated PDF, malformed HL7 and FHIR, symlink loops, an unreadable file —
beside good reports. The real command runs over it (a subprocess, as a user would run it);
every file must appear exactly once in the JSON Lines output, the bad ones as
``verdict: "error"`` with an error code and a message naming the file, the good ones
checked, and the exit code must be 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tbs_doccheck.cli.app import app
from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers import DEFAULT_MAX_BYTES

try:  # the helpers sit beside this file; tests/ may or may not become a package
    from tests import formats as F
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _truncated(data: bytes, share: float) -> bytes:
    return data[: int(len(data) * share)]


def _deep_json() -> bytes:
    return b'{"resourceType": "DiagnosticReport", "conclusion": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


#: name -> (bytes, expected error code; None for a report that must be read and checked).
HOSTILE: dict[str, tuple[Callable[[], bytes], ErrorCode | None]] = {
    # plain text
    "empty.txt": (lambda: b"", ErrorCode.EMPTY),
    "whitespace-only.txt": (lambda: b" \t\r\n \n\x0b\x0c  ", ErrorCode.EMPTY),
    "binary.txt": (lambda: bytes(range(256)) * 40, ErrorCode.BINARY),
    "png-named.txt": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), ErrorCode.BINARY),
    "controls.txt": (lambda: b"TBS " + bytes(range(1, 9)) * 100, ErrorCode.BINARY),
    "bom-then-invalid-utf8.txt": (lambda: b"\xef\xbb\xbfTBS 1.254 \xff\xfe\xc3\x28", ErrorCode.UNDECODABLE),
    "utf16-bom-odd-bytes.txt": (lambda: b"\xff\xfe" + "TBS".encode("utf-16-le") + b"\x00\xd8", ErrorCode.UNDECODABLE),
    # wrong extensions
    "text-named.pdf": (lambda: F.txt_bytes(), ErrorCode.CORRUPT_PDF),
    "text-named.docx": (lambda: F.txt_bytes(), ErrorCode.CORRUPT_DOCX),
    "pdf-named.docx": (lambda: F.pdf_bytes(), ErrorCode.CORRUPT_DOCX),
    "docx-named.pdf": (lambda: F.docx_bytes(), ErrorCode.CORRUPT_PDF),
    "legacy-doc.docx": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), ErrorCode.CORRUPT_DOCX),
    "text-named.rtf": (lambda: F.txt_bytes(), ErrorCode.CORRUPT_RTF),
    "text-named.hl7": (lambda: F.txt_bytes(), ErrorCode.BAD_HL7),
    "text-named.json": (lambda: F.txt_bytes(), ErrorCode.BAD_JSON),
    # docx
    "zip-bomb.docx": (F.zip_bomb_docx_bytes, ErrorCode.CORRUPT_DOCX),
    "truncated.docx": (lambda: _truncated(F.docx_bytes(), 0.5), ErrorCode.CORRUPT_DOCX),
    "zip-not-office.docx": (lambda: F.zip_bytes({"notes.txt": b"TBS 1.254"}), ErrorCode.CORRUPT_DOCX),
    "office-zip-no-document.docx": (lambda: F.zip_bytes({"[Content_Types].xml": b"<Types/>"}), ErrorCode.CORRUPT_DOCX),
    # pdf
    "truncated.pdf": (lambda: _truncated(F.pdf_bytes(), 0.7), ErrorCode.CORRUPT_PDF),
    "garbage-body.pdf": (lambda: b"%PDF-1.4\n" + b"\x8f\x01 garbage (" * 50 + b"\n%%EOF\n", ErrorCode.CORRUPT_PDF),
    "scanned.pdf": (lambda: F.pdf_bytes([[]]), ErrorCode.NO_TEXT_LAYER),
    "encrypted.pdf": (F.encrypted_pdf_bytes, ErrorCode.ENCRYPTED_PDF),
    # rtf
    "truncated.rtf": (lambda: _truncated(F.RTF_REPORT.encode(), 0.6), ErrorCode.CORRUPT_RTF),
    # hl7
    "bad-delimiters.hl7": (lambda: F.hl7_report().replace("MSH|^~\\&", "MSH|^^\\&").encode(), ErrorCode.BAD_HL7),
    "no-msh.hl7": (lambda: F.hl7_report().split("\r", 1)[1].encode(), ErrorCode.BAD_HL7),
    "msh-only.hl7": (lambda: F.hl7_report().split("\r", 1)[0].encode() + b"\r", ErrorCode.BAD_HL7),
    "obr-without-obx.hl7": (lambda: F.hl7_message([("P1", "F1", [])]).encode(), ErrorCode.BAD_HL7),
    "obx-without-obr.hl7": (
        lambda: F.hl7_message([]).replace("PID|1", "OBX|1|TX|X||TBS 1.254\rPID|1").encode(),
        ErrorCode.BAD_HL7,
    ),
    "numeric-obx-only.hl7": (lambda: F.hl7_message([("P1", "F1", [("NM", "1.254")])]).encode(), ErrorCode.BAD_HL7),
    "binary.hl7": (lambda: b"MSH|^~\\&|" + bytes(range(256)) * 4, ErrorCode.BAD_HL7),
    # FHIR JSON
    "truncated.json": (lambda: _truncated(F.json_bytes(F.diagnostic_report(conclusion=F.REPORT_TEXT)), 0.5),
                       ErrorCode.BAD_JSON),
    "deeply-nested.json": (_deep_json, ErrorCode.BAD_JSON),
    "huge-integer.json": (lambda: b'{"resourceType": "DiagnosticReport", "id": ' + b"9" * 10_000 + b"}",
                          ErrorCode.BAD_JSON),
    "array.json": (lambda: F.json_bytes([F.diagnostic_report(conclusion=F.REPORT_TEXT)]), ErrorCode.BAD_FHIR),
    "patient.json": (lambda: F.json_bytes({"resourceType": "Patient", "id": "p1"}), ErrorCode.BAD_FHIR),
    "report-without-text.json": (lambda: F.json_bytes(F.diagnostic_report()), ErrorCode.NO_REPORT_TEXT),
    "bad-base64.json": (
        lambda: F.json_bytes(F.diagnostic_report(presentedForm=[{"contentType": "text/plain", "data": "@@@"}])),
        ErrorCode.BAD_FHIR,
    ),
    "bundle-without-reports.json": (lambda: F.json_bytes(F.bundle({"resourceType": "Patient"})), ErrorCode.BAD_FHIR),
    # good reports (and odd-but-valid inputs that must be read, not refused)
    "good-report.txt": (lambda: F.txt_bytes(), None),
    "good-report.docx": (lambda: F.docx_bytes(), None),
    "good-odd-delimiters.hl7": (lambda: F.hl7_report(delimiters=F.ODD_DELIMITERS).encode(), None),
    "good-crlf.txt": (lambda: F.txt_bytes(newline="\r\n"), None),
    "good-cr-only.txt": (lambda: F.txt_bytes(newline="\r"), None),
    "good-cp1252-not-utf8.txt": (
        lambda: (
            F.REPORT_TEXT.replace("Roe", "R\u00f6e")
            .replace("~2 years", "\u201c2 years\u201d \u2013 ok")
            .encode("cp1252")
        ),
        None,
    ),
    "good-utf16-no-bom.txt": (lambda: F.REPORT_TEXT.encode("utf-16-le"), None),
    "good-fhir-conclusion.json": (lambda: F.json_bytes(F.diagnostic_report(conclusion=F.REPORT_TEXT)), None),
    # RTF spells a character beyond U+FFFF as two UTF-16 halves ("\\uN?" each); a lone half follows.
    "good-rtf-emoji-and-lone-half.rtf": (
        lambda: F.RTF_REPORT.replace("REPORT\\b0", "REPORT \\u-10179?\\u-8780? \\u-10240?\\b0").encode(), None
    ),
    "good-fhir-lone-surrogate.json": (
        lambda: F.json_bytes(F.diagnostic_report("id-\ud800", conclusion=F.REPORT_TEXT.replace("DXA", "DXA \udc80"))),
        None,
    ),
}
GOOD = sorted(name for name, (_, code) in HOSTILE.items() if code is None)


def build_hostile_folder(root: Path) -> dict[str, ErrorCode | None]:
    """Writes the zoo under ``root`` and returns {path relative to root: expected code}."""
    expected: dict[str, ErrorCode | None] = {}
    for name, (make, code) in HOSTILE.items():
        (root / name).write_bytes(make())
        expected[name] = code
    # Over the size limit, as a sparse file: refused from its size, never read.
    with open(root / "too-large.txt", "wb") as handle:
        handle.truncate(DEFAULT_MAX_BYTES + 1)
    expected["too-large.txt"] = ErrorCode.TOO_LARGE
    # Symlinks: one to itself, a pair pointing at each other, one dangling, and a folder
    # symlinked to its own parent (a walk that followed it naively would never end).
    os.symlink("self-loop.txt", root / "self-loop.txt")
    expected["self-loop.txt"] = ErrorCode.SYMLINK_LOOP
    os.symlink("loop-b.hl7", root / "loop-a.hl7")
    os.symlink("loop-a.hl7", root / "loop-b.hl7")
    expected["loop-a.hl7"] = ErrorCode.SYMLINK_LOOP
    expected["loop-b.hl7"] = ErrorCode.SYMLINK_LOOP
    os.symlink("no-such-file.txt", root / "dangling.txt")
    expected["dangling.txt"] = ErrorCode.NOT_FOUND
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")
    (root / "sub" / "nested-good.txt").write_bytes(F.txt_bytes())
    expected["sub/nested-good.txt"] = None
    if not IS_ROOT:
        locked = root / "unreadable.txt"
        locked.write_bytes(F.txt_bytes())
        locked.chmod(0)
        expected["unreadable.txt"] = ErrorCode.PERMISSION
    return expected


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``tbs-doccheck ARGS`` in a fresh interpreter, as a user (or CI job) would run it.

    stdout is decoded strictly: results that are not valid UTF-8 fail the test right here.
    """
    raw = subprocess.run(
        [sys.executable, "-m", "tbs_doccheck", *args], capture_output=True, timeout=300, cwd=cwd, check=False
    )
    return subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode("utf-8"), raw.stderr.decode("utf-8", "backslashreplace")
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, ErrorCode | None]]:
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "reports"
    folder.mkdir()
    expected = build_hostile_folder(folder)
    yield folder, expected
    for path in folder.rglob("*"):  # let pytest clean up the unreadable file
        if not path.is_symlink() and path.is_file():
            path.chmod(0o644)


@pytest.fixture(scope="module")
def jsonl_run(hostile: tuple[Path, dict[str, ErrorCode | None]]) -> subprocess.CompletedProcess[str]:
    folder, _ = hostile
    return run_cli("check", str(folder), "--format", "jsonl")


def _rows(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_the_batch_finishes_with_exit_code_2_and_no_traceback(jsonl_run: subprocess.CompletedProcess[str]) -> None:
    assert jsonl_run.returncode == 2, jsonl_run.stderr[-3000:]
    assert "Traceback" not in jsonl_run.stderr, jsonl_run.stderr[-3000:]


def test_every_file_appears_exactly_once(
    hostile: tuple[Path, dict[str, ErrorCode | None]], jsonl_run: subprocess.CompletedProcess[str]
) -> None:
    folder, expected = hostile
    rows = _rows(jsonl_run.stdout)
    sources = [os.path.relpath(row["source"], folder) for row in rows]
    assert sorted(sources) == sorted(expected), {
        "missing": sorted(set(expected) - set(sources)),
        "unexpected": sorted(set(sources) - set(expected)),
        "twice": sorted({s for s in sources if sources.count(s) > 1}),
    }


def test_each_bad_file_is_an_error_row_with_its_code_and_a_message_naming_it(
    hostile: tuple[Path, dict[str, ErrorCode | None]], jsonl_run: subprocess.CompletedProcess[str]
) -> None:
    folder, expected = hostile
    by_source = {os.path.relpath(row["source"], folder): row for row in _rows(jsonl_run.stdout)}
    wrong = {}
    for name, code in expected.items():
        row = by_source.get(name)
        if row is None or code is None:
            continue
        problems = []
        if row["verdict"] != "error":
            problems.append(f"verdict {row['verdict']}")
        if row["error_code"] != code.value:
            problems.append(f"code {row['error_code']} (expected {code.value})")
        if not row["error"] or Path(name).name not in row["error"]:
            problems.append(f"message does not name the file: {row['error']!r}")
        if row["elements"] or row["tbs_value"] is not None:
            problems.append("carries element results")
        if row["id"] != Path(name).stem:
            problems.append(f"id {row['id']!r}")
        if problems:
            wrong[name] = problems
    assert not wrong, json.dumps(wrong, indent=1)


def test_the_good_reports_are_checked_and_pass(
    hostile: tuple[Path, dict[str, ErrorCode | None]], jsonl_run: subprocess.CompletedProcess[str]
) -> None:
    folder, expected = hostile
    by_source = {os.path.relpath(row["source"], folder): row for row in _rows(jsonl_run.stdout)}
    good = [name for name, code in expected.items() if code is None]
    assert len(good) >= 2
    verdicts = {name: (by_source[name]["verdict"], by_source[name]["missing"]) for name in good if name in by_source}
    assert verdicts == {name: ("pass", []) for name in good}


def test_the_rows_follow_a_stable_order(
    hostile: tuple[Path, dict[str, ErrorCode | None]], jsonl_run: subprocess.CompletedProcess[str]
) -> None:
    folder, _ = hostile
    again = run_cli("check", str(folder), "--format", "jsonl")
    first = [(row["source"], row["verdict"], row["error_code"]) for row in _rows(jsonl_run.stdout)]
    second = [(row["source"], row["verdict"], row["error_code"]) for row in _rows(again.stdout)]
    assert first == second


@pytest.mark.parametrize("fmt", ["text", "json", "csv"])
def test_every_output_format_survives_the_hostile_folder(
    hostile: tuple[Path, dict[str, ErrorCode | None]], fmt: str, tmp_path: Path
) -> None:
    folder, expected = hostile
    out = tmp_path / f"results.{fmt}"
    result = CliRunner().invoke(app, ["check", str(folder), "--format", fmt, "--output", str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    written = out.read_text(encoding="utf-8")
    if fmt == "json":
        assert len(json.loads(written)) == len(expected)
    elif fmt == "csv":
        import csv
        import io

        assert len(list(csv.DictReader(io.StringIO(written)))) == len(expected)
    else:
        bad = sum(code is not None for code in expected.values())
        assert f"{bad} error" in written.splitlines()[-1]


def test_a_skipped_file_type_is_named_on_stderr_but_gives_no_row(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_bytes(F.txt_bytes())
    (tmp_path / "scan.tiff").write_bytes(b"II*\x00" + bytes(100))
    (tmp_path / "notes.doc").write_bytes(F.txt_bytes())
    result = run_cli("check", str(tmp_path), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert [Path(row["source"]).name for row in _rows(result.stdout)] == ["good.txt"]
    assert "scan.tiff" in result.stderr and "notes.doc" in result.stderr


def test_a_folder_of_nothing_but_broken_files_still_lists_them_all(tmp_path: Path) -> None:
    for name in ("empty.txt", "text-named.pdf", "truncated.json", "binary.hl7"):
        (tmp_path / name).write_bytes(HOSTILE[name][0]())
    result = run_cli("check", str(tmp_path), "--format", "jsonl")
    assert result.returncode == 2
    rows = _rows(result.stdout)
    assert sorted(Path(r["source"]).name for r in rows) == [
        "binary.hl7",
        "empty.txt",
        "text-named.pdf",
        "truncated.json",
    ]
    assert {r["verdict"] for r in rows} == {"error"}


def test_paths_given_one_by_one_that_do_not_exist_are_a_usage_error_naming_them(tmp_path: Path) -> None:
    """A mistyped path stops the run before anything is checked or written (issue 14); a dangling link in a
    folder is still an E001 row (the hostile folder above)."""
    good = tmp_path / "good.txt"
    good.write_bytes(F.txt_bytes())
    result = run_cli("check", str(tmp_path / "missing.txt"), str(good), str(tmp_path / "nope"), "--format", "jsonl")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert str(tmp_path / "missing.txt") in result.stderr and str(tmp_path / "nope") in result.stderr


# --------------------------------------------------------------------------- were bugs (fixed)


def test_a_report_with_a_lone_surrogate_does_not_abort_the_batch(tmp_path: Path) -> None:
    """Was a bug: check_many raised UnicodeEncodeError in spaCy's tokenizer, aborting the batch."""
    (tmp_path / "a-good.txt").write_bytes(F.txt_bytes())
    (tmp_path / "b-surrogate.json").write_bytes(
        F.json_bytes(F.diagnostic_report(conclusion=F.REPORT_TEXT)).replace(b"TRABECULAR", b"\\ud800TRABECULAR")
    )
    (tmp_path / "c-good.txt").write_bytes(F.txt_bytes())
    result = run_cli("check", str(tmp_path), "--format", "jsonl")
    rows = _rows(result.stdout)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert [(Path(r["source"]).name, r["verdict"]) for r in rows] == [
        ("a-good.txt", "pass"),
        ("b-surrogate.json", "pass"),
        ("c-good.txt", "pass"),
    ]
    assert result.returncode == 0


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_does_not_abort_the_batch(tmp_path: Path) -> None:
    """Was a bug: the name's surrogate escape made --output raise UnicodeEncodeError (no results
    file at all) and put a raw 0xFF byte in stdout."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a-good.txt").write_bytes(F.txt_bytes())
    with open(os.fsencode(folder) + b"/b-bad-\xff-name.txt", "wb") as handle:
        handle.write(F.txt_bytes())
    (folder / "c-good.txt").write_bytes(F.txt_bytes())
    out = tmp_path / "results.jsonl"
    to_file = run_cli("check", str(folder), "--format", "jsonl", "--output", str(out))
    assert "Traceback" not in to_file.stderr, to_file.stderr[-2000:]
    assert len(_rows(out.read_bytes().decode("utf-8"))) == 3
    to_stdout = run_cli("check", str(folder), "--format", "jsonl")  # decoded strictly as UTF-8
    assert len(_rows(to_stdout.stdout)) == 3
    assert to_stdout.returncode == 0


@pytest.mark.skipif(IS_ROOT, reason="root reads any file, so permissions cannot make one unreadable")
def test_an_unreadable_file_is_a_permission_error_and_the_others_are_checked(tmp_path: Path) -> None:
    (tmp_path / "a-good.txt").write_bytes(F.txt_bytes())
    locked = tmp_path / "b-locked.txt"
    locked.write_bytes(F.txt_bytes())
    locked.chmod(0)
    try:
        result = run_cli("check", str(tmp_path), "--format", "jsonl")
    finally:
        locked.chmod(0o644)
    rows = {Path(r["source"]).name: r for r in _rows(result.stdout)}
    assert result.returncode == 2
    assert rows["b-locked.txt"]["error_code"] == ErrorCode.PERMISSION.value
    assert rows["a-good.txt"]["verdict"] == "pass"
