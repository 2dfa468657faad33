"""report.html's data: each report as one compact line (made in the workers), and the page's two data blocks.

A section line is ``tbs-page-1 <TAB> row <TAB> detail``:

* the *row* is what the table, the filters, the sorting and Find need (id, source, verdict, which
  elements are there, missing, TBS, signer, the reasons a report fails, needs review);
* the *detail* is what opening the report shows: its text (HTML-escaped), every piece of evidence
  (element, whether it counts, where it is, reason, rule, section), the element and requirement
  reasons and the review reasons.

:func:`write_data_blocks` turns the lines into two ``<script type="application/json">`` blocks: the
rows (repeated strings such as folders, signers and reasons kept once in a string table), written first
so the table can be drawn while the browser still reads the rest, and the details, in chunks of
:data:`CHUNK` reports. Details of a small audit are stored as they are; those of a larger one (over
:data:`PLAIN_LIMIT` characters) are gzip-compressed per chunk and base64-encoded, and the browser
inflates a chunk (``DecompressionStream``) only when one of its reports is opened.

Every JSON text written into the page has ``<`` escaped as ``\\u003c``, so nothing in it can close the
script element or open a comment; report texts are HTML-escaped before they go in, so the page can
insert slices of them as they are.
"""

from __future__ import annotations

import base64
import contextlib
import json
import tempfile
import zlib
from collections.abc import Iterator
from html import escape
from itertools import pairwise
from typing import IO, Any

from tbs_doccheck.models import ELEMENT_IDS, CheckResult, ElementId, Evidence
from tbs_doccheck.resources import element_catalogue

__all__ = ["CHUNK", "FORMAT", "PLAIN_LIMIT", "encode_section", "write_data_blocks"]

#: First field of every section line; lines without it (an older journal's HTML) are counted, not shown.
FORMAT = "tbs-page-1"
#: Reports per detail chunk: the unit the page inflates when a report is opened.
CHUNK = 32
#: Details up to this many characters stay plain JSON (a small audit's report.html can be searched as
#: text); beyond it every chunk is compressed.
PLAIN_LIMIT = 2_000_000

_VERDICTS = ("pass", "fail", "error")
#: The table's default order, failures first; rows and details are stored in it.
_DEFAULT_ORDER = ("fail", "error", "pass")
_ELEMENT_INDEX: dict[str, int] = {e: i for i, e in enumerate(ELEMENT_IDS)}
#: Pseudo-element indices for the row's search reasons that belong to no element.
_ERROR_REASON = len(ELEMENT_IDS)
_REVIEW_REASON = len(ELEMENT_IDS) + 1


def _dumps(value: Any) -> str:
    """Compact JSON that is safe inside ``<script type="application/json">``."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _js_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units: how JavaScript counts string offsets."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _stem(base: str) -> str:
    """A file name without its last extension, exactly as the page's script derives it."""
    dot = base.rfind(".")
    return base[:dot] if dot > 0 else base


def _split_source(source: str | None) -> tuple[str, str]:
    if not source:
        return "", ""
    cut = max(source.rfind("/"), source.rfind("\\")) + 1
    return source[:cut], source[cut:]


def _signer(result: CheckResult) -> str:
    if not result.signer:
        return ""
    return result.signer.name + (f", {result.signer.credential}" if result.signer.credential else "")


def _evidence(result: CheckResult) -> Iterator[tuple[ElementId, bool, Evidence]]:
    """Every piece of evidence as (element, counts, evidence): counting ones first, per element."""
    for element in ELEMENT_IDS:
        found = result.elements.get(element)
        if found is None:
            continue
        for counts, items in ((True, found.evidence), (False, found.rejected)):
            for ev in items:
                yield element, counts, ev


