"""``audit --engine spark``: a folder (``binaryFile``) or a Parquet table checked on Spark, with the local outputs."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tbs_doccheck.audit.errors import AuditError
from tbs_doccheck.audit.run import _output_folder, _Plan, _sources, _versions
from tbs_doccheck.models import AuditSummary
from tbs_doccheck.readers import DEFAULT_MAX_BYTES
from tbs_doccheck.spark.dataframe import check_rows_for_audit
from tbs_doccheck.spark.files import check, checked_files, file_listing, path_rows
from tbs_doccheck.spark.session import is_local, local_cores, start_session
from tbs_doccheck.spark.writing import TABLE_NAME, chunked, write_chunks, write_sorted

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["TABLE_NAME", "run_spark_audit", "run_table_audit"]

log = logging.getLogger(__name__)


def run_spark_audit(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    master: str = "local[2]",
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: bool | None = None,
    session: SparkSession | None = None,
) -> AuditSummary:
    """Audits a folder on Spark: the same files, results and outputs as :func:`tbs_doccheck.audit.run_audit`.

    The driver lists the files as the local audit does. Spark's ``binaryFile`` source reads them on
    the executors, where the project's format readers turn the bytes into reports; a file Spark would
    not read as named (a name Hadoop takes for a glob, one starting with ``_``, one that is not UTF-8;
    a missing, empty, oversized or special file) goes to ``read_path`` on an executor instead, which
    names its problem with the local audit's code. Files missing from Spark's answer are read again
    the same way, so every file gives its rows exactly once.

    Args:
        paths: Files and/or folders (walked recursively), as for the local audit.
        out_dir: Output folder: ``results.jsonl``, ``results.csv``, ``summary.json`` and ``report.html``
            as the local audit writes them, and ``results.parquet`` (a folder of Parquet files).
        master: ``local[N]`` or a cluster URL; with a cluster, ``paths`` must be on a file system the
            executors mount at the same place.
        max_bytes: Files larger than this are reported as E004 without being read.
        progress: Show progress on stderr; None shows it when stderr is a terminal.
        session: A running session to use (and leave running); by default the active one, else one is
            started for ``master`` and stopped at the end.

    Returns:
        The summary also written to ``summary.json`` (``workers`` is the cores Spark runs tasks on).

    Raises:
        AuditError: ``out_dir`` cannot be used, or no supported file was found.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # a lone path would otherwise be taken character by character
    started, started_at = time.monotonic(), datetime.now(UTC).isoformat(timespec="seconds")
    out = _output_folder(out_dir)
    order, skipped = _sources(paths, out)
    versions = _versions()
    with _Session(session, master) as spark, file_listing(spark):
        cores = _cores(spark, master)
        plan = _Plan(paths, out, order, skipped, order, versions, cores, started, started_at)
        log.info("auditing %d files (%d skipped) on Spark (%s, %d cores)", len(order), len(skipped), master, cores)
        chunks = chunked(list(enumerate(order)), [_size(source) for source in order], cores)

        def redo(items: list[tuple[int, str]]):  # noqa: ANN202 - a DataFrame
            return check(path_rows(spark, items), max_bytes)

        return write_chunks(spark, chunks, lambda items: checked_files(spark, items, max_bytes, cores), redo, plan,
                            progress)


def run_table_audit(
    table: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    text_col: str = "text",
    id_col: str = "id",
    master: str = "local[2]",
    max_chars: int = DEFAULT_MAX_BYTES,
    progress: bool | None = None,
    session: SparkSession | None = None,
) -> AuditSummary:
    """Audits a Parquet table of notes on Spark, one report per row, with the local audit's outputs.

    Args:
        table: A Parquet file or folder (any path Spark reads: ``s3a://``, ``hdfs://``...). A Delta
            table (a ``_delta_log`` folder) is refused: read it with a Delta-enabled session and call
            :func:`tbs_doccheck.spark.check_dataframe`.
        out_dir: Output folder, as for :func:`run_spark_audit`; results come in the table's scan order.
        text_col: The report text column (string).
        id_col: The column identifying a row (any type, cast to string).
        master: ``local[N]`` or a cluster URL.
        max_chars: Longer texts are E004 error rows.
        progress: Show progress on stderr; None shows it when stderr is a terminal.
        session: As for :func:`run_spark_audit`.

    Returns:
        The summary also written to ``summary.json``; ``files`` counts the table's rows.

    Raises:
        AuditError: The table cannot be read or lacks a column, or ``out_dir`` cannot be used.
    """
    started, started_at = time.monotonic(), datetime.now(UTC).isoformat(timespec="seconds")
    location = os.fspath(table)
    if (Path(location) / "_delta_log").is_dir():
        raise AuditError(
            f"{location} is a Delta table: read it with a Delta-enabled SparkSession and call "
            "tbs_doccheck.spark.check_dataframe (pyspark does not bundle the Delta jars)"
        )
    out = _output_folder(out_dir)
    versions = _versions()
    with _Session(session, master) as spark:
        try:
            notes = spark.read.parquet(location)
            results = check_rows_for_audit(notes, text_col, id_col, max_chars=max_chars)
        except ValueError as exc:  # a missing or mistyped column: the message names columns, never content
            raise AuditError(f"{location}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException (no such path, not Parquet...)
            raise AuditError(f"cannot read {location} as a Parquet table ({type(exc).__name__})") from None
        plan = _Plan([location], out, [], [], [], versions, _cores(spark, master), started, started_at)
        return write_sorted(spark, results, plan, progress)


class _Session:
    """The given session, else the active one, else one started for ``master`` and stopped on the way out."""

    def __init__(self, session: SparkSession | None, master: str) -> None:
        self.given, self.master, self.started = session, master, None

    def __enter__(self) -> SparkSession:
        if self.given is not None:
            return self.given
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            # getOrCreate would hand it back anyway; it belongs to the caller, who stops it.
            if active.sparkContext.master != self.master:
                log.warning("using the running Spark session (%s), not %s", active.sparkContext.master, self.master)
            return active
        self.started = start_session(self.master, app_name="tbs-doccheck audit")
        return self.started

    def __exit__(self, *exc: object) -> None:
        if self.started is not None:
            self.started.stop()


def _cores(spark: SparkSession, master: str) -> int:
    """The cores the run's tasks run on: N for ``local[N]``, Spark's default parallelism on a cluster."""
    running = spark.sparkContext.master
    return local_cores(running) if is_local(running) else spark.sparkContext.defaultParallelism


def _size(source: str) -> int:
    try:
        return os.stat(source).st_size
    except (OSError, ValueError):
        return 0
