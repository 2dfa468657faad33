"""report.html at scale: compact, safely embedded data; in headless Chromium sort, filters, Find, paging, opening.

The page lists reports from two JSON blocks (rows; details stored plain for a small audit and compressed
per chunk for a large one) and renders a report's text and evidence only when it is opened. The browser
tests run on a small audit and on pages built from its results with compression forced, so both storage
paths are exercised without auditing thousands of files (``scripts/html_scale.py`` measures those).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest

from tbs_doccheck.audit.run import run_audit
from tbs_doccheck.bench.corpus import build_corpus
from tbs_doccheck.models import AuditSummary, CheckResult
from tbs_doccheck.render import html as report_html
from tbs_doccheck.render import page_data

try:  # the helpers sit beside this file; tests/ may or may not become a package
    from tests import formats as F
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

LINES = list(F.REPORT_LINES)
UNSIGNED = "\n".join(LINES[:-1]) + "\n"
NO_RISK = "\n".join(line for line in LINES if not line.startswith("Fracture risk")) + "\n"
OTHER_SIGNER = F.REPORT_TEXT.replace("Jane Roe, MD", "Amadou Keita, DO").replace("1.254", "1.198")
# Characters outside the BMP before the evidence: JavaScript counts them twice, Python once.
ASTRAL = "\U0001d413\U0001d401\U0001d412 \U0001f9b4 " + F.REPORT_TEXT.replace("1.254", "1.402")
HOSTILE = F.REPORT_TEXT.replace(
    "TRABECULAR", '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> <!-- TRABECULAR'
)

FILES = {
    "pass-1.txt": F.REPORT_TEXT,
    "pass-astral.txt": ASTRAL,
    "pass-other-signer.txt": OTHER_SIGNER,
    "fail-unsigned.txt": UNSIGNED,
    "fail-no-risk.txt": NO_RISK,
    "fail-both.txt": "\n".join(line for line in UNSIGNED.splitlines() if not line.startswith("Fracture")) + "\n",
    'hostile-"<b>name<i>".txt': HOSTILE,
    "broken.txt": "",
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[CheckResult]]:
    """A small audit of FILES: (its output folder, its results)."""
    root = tmp_path_factory.mktemp("reports")
    for name, text in FILES.items():
        (root / name).write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("audit")
    run_audit([root], out, progress=False)
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return out, [CheckResult.model_validate_json(line) for line in lines]


def _text(result: CheckResult) -> str | None:
    return None if result.verdict == "error" or not result.source else Path(result.source).read_text(encoding="utf-8")


def build_page(
    out: Path, results: list[CheckResult], summary: AuditSummary, name: str, **limits: int
) -> Path:
    """A report.html made from ``results`` as the audit makes it, with page_data's limits overridden."""
    sections = io.StringIO("".join(report_html.render_section(r, _text(r)) for r in results))
    page = out / name
    with open(page, "w", encoding="utf-8") as fh:
        fh.write(report_html.render_head(summary))
        page_data.write_data_blocks(fh, sections, report_html.render_script(), **limits)
        fh.write(report_html.render_tail())
    return page