def _escaped_text(text: str, cuts: set[int]) -> tuple[str, dict[int, int]]:
    """``text`` HTML-escaped, and where each of ``cuts`` (offsets into ``text``) lands in it, in UTF-16 units."""
    points = sorted(cuts | {0, len(text)})
    pieces: list[str] = []
    where = {0: 0}
    at = 0
    for start, end in pairwise(points):
        piece = escape(text[start:end], quote=True)
        pieces.append(piece)
        at += _js_len(piece)
        where[end] = at
    return "".join(pieces), where


def _row(result: CheckResult) -> list[Any]:
    directory, base = _split_source(result.source)
    reasons: list[Any] = []
    for element in ELEMENT_IDS:
        found = result.elements.get(element)
        if found is not None and not found.satisfied and found.reason:
            reasons += [_ELEMENT_INDEX[element], found.reason]
    if result.error:
        reasons += [_ERROR_REASON, result.error]
    review = bool(getattr(result, "needs_review", False))
    if review:
        for reason in getattr(result, "review_reasons", None) or []:
            reasons += [_REVIEW_REASON, reason]
    ok = "".join(
        "-" if (found := result.elements.get(e)) is None else "1" if found.satisfied else "0" for e in ELEMENT_IDS
    )
    error_code = (result.error_code.value if result.error_code else "error") if result.verdict == "error" else ""
    return [
        0 if base and result.id == _stem(base) else result.id,
        directory,
        base,
        result.position or 0,
        _VERDICTS.index(result.verdict),
        ok,
        "".join(str(_ELEMENT_INDEX[e]) for e in result.missing if e in _ELEMENT_INDEX),
        round(result.tbs_value, 3) if result.tbs_value is not None else None,
        _signer(result),
        reasons,
        int(review),
        error_code,
    ]


def _detail(result: CheckResult, text: str | None) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if result.verdict == "error":
        detail["er"] = [result.error_code.value if result.error_code else "error", result.error or ""]
        return detail
    items = list(_evidence(result))
    valid = [
        text is not None and 0 <= ev.start < ev.end <= len(text) and text[ev.start : ev.end] == ev.text
        for _element, _counts, ev in items
    ]
    where: dict[int, int] = {}
    if text is not None:
        cuts = {p for (_e, _c, ev), ok in zip(items, valid, strict=True) if ok for p in (ev.start, ev.end)}
        detail["t"], where = _escaped_text(text, cuts)
    evidence = []
    for (element, counts, ev), ok in zip(items, valid, strict=True):
        item: list[Any] = [
            _ELEMENT_INDEX[element] * 2 + int(counts),
            where[ev.start] if ok else -1,
            where[ev.end] if ok else -1,
            ev.reason,
            ev.rule_id,
            ev.section or "",
        ]
        if not ok:  # a mark on the wrong words would mislead more than a missing mark: listed, not marked
            item.append(ev.text)
        evidence.append(item)
    if evidence:
        detail["e"] = evidence
    detail["el"] = [
        [_ELEMENT_INDEX[e], int(found.satisfied), found.reason]
        for e in ELEMENT_IDS
        if (found := result.elements.get(e)) is not None
    ]
    failed = [
        [req.title, [_ELEMENT_INDEX[e] for e in req.elements], req.reason.removeprefix("Not met: ")]
        for req in result.requirements
        if not req.satisfied
    ]
    if failed:
        detail["rq"] = failed
    if getattr(result, "needs_review", False):
        detail["rv"] = list(getattr(result, "review_reasons", None) or [])
    return detail


def encode_section(result: CheckResult, text: str | None) -> str:
    """One report's section line (see the module docstring), newline included."""
    return f"{FORMAT}\t{_dumps(_row(result))}\t{_dumps(_detail(result, text))}\n"


# --------------------------------------------------------------------------- the page's blocks


