"""PHI hygiene: report text never reaches logs, stderr, exception messages or error rows.

A unique marker stands in for patient data. It is planted in good reports (every format)
and inside broken files of every kind (undecodable bytes, corrupt .docx, bad JSON, bad HL7,
damaged PDF/RTF...). Then the real command runs with ``-vv`` (DEBUG logging on stderr) and
the Python API runs with every logger at DEBUG and stdout/stderr captured at the file
descriptor level. The marker may show up only where it is shown by design: the evidence
and reasons of a good report's result on stdout. Error rows never carry it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from tbs_doccheck import Checker
from tbs_doccheck.models import CheckResult
from tbs_doccheck.readers import iter_inputs, read_path

try:  # the helpers sit beside this file; tests/ may or may not become a package
    from tests import formats as F
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]

MARKER = F.MARKER
MB = MARKER.encode()
#: The marker squeezed into a name-shaped token (letters and digits only): what a reader
#: might still echo if it only refused strings with punctuation in them.
MARKER_WORD = "Zzqx" + MARKER.replace("-", "").title().replace(" ", "")
LEAKS = (MARKER, MARKER_WORD)

#: The report with the marker where patient data sits (the header) and where evidence is
#: taken from (the imaging and signature lines), so good results quote it by design.
PHI_LINES = (
    f"Patient: {MARKER}   MRN {MARKER}",
    *F.REPORT_LINES[:1],
    F.REPORT_LINES[1] + f" for {MARKER}",
    *F.REPORT_LINES[2:],
)
PHI_TEXT = "\n".join(PHI_LINES) + "\n"


def _truncated(data: bytes, share: float) -> bytes:
    return data[: int(len(data) * share)]


#: Good files: read and checked; the marker may appear in their results on stdout.
GOOD: dict[str, Callable[[], bytes]] = {
    "good.txt": lambda: PHI_TEXT.encode(),
    "good-cp1252.txt": lambda: (PHI_TEXT + "caf\u00e9\n").encode("cp1252"),
    "good.docx": lambda: F.docx_bytes(PHI_LINES),
    "good.pdf": lambda: F.pdf_bytes([PHI_LINES], title=MARKER),
    "good.hl7": lambda: F.hl7_message([(MARKER, MARKER, F.report_obx_values(PHI_LINES))]).encode(),
    "good.json": lambda: F.json_bytes(F.diagnostic_report(MARKER, conclusion=PHI_TEXT)),
    "good.rtf": lambda: F.RTF_REPORT.replace("TRABECULAR", MARKER + " TRABECULAR").encode(),
    # Damaged but recoverable: pypdf logs warnings while it rebuilds the cross-reference table.
    "good-shifted-xref.pdf": lambda: F.pdf_bytes([PHI_LINES]).replace(b"%PDF-1.4\n", b"%PDF-1.4\n%" + MB + b"\n", 1),
    "good-bad-length.pdf": lambda: F.pdf_bytes([PHI_LINES])
    .replace(b"%PDF-1.4\n", b"%PDF-1.4\n%" + MB + b"\n", 1)
    .replace(b"/Length", b"/Length 99999 /Junk", 1),
}

#: Broken files, each with the marker inside: every one must become an error row without it.
BROKEN: dict[str, Callable[[], bytes]] = {
    # undecodable / binary text
    "bom-invalid-utf8.txt": lambda: b"\xef\xbb\xbf" + MB + b" \xff\xfe\xc3\x28",
    "utf16-bom-odd.txt": lambda: b"\xff\xfe" + MARKER.encode("utf-16-le") + b"!",
    "nul-bytes.txt": lambda: MB + b"\x00\x01\x02\x03" * 60,
    "controls.txt": lambda: MB + bytes(range(1, 9)) * 40,
        # .docx
    "text.docx": lambda: PHI_TEXT.encode(),
    "truncated.docx": lambda: _truncated(F.docx_bytes(PHI_LINES), 0.5),
    "zip-not-office.docx": lambda: F.zip_bytes({"notes.txt": MB, MARKER: MB}),
    "office-zip-without-document.docx": lambda: F.zip_bytes({"[Content_Types].xml": b"<Types>" + MB + b"</Types>"}),
    "bad-xml.docx": lambda: F.zip_bytes(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document>" + MB + b"<unclosed"}
    ),
    "zip-bomb.docx": F.zip_bomb_docx_bytes,
    # JSON / FHIR
    "truncated.json": lambda: _truncated(F.json_bytes(F.diagnostic_report(conclusion=PHI_TEXT)), 0.6),
    "marker-as-key.json": lambda: b'{"' + MB + b'": 1,,}',
    "latin1.json": lambda: b'{"conclusion": "' + MB + b'\xe9\xff"}',
    "array.json": lambda: F.json_bytes([MARKER]),
    "resource-type-marker.json": lambda: F.json_bytes({"resourceType": MARKER}),
    "resource-type-name-shaped.json": lambda: F.json_bytes({"resourceType": MARKER_WORD}),
    "bundle-of-name-shaped.json": lambda: F.json_bytes(F.bundle({"resourceType": MARKER_WORD})),
    "patient.json": lambda: F.json_bytes({"resourceType": "Patient", "name": [{"text": MARKER}]}),
    "no-text.json": lambda: F.json_bytes(F.diagnostic_report(MARKER, code={"text": MARKER})),
    "bad-base64.json": lambda: F.json_bytes(
        F.diagnostic_report(presentedForm=[{"contentType": "text/plain", "data": MARKER + "!"}])
    ),
    "binary-attachment.json": lambda: F.json_bytes(
        F.diagnostic_report(
            presentedForm=[
                {
                    "contentType": "text/plain",
                    "data": __import__("base64").b64encode(MB + b"\x00\x01\x02" * 50).decode(),
                }
            ]
        )
    ),
    "bundle-entry-not-list.json": lambda: F.json_bytes({"resourceType": "Bundle", "entry": MARKER}),
    "bundle-of-patients.json": lambda: F.json_bytes(F.bundle({"resourceType": "Patient", "id": MARKER})),
    "deep.json": lambda: b'{"conclusion": "' + MB + b'", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    # HL7
    "obx-before-obr.hl7": lambda: F.hl7_message([]).replace("PID|1", f"OBX|1|TX|X||{MARKER}\rPID|1").encode(),
    "nte-only.hl7": lambda: (F.hl7_message([]) + f"NTE|1||{MARKER}\r").encode(),
    "obr-without-obx.hl7": lambda: F.hl7_message([(MARKER, MARKER, [])]).encode(),
    "coded-obx-only.hl7": lambda: F.hl7_message([("P1", "F1", [("NM", "1.254"), ("CE", MARKER)])]).encode(),
    "bad-delimiters.hl7": lambda: F.hl7_report().replace("MSH|^~\\&", "MSH|^^\\&").replace("PID", MARKER).encode(),
    "marker-before-msh.hl7": lambda: (MARKER + "\r" + F.hl7_report()).encode(),
    "binary.hl7": lambda: b"MSH|" + MB + b"\x00\x01" * 100,
    "headers-only.hl7": lambda: f"FHS|^~\\&|{MARKER}\rFTS|1\r".encode(),
    "blank-text-obx.hl7": lambda: F.hl7_message([(MARKER, "F1", [("TX", "   ")])]).encode(),
    # PDF
    "text.pdf": lambda: PHI_TEXT.encode(),
    "truncated.pdf": lambda: _truncated(F.pdf_bytes([PHI_LINES]), 0.7),
    "garbage.pdf": lambda: b"%PDF-1.4\n" + MB + b"\x8f\x01 garbage (" * 20 + b"\n%%EOF\n",
    "scanned.pdf": lambda: F.pdf_bytes([[]], title=MARKER),
    "encrypted.pdf": lambda: F.encrypted_pdf_bytes(),
    "bad-xref.pdf": lambda: F.pdf_bytes([PHI_LINES]).replace(b"xref", b"xref " + MB, 1),
    # RTF
    "text.rtf": lambda: PHI_TEXT.encode(),
    "truncated.rtf": lambda: ("{\\rtf1\\ansi{\\b " + MARKER).encode(),
    "binary.rtf": lambda: b"{\\rtf1 " + MB + b"\x00\x01" * 100 + b"}",
}


def build(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in {**GOOD, **BROKEN}.items():
        (folder / name).write_bytes(make())
    # An HL7 file with a good message and a bad one: the bad one is an error row in place.
    good = F.hl7_message([("P1", "F1", F.report_obx_values(PHI_LINES))], control_id="M1")
    bad = F.hl7_message([], control_id="M2").replace("PID|1", f"OBX|1|TX|X||{MARKER}\rPID|1")
    (folder / "mixed.hl7").write_bytes((good + bad).encode())
    # A bundle with a good report and one without text.
    mixed = F.bundle(
        F.diagnostic_report("dr-1", conclusion=PHI_TEXT),
        F.diagnostic_report("dr-2", code={"text": MARKER}, presentedForm=[{"contentType": "text/plain"}]),
    )
    (folder / "mixed.json").write_bytes(F.json_bytes(mixed))


@pytest.fixture(scope="module")
def phi_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("phi") / "reports"
    build(folder)
    return folder


def _assert_error_rows_clean(rows: list[dict]) -> None:
    errors = [row for row in rows if row["verdict"] == "error"]
    leaking = [row["source"] for row in errors if any(m in json.dumps(row, ensure_ascii=False) for m in LEAKS)]
    assert not leaking, f"error rows quoting report text: {leaking}"


# --------------------------------------------------------------------------- the command


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tbs_doccheck", *args],
        check=False,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "always"},  # every warning printed, not deduplicated
    )


@pytest.fixture(scope="module")
def vv_jsonl(phi_folder: Path) -> subprocess.CompletedProcess[str]:
    return _cli("-vv", "check", str(phi_folder), "--format", "jsonl")


def test_the_run_reads_every_file_and_logs_at_debug(
    phi_folder: Path, vv_jsonl: subprocess.CompletedProcess[str]
) -> None:
    rows = [json.loads(line) for line in vv_jsonl.stdout.splitlines() if line.strip()]
    assert vv_jsonl.returncode == 2, vv_jsonl.stderr[-2000:]
    by_name: dict[str, list[dict]] = {}
    for row in rows:
        by_name.setdefault(Path(row["source"]).name, []).append(row)
    assert set(by_name) == {*GOOD, *BROKEN, "mixed.hl7", "mixed.json"}
    for name in BROKEN:
        assert [r["verdict"] for r in by_name[name]] == ["error"], name
    for name in GOOD:
        assert by_name[name][0]["verdict"] == "pass", (name, by_name[name][0]["missing"])
    assert [r["verdict"] for r in by_name["mixed.hl7"]] == ["pass", "error"]
    assert [r["verdict"] for r in by_name["mixed.json"]] == ["pass", "error"]
    # The marker does reach the results of good reports (here as the HL7 order number and the
    # FHIR resource id, which are shown by design): the checks below would prove nothing otherwise.
    assert MARKER in json.dumps([by_name["good.hl7"], by_name["good.json"]])


def test_the_marker_never_reaches_stderr_at_debug_level(vv_jsonl: subprocess.CompletedProcess[str]) -> None:
    assert MARKER not in vv_jsonl.stderr, _context(vv_jsonl.stderr)


def test_no_error_row_carries_the_marker(vv_jsonl: subprocess.CompletedProcess[str]) -> None:
    _assert_error_rows_clean([json.loads(line) for line in vv_jsonl.stdout.splitlines() if line.strip()])


@pytest.mark.parametrize("fmt", ["text", "csv"])
def test_error_lines_of_the_other_formats_are_clean_too(phi_folder: Path, fmt: str) -> None:
    result = _cli("-vv", "check", str(phi_folder), "--format", fmt)
    assert MARKER not in result.stderr, _context(result.stderr)
    error_lines = [line for line in result.stdout.splitlines() if "ERROR" in line or ",error," in line]
    assert len(error_lines) >= len(BROKEN)
    assert not [line for line in error_lines if MARKER in line]


def test_an_output_file_run_prints_nothing_of_the_reports(phi_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    result = _cli("-vv", "check", str(phi_folder), "--format", "jsonl", "--output", str(out))
    assert result.returncode == 2
    assert MARKER not in result.stdout + result.stderr, _context(result.stdout + result.stderr)
    _assert_error_rows_clean([json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()])


def _context(text: str, width: int = 300) -> str:
    at = text.find(MARKER)
    return text[max(0, at - width) : at + width] if at >= 0 else ""


# --------------------------------------------------------------------------- the Python API


def test_the_api_at_debug_level_logs_and_prints_nothing_of_the_reports(
    phi_folder: Path, checker: Checker, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    loggers = [logging.getLogger(name) for name in ("", "tbs_doccheck", "pypdf", "docx", "hl7", "medspacy", "spacy")]
    old = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            inputs = list(iter_inputs([phi_folder]))
            batch = list(checker.check_many(inputs))
            one_by_one = [checker.check_input(report) for report in inputs]
            singles = [r for path in sorted(phi_folder.iterdir()) for r in read_path(path)]
    finally:
        for lg, level in zip(loggers, old, strict=True):
            lg.setLevel(level)
    captured = capfd.readouterr()
    assert MARKER not in caplog.text, _context(caplog.text)
    assert MARKER not in captured.out + captured.err, _context(captured.out + captured.err)
    assert not [str(w.message) for w in caught if MARKER in str(w.message)]
    assert [r.model_dump() for r in batch] == [r.model_dump() for r in one_by_one]
    assert len(singles) == len(inputs)
    for report in inputs:
        if report.error is not None:
            assert not any(m in report.error.model_dump_json() for m in LEAKS), report.source
    _assert_error_rows_clean([r.model_dump(mode="json") for r in batch])
    assert sum(r.verdict == "error" for r in batch) == len(BROKEN) + 2  # + one in each mixed container


def test_error_results_built_by_the_api_carry_only_the_read_error(phi_folder: Path, checker: Checker) -> None:
    for path in sorted(phi_folder.iterdir()):
        for report in read_path(path):
            result: CheckResult = checker.check_input(report)
            if result.verdict == "error":
                assert result.error and path.name in result.error
                assert result.elements == {} and result.signer is None and result.tbs_value is None
                assert not any(m in result.model_dump_json() for m in LEAKS)


SURROGATE_TEXTS = [
    f"{MARKER}\ud800",
    f"TBS L1-L4: 1.254 {MARKER} \udcff",
    f"Electronically signed by {MARKER}\ud83d, MD",
]


@pytest.mark.parametrize("text", SURROGATE_TEXTS, ids=["glued", "spaced", "signature"])
def test_when_checking_fails_the_exception_says_nothing_of_the_text(
    checker: Checker, text: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """A text the pipeline cannot take (a lone surrogate: a known bug, see test_fuzz.py) must
    fail without quoting the report in the exception, its traceback or the logs."""
    with caplog.at_level(logging.DEBUG):
        try:
            checker.check_text(text)
        except Exception as exc:  # noqa: BLE001 - what matters is what the exception shows
            # What a traceback or log.exception() shows. (The exception object itself still holds
            # the token in .object, so repr(exc) would quote it: never log repr of it.)
            shown = str(exc) + "".join(traceback.format_exception(exc))
            assert MARKER not in shown, shown[-2000:]
    captured = capfd.readouterr()
    assert MARKER not in caplog.text + captured.out + captured.err


class _FailingPipeline:
    """Stands in for the spaCy pipeline and fails the way a library might: quoting the text."""

    def __call__(self, text: str) -> None:
        raise RuntimeError(f"cannot process {text[:200]!r}")

    def pipe(self, texts, batch_size: int = 32):  # mirrors Language.pipe
        for text in texts:
            raise ValueError(f"bad document: {text[:200]}")
        return iter(())


def test_an_internal_error_while_checking_becomes_an_error_row_that_quotes_nothing(
    checker: Checker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from tbs_doccheck.models import ErrorCode, ReportInput

    monkeypatch.setattr(checker, "nlp", _FailingPipeline())
    inputs = [
        ReportInput(id="r1", text=PHI_TEXT, source="r1.txt"),
        ReportInput(id="r2", source="r2.txt", error=None, text=f"second {MARKER}"),
    ]
    with caplog.at_level(logging.DEBUG):
        results = list(checker.check_many(inputs))
    captured = capfd.readouterr()
    assert [(r.id, r.verdict, r.error_code) for r in results] == [
        ("r1", "error", ErrorCode.INTERNAL),
        ("r2", "error", ErrorCode.INTERNAL),
    ]
    assert all(r.error and r.source in r.error for r in results)
    _assert_error_rows_clean([r.model_dump(mode="json") for r in results])
    assert MARKER not in caplog.text + captured.out + captured.err, _context(caplog.text + captured.err)
