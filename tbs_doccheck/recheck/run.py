"""``recheck AUDIT_DIR``: check again only the files that changed since their results were made, rewrite the
audit's outputs, and close the queries whose reports now pass."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tbs_doccheck.audit.outputs import OUTPUT_NAMES, _Outputs, _sweep_tmp
from tbs_doccheck.audit.run import _Plan, _summarise, _versions
from tbs_doccheck.audit.workers import _Pipeline
from tbs_doccheck.models import AuditSummary, CheckResult
from tbs_doccheck.queries.build import parse_result, query_id, signer_of, summary_data
from tbs_doccheck.queries.worklist import (
    FILE_MISSING,
    OPEN,
    QUERIES_DIR,
    RESOLVED,
    QueryError,
    WorklistRow,
    file_hash,
    read_manifest,
    read_worklist,
    report_key,
    write_manifest,
    write_summary,
    write_worklist,
)
from tbs_doccheck.readers import DEFAULT_MAX_BYTES, discover_sources, path_order, read_path

log = logging.getLogger(__name__)


@dataclass
class RecheckReport:
    """What a recheck found."""

    checked_files: int = 0  # files checked again: changed or new
    unchanged_files: int = 0
    removed_files: int = 0
    resolved: list[str] = field(default_factory=list)  # query ids now closed
    still_failing: int = 0  # open queries whose reports still fail (amended or not)
    amended_still_failing: int = 0  # ...of which the file changed
    new: int = 0  # failing reports, in files checked again, that have no query yet
    file_missing: int = 0
    summary: AuditSummary | None = None
    stale_versions: bool = False  # unchanged files' results come from another checker version


def _is_output(source: str, audit: Path) -> bool:
    """Whether ``source`` is something an audit or its queries wrote, not a report."""
    path = Path(source)
    if os.path.abspath(path.parent) == os.path.abspath(audit / QUERIES_DIR):
        return True
    if path.name not in OUTPUT_NAMES:
        return False
    return os.path.abspath(path.parent) == os.path.abspath(audit) or (path.parent / "results.jsonl").is_file()


def _old_results(audit: Path) -> dict[str, list[str]]:
    """The audit's results.jsonl lines, by source, in their order."""
    grouped: dict[str, list[str]] = {}
    path = audit / "results.jsonl"
    if not path.is_file():
        raise QueryError(f"no results.jsonl in {audit}: is it the --out folder of an audit?")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            source = json.loads(line).get("source") or ""
            grouped.setdefault(source, []).append(line)
    return grouped


def recheck(
    audit_dir: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    now: str | None = None,
) -> RecheckReport:
    """Check again the files whose content changed since the queries were made, and update everything.

    The files are found again under the audit's paths (run from the folder the audit ran in when they were
    relative); a file is checked again when its sha256 differs from ``queries/manifest.json`` or it is new.
    ``results.jsonl``, ``results.csv``, ``summary.json`` and ``report.html`` are rewritten (unchanged files keep
    their result lines byte for byte); in ``queries/worklist.csv`` an open query whose report now passes becomes
    ``resolved``, a query whose file is gone ``file-missing``, and a failing report without a query is added as
    ``open`` with no letter yet (``tbs-doccheck queries`` writes it).

    Raises:
        QueryError: The folder has no results or no query manifest.
    """
    audit = Path(audit_dir)
    queries = audit / QUERIES_DIR
    hashes = read_manifest(queries)
    old = _old_results(audit)
    try:
        previous = AuditSummary.model_validate_json((audit / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise QueryError(f"no readable summary.json in {audit}: is it the --out folder of an audit?") from None
    now = now or datetime.now(UTC).isoformat(timespec="seconds")
    report = RecheckReport()

    supported, skipped = discover_sources(previous.paths) if previous.paths else ([], [])
    ours = [s for s in supported if _is_output(s, audit)]
    order = [s for s in supported if not _is_output(s, audit)]
    skipped = sorted([*skipped, *ours], key=path_order)
    current = {s: file_hash(s) for s in order}
    todo = [s for s in order if s not in old or current[s] is None or current[s] != hashes.get(s)]
    report.checked_files = len(todo)
    report.unchanged_files = len(order) - len(todo)
    report.removed_files = sum(1 for s in old if s not in current)
    versions = _versions()
    kept = [parse_result(old[s][0], s) for s in order if s not in todo]
    stamps = {(r.tool_version, r.patterns_version) for r in kept}
    report.stale_versions = bool(stamps - {(versions["tool_version"], versions["patterns_version"])})

    from tbs_doccheck.checker.core import get_checker

    pipeline = _Pipeline(get_checker(), max_bytes)
    fresh: dict[str, list[CheckResult]] = {}
    plan = _Plan(previous.paths, audit, order, skipped, todo, versions, 1, time.monotonic(),
                 datetime.now(UTC).isoformat(timespec="seconds"))
    _sweep_tmp(audit)
    with _Outputs(audit) as outputs:
        for source in order:
            if source in todo:
                record = json.loads(pipeline.run([source])[0])
                fresh[source] = [parse_result(line, source) for line in record["results"]]
            else:
                record = _unchanged_record(source, old[source], max_bytes)
            outputs.add(record)
        report.summary = outputs.finish(lambda tally: _summarise(plan, tally))

    write_manifest(queries, {s: current[s] for s in order}, written=now)
    _update_worklist(queries, fresh, set(current), now, report)
    return report


def _unchanged_record(source: str, lines: list[str], max_bytes: int) -> dict[str, object]:
    """A file's earlier results as a journal record: its result lines as they were, its page sections redrawn."""
    results = [parse_result(line, source) for line in lines]
    texts: Sequence[str | None] = [None] * len(results)
    reports = read_path(source, max_bytes=max_bytes)
    if len(reports) == len(results):
        texts = [r.text for r in reports]
    html = [_Pipeline._section(result, text) for result, text in zip(results, texts, strict=True)]
    return {"source": source, "results": lines, "html": html}


def _update_worklist(queries: Path, fresh: dict[str, list[CheckResult]], present: set[str], now: str,
                     report: RecheckReport) -> None:
    rows = read_worklist(queries)
    open_keys = {row.key for row in rows if row.status == OPEN}
    now_results = {report_key(r.source, r.position): r for results in fresh.values() for r in results}
    for row in rows:
        if row.status != OPEN:
            continue
        if row.source not in present:
            row.status, row.updated, row.note = FILE_MISSING, now, "the report's file is no longer found"
            report.file_missing += 1
            continue
        result = now_results.get(row.key)
        if result is None:  # file unchanged: still failing as before
            report.still_failing += 1
            continue
        if result.verdict == "pass":
            row.status, row.updated, row.note = RESOLVED, now, "passes after amendment"
            report.resolved.append(row.query_id)
        else:
            row.elements, row.updated = ";".join(result.missing), now
            row.note = "amended, still failing" if result.verdict == "fail" else f"unreadable now ({result.error_code})"
            report.still_failing += 1
            report.amended_still_failing += 1
    for key, result in now_results.items():
        if result.verdict == "fail" and key not in open_keys:
            rows.append(WorklistRow(
                query_id=query_id(*key, now), status=OPEN, signer=signer_of(result), letter="", report_id=result.id,
                source=key[0], position=key[1], exam_date="", elements=";".join(result.missing), created=now,
                updated=now,
                note="new since the queries were written: run `tbs-doccheck queries` to write its letter",
            ))
            report.new += 1
    write_worklist(queries, rows)
    write_summary(queries, summary_data(rows, now))


__all__ = ["RecheckReport", "recheck"]
