"""One query letter (.docx): the failing reports of one signer, what is missing, the record's words, the options."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import docx

from tbs_doccheck.models import CheckResult, Evidence
from tbs_doccheck.queries.templates import QueryTemplates, redact
from tbs_doccheck.resources import element_catalogue

_SPACE = re.compile(r"\s+")
_QUOTE_CHARS = 240
# What an XML (.docx) document cannot hold: control characters and lone surrogates (a file name that is not UTF-8).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters a .docx cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


@dataclass(frozen=True)
class QueryItem:
    """One failing report to ask about."""

    query_id: str
    result: CheckResult
    text: str | None  # the report text the result's offsets point into; None when the file is gone or changed
    changed: bool  # the file differs from what was checked
    exam_date: str | None


def quote(text: str) -> str:
    """A record's words as one line, cut to a readable length, with nothing a query may not carry."""
    one_line = _SPACE.sub(" ", xml_safe(text)).strip()
    if len(one_line) > _QUOTE_CHARS:
        one_line = one_line[: _QUOTE_CHARS - 1] + "\u2026"
    return redact(one_line)


def location(text: str | None, ev: Evidence) -> str:
    """Where a quote is: its line (and section) in the report, or its character offsets."""
    where = []
    if text is not None and text[ev.start : ev.end] == ev.text:
        where.append(f"line {text.count(chr(10), 0, ev.start) + 1}")
    else:
        where.append(f"characters {ev.start}-{ev.end}")
    if ev.section:
        where.append(f"{ev.section} section")
    return ", ".join(where)


def _indicators(item: QueryItem, element: str, templates: QueryTemplates) -> list[str]:
    found = item.result.elements.get(element)  # type: ignore[call-overload]
    if found is None:
        return []
    lines = [
        f"{templates.found_prefix}: \u201c{quote(e.text)}\u201d ({location(item.text, e)})" for e in found.evidence
    ]
    for e in found.rejected:
        why = f" \u2013 {quote(e.reason)}" if e.reason else ""
        lines.append(f"{templates.rejected_prefix}: \u201c{quote(e.text)}\u201d ({location(item.text, e)}){why}")
    for other in templates.elements[element].context:  # type: ignore[index]
        around = item.result.elements.get(other)
        if around is not None and around.satisfied:
            lines += [
                f"{templates.context_prefix}: \u201c{quote(e.text)}\u201d ({location(item.text, e)})"
                for e in around.evidence[:2]
            ]
    return lines


def write_letter(
    path: Path,
    addressee: str,
    items: list[QueryItem],
    templates: QueryTemplates,
    today: date,
    note: str | None = None,
) -> None:
    """Write one letter asking ``addressee`` about ``items``."""
    catalogue = element_catalogue()
    document = docx.Document()
    document.core_properties.title = templates.title
    document.core_properties.author = "tbs-doccheck"
    document.add_heading(templates.title, level=1)
    document.add_paragraph(quote(addressee))
    document.add_paragraph(templates.from_line)
    document.add_paragraph(f"Date: {today.isoformat()}")
    for paragraph in templates.intro:
        document.add_paragraph(paragraph)
    if note:
        document.add_paragraph(quote(note))
    fields = templates.report_fields
    for n, item in enumerate(items, start=1):
        result = item.result
        document.add_heading(
            templates.report_heading.format(n=n, count=len(items), report_id=quote(result.id)), level=2
        )
        rows = [
            (fields.report_id, f"{quote(result.id)} (query {item.query_id})"),
            (fields.source, quote(result.source or "")),
            (fields.exam_date, quote(item.exam_date or templates.exam_date_unknown)),
            (fields.status, quote(result.signature_status or "")),
        ]
        if result.position is not None:
            rows.insert(2, (fields.position, str(result.position)))
        table = document.add_table(rows=len(rows), cols=2)
        for row, (label, value) in zip(table.rows, rows, strict=True):
            row.cells[0].text, row.cells[1].text = label, value
        if item.changed:
            document.add_paragraph(templates.changed_since_audit)
        for element in result.missing:
            entry = templates.elements[element]
            document.add_heading(catalogue.entry(element).label, level=3)
            document.add_paragraph(f"{templates.finding_label}: {entry.finding}")
            reason = result.elements[element].reason if element in result.elements else ""
            if reason:
                document.add_paragraph(quote(reason))
            document.add_paragraph(f"{templates.indicators_label}:")
            indicators = _indicators(item, element, templates) or [templates.no_indicators]
            for line in indicators:
                document.add_paragraph(line, style="List Bullet")
            document.add_paragraph(f"{templates.question_label}: {entry.question}")
            document.add_paragraph(f"{templates.options_label}:")
            for option in entry.options:
                document.add_paragraph(f"\u2610 {option}")
        document.add_paragraph(templates.response_line)
    for paragraph in templates.closing:
        document.add_paragraph(paragraph)
    document.save(str(path))


def letter_text(path: Path) -> str:
    """All the words of a letter, paragraphs and table cells (what a reader of the .docx sees)."""
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)
