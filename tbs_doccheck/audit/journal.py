"""The journal of the run in progress: its header, JSON lines, scan, opening for ``--resume``, and records read back."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from tbs_doccheck.audit.errors import AuditError

# Named as before the audit was split into modules, so its log lines (and any filter on the name) stay as they were.
log = logging.getLogger("tbs_doccheck.audit.run")

#: Results of the run in progress, one line per finished input file; removed once the outputs are written.
JOURNAL_NAME = ".journal.jsonl"
_JOURNAL_FORMAT = 3  # 2: results stored as their JSON Lines text; 3: report.html rows as compact data, not HTML
# Every record line starts so (json.dumps keeps key order), which lets a scan read the
# source without parsing the whole line.
_RECORD_START = b'{"source": "'


def _json_text(value: Any, **kwargs: Any) -> str:
    """JSON that always encodes as UTF-8, keeping non-ASCII text readable where it can.

    A file name that is not valid UTF-8 reaches Python as lone surrogates (PEP 383), and
    so can a JSON input's ``"\\ud800"`` escape: neither can be written as UTF-8, so such
    a value falls back to ``\\u`` escapes, which read back to the very same string.
    """
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **kwargs)
    return text


def _journal_header(versions: dict[str, str], max_bytes: int) -> dict[str, Any]:
    return {"journal": _JOURNAL_FORMAT, **versions, "max_bytes": max_bytes}


def _scan_journal(path: Path) -> tuple[dict[str, Any] | None, dict[str, int], int]:
    """Reads the journal's header and where each source's line starts.

    A line is complete when it ends in a newline: lines are only ever appended whole
    (JSON escapes the newlines inside), so a run killed mid-write leaves at most one torn
    line, at the end. Only each line's leading ``source`` is decoded here; scanning stops
    at the first line that is not a record.

    Returns:
        ``(header, offsets, good_end)``: the header (None when unusable), byte offset of
        each source's line (the last one wins), and the end of the last good line.
    """
    offsets: dict[str, int] = {}
    header: dict[str, Any] | None = None
    good_end = 0
    with open(path, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            if header is None:
                try:
                    header = json.loads(line)
                except ValueError:
                    break
                if not isinstance(header, dict) or header.get("journal") != _JOURNAL_FORMAT:
                    header = None
                    break
            else:
                source = _record_source(line)
                if source is None:
                    break
                offsets[source] = good_end
            good_end += len(line)
    return header, offsets, good_end


_SOURCE_DECODER = json.JSONDecoder()


def _record_source(line: bytes) -> str | None:
    """The ``source`` a whole journal record line starts with, or None when the line is not one."""
    if not line.endswith(b"\n") or not line.startswith(_RECORD_START):
        return None
    try:
        source, _end = _SOURCE_DECODER.raw_decode(line.decode("utf-8"), len(_RECORD_START) - 1)
    except ValueError:
        return None
    return source if isinstance(source, str) else None


def _open_journal(path: Path, resume: bool, header: dict[str, Any]) -> tuple[IO[str], dict[str, int]]:
    """Opens the journal for appending, keeping an earlier run's complete lines if resuming.

    Returns:
        The open journal and the offsets of the sources already done.
    """
    if resume and path.exists():
        found, offsets, good_end = _scan_journal(path)
        if found == header:
            with open(path, "r+b") as fh:
                fh.truncate(good_end)  # drop a torn last line before appending after it
            log.info("resuming: %d files already done", len(offsets))
            return open(path, "a", encoding="utf-8"), offsets
        log.warning(
            "the journal in the output folder was made by another version or settings (or is damaged): starting over"
        )
    elif resume:
        log.info("nothing to resume in the output folder: starting a full audit")
    elif path.exists():
        log.info("discarding the journal of an earlier unfinished audit (use --resume to continue it)")
    journal = open(path, "w", encoding="utf-8")  # noqa: SIM115 - the caller's with-block closes it
    journal.write(json.dumps(header) + "\n")
    _sync(journal)
    return journal, {}


def _sync(fh: IO[str]) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _journal_records(journal: Path, order: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The journal's records in ``order``: the journal's own order may differ after a resume."""
    if _journal_in_order(journal, order):
        # The usual case, resumed or not: read straight through, no index of 20,000 sources in memory.
        with open(journal, "rb") as fh:
            fh.readline()  # the header
            for line in fh:
                yield _journal_record(journal, line)
        return
    _, offsets, _ = _scan_journal(journal)
    stale = len(offsets) - sum(source in offsets for source in order)
    if stale:
        log.warning("%d files in the journal are no longer among the inputs: left out", stale)
    with open(journal, "rb") as fh:
        for source in order:
            fh.seek(offsets[source])
            yield _journal_record(journal, fh.readline())


def _journal_record(journal: Path, line: bytes) -> dict[str, Any]:
    try:
        return json.loads(line)
    except ValueError:
        raise AuditError(f"the journal {journal} is damaged: run the audit again without --resume") from None


def _journal_in_order(journal: Path, order: Sequence[str]) -> bool:
    """Whether the journal holds one whole record per source of ``order``, in that order, and nothing else."""
    count = 0
    with open(journal, "rb") as fh:
        fh.readline()  # the header
        for line in fh:
            if count == len(order) or _record_source(line) != order[count]:
                return False
            count += 1
    return count == len(order)
