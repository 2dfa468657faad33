#!/usr/bin/env python
"""report.html at scale: generate N reports, run the real ``tbs-doccheck audit``, open the page in headless Chromium.

For each size it prints the page's size and how long the page takes until it is usable: from the start
of navigation (the browser's own clock, ``performance.now()``) until a change of the verdict filter has
been applied and painted. It also times what an auditor does next: Find, a sort, opening one report,
opening a whole page of reports. Each size is opened ``--runs`` times in a fresh browser context; the
median is reported and the slowest run is checked against the target.

Targets (issue 14): 20,000 reports: page <= 25 MB and usable within 2 s; 5,000 reports: page <= 8 MB
(and usable within 2 s as well). Exit status 1 when a target is missed, 0 otherwise.

Usage::

    .venv/bin/python scripts/html_scale.py                    # 5,000 and 20,000 reports
    .venv/bin/python scripts/html_scale.py --reports 2000 --runs 1
    .venv/bin/python scripts/html_scale.py --html out/sample-audit/report.html   # time an existing page

Reports come from ``tbs_doccheck.bench.corpus`` (the sample reports cycled and varied, as ``bench``
uses them). Chromium is ``/usr/bin/chromium`` (``scripts/install-browser.sh`` installs it).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MB = 1_000_000
#: (max megabytes, max seconds until usable) per number of reports; other sizes get the 20,000 targets.
TARGETS = {5_000: (8.0, 2.0), 20_000: (25.0, 2.0)}

# Runs in the page: waits for the table, changes the verdict filter and waits for the next paint; returns
# milliseconds since navigation started (performance.now()) and how many rows the filter left.
_USABLE_JS = """async () => {
  const painted = () => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
  while (!(document.body && document.body.dataset.ready === '1')) { await new Promise(d => setTimeout(d, 5)); }
  const ready = performance.now();
  const select = document.getElementById('filter-verdict');
  select.value = 'fail';
  select.dispatchEvent(new Event('change'));
  await painted();
  return {ready: ready, usable: performance.now(), shown: document.getElementById('shown').textContent,
          rows: document.querySelectorAll('tbody.report').length};
}"""

# Times one interaction (a function of the page run, then the next paint), in milliseconds.
_TIMED_JS = """async (action) => {
  const painted = () => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
  const t0 = performance.now();
  if (action === 'find') {
    const input = document.getElementById('filter-text');
    input.value = 'signature';
    input.dispatchEvent(new Event('input'));
    const before = document.getElementById('shown').textContent;
    for (let i = 0; i < 400 && document.getElementById('shown').textContent === before; i++) {
      await new Promise(d => setTimeout(d, 2));
    }
  } else if (action === 'sort') {
    document.querySelector('th[data-key="tbs"] button').click();
  } else if (action === 'open') {
    const details = document.querySelector('tbody.report details');
    details.open = true;
    const body = details.querySelector('.detail-body');
    while (!body.dataset.done) { await new Promise(d => setTimeout(d, 1)); }
  } else if (action === 'open-page' || action === 'open-page-sorted') {
    document.getElementById('collapse').click();
    document.getElementById('expand').click();
    const bodies = () => Array.from(document.querySelectorAll('tbody.report .detail-body'));
    while (!bodies().every(b => b.dataset.done)) { await new Promise(d => setTimeout(d, 2)); }
  }
  await painted();
  return performance.now() - t0;
}"""

# In this order: opening in the default (failures first) order, then Find and a sort, then opening a page
# of that sorted, filtered view (its reports are scattered over the stored chunks: the slow case).
_ACTIONS = ("open", "open-page", "find", "sort", "open-page-sorted")


def _tool() -> list[str]:
    script = Path(sys.executable).with_name("tbs-doccheck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tbs_doccheck"]


def make_audit(n: int, workdir: Path, workers: int) -> tuple[Path, float]:
    """Writes ``n`` reports into ``workdir`` and audits them with the CLI; returns (report.html, audit seconds)."""
    from tbs_doccheck.bench.corpus import build_corpus

    folder = workdir / f"reports-{n}"
    folder.mkdir(parents=True)
    for i, text in enumerate(build_corpus(n).texts):
        (folder / f"report-{i:06d}.txt").write_text(text, encoding="utf-8")
    out = workdir / f"audit-{n}"
    cmd = [*_tool(), "audit", str(folder), "--out", str(out), "--workers", str(workers), "--exit-zero"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    if done.returncode != 0:
        raise SystemExit(f"audit of {n:,} reports failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return out / "report.html", time.perf_counter() - t0


def measure(html: Path, runs: int) -> dict[str, float | str]:
    """Opens ``html`` ``runs`` times in fresh contexts; times to usable and of each interaction (ms)."""
    from playwright.sync_api import sync_playwright

    usable: list[float] = []
    ready: list[float] = []
    wall: list[float] = []
    actions: dict[str, list[float]] = {a: [] for a in _ACTIONS}
    shown = ""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(html.as_uri(), wait_until="commit", timeout=120_000)
                got = page.evaluate(_USABLE_JS)
                wall.append((time.perf_counter() - t0) * 1000)
                ready.append(got["ready"])
                usable.append(got["usable"])
                shown = got["shown"]
                for action in _ACTIONS:
                    actions[action].append(page.evaluate(_TIMED_JS, action))
                context.close()
        finally:
            browser.close()
    result: dict[str, float | str] = {
        "ready_ms": statistics.median(ready),
        "usable_ms": statistics.median(usable),
        "usable_max_ms": max(usable),
        "wall_ms": statistics.median(wall),
        "shown": shown,
    }
    for action, times in actions.items():
        result[f"{action}_ms"] = statistics.median(times)
    return result


def _line(label: str, html: Path, m: dict[str, float | str], extra: str = "") -> str:
    size = html.stat().st_size / MB
    return (
        f"{label}: report.html {size:.1f} MB; usable in {m['usable_ms']:.0f} ms (median; slowest "
        f"{m['usable_max_ms']:.0f} ms; table drawn at {m['ready_ms']:.0f} ms; {m['wall_ms']:.0f} ms as Playwright "
        f"saw it); then open a report {m['open_ms']:.0f} ms, open a page of 100 reports {m['open-page_ms']:.0f} ms, "
        f"Find {m['find_ms']:.0f} ms, sort by TBS {m['sort_ms']:.0f} ms, open a page of that view "
        f"{m['open-page-sorted_ms']:.0f} ms [{m['shown']}]{extra}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, nargs="+", default=[5_000, 20_000], help="audit sizes to generate")
    parser.add_argument("--workers", type=int, default=2, help="workers for the audit (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="page loads per size (fresh context each)")
    parser.add_argument("--html", type=Path, nargs="+", help="time these existing report.html files instead")
    parser.add_argument("--keep", type=Path, help="keep the generated reports and audits in this folder")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: run scripts/install-browser.sh", file=sys.stderr)
        return 2

    if args.html:
        for html in args.html:
            print(_line(str(html), html, measure(html, args.runs)), flush=True)
        return 0

    missed: list[str] = []
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="tbs-html-scale-"))
    try:
        for n in args.reports:
            html, seconds = make_audit(n, workdir, args.workers)
            m = measure(html, args.runs)
            print(_line(f"{n:,} reports", html, m, f"; audit took {seconds:.0f} s"), flush=True)
            max_mb, max_s = TARGETS.get(n, TARGETS[20_000])
            size = html.stat().st_size / MB
            if size > max_mb:
                missed.append(f"{n:,} reports: {size:.1f} MB > {max_mb:.0f} MB")
            if float(m["usable_max_ms"]) > max_s * 1000:
                missed.append(f"{n:,} reports: usable after {float(m['usable_max_ms']) / 1000:.2f} s > {max_s:.0f} s")
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    for miss in missed:
        print(f"TARGET MISSED: {miss}", file=sys.stderr)
    if not missed:
        print("all targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
