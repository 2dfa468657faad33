"""The audit's evidence report: one self-contained HTML file that stays light at tens of thousands of reports.

The summary, legend and filters are HTML; the reports are compact data (:mod:`tbs_doccheck.render.page_data`)
that the page's script (``render/assets/report.js``) lists a page at a time, failures first, sortable and
searchable, rendering a report's highlighted text only when it is opened. :func:`highlight` is the
reference for that highlighting (the browser tests hold the script to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources
from itertools import pairwise
from typing import IO

from tbs_doccheck.models import ELEMENT_IDS, AuditSummary, CheckResult, ElementId, Evidence
from tbs_doccheck.render import page_data
from tbs_doccheck.resources import element_catalogue

__all__ = [
    "ELEMENT_COLOURS",
    "ELEMENT_LABELS",
    "highlight",
    "render_head",
    "render_script",
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


def render_section(result: CheckResult, text: str | None) -> str:
    """One report's line of the page's data: what its table row shows and what opening it shows.

    The page lists reports from these lines (see :mod:`tbs_doccheck.render.page_data`); the report
    text and its evidence are stored compactly and rendered by the page only when the report is
    opened. Pure function of its arguments, so worker processes can make sections in parallel.

    Args:
        result: The checker's result.
        text: The report text the result was computed on (None for unreadable inputs).

    Returns:
        One line, newline included; every value from the report is escaped for the page.
    """
    return page_data.encode_section(result, text)


# --------------------------------------------------------------------------- the page


@cache
def _asset(name: str) -> str:
    """A file of ``render/assets`` (shipped in the wheel), checked safe to inline in a ``<style>``/``<script>``."""
    text = (resources.files("tbs_doccheck.render") / "assets" / name).read_text(encoding="utf-8")
    lowered = text.lower()
    if "</script" in lowered or "</style" in lowered or "<!--" in lowered:
        raise ValueError(f"render/assets/{name} holds a sequence that would end its element early")
    return text


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


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count:,} {noun}s"


def _count_table(rows: Iterable[tuple[str, str]], empty: str) -> str:
    body = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in rows)
    return f'<table class="small">{body}</table>' if body else f'<p class="muted">{_e(empty)}</p>'


def _missing_bars(summary: AuditSummary) -> str:
    """One button per element missing from failed reports: its count and bar; clicking filters the table."""
    biggest = max(summary.missing_by_element.values(), default=0) or 1
    items = "".join(
        f'<li><button type="button" class="bar-filter" data-missing="{_e(e)}" aria-pressed="false" '
        f'title="Show the reports missing this element (click again to show all)">'
        f'<span class="chip el-{_e(e)}">{_e(ELEMENT_LABELS.get(e, e))}</span><span>{n}</span>'
        f'<span class="bar" style="width:{round(120 * n / biggest)}px"></span></button></li>'
        for e, n in summary.missing_by_element.items()
    )
    return f'<ul class="bars">{items}</ul>' if items else '<p class="muted">No element is missing from any report.</p>'


def _summary_html(summary: AuditSummary) -> str:
    total = summary.reports
    review = int(getattr(summary, "needs_review", 0) or 0)
    skipped_count = len(summary.skipped)
    cards = (
        f'<div class="cards"><div class="card"><b>{total:,}</b>{"report" if total == 1 else "reports"} in '
        f"{_plural(summary.files, 'file')}</div>"
        f'<div class="card pass"><b>{summary.passed:,}</b>pass ({_percent(summary.passed, total)})</div>'
        f'<div class="card fail"><b>{summary.failed:,}</b>fail ({_percent(summary.failed, total)})</div>'
        f'<div class="card error"><b>{summary.errors:,}</b>could not be read</div>'
        + (f'<div class="card review"><b>{review:,}</b>need review</div>' if review else "")
        + f'<div class="card"><b>{skipped_count:,}</b>{"file" if skipped_count == 1 else "files"} skipped '
        "(not a report type)</div></div>"
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
            f'<p class="muted">…and {_plural(len(failing) - _MAX_SIGNER_ROWS, "more signer")} with failures '
            "(all signers in summary.json).</p>"
        )
    skipped = ""
    if summary.skipped:
        listed = "".join(f"<li>{_e(p)}</li>" for p in summary.skipped[:_MAX_SUMMARY_ROWS])
        more = skipped_count - _MAX_SUMMARY_ROWS
        tail = f'<p class="muted">…and {more} more in summary.json.</p>' if more > 0 else ""
        skipped = (
            f"<details><summary>{_plural(skipped_count, 'skipped file')} (not a supported report type)</summary>"
            f"<ul>{listed}</ul>{tail}</details>"
        )
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in summary.versions.items())
    return (
        cards
        + '<div class="grid">'
        + f"<section><h2>Missing elements (failed reports)</h2>{_missing_bars(summary)}</section>"
        + f"<section><h2>Unreadable files by kind</h2>{errors}</section>"
        + f"<section><h2>Signers with the most failed reports</h2>{signers}</section></div>"
        + skipped
        + f'<p class="muted">Audited {_e(", ".join(summary.paths))} · finished {_e(summary.finished_at)} · '
        f"{summary.elapsed_seconds:.1f} s with {summary.workers} worker(s)"
        + (f" · resumed ({_plural(summary.resumed_files, 'file')} from an earlier run)" if summary.resumed else "")
        + f" · {versions}</p>"
    )


def _legend() -> str:
    chips = "".join(f'<span class="chip el-{e}">{_e(label)}</span>' for e, label in ELEMENT_LABELS.items())
    return (
        f'<div class="legend"><strong>Evidence:</strong> {chips} '
        '<span class="chip rej el-tbs_value">does not count</span>'
        '<span class="muted">(struck through, dotted: a mention that was rejected — hover for the reason)</span></div>'
    )


def _controls() -> str:
    options = "".join(f'<option value="{e}">{_e(label)}</option>' for e, label in ELEMENT_LABELS.items())
    sizes = "".join(f'<option value="{n}"{" selected" if n == 100 else ""}>{n}</option>' for n in (50, 100, 250, 500))
    return (
        '<div class="controls"><span><label for="filter-verdict">Verdict</label> '
        '<select id="filter-verdict"><option value="all">all</option><option value="pass">pass</option>'
        '<option value="fail">fail</option><option value="error">error</option></select></span>'
        '<span><label for="filter-missing">Missing element</label> '
        f'<select id="filter-missing"><option value="any">any</option>{options}</select></span>'
        '<label class="check"><input id="filter-review" type="checkbox"> needs review only</label>'
        '<span><label for="filter-text">Find</label> '
        '<input id="filter-text" type="search" placeholder="id, file, signer or reason" size="28"></span>'
        '<button id="expand" type="button">Open this page</button>'
        '<button id="collapse" type="button">Close all</button>'
        '<span class="pager"><button id="page-prev" type="button" aria-label="Previous page">‹</button>'
        '<span id="page-info"></span><button id="page-next" type="button" aria-label="Next page">›</button>'
        f'<label for="page-size">per page</label> <select id="page-size">{sizes}</select></span>'
        '<span id="shown" aria-live="polite"></span></div>'
    )


def _table_head() -> str:
    columns = [("id", "Report"), ("src", "Source"), ("verdict", "Verdict")]
    columns += [(f"el-{e}", label) for e, label in ELEMENT_LABELS.items()]
    columns += [("tbs", "TBS"), ("signer", "Signer"), ("missing", "Missing")]
    headers = "".join(
        f'<th data-key="{key}" aria-sort="none"><button type="button" class="sort" '
        f'title="Sort by {_e(label)} (click again to reverse)">{_e(label)}</button></th>'
        for key, label in columns
    )
    return f'<table class="reports"><thead><tr>{headers}</tr></thead></table>'


def render_head(summary: AuditSummary) -> str:
    """Everything above the page's data: styles, the summary, legend, filters and the (empty) reports table."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        # Belt and braces for "no network": the browser refuses anything but this file's own CSS/JS.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>TBS documentation audit (CPT 77092)</title>"
        f"<style>{_asset('report.css')}{_element_css()}</style></head><body>"
        "<header><h1>TBS documentation audit — CPT 77092</h1>"
        '<p class="muted">Each report is checked for the five documentation elements. '
        "Contains report text (patient data): handle and file under your audit controls.</p>"
        f"{_summary_html(summary)}{_legend()}</header>"
        f"{_controls()}<main>"
        '<noscript><p class="notice">The list of reports needs JavaScript; every result is also in '
        "results.csv and results.jsonl beside this page.</p></noscript>"
        f"{_table_head()}</main>\n"
    )


def render_script() -> str:
    """The page's one script: builds the table from the data blocks; written between the rows and the details."""
    return f"<script>{_asset('report.js')}</script>\n"


def render_tail() -> str:
    """Everything below the page's data."""
    return "</body></html>\n"


def write_document(out: IO[str], summary: AuditSummary, sections: IO[str]) -> None:
    """Writes the whole page: head, the rows block, the script, the details block, tail.

    Args:
        out: Where the page goes.
        summary: Totals for the top of the page.
        sections: A file of :func:`render_section` lines, read from its current position; the report
            details are copied through a chunk at a time, so the page never has to fit in memory.
    """
    out.write(render_head(summary))
    page_data.write_data_blocks(out, sections, render_script())
    out.write(render_tail())
