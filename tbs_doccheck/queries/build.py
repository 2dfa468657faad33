"""``queries AUDIT_DIR``: one letter per signer for the audit's failing reports, the worklist, the manifest."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import ValidationError

from tbs_doccheck.flags.text import report_dates
from tbs_doccheck.models import CheckResult, ReportInput
from tbs_doccheck.queries.letters import QueryItem, write_letter
from tbs_doccheck.queries.templates import QueryTemplates, query_templates
from tbs_doccheck.queries.worklist import (
    OPEN,
    QUERIES_DIR,
    QueryError,
    WorklistRow,
    file_hash,
    read_worklist,
    report_key,
    write_manifest,
    write_summary,
    write_worklist,
)
from tbs_doccheck.readers import DEFAULT_MAX_BYTES, read_path

RESULTS_NAME = "results.jsonl"
NO_SIGNER = "(no identifiable signer)"
LETTER_PREFIX = "query-"
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class QueriesReport:
    """What ``write_queries`` wrote."""

    folder: Path
    letters: dict[str, int] = field(default_factory=dict)  # letter file name -> reports in it
    per_signer: dict[str, int] = field(default_factory=dict)
    queried: int = 0
    passed: int = 0
    unreadable: int = 0
    changed: int = 0  # failing reports whose file changed since the audit


def load_results(audit_dir: Path) -> list[CheckResult]:
    """The results of an audit, in its order.

    Raises:
        QueryError: The folder holds no ``results.jsonl``, or a line is not a result.
    """
    return list(iter_results(audit_dir))


def iter_results(audit_dir: Path) -> Iterator[CheckResult]:
    """The results of an audit, one at a time."""
    path = audit_dir / RESULTS_NAME
    if not path.is_file():
        raise QueryError(f"no {RESULTS_NAME} in {audit_dir}: is it the --out folder of an audit?")
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            yield parse_result(line, f"{path}:{n}")


def parse_result(line: str, where: str) -> CheckResult:
    """One results.jsonl line as a result."""
    try:
        return CheckResult.model_validate_json(line)
    except ValidationError:
        try:  # pydantic's JSON parser refuses lone-surrogate escapes that json reads back fine
            return CheckResult.model_validate(json.loads(line))
        except (ValueError, ValidationError):
            raise QueryError(f"{where}: not a result line") from None


def signer_of(result: CheckResult) -> str:
    """Who a query about this report goes to: its signer, or nobody identifiable."""
    if result.signer is None or result.signature_status == "staff-only":
        return NO_SIGNER
    return result.signer.name + (f", {result.signer.credential}" if result.signer.credential else "")


def letter_name(signer: str, taken: set[str]) -> str:
    """A file name for the letter to ``signer``, unique among ``taken``."""
    slug = _SLUG.sub("-", signer.lower()).strip("-")[:60] or "signer"
    if signer == NO_SIGNER:
        slug = "no-identifiable-signer"
    name, n = f"{LETTER_PREFIX}{slug}.docx", 1
    while name in taken:
        n += 1
        name = f"{LETTER_PREFIX}{slug}-{n}.docx"
    taken.add(name)
    return name


def _report_text(result: CheckResult, cache: dict[str, list[ReportInput]], max_bytes: int) -> tuple[str | None, bool]:
    """The report's current text, and whether it differs from what the result was made from."""
    source = result.source or ""
    if source not in cache:
        cache[source] = read_path(source, max_bytes=max_bytes) if os.path.isfile(source) else []
    reports = cache[source]
    match = [r for r in reports if r.position == result.position and r.text is not None]
    if len(match) != 1:
        return None, True
    text = match[0].text
    assert text is not None
    spans = [e for el in result.elements.values() for e in (*el.evidence, *el.rejected)]
    if any(text[e.start : e.end] != e.text for e in spans):
        return None, True
    return text, False


def _exam_date(result: CheckResult, text: str | None) -> str | None:
    if text is None:
        return None
    signature = result.elements.get("signature")
    found = report_dates(text, [e.start for e in signature.evidence] if signature else [])
    return found.exam[0].text if found.exam else None


