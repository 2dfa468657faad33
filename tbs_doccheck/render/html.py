"""The audit's evidence report: one self-contained HTML file, built a report section at a time."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape
from itertools import pairwise
from typing import IO

from tbs_doccheck.models import ELEMENT_IDS, AuditSummary, CheckResult, ElementId, Evidence
from tbs_doccheck.resources import element_catalogue

__all__ = [
    "ELEMENT_COLOURS",
    "ELEMENT_LABELS",
    "highlight",
    "render_head",
    "render_section",
    "render_tail",
    "write_document",
]

#: How each element is named on the page (from the element catalogue).
ELEMENT_LABELS: dict[ElementId, str] = {e.id: e.label for e in element_catalogue().elements}

#: (background, border) per element: light fills keep the text readable, the darker
#: border tells the elements apart in print and for readers who confuse the fills.
ELEMENT_COLOURS: dict[ElementId, tuple[str, str]] = {
    "imaging_source": ("#cfe2ff", "#0b5ed7"),
    "tbs_value": ("#c8ecd4", "#146c43"),
    "fracture_risk": ("#ffe0b3", "#c4590a"),
    "recommendations": ("#e6d7fb", "#6f42c1"),
    "signature": ("#fbd0e2", "#b02a6b"),
}

# The page lists at most this many skipped files and signers; the complete lists are in
# summary.json, and a table of thousands at the top would bury the reports.
_MAX_SUMMARY_ROWS = 50
_MAX_SIGNER_ROWS = 12


def _e(value: object) -> str:
    """HTML-escapes anything, quotes included, so it is safe in text and in attribute values."""
    return escape("" if value is None else str(value), quote=True)


# --------------------------------------------------------------------------- highlighting


@dataclass(frozen=True)
class _Span:
    key: str
    element: ElementId
    counts: bool
    evidence: Evidence

    @property
    def length(self) -> int:
        return self.evidence.end - self.evidence.start

    def describe(self) -> str:
        """One tooltip line: element, whether it counts, why, and the deciding rule."""
        standing = "counts" if self.counts else "does not count"
        reason = self.evidence.reason
        # Rejection reasons already say "does not count: ..."; don't say it twice.
        if not reason.lower().startswith(standing):
            reason = f"{standing}: {reason}" if reason else standing
        return f"{ELEMENT_LABELS[self.element]} — {reason} [{self.evidence.rule_id}]"


def _all_evidence(result: CheckResult) -> Iterator[tuple[str, bool, Evidence]]:
    """Every piece of evidence as (element, counts, evidence): counting ones first, per element."""
    for element in ELEMENT_IDS:
        found = result.elements.get(element)
        if found is None:
            continue
        for counts, items in ((True, found.evidence), (False, found.rejected)):
            for ev in items:
                yield element, counts, ev


def _spans(result: CheckResult, text: str) -> list[_Span]:
    spans: list[_Span] = []
    for element, counts, ev in _all_evidence(result):
        # Guard the text[start:end] == ev.text invariant: a mark on the wrong words
        # would mislead an auditor more than a missing mark.
        if 0 <= ev.start < ev.end <= len(text) and text[ev.start : ev.end] == ev.text:
            spans.append(_Span(f"ev{len(spans) + 1}", element, counts, ev))
    return spans


def highlight(text: str, result: CheckResult) -> str:
    """The report text, HTML-escaped, with every evidence span wrapped in a ``<mark>``.

    Spans overlap freely (``treatment``, ``treatment advised``, ``advised``), so the text is
    cut at every span boundary and each piece is marked once. A piece takes the colour of
    the shortest span over it that counts (else of the shortest rejected one); its
    ``data-ev`` lists every span over it, so the pieces sharing a key spell that span's
    words, and its tooltip gives every span's element, standing and reason.

    Args:
        text: The whole report text the result was computed on.
        result: The checker's result for that text.

    Returns:
        HTML for the inside of a ``<pre>``.
    """
    spans = _spans(result, text)
    if not spans:
        return _e(text)
    cuts = sorted({0, len(text)} | {s.evidence.start for s in spans} | {s.evidence.end for s in spans})
    out: list[str] = []
    for start, end in pairwise(cuts):
        piece = text[start:end]
        over = [s for s in spans if s.evidence.start <= start and s.evidence.end >= end]
        if not over:
            out.append(_e(piece))
            continue
        counting = [s for s in over if s.counts]
        main = min(counting or over, key=lambda s: s.length)
        classes = ["ev", f"el-{main.element}"]
        if not main.counts:
            classes.append("rej")
        if len({s.element for s in over}) > 1:
            classes.append("multi")
        out.append(
            f'<mark class="{" ".join(classes)}" data-el="{main.element}" '
            f'data-ev="{" ".join(s.key for s in over)}" '
            f'title="{_e(chr(10).join(s.describe() for s in over))}">{_e(piece)}</mark>'
        )
    return "".join(out)


# --------------------------------------------------------------------------- one report


def _where(result: CheckResult) -> str:
    where = result.source or result.id
    return f"{where} #{result.position}" if result.position else where


def _evidence_rows(result: CheckResult) -> str:
    rows: list[str] = []
    for element, counts, ev in _all_evidence(result):
        standing = "counts" if counts else "does not count"
        rows.append(
            f'<tr class="{"" if counts else "rej-row"}"><td><span class="chip el-{element}">'
            f"{_e(ELEMENT_LABELS[element])}</span></td><td>{standing}</td>"
            f"<td><q>{_e(ev.text)}</q></td><td>{_e(ev.reason)}</td>"
            f"<td><code>{_e(ev.rule_id)}</code></td><td>{_e(ev.section or '')}</td></tr>"
        )
    if not rows:
        return '<p class="muted">No words in this report were taken as evidence for any element.</p>'
    return (
        '<table class="evidence"><thead><tr><th>Element</th><th>Standing</th><th>Words</th>'
        "<th>Why</th><th>Rule</th><th>Section</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _detail(result: CheckResult, text: str | None) -> str:
    if result.verdict == "error":
        code = result.error_code.value if result.error_code else "error"
        return (
            f'<p class="why"><strong>Could not be read ({_e(code)}).</strong> {_e(result.error)}</p>'
            '<p class="muted">There is no report text to show, so this report cannot support 77092 as received.</p>'
        )
    parts: list[str] = []
    failed = [req for req in result.requirements if not req.satisfied]
    if failed:
        items = []
        for req in failed:
            because = " ".join(
                result.elements[e].reason
                for e in req.elements
                if e in result.elements and not result.elements[e].satisfied
            )
            items.append(
                f"<li><strong>{_e(req.title)}</strong> is not documented. {_e(because)} "
                f'<span class="fix">To fix: {_e(req.reason.removeprefix("Not met: "))}</span></li>'
            )
        parts.append(
            '<div class="why"><h4>Why this report does not support CPT 77092</h4><ul>' + "".join(items) + "</ul></div>"
        )
    else:
        parts.append('<p class="why ok">All four CPT 77092 documentation requirements are met.</p>')
    checks = "".join(
        f'<li class="{"ok" if found.satisfied else "no"}"><span class="chip el-{e}">{_e(ELEMENT_LABELS[e])}</span> '
        f"{'✓' if found.satisfied else '✗'} {_e(found.reason)}</li>"
        for e, found in ((e, result.elements.get(e)) for e in ELEMENT_IDS)
        if found is not None
    )
    parts.append(f'<ul class="checks">{checks}</ul>')
    if text is not None:
        parts.append(f'<pre class="report-text">{highlight(text, result)}</pre>')
    parts.append(_evidence_rows(result))
    return "".join(parts)


def _tick(result: CheckResult, element: ElementId) -> str:
    found = result.elements.get(element)
    if found is None:
        return '<td class="el-cell">–</td>'
    if found.satisfied:
        return f'<td class="el-cell yes" title="{_e(found.reason)}">✓</td>'
    return f'<td class="el-cell no" title="{_e(found.reason)}">✗</td>'


def render_section(result: CheckResult, text: str | None) -> str:
    """One report as a ``<tbody>`` of the report table: its summary row and its details.

    The ``tbody`` carries ``data-verdict``, ``data-missing`` (space-separated element
    ids) and ``data-search`` for the page's filters. Pure function of its arguments, so
    worker processes can render sections in parallel.

    Args:
        result: The checker's result.
        text: The report text the result was computed on (None for unreadable inputs).

    Returns:
        The HTML of the section, every value from the report escaped.
    """
    signer = ""
    if result.signer:
        signer = result.signer.name + (f", {result.signer.credential}" if result.signer.credential else "")
    tbs = f"{result.tbs_value:.3f}" if result.tbs_value is not None else ""
    if result.verdict == "error":
        missing_cell = _e(result.error_code.value if result.error_code else "error")
    else:
        missing_cell = ", ".join(_e(ELEMENT_LABELS[e]) for e in result.missing) or "—"
    search = f"{result.id} {_where(result)} {signer}".lower()
    return (
        f'<tbody class="report v-{result.verdict}" data-verdict="{result.verdict}" '
        f'data-missing="{" ".join(result.missing)}" data-id="{_e(result.id)}" data-search="{_e(search)}">'
        f'<tr class="row"><td class="id">{_e(result.id)}</td><td class="src">{_e(_where(result))}</td>'
        f'<td><span class="badge {result.verdict}">{result.verdict}</span></td>'
        + "".join(_tick(result, e) for e in ELEMENT_IDS)
        + f"<td>{_e(tbs)}</td><td>{_e(signer)}</td><td>{missing_cell}</td></tr>"
        f'<tr class="detail"><td colspan="{5 + len(ELEMENT_IDS)}"><details>'
        f"<summary>Report text, evidence and reasons</summary>{_detail(result, text)}</details></td></tr></tbody>\n"
    )


# --------------------------------------------------------------------------- the page

_CSS = """
:root { color-scheme: light; --fg: #1d2430; --muted: #5b6576; --line: #d8dde6; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header, main { padding: 16px 24px; }
header { background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 18px 0 8px; }
h4 { margin: 0 0 4px; font-size: 14px; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 22px; }
.card.pass b { color: #146c43; } .card.fail b { color: #b02a37; } .card.error b { color: #8a5a00; }
.grid { display: flex; flex-wrap: wrap; gap: 24px; }
.grid > section { min-width: 260px; }
table.small { border-collapse: collapse; }
table.small td, table.small th { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; }
.bar { display: inline-block; height: 10px; background: #b02a37; border-radius: 2px; vertical-align: middle; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin: 8px 0; }
.controls { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid var(--line);
  padding: 10px 24px; display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; }
.controls label { font-weight: 600; }
select, input, button { font: inherit; padding: 3px 6px; }
table.reports { width: 100%; border-collapse: collapse; background: #fff; }
table.reports > thead th { position: sticky; top: 52px; z-index: 1; background: #eef1f5; text-align: left;
  padding: 6px 8px; border-bottom: 2px solid var(--line); }
table.reports tr.row td { padding: 6px 8px; border-top: 1px solid var(--line); vertical-align: top; }
table.reports tr.detail td { padding: 0 8px 6px; }
tbody.report[hidden] { display: none; }
td.src { overflow-wrap: anywhere; max-width: 28em; }
td.id { font-weight: 600; }
td.el-cell { text-align: center; font-weight: 700; }
td.el-cell.yes { color: #146c43; }
td.el-cell.no { color: #b02a37; background: #fdecee; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-weight: 700; font-size: 12px;
  text-transform: uppercase; }
.badge.pass { background: #d1f0dc; color: #0f5132; }
.badge.fail { background: #f8d7da; color: #842029; }
.badge.error { background: #fff0c2; color: #664d03; }
details > summary { cursor: pointer; color: #0b5ed7; }
details[open] > summary { margin-bottom: 6px; }
.why { background: #fff6f6; border-left: 4px solid #b02a37; padding: 6px 10px; margin: 6px 0; }
.why.ok { background: #f2fbf5; border-left-color: #146c43; }
.why ul { margin: 4px 0 0; padding-left: 20px; }
.fix { color: var(--muted); display: block; }
ul.checks { list-style: none; padding: 0; margin: 6px 0; }
ul.checks li { margin: 2px 0; }
ul.checks li.no { color: #842029; }
pre.report-text { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px solid var(--line);
  border-radius: 6px; padding: 10px 12px; max-width: 110ch;
  font: 13px/1.6 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
mark.ev { color: inherit; border-radius: 2px; padding: 0 1px; border-bottom: 2px solid transparent; }
mark.rej { background: transparent !important; text-decoration: line-through; text-decoration-thickness: 1px;
  border-bottom-style: dotted !important; }
mark.multi { outline: 1px dashed #555; outline-offset: -1px; }
.chip { display: inline-block; padding: 0 6px; border-radius: 4px; border-bottom: 2px solid transparent;
  font-size: 12px; }
.chip.rej { background: transparent !important; text-decoration: line-through;
  border-bottom-style: dotted !important; }
table.evidence { border-collapse: collapse; margin: 8px 0; font-size: 12.5px; }
table.evidence th, table.evidence td { border: 1px solid var(--line); padding: 2px 6px; text-align: left;
  vertical-align: top; }
table.evidence tr.rej-row td { color: var(--muted); }
#shown { color: var(--muted); }
@media print { .controls { position: static; } }
"""

_JS = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('tbody.report'));
  var verdict = document.getElementById('filter-verdict');
  var missing = document.getElementById('filter-missing');
  var search = document.getElementById('filter-text');
  var shown = document.getElementById('shown');
  function apply() {
    var v = verdict.value, m = missing.value, q = search.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (tb) {
      var ok = (v === 'all' || tb.getAttribute('data-verdict') === v)
        && (m === 'any' || (' ' + tb.getAttribute('data-missing') + ' ').indexOf(' ' + m + ' ') >= 0)
        && (!q || tb.getAttribute('data-search').indexOf(q) >= 0);
      tb.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = 'Showing ' + n + ' of ' + rows.length + ' reports';
  }
  function openAll(open) {
    rows.forEach(function (tb) { if (!tb.hidden) { tb.querySelector('details').open = open; } });
  }
  verdict.addEventListener('change', apply);
  missing.addEventListener('change', apply);
  search.addEventListener('input', apply);
  document.getElementById('expand').addEventListener('click', function () { openAll(true); });
  document.getElementById('collapse').addEventListener('click', function () { openAll(false); });
  apply();
})();
"""


def _element_css() -> str:
    rules = []
    for element, (fill, border) in ELEMENT_COLOURS.items():
        rules.append(
            f".el-{element} {{ background: {fill}; border-bottom-color: {border} !important; }}\n"
            f"mark.rej.el-{element}, .chip.rej.el-{element} {{ text-decoration-color: {border}; }}"
        )
    return "\n".join(rules)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def _count_table(rows: Iterable[tuple[str, str]], empty: str) -> str:
    body = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in rows)
    return f'<table class="small">{body}</table>' if body else f'<p class="muted">{_e(empty)}</p>'


def _summary_html(summary: AuditSummary) -> str:
    total = summary.reports
    cards = (
        f'<div class="cards"><div class="card"><b>{total}</b>reports in {summary.files} files</div>'
        f'<div class="card pass"><b>{summary.passed}</b>pass ({_percent(summary.passed, total)})</div>'
        f'<div class="card fail"><b>{summary.failed}</b>fail ({_percent(summary.failed, total)})</div>'
        f'<div class="card error"><b>{summary.errors}</b>could not be read</div>'
        f'<div class="card"><b>{len(summary.skipped)}</b>files skipped (not a report type)</div></div>'
    )
    biggest = max(summary.missing_by_element.values(), default=0) or 1
    missing = _count_table(
        (
            (
                f'<span class="chip el-{e}">{_e(ELEMENT_LABELS[e])}</span>',
                f'{n} <span class="bar" style="width:{round(120 * n / biggest)}px"></span>',
            )
            for e, n in summary.missing_by_element.items()
        ),
        "No element is missing from any report.",
    )
    errors = _count_table(
        ((f"<code>{_e(code)}</code>", str(n)) for code, n in summary.errors_by_code.items()),
        "Every file could be read.",
    )
    failing = [(name, s) for name, s in summary.by_signer.items() if s.failed]
    signers = _count_table(
        ((_e(name), f"{s.failed} of {s.reports} failed") for name, s in failing[:_MAX_SIGNER_ROWS]),
        "No signer has a failed report.",
    )
    if len(failing) > _MAX_SIGNER_ROWS:
        signers += (
            f'<p class="muted">…and {len(failing) - _MAX_SIGNER_ROWS} more signers with failures '
            "(all signers in summary.json).</p>"
        )
    skipped = ""
    if summary.skipped:
        listed = "".join(f"<li>{_e(p)}</li>" for p in summary.skipped[:_MAX_SUMMARY_ROWS])
        more = len(summary.skipped) - _MAX_SUMMARY_ROWS
        tail = f'<p class="muted">…and {more} more in summary.json.</p>' if more > 0 else ""
        skipped = (
            f"<details><summary>{len(summary.skipped)} skipped files (not a supported report type)</summary>"
            f"<ul>{listed}</ul>{tail}</details>"
        )
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in summary.versions.items())
    return (
        cards
        + '<div class="grid">'
        + f"<section><h2>Missing elements (failed reports)</h2>{missing}</section>"
        + f"<section><h2>Unreadable files by kind</h2>{errors}</section>"
        + f"<section><h2>Signers with the most failed reports</h2>{signers}</section></div>"
        + skipped
        + f'<p class="muted">Audited {_e(", ".join(summary.paths))} · finished {_e(summary.finished_at)} · '
        f"{summary.elapsed_seconds:.1f} s with {summary.workers} worker(s)"
        + (f" · resumed ({summary.resumed_files} files from an earlier run)" if summary.resumed else "")
        + f" · {versions}</p>"
    )


def _legend() -> str:
    chips = "".join(f'<span class="chip el-{e}">{_e(label)}</span>' for e, label in ELEMENT_LABELS.items())
    return (
        f'<div class="legend"><strong>Evidence:</strong> {chips} '
        '<span class="chip rej el-tbs_value">does not count</span>'
        '<span class="muted">(struck through, dotted: a mention that was rejected — hover for the reason)</span></div>'
    )


def render_head(summary: AuditSummary) -> str:
    """Everything above the report sections: styles, the summary, legend, filters, table header."""
    options = "".join(f'<option value="{e}">{_e(label)}</option>' for e, label in ELEMENT_LABELS.items())
    headers = "".join(f"<th>{_e(label)}</th>" for label in ELEMENT_LABELS.values())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        # Belt and braces for "no network": the browser refuses anything but this file's own CSS/JS.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>TBS documentation audit (CPT 77092)</title>"
        f"<style>{_CSS}{_element_css()}</style></head><body>"
        "<header><h1>TBS documentation audit — CPT 77092</h1>"
        '<p class="muted">Each report is checked for the five documentation elements. '
        "Contains report text (patient data): handle and file under your audit controls.</p>"
        f"{_summary_html(summary)}{_legend()}</header>"
        '<div class="controls"><span><label for="filter-verdict">Verdict</label> '
        '<select id="filter-verdict"><option value="all">all</option><option value="pass">pass</option>'
        '<option value="fail">fail</option><option value="error">error</option></select></span>'
        '<span><label for="filter-missing">Missing element</label> '
        f'<select id="filter-missing"><option value="any">any</option>{options}</select></span>'
        '<span><label for="filter-text">Find</label> '
        '<input id="filter-text" type="search" placeholder="id, file or signer"></span>'
        '<button id="expand" type="button">Expand shown</button>'
        '<button id="collapse" type="button">Collapse all</button><span id="shown"></span></div>'
        '<main><table class="reports"><thead><tr><th>Report</th><th>Source</th><th>Verdict</th>'
        f"{headers}<th>TBS</th><th>Signer</th><th>Missing</th></tr></thead>\n"
    )


def render_tail() -> str:
    """Everything below the report sections: the table's end and the filter script."""
    return f"</table></main><script>{_JS}</script></body></html>\n"


def write_document(out: IO[str], summary: AuditSummary, sections: IO[str]) -> None:
    """Writes the whole page: head, the pre-rendered sections copied through, tail.

    Args:
        out: Where the page goes.
        summary: Totals for the top of the page.
        sections: A file of :func:`render_section` outputs, read from its current position;
            copied in blocks, so the page never has to fit in memory.
    """
    out.write(render_head(summary))
    shutil.copyfileobj(sections, out)
    out.write(render_tail())
