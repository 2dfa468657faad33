"""What runs in Spark's Python workers: Arrow batches of rows or files in, result rows out, one Checker per worker."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tbs_doccheck.audit.journal import _json_text
from tbs_doccheck.audit.workers import _Pipeline
from tbs_doccheck.models import ErrorCode, ReadError, ReportInput
from tbs_doccheck.readers import read_path
from tbs_doccheck.spark.reading import read_content
from tbs_doccheck.spark.schema import AUDIT_COLUMNS, RESULT_COLUMNS, result_row, utf8_safe

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["INTERNAL_COLUMNS", "check_file_batches", "check_text_batches"]

log = logging.getLogger(__name__)

#: Columns the audit needs beside the result columns and drops before writing its table: which input the
#: row came from (``seq``: a file's index in path order, or a table row's place in scan order), the
#: report's place among that input's reports (``ordinal``, from 0), and its report.html line as UTF-8
#: (bytes: a file name that is not UTF-8 must reach the page as the local audit writes it, "?" for each
#: character UTF-8 cannot hold).
INTERNAL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("seq", "bigint", "Index of the input in the audit's order"),
    ("ordinal", "int", "0-based index of the report among its input's reports"),
    ("html", "binary", "The report's report.html line, UTF-8"),
)

_RESULT_NAMES = [name for name, _, _ in RESULT_COLUMNS]
_AUDIT_NAMES = [name for name, _, _ in AUDIT_COLUMNS]
_INTERNAL_NAMES = [name for name, _, _ in INTERNAL_COLUMNS]


def _pipeline(max_bytes: int) -> _Pipeline:
    """The audit's own per-process checking step around this worker's process-wide Checker.

    Never pickled from the driver: :func:`tbs_doccheck.get_checker` builds it in this process, or the
    daemon this worker was forked from built it already (:mod:`tbs_doccheck.spark.daemon`). Spark reuses
    a Python worker for task after task (``spark.python.worker.reuse``), so it is built once per worker.
    """
    from tbs_doccheck.checker.core import get_checker

    return _Pipeline(get_checker(), max_bytes)


def _text(value: Any) -> str | None:
    """A row's text: pandas hands a null as None or NaN, and the column arrives as UTF-8 bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        # Spark strings are not checked for valid UTF-8 (a cast from binary keeps any bytes): never fail the task.
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return None


def _row_input(report_id: str | None, text: str | None, max_chars: int) -> ReportInput:
    """A table row as the checker's input: a null, blank or oversized text is an error, named without quoting it."""
    rid = report_id if report_id is not None else ""
    where = f"row {utf8_safe(report_id)!r}" if report_id is not None else "row (null id)"
    problem: tuple[ErrorCode, str] | None = None
    if text is None:
        problem = (ErrorCode.EMPTY, "has no text (null)")
    elif len(text) > max_chars:
        problem = (ErrorCode.TOO_LARGE, f"is {len(text):,} characters, over the {max_chars:,}-character limit")
    elif not text.strip():
        problem = (ErrorCode.EMPTY, "has no text (expected report text)")
    if problem is not None:
        return ReportInput(id=rid, error=ReadError(code=problem[0], message=f"{where}: {problem[1]}"))
    return ReportInput(id=rid, text=text)


def _frame(rows: list[dict[str, Any]], names: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=names)


def check_text_batches(
    batches: Iterator[pd.DataFrame], *, max_chars: int, with_html: bool = False
) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` body of :func:`tbs_doccheck.spark.check_dataframe`: batches of ``id``/``text`` rows.

    Args:
        batches: Arrow batches as pandas frames with ``id`` (string) and ``text`` (UTF-8 bytes) columns,
            plus ``seq`` when ``with_html``.
        max_chars: Texts longer than this become E004 error rows.
        with_html: Also give the audit's internal columns (``seq``, ``ordinal``, ``html``).

    Yields:
        One frame of result rows per batch, one row per input row, in input order.
    """
    pipeline = _pipeline(max_chars)
    names = [*_INTERNAL_NAMES, *_RESULT_NAMES] if with_html else _RESULT_NAMES
    for batch in batches:
        ids = [value if isinstance(value, str) else None for value in batch["id"]]
        texts = [_text(value) for value in batch["text"]]
        reports = [_row_input(rid, text, max_chars) for rid, text in zip(ids, texts, strict=True)]
        rows = []
        for n, (report, result) in enumerate(zip(reports, pipeline._check(reports), strict=True)):
            row = result_row(result, _json_text(result.model_dump(mode="json")))
            row["id"] = utf8_safe(ids[n])  # the input's id as given: null stays null
            if with_html:
                html = pipeline._section(result, report.text)
                row.update(seq=int(batch["seq"].iat[n]), ordinal=0, html=html.encode("utf-8", "replace"))
            rows.append(row)
        yield _frame(rows, names)


def check_file_batches(batches: Iterator[pd.DataFrame], *, max_bytes: int) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` body of ``audit --engine spark``: batches of files in, one row per report out.

    Args:
        batches: Frames with ``seq`` (the file's index in path order), ``source`` (its path as
            ``os.fsencode`` bytes, so a name that is not UTF-8 survives) and ``content`` (the bytes
            ``binaryFile`` read, or null for a file the driver left to :func:`read_path`).
        max_bytes: Files larger than this are E004 error rows.

    Yields:
        One frame of rows per batch: the internal columns, then the audit table's columns.
    """
    pipeline = _pipeline(max_bytes)
    for batch in batches:
        sources = [os.fsdecode(bytes(value)) for value in batch["source"]]
        per_file = []
        for source, content in zip(sources, batch["content"], strict=True):
            if isinstance(content, (bytes, bytearray, memoryview)):
                per_file.append(read_content(source, bytes(content), max_bytes=max_bytes))
            else:
                per_file.append(read_path(source, max_bytes=max_bytes))
        results = pipeline._check([report for reports in per_file for report in reports])
        rows = []
        for seq, reports in zip(batch["seq"], per_file, strict=True):
            for ordinal, report in enumerate(reports):
                result = next(results)
                row = result_row(result, _json_text(result.model_dump(mode="json")))
                html = pipeline._section(result, report.text)
                row.update(
                    seq=int(seq), ordinal=ordinal, html=html.encode("utf-8", "replace"),
                    source=utf8_safe(result.source), position=result.position,
                )
                rows.append(row)
        yield _frame(rows, [*_INTERNAL_NAMES, *_AUDIT_NAMES])