class _Strings:
    """A string table: each distinct string once, referred to by its index."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.items)
            self.items.append(value)
        return found


def _write_details(out: IO[str], details: Iterator[str], chunk: int, compress: bool) -> None:
    """The details block: chunks of ``chunk`` detail objects, each plain JSON or a base64 gzip string."""
    out.write('<script type="application/json" id="tbs-details">[')
    held: list[str] = []
    written = 0

    def flush() -> None:
        nonlocal written
        body = "[" + ",".join(held) + "]"
        if compress:
            packed = zlib.compress(body.encode("utf-8", "replace"), 6, wbits=31)  # gzip, no file name or time
            body = '"' + base64.b64encode(packed).decode("ascii") + '"'
        out.write(("," if written else "") + body)
        written += 1
        held.clear()

    for detail in details:
        held.append(detail)
        if len(held) == chunk:
            flush()
    if held:
        flush()
    out.write("]</script>\n")


def write_data_blocks(
    out: IO[str], sections: IO[str], script: str = "", *, chunk: int = CHUNK, plain_limit: int = PLAIN_LIMIT
) -> int:
    """Writes the rows block, then ``script``, then the details block, from ``sections`` (:func:`encode_section` lines).

    The rows come first so that the page's script can draw the table while the browser is still reading
    the (much larger) details. Both are stored in the table's default order, failures first (fail, error,
    pass; the audit's order within each), so the reports an auditor opens first share a few chunks.

    ``sections`` is read once for the rows and once per verdict for the details (a seekable file is read
    again; anything else is spooled to a temporary file first). Details are copied a chunk at a time,
    so only the rows (a few dozen bytes a report) are held in memory.

    Args:
        out: The page being written.
        sections: Section lines, read from the current position.
        script: Written between the two blocks (the page's ``<script>`` element).
        chunk: Reports per detail chunk.
        plain_limit: Characters of details up to which the chunks stay uncompressed.

    Returns:
        How many reports the blocks hold.
    """
    labels = {e.id: e.label for e in element_catalogue().elements}
    strings = _Strings()
    by_verdict: dict[int, list[list[Any]]] = {_VERDICTS.index(v): [] for v in _DEFAULT_ORDER}
    verdicts = bytearray()  # each good line's verdict, in file order
    older = 0
    detail_chars = 0
    with contextlib.ExitStack() as stack:
        source = sections
        if not sections.seekable():
            source = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace"))
        start = source.tell()
        for line in sections:
            fields = _fields(line)
            if fields is None:
                older += line.strip() != ""
                continue
            row = json.loads(fields[1])
            reasons = row[9]
            row[1] = strings(row[1])
            row[8] = strings(row[8]) if row[8] else -1
            row[9] = [strings(v) if i % 2 else v for i, v in enumerate(reasons)]
            row[11] = strings(row[11]) if row[11] else -1
            by_verdict[row[4]].append(row)
            verdicts.append(row[4])
            detail_chars += len(fields[2])
            if source is not sections:
                source.write(line if line.endswith("\n") else line + "\n")
        compress = detail_chars > plain_limit
        index = {
            "v": 1,
            "chunk": chunk,
            "z": compress,
            "older": older,
            "el": list(ELEMENT_IDS),
            "lab": [labels[e] for e in ELEMENT_IDS],
            "s": strings.items,
            "rows": [row for rows in by_verdict.values() for row in rows],
        }
        out.write(f'<script type="application/json" id="tbs-index">{_dumps(index)}</script>\n')
        del index, by_verdict  # the details that follow may be large: keep nothing per report while copying them
        out.write(script)

        def details() -> Iterator[str]:
            for verdict in (_VERDICTS.index(v) for v in _DEFAULT_ORDER):
                if verdict not in verdicts:
                    continue
                source.seek(start)
                good = (fields for line in source if (fields := _fields(line)) is not None)
                for fields, row_verdict in zip(good, verdicts, strict=True):
                    if row_verdict == verdict:
                        yield fields[2]

        _write_details(out, details(), chunk, compress)
    return len(verdicts)


def _fields(line: str) -> list[str] | None:
    fields = line.rstrip("\n").split("\t")
    return fields if len(fields) == 3 and fields[0] == FORMAT else None