def query_id(source: str, position: str, created: str) -> str:
    """A short id for a new query, stable for its report and creation time."""
    return "Q" + hashlib.sha1(f"{source}\0{position}\0{created}".encode("utf-8", "surrogateescape")).hexdigest()[:8]


def write_queries(
    audit_dir: str | os.PathLike[str],
    *,
    templates: QueryTemplates | None = None,
    today: date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> QueriesReport:
    """Write ``AUDIT_DIR/queries/``: a letter per signer, ``worklist.csv``, ``manifest.json``, ``summary.json``.

    Every failing report is in exactly one letter; passing and unreadable reports are in none. Letters from an
    earlier run are replaced; worklist rows that are no longer open (resolved...) are kept as history, and an
    open query keeps its id. The manifest records each audited file's content hash, for ``recheck``; a file that
    already differs from what the audit checked gets no hash, so ``recheck`` checks it again.

    Raises:
        QueryError: The folder is not an audit's output folder.
    """
    audit = Path(audit_dir)
    templates = templates or query_templates()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    today = today or date.today()
    results = load_results(audit)
    folder = audit / QUERIES_DIR
    folder.mkdir(exist_ok=True)
    report = QueriesReport(folder)

    texts: dict[str, list[ReportInput]] = {}
    changed_sources: set[str] = set()
    by_signer: dict[str, list[tuple[CheckResult, str | None, bool]]] = {}
    for result in results:
        if result.verdict == "error":
            report.unreadable += 1
            continue
        if result.verdict == "pass":
            report.passed += 1
            continue
        text, changed = _report_text(result, texts, max_bytes)
        if changed:
            changed_sources.add(result.source or "")
        by_signer.setdefault(signer_of(result), []).append((result, text, changed))
    texts.clear()

    earlier = read_worklist(folder)
    history = [row for row in earlier if row.status != OPEN]
    open_ids = {row.key: (row.query_id, row.created) for row in earlier if row.status == OPEN}
    for stale in folder.glob(f"{LETTER_PREFIX}*.docx"):
        stale.unlink()
    rows: list[WorklistRow] = []
    taken: set[str] = set()
    for signer in sorted(by_signer, key=lambda s: (s == NO_SIGNER, s.lower())):
        name = letter_name(signer, taken)
        items = []
        for result, text, changed in by_signer[signer]:
            key = report_key(result.source, result.position)
            qid, created = open_ids.get(key) or (query_id(*key, now), now)
            exam = _exam_date(result, text)
            items.append(QueryItem(qid, result, text, changed, exam))
            rows.append(WorklistRow(
                query_id=qid, status=OPEN, signer=signer, letter=name, report_id=result.id, source=key[0],
                position=key[1], exam_date=exam or "", elements=";".join(result.missing), created=created,
                updated=now, note="file changed since the audit: run recheck" if changed else "",
            ))
        note = None
        if signer == NO_SIGNER:
            staff = sorted({f"{r.signer.name}" for r, _, _ in by_signer[signer] if r.signer is not None})
            note = " ".join(templates.staff_only_note.format(signer=s) for s in staff) or None
        addressee = templates.no_signer_addressee if signer == NO_SIGNER else f"To: {signer}"
        write_letter(folder / name, addressee, items, templates, today, note)
        report.letters[name] = len(items)
        report.per_signer[signer] = len(items)
    report.queried = len(rows)
    report.changed = len(changed_sources)
    write_worklist(folder, history + rows)

    hashes = {}
    for result in results:
        source = result.source or ""
        if source not in hashes:
            hashes[source] = None if source in changed_sources else file_hash(source)
    write_manifest(folder, hashes, written=now)
    write_summary(folder, summary_data(history + rows, now))
    return report


def summary_data(rows: list[WorklistRow], when: str) -> dict[str, object]:
    """Query counts per signer and per status, for ``queries/summary.json``."""
    per_signer: dict[str, Counter[str]] = {}
    for row in rows:
        per_signer.setdefault(row.signer, Counter())[row.status] += 1
    return {
        "updated": when,
        "queries": len(rows),
        "by_status": dict(Counter(row.status for row in rows).most_common()),
        "by_signer": {s: dict(c) for s, c in sorted(per_signer.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))},
    }
