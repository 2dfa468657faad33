"""``queries/worklist.csv`` (one row per query) and ``queries/manifest.json`` (a content hash per audited file)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

QUERIES_DIR = "queries"
WORKLIST_NAME = "worklist.csv"
MANIFEST_NAME = "manifest.json"
SUMMARY_NAME = "summary.json"
_MANIFEST_FORMAT = 1

#: Query statuses: asked and not yet answered by the record; the report now passes; its file is gone.
OPEN, RESOLVED, FILE_MISSING = "open", "resolved", "file-missing"


class QueryError(RuntimeError):
    """The audit folder cannot be used for queries (no results, no manifest...)."""


@dataclass
class WorklistRow:
    """One query: one failing report, the letter it is in, and where it stands."""

    query_id: str
    status: str
    signer: str
    letter: str
    report_id: str
    source: str
    position: str
    exam_date: str
    elements: str
    created: str
    updated: str
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """The report it is about: its file and its position in the file."""
        return self.source, self.position


COLUMNS = [f.name for f in fields(WorklistRow)]


def report_key(source: str | None, position: int | None) -> tuple[str, str]:
    """The worklist key of a result."""
    return source or "", "" if position is None else str(position)


def read_worklist(folder: Path) -> list[WorklistRow]:
    """The rows of ``folder/worklist.csv`` (none when there is no worklist yet)."""
    path = folder / WORKLIST_NAME
    if not path.is_file():
        return []
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or set(reader.fieldnames) != set(COLUMNS):
            raise QueryError(f"{path}: not a worklist written by tbs-doccheck (columns {reader.fieldnames})")
        return [WorklistRow(**{c: row.get(c) or "" for c in COLUMNS}) for row in reader]


def write_worklist(folder: Path, rows: list[WorklistRow]) -> None:
    """Write the worklist atomically (UTF-8 with a byte-order mark, as results.csv, so spreadsheets read it).

    A file name that is not UTF-8 keeps its bytes (``surrogateescape``), so ``recheck`` finds the file again.
    """
    tmp = folder / f".{WORKLIST_NAME}.tmp"
    with open(tmp, "w", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_cell(v) for v in asdict(row).values()])
    os.replace(tmp, folder / WORKLIST_NAME)


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def file_hash(source: str) -> str | None:
    """The sha256 of a file's bytes; None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, str | None]:
    """The content hash of each audited file when its results were made (None: unknown, always re-check it).

    Raises:
        QueryError: No manifest, or not one this tool wrote.
    """
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QueryError(
            f"no {QUERIES_DIR}/{MANIFEST_NAME} in the audit folder: run `tbs-doccheck queries` on it first"
        ) from None
    except ValueError:
        raise QueryError(f"{path} is damaged: run `tbs-doccheck queries` on the audit folder again") from None
    usable = isinstance(data, dict) and data.get("manifest") == _MANIFEST_FORMAT
    if not usable or not isinstance(data.get("files"), dict):
        raise QueryError(f"{path} was not written by this version of tbs-doccheck")
    return data["files"]


def write_manifest(folder: Path, hashes: dict[str, str | None], **extra: Any) -> None:
    """Write the manifest atomically."""
    data = {"manifest": _MANIFEST_FORMAT, **extra, "files": hashes}
    _write_json(folder / MANIFEST_NAME, data)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    text = json.dumps(data, ensure_ascii=False, indent=2)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8 (PEP 383 surrogates): escape it
        text = json.dumps(data, ensure_ascii=True, indent=2)
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_summary(folder: Path, data: dict[str, Any]) -> None:
    """``queries/summary.json``: query counts per signer and per status."""
    _write_json(folder / SUMMARY_NAME, data)