@pytest.fixture(scope="module")
def pages(audit, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """The audit's own page; the same results compressed in chunks of 2; 130 reports (copies) for paging."""
    out, results = audit
    summary = AuditSummary.model_validate_json((out / "summary.json").read_text(encoding="utf-8"))
    made = tmp_path_factory.mktemp("pages")
    review = [
        r.model_copy(update={"needs_review": True, "review_reasons": ["the signature block is ambiguous"]})
        if r.id == "pass-other-signer"
        else r
        for r in results
    ]
    many = [r.model_copy(update={"id": f"{r.id}-copy{k:03d}"}) for k in range(17) for r in results]
    return {
        "audit": out / "report.html",
        "compressed": build_page(made, review, summary, "compressed.html", plain_limit=0, chunk=2),
        "many": build_page(made, many[:130], summary, "many.html", plain_limit=0),
    }


def _data(page: str) -> tuple[dict, list]:
    index = re.search(r'<script type="application/json" id="tbs-index">(.*?)</script>', page, re.S)
    details = re.search(r'<script type="application/json" id="tbs-details">(.*?)</script>', page, re.S)
    assert index and details
    return json.loads(index.group(1)), json.loads(details.group(1))


# --------------------------------------------------------------------------- the file


def test_data_blocks_hold_no_markup_and_parse_as_json(audit, pages) -> None:  # type: ignore[no-untyped-def]
    for page in (pages["audit"].read_text(encoding="utf-8"), pages["compressed"].read_text(encoding="utf-8")):
        blocks = re.findall(r'<script type="application/json" id="[a-z-]+">(.*?)</script>', page, re.S)
        assert len(blocks) == 2
        for block in blocks:
            assert "<" not in block  # nothing inside can end the element or open a comment
            json.loads(block)
        assert page.count("<script") == 3  # the two data blocks and the page's own script
        assert "<img src=x" not in page and "<b>name" not in page
        assert "http://" not in page and "https://" not in page


def test_a_small_audit_keeps_report_text_plain_in_the_file(pages) -> None:  # type: ignore[no-untyped-def]
    index, details = _data(pages["audit"].read_text(encoding="utf-8"))
    assert index["z"] is False and all(isinstance(chunk, list) for chunk in details)
    assert escape("Electronically signed by Jane Roe, MD") in pages["audit"].read_text(encoding="utf-8")


def test_rows_and_details_are_stored_failures_first(audit) -> None:  # type: ignore[no-untyped-def]
    out, results = audit
    index, details = _data((out / "report.html").read_text(encoding="utf-8"))
    verdicts = [("pass", "fail", "error")[row[4]] for row in index["rows"]]
    assert verdicts == sorted(verdicts, key=["fail", "error", "pass"].index)
    assert len(verdicts) == len(results) == sum(len(chunk) for chunk in details)


def test_evidence_offsets_count_utf16_units_in_the_escaped_text(audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    for result in results:
        text = _text(result)
        if text is None:
            continue
        line = report_html.render_section(result, text)
        detail = json.loads(line.rstrip("\n").split("\t")[2])
        units = detail["t"].encode("utf-16-le", "surrogatepass")
        words = [
            ev.text for e in result.elements.values() for ev in [*e.evidence, *e.rejected]
        ]
        spelled = [units[2 * item[1] : 2 * item[2]].decode("utf-16-le") for item in detail["e"]]
        assert spelled == [escape(w, quote=True) for w in words], result.id


def test_lines_of_an_older_page_format_are_counted_not_shown(audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    old = '<tbody class="report v-pass" data-verdict="pass"><tr class="row"><td>x</td></tr></tbody>\n'
    sections = io.StringIO(old + report_html.render_section(results[0], _text(results[0])))
    page = io.StringIO()
    assert page_data.write_data_blocks(page, sections) == 1
    index, _details = _data(page.getvalue())
    assert index["older"] == 1 and len(index["rows"]) == 1


class _Stream(io.StringIO):
    def seekable(self) -> bool:
        return False


def test_sections_that_cannot_seek_give_the_same_page(audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    text = "".join(report_html.render_section(r, _text(r)) for r in results)
    pages = []
    for stream in (io.StringIO(text), _Stream(text)):
        page = io.StringIO()
        page_data.write_data_blocks(page, stream, "<script></script>", plain_limit=0, chunk=3)
        pages.append(page.getvalue())
    assert pages[0] == pages[1]


def test_summary_counts_read_as_words() -> None:
    summary = AuditSummary.model_validate(
        {
            "paths": ["in"], "out_dir": "out", "files": 1, "reports": 1, "passed": 1, "failed": 0, "errors": 0,
            "pass_rate": 1.0, "missing_by_element": {}, "errors_by_code": {}, "skipped": ["in/notes.xlsx"],
            "by_signer": {}, "versions": {}, "workers": 1, "resumed": False, "resumed_files": 0,
            "started_at": "t0", "finished_at": "t1", "elapsed_seconds": 0.1, "files_per_second": None,
        }
    )
    head = report_html.render_head(summary)
    assert "1 skipped file (" in head and "skipped files" not in head
    assert "</b>report in 1 file<" in head and "</b>file skipped (" in head


def test_a_report_costs_under_a_kilobyte_of_page_once_compressed(checker) -> None:  # type: ignore[no-untyped-def]
    # 20,000 reports must fit in 25 MB: 1,250 bytes each, summary and script included.
    texts = build_corpus(320).texts
    results = list(checker.check_many(texts))
    sections = io.StringIO("".join(report_html.render_section(r, t) for r, t in zip(results, texts, strict=True)))
    page = io.StringIO()
    page_data.write_data_blocks(page, sections, plain_limit=0)
    per_report = len(page.getvalue().encode("utf-8")) / len(texts)
    assert per_report < 1_000, per_report


# --------------------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright  # a dev dependency: missing it is a failure

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, pages):  # type: ignore[no-untyped-def]
    """Opens one of ``pages`` by name (a fresh context each time); page errors fail the test."""
    contexts = []
    errors: list[str] = []

    def opener(name: str, width: int = 1400):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(pages[name].as_uri())
        page.wait_for_selector("body[data-ready='1']")
        return page

    yield opener
    for context in contexts:
        context.close()
    assert errors == []


def ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all("tbody.report", "els => els.map(e => e.dataset.id)")


def column(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(f"tbody.report td.{name}", "els => els.map(e => e.textContent)")


def report(report_id: str) -> str:
    """The selector of a report's tbody, whatever its id holds (a JSON string is a valid CSS string)."""
    return f"tbody.report[data-id={json.dumps(report_id)}]"


def opened(page, report_id: str):  # type: ignore[no-untyped-def]
    """Opens one report and returns its tbody locator once its details are rendered."""
    body = page.locator(report(report_id))
    body.locator("summary").click()
    body.locator(".detail-body[data-done]").wait_for()
    return body


def spelled(page, report_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The words each evidence key's marked pieces spell, sorted."""
    return page.evaluate(
        """id => {
            const words = {};
            const body = document.querySelector('tbody.report[data-id="' + CSS.escape(id) + '"]');
            body.querySelectorAll('mark[data-ev]').forEach(m => {
                m.dataset.ev.split(' ').forEach(k => { words[k] = (words[k] || '') + m.textContent; });
            });
            return Object.values(words).sort();
        }""",
        report_id,
    )


def expected_words(result: CheckResult) -> list[str]:
    return sorted(ev.text for e in result.elements.values() for ev in [*e.evidence, *e.rejected])


@pytest.mark.browser
def test_failures_come_first_and_every_column_sorts_both_ways(open_page, audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    page = open_page("audit")
    verdicts = page.eval_on_selector_all("tbody.report", "els => els.map(e => e.dataset.verdict)")
    assert verdicts == sorted(verdicts, key=["fail", "error", "pass"].index)
    assert page.get_attribute('th[data-key="verdict"]', "aria-sort") == "ascending"

    page.click('th[data-key="tbs"] button')
    values = [v for v in column(page, "tbs") if v]
    assert values == sorted(values, key=float) and len(values) == sum(r.tbs_value is not None for r in results)
    assert column(page, "tbs")[-1] == ""  # no TBS: last
    page.click('th[data-key="tbs"] button')
    assert page.get_attribute('th[data-key="tbs"]', "aria-sort") == "descending"
    values = [v for v in column(page, "tbs") if v]
    assert values == sorted(values, key=float, reverse=True) and column(page, "tbs")[-1] == ""

    page.click('th[data-key="id"] button')
    assert ids(page) == sorted(ids(page), key=str.lower)
    page.click('th[data-key="el-signature"] button')
    assert ids(page)[0] in {"fail-unsigned", "fail-both"}


@pytest.mark.browser
def test_filters_combine_and_the_missing_element_bars_filter_too(open_page, audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    page = open_page("audit")
    page.click('button.bar-filter[data-missing="signature"]')
    assert page.input_value("#filter-missing") == "signature"
    assert page.get_attribute('button.bar-filter[data-missing="signature"]', "aria-pressed") == "true"
    assert sorted(ids(page)) == sorted(r.id for r in results if "signature" in r.missing)
    page.select_option("#filter-verdict", "pass")
    assert ids(page) == [] and "No report matches" in page.inner_text("table.reports")
    page.select_option("#filter-verdict", "all")
    page.click('button.bar-filter[data-missing="signature"]')  # a second click shows all again
    assert page.input_value("#filter-missing") == "any" and len(ids(page)) == len(results)


@pytest.mark.browser
def test_find_searches_ids_files_signers_and_reasons(open_page, audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    page = open_page("audit")

    def find(text: str) -> list[str]:
        page.fill("#filter-text", text)
        page.wait_for_function("v => document.getElementById('filter-text').dataset.applied === v", arg=text)
        return sorted(ids(page))

    assert find("keita") == ["pass-other-signer"]  # signer
    assert find("ASTRAL") == ["pass-astral"]  # id, case-insensitive
    assert find("hostile-") == ['hostile-"<b>name<i>"']  # file name, shown as text
    unsigned = sorted(r.id for r in results if "signature" in r.missing)
    reason = next(r for r in results if r.id == "fail-unsigned").elements["signature"].reason
    assert find(reason.split(".")[0]) == unsigned  # the reason a report fails
    assert find("jane fail-no") == ["fail-no-risk"]  # every word must match, anywhere
    assert find("jane unsigned") == []
    assert find("E003") == ["broken"]  # an unreadable file's error
    assert find("") == sorted(r.id for r in results)


@pytest.mark.browser
def test_a_report_is_rendered_only_when_opened_with_its_evidence_marked(open_page, audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    page = open_page("audit")
    assert page.locator("pre.report-text").count() == 0
    assert page.locator(".detail-body[data-done]").count() == 0
    for result in results:
        if result.verdict == "error":
            body = opened(page, result.id)
            assert "Could not be read (E003-empty)" in body.inner_text()
            continue
        body = opened(page, result.id)
        assert spelled(page, result.id) == expected_words(result), result.id
        why = body.locator(".why").first.inner_text()
        if result.verdict == "fail":
            assert "does not support CPT 77092" in why and "To fix:" in why
        else:
            assert "requirements are met" in why
    assert page.locator(".detail-body[data-done]").count() == len(results)
    page.click("#collapse")
    assert page.locator("details[open]").count() == 0


@pytest.mark.browser
def test_the_page_highlights_exactly_as_the_python_reference(open_page, audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    page = open_page("audit")
    for result in results:
        text = _text(result)
        if text is None:
            continue
        body = opened(page, result.id)
        same = body.locator("pre.report-text").evaluate(
            "(pre, html) => { const t = document.createElement('pre'); t.innerHTML = html; "
            "return t.innerHTML === pre.innerHTML; }",
            report_html.highlight(text, result),
        )
        assert same, result.id


@pytest.mark.browser
def test_report_text_is_shown_as_text_never_as_markup(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("audit")
    body = opened(page, 'hostile-"<b>name<i>"')
    text = body.locator("pre.report-text").inner_text()
    assert "</script><script>window.pwned = 1</script><img src=x" in text
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("tbody.report img, tbody.report b, tbody.report i, tbody.report script").count() == 0
    assert body.locator("td.src").inner_text().endswith('hostile-"<b>name<i>".txt')


@pytest.mark.browser
def test_compressed_details_open_exactly_like_plain_ones(open_page, audit) -> None:  # type: ignore[no-untyped-def]
    _out, results = audit
    page = open_page("compressed")
    for result in results:
        if result.verdict != "error":
            opened(page, result.id)
            assert spelled(page, result.id) == expected_words(result), result.id


@pytest.mark.browser
def test_needs_review_shows_a_badge_and_can_be_filtered(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("compressed")
    page.check("#filter-review")
    assert ids(page) == ["pass-other-signer"]
    body = page.locator(report("pass-other-signer"))
    assert body.locator(".badge.review").inner_text() == "needs review"
    opened(page, "pass-other-signer")
    assert "the signature block is ambiguous" in body.locator(".why.review").inner_text()
    page.uncheck("#filter-review")
    assert len(ids(page)) > 1


@pytest.mark.browser
def test_pages_of_rows_and_opening_a_whole_page(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("many")
    assert page.inner_text("#shown") == "Showing 130 of 130 reports"
    assert len(ids(page)) == 100 and page.is_disabled("#page-prev")
    page.click("#page-next")
    assert len(ids(page)) == 30 and "rows 101–130" in page.inner_text("#page-info")
    assert page.is_disabled("#page-next")
    page.select_option("#page-size", "50")
    assert len(ids(page)) == 50 and "page 1 of 3" in page.inner_text("#page-info")
    page.click("#expand")
    page.wait_for_function("() => document.querySelectorAll('.detail-body[data-done]').length === 50")
    before = ids(page)
    page.click("#page-next")
    assert set(ids(page)).isdisjoint(before) and page.locator("details[open]").count() == 0
    page.click("#page-prev")
    assert ids(page) == before and page.locator("details[open]").count() == 50  # still open when paged back


@pytest.mark.browser
@pytest.mark.parametrize("width", [1400, 700])
def test_an_opened_report_is_never_under_the_sticky_header(open_page, width: int) -> None:  # type: ignore[no-untyped-def]
    page = open_page("audit", width)
    body = opened(page, "pass-1")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.eval_on_selector(f"{report('pass-1')} pre.report-text", "e => e.scrollIntoView()")
    header_bottom = page.eval_on_selector("table.reports thead", "e => e.getBoundingClientRect().bottom")
    text_top = body.locator("pre.report-text").evaluate("e => e.getBoundingClientRect().top")
    assert text_top >= header_bottom
    head_top = page.eval_on_selector("table.reports thead th", "e => e.getBoundingClientRect().top")
    controls = page.eval_on_selector(".controls", "e => e.getBoundingClientRect().bottom")
    assert abs(head_top - controls) <= 1  # the header sits right under the controls, however tall they are


@pytest.mark.browser
def test_the_source_column_is_not_squeezed(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("audit")
    width = page.eval_on_selector(f"{report('pass-1')} td.src", "e => e.getBoundingClientRect().width")
    assert width >= 200  # the old page gave it ~9 characters
