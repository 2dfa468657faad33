"""The four outputs (results.jsonl, results.csv, summary.json, report.html): counters, temp files, writing."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Self

from pydantic import ValidationError

from tbs_doccheck.audit.journal import _journal_records, _json_text, _sync
from tbs_doccheck.models import AuditSummary, CheckResult, SignerStats
from tbs_doccheck.render import html as report_html
from tbs_doccheck.render.tabular import CSV_COLUMNS, csv_row

#: The files an audit leaves in its output folder.
OUTPUT_NAMES = ("results.jsonl", "results.csv", "summary.json", "report.html")
# Every temporary file starts with this, so a run can sweep up what a killed run left.
_TMP_PREFIX = ".audit-tmp-"


def _load_result(line: str) -> CheckResult:
    try:
        return CheckResult.model_validate_json(line)  # the fast path
    except ValidationError:
        # pydantic's JSON parser refuses lone-surrogate escapes that json reads back fine.
        return CheckResult.model_validate(json.loads(line))


class _Tally:
    """The summary's counters: everything the summary needs, nothing per report."""

    def __init__(self) -> None:
        self.verdicts: Counter[str] = Counter()
        self.missing: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.signers: dict[str, SignerStats] = {}
        self.needs_review = 0
        self.flags: Counter[str] = Counter()

    def add(self, result: CheckResult) -> None:
        self.verdicts[result.verdict] += 1
        if result.verdict == "error":
            self.errors[result.error_code.value if result.error_code else "unknown"] += 1
            return
        self.missing.update(result.missing)
        self.needs_review += result.needs_review
        self.flags.update(f.id for f in result.flags)
        name = "(no signer found)"
        if result.signer:
            name = result.signer.name + (f", {result.signer.credential}" if result.signer.credential else "")
        stats = self.signers.setdefault(name, SignerStats())
        stats.reports += 1
        stats.failed += result.verdict == "fail"


def _tmp_path(out_dir: Path, name: str) -> Path:
    return out_dir / f"{_TMP_PREFIX}{os.getpid()}-{name}"


def _sweep_tmp(out_dir: Path) -> None:
    """Removes temporary files a killed run left (a normal run removes its own)."""
    for leftover in out_dir.glob(f"{_TMP_PREFIX}*"):
        leftover.unlink(missing_ok=True)


@contextmanager
def _temp_files(out_dir: Path, names: Iterable[str]) -> Iterator[dict[str, Path]]:
    """Temporary paths in ``out_dir``, deleted on the way out whatever happens."""
    paths = {name: _tmp_path(out_dir, name) for name in names}
    try:
        yield paths
    finally:
        for path in paths.values():
            path.unlink(missing_ok=True)


class _Outputs:
    """The four outputs, written record by record into temporary files and renamed into place at the end.

    A context manager: on the way out the temporary files are deleted whatever happened, so a
    failed run leaves only its journal (and :meth:`finish` has renamed them on success).
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.tally = _Tally()
        self._stack = ExitStack()

    def __enter__(self) -> Self:
        stack = self._stack
        try:
            self.tmp = stack.enter_context(_temp_files(self.out_dir, ("sections.html", *OUTPUT_NAMES)))
            self.jsonl = stack.enter_context(open(self.tmp["results.jsonl"], "w", encoding="utf-8"))
            # A byte-order mark is how Excel knows the file is UTF-8 (accented names stay intact);
            # CRLF rows (the csv default) are what RFC 4180 and spreadsheets expect.
            # errors="replace": a file name that is not UTF-8 shows as "?" in the CSV and the page
            # (results.jsonl keeps it exactly, as \u escapes) instead of stopping the audit.
            self.csv_file = stack.enter_context(
                open(self.tmp["results.csv"], "w", encoding="utf-8-sig", errors="replace", newline="")
            )
            self.sections = stack.enter_context(
                open(self.tmp["sections.html"], "w+", encoding="utf-8", errors="replace")
            )
        except BaseException:
            stack.close()
            raise
        self.writer = csv.writer(self.csv_file)
        self.writer.writerow(CSV_COLUMNS)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def add(self, record: dict[str, Any]) -> None:
        """Write one journal record's results (one file's reports)."""
        for line, html in zip(record["results"], record["html"], strict=True):
            result = _load_result(line)
            self.jsonl.write(line + "\n")
            self.writer.writerow(csv_row(result))
            self.sections.write(html)
            self.tally.add(result)

    def finish(self, make_summary: Callable[[_Tally], AuditSummary]) -> AuditSummary:
        """Write the page and the summary, then move all four outputs into place."""
        summary = make_summary(self.tally)
        self.sections.seek(0)
        with open(self.tmp["report.html"], "w", encoding="utf-8", errors="replace") as page:
            report_html.write_document(page, summary, self.sections)
            _sync(page)
        with open(self.tmp["summary.json"], "w", encoding="utf-8") as fh:
            fh.write(_json_text(summary.model_dump(mode="json"), indent=2) + "\n")
            _sync(fh)
        for fh in (self.jsonl, self.csv_file):
            _sync(fh)
        for name in OUTPUT_NAMES:
            os.replace(self.tmp[name], self.out_dir / name)
        return summary


def _write_outputs(
    outputs: _Outputs,
    journal: Path | None,
    order: Sequence[str],
    make_summary: Callable[[_Tally], AuditSummary],
    on_file: Callable[[], None],
) -> AuditSummary:
    """Completes ``outputs`` and returns the summary.

    ``journal`` is where the results are read from first (after a resume); None when they were
    added as files finished.
    """
    if journal is not None:
        for record in _journal_records(journal, order):
            outputs.add(record)
            on_file()
    return outputs.finish(make_summary)
