"""report.html in a real headless Chromium: filters work, opened reports show their evidence, nothing is fetched."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from tbs_doccheck.audit.run import run_audit

try:  # the helpers sit beside this file; tests/ may or may not become a package
    from tests import formats as F
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

UNSIGNED = "\n".join(F.REPORT_LINES[:-1]) + "\n"
NO_RISK = "\n".join(line for line in F.REPORT_LINES if not line.startswith("Fracture risk")) + "\n"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """An audit of a few passing, failing and unreadable reports: (report.html, results)."""
    root = tmp_path_factory.mktemp("reports")
    files = {
        "pass-1.txt": F.REPORT_TEXT,
        "pass-2.txt": F.REPORT_TEXT.replace("1.254", "1.301"),
        "fail-unsigned.txt": UNSIGNED,
        "fail-no-risk.txt": NO_RISK,
        "fail-both.txt": "\n".join(line for line in UNSIGNED.splitlines() if not line.startswith("Fracture")),
        "broken.txt": "",
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("audit")
    run_audit([root], out, progress=False)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return out / "report.html", rows


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
def page(browser, audited):  # type: ignore[no-untyped-def]
    """report.html opened, with every request the page makes recorded."""
    html, _rows = audited
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda request: page.requests.append(request.url))  # type: ignore[attr-defined]
    page.goto(html.as_uri())
    yield page
    context.close()


def open_all(page) -> None:  # type: ignore[no-untyped-def]
    """Opens every report on the table's page and waits until each one's text and evidence are rendered."""
    page.click("#expand")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('tbody.report .detail-body')).every(b => b.dataset.done)"
    )


def visible_reports(page) -> list[dict]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(
        "tbody.report",
        "els => els.filter(e => e.offsetParent !== null)"
        ".map(e => ({id: e.dataset.id, verdict: e.dataset.verdict, missing: e.dataset.missing}))",
    )


def test_the_page_loads_nothing_but_itself(page, audited) -> None:  # type: ignore[no-untyped-def]
    html, _rows = audited
    page.wait_for_load_state("networkidle")
    assert page.requests == [html.as_uri()]


def test_all_reports_show_until_a_filter_is_chosen(page, audited) -> None:  # type: ignore[no-untyped-def]
    _html, rows = audited
    assert len(visible_reports(page)) == len(rows)
    assert page.inner_text("#shown") == f"Showing {len(rows)} of {len(rows)} reports"


@pytest.mark.parametrize("verdict", ["fail", "pass", "error"])
def test_choosing_a_verdict_shows_only_the_reports_with_that_verdict(page, audited, verdict: str) -> None:  # type: ignore[no-untyped-def]
    _html, rows = audited
    page.select_option("#filter-verdict", verdict)
    shown = visible_reports(page)
    assert sorted(r["id"] for r in shown) == sorted(r["id"] for r in rows if r["verdict"] == verdict)
    assert shown and {r["verdict"] for r in shown} == {verdict}


@pytest.mark.parametrize("element", ["signature", "fracture_risk"])
def test_choosing_a_missing_element_shows_only_the_reports_missing_it(page, audited, element: str) -> None:  # type: ignore[no-untyped-def]
    _html, rows = audited
    page.select_option("#filter-missing", element)
    shown = visible_reports(page)
    assert sorted(r["id"] for r in shown) == sorted(r["id"] for r in rows if element in r["missing"])
    page.select_option("#filter-verdict", "pass")
    assert visible_reports(page) == []


def test_every_evidence_span_is_highlighted_with_exactly_its_words(page, audited) -> None:  # type: ignore[no-untyped-def]
    _html, rows = audited
    open_all(page)
    for row in rows:
        spelled = page.evaluate(
            """id => {
                const words = {};
                const body = document.querySelector(`tbody.report[data-id="${id}"]`);
                body.querySelectorAll('mark[data-ev]').forEach(m => {
                    m.dataset.ev.split(' ').forEach(k => { words[k] = (words[k] || '') + m.textContent; });
                });
                return Object.values(words).sort();
            }""",
            row["id"],
        )
        expected = sorted(
            ev["text"] for element in row["elements"].values() for ev in [*element["evidence"], *element["rejected"]]
        )
        assert spelled == expected, row["id"]


def test_elements_have_their_own_colours_and_rejected_mentions_are_struck_with_a_reason(page) -> None:  # type: ignore[no-untyped-def]
    body = 'tbody.report[data-id="pass-1"]'
    page.click(f"{body} summary")
    page.wait_for_selector(f"{body} pre.report-text mark")
    colours = {
        element: page.eval_on_selector(
            f"{body} mark.el-{element}:not(.rej)", "m => getComputedStyle(m).backgroundColor"
        )
        for element in ("imaging_source", "tbs_value", "fracture_risk", "recommendations", "signature")
    }
    assert len(set(colours.values())) == 5, colours
    assert page.text_content(f"{body} mark.el-tbs_value:not(.rej)") == "TBS L1-L4: 1.254"
    rejected = page.query_selector(f"{body} mark.rej")
    assert rejected is not None
    assert "line-through" in rejected.evaluate("m => getComputedStyle(m).textDecorationLine")
    assert "does not count" in (rejected.get_attribute("title") or "")


def test_a_failed_report_says_why_in_plain_words(page) -> None:  # type: ignore[no-untyped-def]
    body = page.locator('tbody.report[data-id="fail-unsigned"]')
    body.locator("summary").click()
    why = body.locator(".why").inner_text()
    assert "does not support CPT 77092" in why
    assert "Signature of the qualified professional" in why


def test_a_screenshot_shows_the_highlighted_evidence(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#filter-verdict", "fail")
    body = page.locator('tbody.report[data-id="fail-unsigned"]')
    body.locator("summary").click()
    body.locator("pre.report-text").scroll_into_view_if_needed()
    assert body.locator("pre.report-text mark").first.is_visible()
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 1000)
    assert len(data) > 30_000  # a blank or near-blank page compresses to a few kB
