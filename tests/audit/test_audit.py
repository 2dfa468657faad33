"""The audit: every file in a mixed folder becomes rows, outputs are atomic, killed runs resume."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tbs_doccheck.audit import AuditError, AuditSummary, run_audit
from tbs_doccheck.audit import journal as audit_journal
from tbs_doccheck.audit import outputs as audit_outputs
from tbs_doccheck.audit import run as audit_run
from tbs_doccheck.audit import workers as audit_workers
from tbs_doccheck.audit.journal import JOURNAL_NAME
from tbs_doccheck.audit.outputs import OUTPUT_NAMES
from tbs_doccheck.cli.app import app
from tbs_doccheck.models import ELEMENT_IDS, CheckResult, ErrorCode
from tbs_doccheck.readers import discover
from tbs_doccheck.render import html as report_html
from tbs_doccheck.render.tabular import CSV_COLUMNS

try:  # the helpers sit beside this file; tests/ may or may not become a package
    from tests import formats as F
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]

MARKER = F.MARKER

#: The good report without its signing line: fails on ``signature`` alone.
UNSIGNED_LINES = F.REPORT_LINES[:-1]
UNSIGNED_TEXT = "\n".join(UNSIGNED_LINES) + "\n"

#: Readable files of every format: name -> (bytes, the plain texts of its reports in order).
GOOD: dict[str, tuple[Callable[[], bytes], list[str]]] = {
    "a/report.txt": (lambda: F.txt_bytes(), [F.REPORT_TEXT]),
    "a/unsigned.txt": (lambda: F.txt_bytes(UNSIGNED_TEXT), [UNSIGNED_TEXT]),
    "a/utf16.txt": (lambda: F.txt_bytes(encoding="utf-16"), [F.REPORT_TEXT]),
    "b/report.docx": (lambda: F.docx_bytes(), [F.REPORT_TEXT]),
    "b/unsigned.docx": (lambda: F.docx_bytes(UNSIGNED_LINES), [UNSIGNED_TEXT]),
    "b/report.pdf": (lambda: F.pdf_bytes(), [F.REPORT_TEXT]),
    "b/report.rtf": (lambda: F.RTF_REPORT.encode("ascii"), [F.REPORT_TEXT]),
    "c/deeper/two-orders.hl7": (
        lambda: F.hl7_message(
            [
                ("PLAC-1", "FILL-1", F.report_obx_values()),
                ("PLAC-2", "FILL-2", F.report_obx_values(UNSIGNED_LINES)),
            ]
        ).encode(),
        [F.REPORT_TEXT, UNSIGNED_TEXT],
    ),
    "c/single.json": (
        lambda: F.json_bytes(F.diagnostic_report(presentedForm=[F.attachment("text/plain", F.REPORT_TEXT)])),
        [F.REPORT_TEXT],
    ),
    "c/bundle.json": (
        lambda: F.json_bytes(
            F.bundle(
                F.diagnostic_report("one", presentedForm=[F.attachment("text/plain", UNSIGNED_TEXT)]),
                F.diagnostic_report("two", presentedForm=[F.attachment("text/plain", F.REPORT_TEXT)]),
            )
        ),
        [UNSIGNED_TEXT, F.REPORT_TEXT],
    ),
}

#: Files that cannot be read: name -> (bytes, the error code they must get). Each holds
#: the marker where it can, which must never reach a message or a log.
BROKEN: dict[str, tuple[Callable[[], bytes], ErrorCode]] = {
    "broken/empty.txt": (lambda: b"", ErrorCode.EMPTY),
    "broken/binary.txt": (lambda: MARKER.encode() + b"\x00\x01\x02\x03" * 50, ErrorCode.BINARY),
    "broken/undecodable.txt": (lambda: b"\xef\xbb\xbf" + MARKER.encode() + b"\xff\xfe\xfd", ErrorCode.UNDECODABLE),
    "broken/corrupt.docx": (lambda: F.txt_bytes(MARKER), ErrorCode.CORRUPT_DOCX),
    "broken/corrupt.pdf": (lambda: F.txt_bytes(MARKER), ErrorCode.CORRUPT_PDF),
    "broken/invalid.json": (lambda: b'{"resourceType": "DiagnosticReport", ' + MARKER.encode(), ErrorCode.BAD_JSON),
    "broken/too-large.txt": (lambda: F.txt_bytes(F.REPORT_TEXT + MARKER * 6_000), ErrorCode.TOO_LARGE),
}

#: Files the audit passes over (listed as skipped, never read).
SKIPPED = ("a/scan.png", "a/notes.md", "a/.hidden.txt")

#: Small enough that too-large.txt is over it, large enough for every other file.
MAX_BYTES = 100_000


def build_mixed_folder(root: Path) -> Path:
    """A folder holding every format, broken files and files of other types."""
    for name, (make, _texts) in GOOD.items():
        _write(root / name, make())
    for name, (make, _code) in BROKEN.items():
        _write(root / name, make())
    for name in SKIPPED:
        _write(root / name, b"\x89PNG\r\n\x1a\n" if name.endswith(".png") else b"not a report")
    return root


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def by_file(rows: list[dict], root: Path) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(Path(row["source"]).relative_to(root).as_posix(), []).append(row)
    return grouped


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, AuditSummary]:
    """One audit of the mixed folder, shared by the tests that only read its outputs."""
    root = build_mixed_folder(tmp_path_factory.mktemp("reports"))
    out = tmp_path_factory.mktemp("audit") / "out"
    summary = run_audit([root], out, max_bytes=MAX_BYTES, progress=False)
    return root, out, summary


# --------------------------------------------------------------------------- nothing lost


def test_every_file_found_appears_in_the_results_once_per_report(mixed) -> None:
    root, out, _ = mixed
    rows = by_file(read_jsonl(out / "results.jsonl"), root)
    expected = {name: len(texts) for name, (_make, texts) in GOOD.items()} | {name: 1 for name in BROKEN}
    assert {name: len(found) for name, found in rows.items()} == expected


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_an_unreadable_file_is_an_error_row_with_its_code_and_a_reason(mixed, name: str) -> None:
    root, out, _ = mixed
    (row,) = by_file(read_jsonl(out / "results.jsonl"), root)[name]
    assert row["verdict"] == "error"
    assert row["error_code"] == BROKEN[name][1].value
    assert Path(name).name in row["error"] and len(row["error"]) > len(str(root / name)) + 5
    assert MARKER not in row["error"]


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_readable_file_gets_the_verdicts_the_checker_gives_on_its_plain_text(mixed, checker, name: str) -> None:
    root, out, _ = mixed
    rows = by_file(read_jsonl(out / "results.jsonl"), root)[name]
    texts = GOOD[name][1]
    for position, (row, text) in enumerate(zip(rows, texts, strict=True), start=1):
        plain = checker.check_text(text)
        assert row["source"] == str(root / name)
        assert row["position"] == (position if len(texts) > 1 else None)
        assert (row["verdict"], row["missing"], row["tbs_value"], row["signer"]) == (
            plain.verdict,
            plain.missing,
            plain.tbs_value,
            plain.model_dump(mode="json")["signer"],
        )


def test_results_come_in_path_then_position_order(mixed) -> None:
    root, out, _ = mixed
    rows = read_jsonl(out / "results.jsonl")
    supported, _skipped = discover([root])
    keys = [(Path(r["source"]), r["position"] or 0) for r in rows]
    assert keys == sorted(keys)
    assert [s for s in dict.fromkeys(r["source"] for r in rows)] == [str(p) for p in supported]


def test_the_csv_opens_in_a_spreadsheet_with_one_row_per_result_in_order(mixed) -> None:
    _root, out, _ = mixed
    rows = read_jsonl(out / "results.jsonl")
    assert (out / "results.csv").read_bytes().startswith(b"\xef\xbb\xbfid,")  # Excel reads it as UTF-8
    with open(out / "results.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == CSV_COLUMNS
    assert [(r[0], r[1], r[3]) for r in table[1:]] == [(r["id"], r["source"], r["verdict"]) for r in rows]


def test_the_summary_counts_what_the_results_hold(mixed) -> None:
    root, out, summary = mixed
    rows = read_jsonl(out / "results.jsonl")
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    verdicts = Counter(r["verdict"] for r in rows)
    assert written == json.loads(summary.model_dump_json())
    assert (written["files"], written["reports"]) == (len(GOOD) + len(BROKEN), len(rows))
    assert (written["passed"], written["failed"], written["errors"]) == (
        verdicts["pass"],
        verdicts["fail"],
        verdicts["error"],
    )
    assert written["pass_rate"] == round(verdicts["pass"] / len(rows), 4)
    assert written["missing_by_element"] == {e: sum(e in r["missing"] for r in rows) for e in ELEMENT_IDS}
    assert written["errors_by_code"] == dict(Counter(code.value for _make, code in BROKEN.values()))
    assert sorted(Path(p).relative_to(root).as_posix() for p in written["skipped"]) == sorted(SKIPPED)
    assert written["by_signer"]["Jane Roe, MD"] == {"reports": verdicts["pass"], "failed": 0}
    assert written["by_signer"]["(no signer found)"]["failed"] == verdicts["fail"]
    assert set(written["versions"]) == {"tool_version", "patterns_version"}
    assert written["elapsed_seconds"] > 0 and summary.errors > 0


def test_the_output_folder_holds_only_the_four_outputs_after_a_run(mixed) -> None:
    _root, out, _ = mixed
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_NAMES)


def test_two_workers_write_the_same_results_as_one(mixed, tmp_path: Path) -> None:
    root, out, _ = mixed
    two = run_audit([root], tmp_path / "two", workers=2, max_bytes=MAX_BYTES, progress=False)
    assert two.workers == 2
    for name in ("results.jsonl", "results.csv"):
        assert (tmp_path / "two" / name).read_bytes() == (out / name).read_bytes()


def test_workers_replaced_by_fresh_ones_every_few_files_write_the_same_results_as_one(
    mixed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out, _ = mixed
    started: list[int] = []

    class CountedPool(audit_workers.ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            started.append(len(started))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audit_workers, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(audit_workers, "_FILES_PER_TASK", 2)
    monkeypatch.setattr(audit_workers, "_FILES_PER_WORKER_LIFE", 2)  # two workers: a new pool every 2 tasks
    summary = run_audit([root], tmp_path / "recycled", workers=2, max_bytes=MAX_BYTES, progress=False)
    assert len(started) == -(-summary.files // 4) >= 3
    for name in ("results.jsonl", "results.csv"):
        assert (tmp_path / "recycled" / name).read_bytes() == (out / name).read_bytes()


def test_a_fresh_run_writes_its_outputs_as_files_finish_without_reading_the_journal_back(
    mixed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, clean, _ = mixed

    def read_back(*_args: object) -> None:
        raise AssertionError("the journal was read back")

    # Patched where the outputs look it up: the journal module's own name is not the one they call.
    monkeypatch.setattr(audit_outputs, "_journal_records", read_back)
    run_audit([root], tmp_path / "out", max_bytes=MAX_BYTES, progress=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(OUTPUT_NAMES)
    for name in ("results.jsonl", "results.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (clean / name).read_bytes()


# --------------------------------------------------------------------------- atomic, resumable


def test_a_failure_while_writing_outputs_leaves_no_temp_file_and_resume_redoes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build_mixed_folder(tmp_path / "reports")
    out = tmp_path / "out"

    def broken_page(*_args: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(report_html, "write_document", broken_page)
        with pytest.raises(OSError, match="disk full"):
            run_audit([root], out, max_bytes=MAX_BYTES, progress=False)
    assert sorted(p.name for p in out.iterdir()) == [JOURNAL_NAME]

    def no_checking(*_args: object) -> None:
        raise AssertionError("a file was checked again")

    monkeypatch.setattr(audit_workers._Pipeline, "run", no_checking)
    summary = run_audit([root], out, resume=True, max_bytes=MAX_BYTES, progress=False)
    assert summary.resumed and summary.resumed_files == summary.files == len(GOOD) + len(BROKEN)
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_NAMES)


def test_resume_ignores_a_torn_last_journal_line_and_checks_only_that_file(
    mixed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, clean, _ = mixed
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        # Patched where run_audit looks it up (outputs defines it).
        patch.setattr(audit_run, "_write_outputs", lambda *_a: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            run_audit([root], out, max_bytes=MAX_BYTES, progress=False)
    journal = out / JOURNAL_NAME
    data = journal.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    journal.write_bytes(data[: last_start + (len(data) - last_start) // 2])  # a kill mid-write

    summary = run_audit([root], out, resume=True, max_bytes=MAX_BYTES, progress=False)
    assert summary.resumed_files == summary.files - 1
    for name in ("results.jsonl", "results.csv"):
        assert (out / name).read_bytes() == (clean / name).read_bytes()


def test_a_run_without_resume_starts_over_instead_of_using_an_old_journal(mixed, tmp_path: Path) -> None:
    root, clean, _ = mixed
    out = tmp_path / "out"
    out.mkdir()
    (out / JOURNAL_NAME).write_text('{"journal": 1, "tool_version": "x"}\n{"source": "gone.txt"', encoding="utf-8")
    (out / ".audit-tmp-1-results.csv").write_text("left by a killed run", encoding="utf-8")
    summary = run_audit([root], out, max_bytes=MAX_BYTES, progress=False)
    assert not summary.resumed
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_NAMES)
    assert (out / "results.jsonl").read_bytes() == (clean / "results.jsonl").read_bytes()


def test_resume_starts_over_when_the_journal_came_from_another_pattern_version(
    mixed, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root, clean, _ = mixed
    out = tmp_path / "out"
    out.mkdir()
    header = {
        "journal": audit_journal._JOURNAL_FORMAT, "tool_version": "0", "patterns_version": "old", "max_bytes": MAX_BYTES
    }
    stale = {"source": str(root / "a" / "report.txt"), "results": ["{}"], "html": [""]}
    (out / JOURNAL_NAME).write_text(json.dumps(header) + "\n" + json.dumps(stale) + "\n", encoding="utf-8")
    summary = run_audit([root], out, resume=True, max_bytes=MAX_BYTES, progress=False)
    assert summary.resumed_files == 0
    assert "starting over" in caplog.text
    assert (out / "results.jsonl").read_bytes() == (clean / "results.jsonl").read_bytes()


def _many_reports(root: Path, count: int) -> list[Path]:
    """``count`` small, varied reports: different TBS values, some missing one element."""
    paths = []
    for n in range(count):
        lines = list(F.REPORT_LINES)
        lines[2] = f"TBS L1-L4: {1.1 + (n % 300) / 1000:.3f}"
        if n % 5 == 4:
            del lines[1 + n % 6]
        path = root / f"batch-{n // 100}" / f"r{n:04d}.txt"
        _write(path, ("\n".join(lines) + "\n").encode())
        paths.append(path)
    return paths


def test_resume_after_the_folder_changed_writes_results_in_the_new_order_and_drops_removed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = build_mixed_folder(tmp_path / "reports")
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        # Patched where run_audit looks it up (outputs defines it).
        patch.setattr(audit_run, "_write_outputs", lambda *_a: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            run_audit([root], out, max_bytes=MAX_BYTES, progress=False)
    # Between the runs one file goes and one comes that sorts first: the journal is no longer in order.
    (root / "a/unsigned.txt").unlink()
    _write(root / "0-first.txt", F.txt_bytes())

    with caplog.at_level(logging.WARNING, logger="tbs_doccheck"):
        resumed = run_audit([root], out, resume=True, max_bytes=MAX_BYTES, progress=False)
    clean = run_audit([root], tmp_path / "clean", max_bytes=MAX_BYTES, progress=False)

    assert resumed.resumed_files == resumed.files - 1 == clean.files - 1
    for name in ("results.jsonl", "results.csv"):
        assert (out / name).read_bytes() == (tmp_path / "clean" / name).read_bytes()
    assert read_jsonl(out / "results.jsonl")[0]["source"] == str(root / "0-first.txt")
    assert "1 files in the journal are no longer among the inputs" in caplog.text


@pytest.mark.slow
def test_an_audit_killed_midway_and_resumed_gives_exactly_one_row_per_file(tmp_path: Path) -> None:
    paths = _many_reports(tmp_path / "reports", 300)
    out = tmp_path / "out"
    journal = out / JOURNAL_NAME
    proc = subprocess.Popen(
        [sys.executable, "-m", "tbs_doccheck", "audit", str(tmp_path / "reports"), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so the kill reaches only what it started
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            # Two tasks' worth of files done: early, so even a fast checker is still mid-run.
            if journal.exists() and journal.read_bytes().count(b"\n") > 2 * audit_workers._FILES_PER_TASK:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the audit finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "results.jsonl").exists()
    done_before = journal.read_bytes().count(b"\n") - 1  # the header is not a file

    summary = run_audit([tmp_path / "reports"], out, resume=True, progress=False)
    rows = read_jsonl(out / "results.jsonl")
    assert [r["source"] for r in rows] == [str(p) for p in sorted(paths)]
    assert summary.files == summary.reports == len(paths)
    assert 2 * audit_workers._FILES_PER_TASK <= summary.resumed_files <= done_before < len(paths)
    assert not journal.exists()


# --------------------------------------------------------------------------- the command


@pytest.mark.parametrize(
    ("files", "extra", "code"),
    [
        ({"r.txt": F.REPORT_TEXT.encode()}, [], 0),
        ({"r.txt": F.REPORT_TEXT.encode(), "u.txt": UNSIGNED_TEXT.encode()}, [], 1),
        ({"r.txt": F.REPORT_TEXT.encode(), "e.txt": b""}, [], 2),
        ({"u.txt": UNSIGNED_TEXT.encode(), "e.txt": b""}, ["--exit-zero"], 0),
        ({"notes.md": b"no reports here"}, [], 2),
    ],
    ids=["all-pass", "some-fail", "some-error", "exit-zero", "nothing-to-audit"],
)
def test_the_audit_command_exits_like_check(
    tmp_path: Path, files: dict[str, bytes], extra: list[str], code: int
) -> None:
    for name, data in files.items():
        _write(tmp_path / "in" / name, data)
    result = CliRunner().invoke(app, ["audit", str(tmp_path / "in"), "--out", str(tmp_path / "out"), *extra])
    assert result.exit_code == code, result.output
    if code == 2 and "e.txt" not in files:
        assert "no supported report files" in result.output
    else:
        assert f"{len(files)} report(s) in {len(files)} file(s)" in result.stdout


def test_report_text_reaches_report_html_but_never_logs_or_the_terminal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_report = F.REPORT_TEXT.replace("TRABECULAR", f"Patient {MARKER} TRABECULAR")
    _write(tmp_path / "in" / "good.txt", secret_report.encode())
    for name, (make, _code) in BROKEN.items():
        _write(tmp_path / "in" / name, make())
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(
        app, ["-vv", "audit", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--max-bytes", str(MAX_BYTES)]
    )
    captured = capsys.readouterr()
    assert result.exit_code == 2
    for where in (result.output, caplog.text, captured.out, captured.err):
        assert MARKER not in where
    assert MARKER in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_names_and_texts_that_utf8_cannot_hold_still_give_their_rows(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    latin1_name = folder / os.fsdecode(b"caf\xe9-report.txt")  # a file name that is not UTF-8
    latin1_name.write_bytes(F.txt_bytes())
    # JSON may escape a lone surrogate ("\ud800"): in an id, and in the text the checker reads.
    odd_id = folder / "odd-id.json"
    odd_id.write_bytes(
        F.json_bytes(F.diagnostic_report("tbs-\ud800", presentedForm=[F.attachment("text/plain", F.REPORT_TEXT)]))
    )
    odd_text = folder / "odd-text.json"
    odd_text.write_bytes(F.json_bytes(F.diagnostic_report("t", conclusion=F.REPORT_TEXT + "\ud800")))

    summary = run_audit([folder], tmp_path / "out", progress=False)

    rows = {r["source"]: r for r in read_jsonl(tmp_path / "out" / "results.jsonl")}
    assert set(rows) == {str(latin1_name), str(odd_id), str(odd_text)}
    assert rows[str(latin1_name)]["verdict"] == rows[str(odd_id)]["verdict"] == "pass"
    assert rows[str(odd_id)]["id"] == "tbs-\ufffd"  # the reader replaces a lone surrogate, keeping the row
    assert rows[str(odd_text)]["verdict"] == "pass"
    assert summary.files == summary.reports == 3
    for name in OUTPUT_NAMES:
        (tmp_path / "out" / name).read_text(encoding="utf-8")  # every output is valid UTF-8


def test_audit_outputs_among_the_inputs_are_skipped_not_audited(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "r.txt", F.REPORT_TEXT.encode())
    first = run_audit([tmp_path / "in"], tmp_path / "in" / "audit", progress=False)
    second = run_audit([tmp_path / "in"], tmp_path / "in" / "audit", progress=False)
    assert first.reports == second.reports == 1
    assert str(tmp_path / "in" / "audit" / "summary.json") in second.skipped


def test_an_output_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "r.txt", F.REPORT_TEXT.encode())
    _write(tmp_path / "taken", b"")
    with pytest.raises(AuditError, match="output folder"):
        run_audit([tmp_path / "in"], tmp_path / "taken", progress=False)


def test_the_progress_bar_goes_to_stderr_and_results_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "in" / "r.txt", F.REPORT_TEXT.encode())
    run_audit([tmp_path / "in"], tmp_path / "out", progress=True)
    captured = capsys.readouterr()
    assert "Checking" in captured.err and captured.out == ""


# --------------------------------------------------------------------------- the HTML


def _result_with(text: str, spans: dict[str, list[tuple[str, bool]]]) -> CheckResult:
    """A result whose evidence is the given words (each found in ``text``), per element."""
    elements = {}
    for element in ELEMENT_IDS:
        evidence, rejected = [], []
        for words, counts in spans.get(element, []):
            start = text.index(words)
            item = {
                "text": words,
                "start": start,
                "end": start + len(words),
                "rule_id": f"R-{element}",
                "reason": "why it counts" if counts else "does not count: a prior study",
            }
            (evidence if counts else rejected).append(item)
        elements[element] = {
            "satisfied": bool(evidence),
            "reason": f"{element} reason",
            "evidence": evidence,
            "rejected": rejected,
        }
    return CheckResult.model_validate(
        {
            "id": "r",
            "verdict": "fail",
            "elements": elements,
            "missing": [],
            "tool_version": "t",
            "patterns_version": "p",
        }
    )


def _spelled(html: str) -> dict[str, str]:
    """For each evidence key in ``html``, the words its marked pieces spell."""
    import re

    words: dict[str, str] = {}
    for keys, piece in re.findall(r'data-ev="([^"]*)"[^>]*>([^<]*)</mark>', html):
        for key in keys.split():
            words[key] = words.get(key, "") + piece
    return words


def test_overlapping_evidence_is_highlighted_so_each_span_spells_its_words() -> None:
    text = "Plan: treatment advised; prior DXA 2019."
    result = _result_with(
        text,
        {
            "recommendations": [("treatment", True), ("treatment advised", True), ("advised", True)],
            "imaging_source": [("DXA", False)],
        },
    )
    html = report_html.highlight(text, result)
    assert sorted(_spelled(html).values()) == sorted(["treatment", "treatment advised", "advised", "DXA"])
    assert '<mark class="ev el-imaging_source rej"' in html
    assert "does not count: a prior study" in html


def test_everything_from_a_report_is_html_escaped(tmp_path: Path) -> None:
    hostile = F.REPORT_TEXT.replace("TRABECULAR", '<script>alert("x")</script> TRABECULAR')
    _write(tmp_path / "in" / '<img src=x onerror="alert(1)">.txt', hostile.encode())
    run_audit([tmp_path / "in"], tmp_path / "out", progress=False)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # the page's own filter script
    assert "http://" not in page and "https://" not in page


def test_a_worker_checks_with_the_checker_its_fork_server_already_built() -> None:
    # Building a second one per worker cost ~0.5 s of start-up and tens of MB per worker.
    from tbs_doccheck.checker.core import get_checker

    previous = signal.getsignal(signal.SIGINT)
    try:
        audit_workers._init_worker(1_000_000)
        assert audit_workers._worker is not None and audit_workers._worker.checker is get_checker()
    finally:
        signal.signal(signal.SIGINT, previous)
        audit_workers._worker = None
