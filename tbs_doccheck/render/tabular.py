"""Renderers: check results as text, JSON, JSON Lines and CSV; evaluation metrics as text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from tbs_doccheck.models import ELEMENT_IDS, CheckResult

FORMATS = ("text", "json", "jsonl", "csv")

#: CSV columns: one row a report, opening cleanly in a spreadsheet; every name unique (README, "CSV columns").
#: ``<element>_ok`` is the element's yes/no; ``tbs_value`` is the number, as in the JSON results.
CSV_COLUMNS = ["id", "source", "position", "verdict", "needs_review", *(f"{e}_ok" for e in ELEMENT_IDS), "tbs_value",
               "tbs_region", "signer", "credential", "signature_status", "missing", "reasons", "review_reasons",
               "flags", "flag_ids", "error_code", "error"]

_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never evaluates as a formula."""
    s = "" if value is None else str(value)
    if s.startswith(_SPREADSHEET_FORMULA) and not _is_number(s):
        s = "'" + s
    return s


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def csv_row(r: CheckResult) -> list[str]:
    """One result as a CSV row in :data:`CSV_COLUMNS` order."""
    els = [("yes" if r.elements[e].satisfied else "no") if r.elements else "" for e in ELEMENT_IDS]
    reasons = " | ".join(f"{e}: {r.elements[e].reason}" for e in r.missing) if r.elements else ""
    review = ("yes" if r.needs_review else "no") if r.elements else ""
    row = [r.id, r.source, r.position, r.verdict, review, *els, r.tbs_value, r.tbs_region,
           r.signer.name if r.signer else None, r.signer.credential if r.signer else None,
           r.signature_status, ";".join(r.missing), reasons, " | ".join(r.review_reasons),
           len(r.flags) if r.elements else None, ";".join(f.id for f in r.flags),
           r.error_code.value if r.error_code else None, r.error]
    return [_cell(v) for v in row]


def render_csv(results: Iterable[CheckResult]) -> Iterator[str]:
    """CSV text, header first, streamed a row at a time."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    for r in results:
        buf.seek(0)
        buf.truncate()
        w.writerow(csv_row(r))
        yield buf.getvalue()


def render_jsonl(results: Iterable[CheckResult]) -> Iterator[str]:
    """One ``model_dump(mode="json")`` object a line."""
    for r in results:
        yield json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n"


def render_json(results: Iterable[CheckResult]) -> Iterator[str]:
    """A JSON array of results (streamed element by element)."""
    yield "["
    for n, r in enumerate(results):
        yield ("," if n else "") + "\n  " + json.dumps(r.model_dump(mode="json"), ensure_ascii=False)
    yield "\n]\n"


#: ANSI colours of the text format on a terminal (``check`` decides when: never piped, never with NO_COLOR).
_ANSI = {"PASS": "32", "FAIL": "1;31", "ERROR": "1;31", "MISSING": "31", "NEEDS REVIEW": "33"}


def _paint(word: str, colour: bool) -> str:
    return f"\x1b[{_ANSI[word]}m{word}\x1b[0m" if colour else word


def render_text_one(r: CheckResult, *, quiet: bool = False, colour: bool = False) -> str:
    """A linter-style block for one result: verdict line, one line per element, review reasons, consistency flags.

    ``quiet`` leaves out the elements that are met; ``colour`` marks PASS, FAIL, MISSING and ERROR with ANSI colours.
    """
    where = r.source or r.id
    if r.position:
        where += f"#{r.position}"
    if r.verdict == "error":
        return f"{where}: {_paint('ERROR', colour)} {r.error_code.value if r.error_code else ''} {r.error}\n"
    head = f"{where}: {_paint(r.verdict.upper(), colour)}" + (
        f"  {_paint('NEEDS REVIEW', colour)}" if r.needs_review else "")
    if r.tbs_value is not None:
        head += f"  TBS {r.tbs_value:g}"
    if r.signer:
        head += f"  signed by {r.signer.name}" + (f", {r.signer.credential}" if r.signer.credential else "")
    lines = [head]
    for e in ELEMENT_IDS:
        el = r.elements[e]
        if quiet and el.satisfied:
            continue
        mark = "ok     " if el.satisfied else _paint("MISSING", colour)
        lines.append(f"  {mark:7} {e:16} {el.reason}")
    lines += [f"  review  {why}" for why in r.review_reasons]
    lines += [f"  flag    {f.id} ({f.severity}): {f.message}" for f in r.flags]
    return "\n".join(lines) + "\n"


def render_text(results: Iterable[CheckResult], *, quiet: bool = False, colour: bool = False) -> Iterator[str]:
    """Human-readable blocks followed by a one-line summary; ``quiet``: only failing and unreadable reports' blocks."""
    counts = {"pass": 0, "fail": 0, "error": 0}
    for r in results:
        counts[r.verdict] += 1
        if not (quiet and r.verdict == "pass"):
            yield render_text_one(r, quiet=quiet, colour=colour)
    total = sum(counts.values())
    gap = "\n" if (total - counts["pass"] if quiet else total) else ""  # no blank line after nothing
    yield f"{gap}{total} report(s): {counts['pass']} pass, {counts['fail']} fail, {counts['error']} error\n"


RENDERERS = {"text": render_text, "json": render_json, "jsonl": render_jsonl, "csv": render_csv}
