"""Spark results into the local audit's own writers (results.jsonl, .csv, summary.json, report.html) and Parquet."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from tbs_doccheck.audit.outputs import _Outputs, _Tally
from tbs_doccheck.audit.progress import _Progress
from tbs_doccheck.audit.run import _Plan, _summarise
from tbs_doccheck.models import AuditSummary
from tbs_doccheck.spark.schema import AUDIT_COLUMNS, RESULT_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["TABLE_NAME", "chunked", "write_chunks", "write_sorted"]

log = logging.getLogger(__name__)

#: The Parquet table of results beside the local audit's four outputs (a folder of Parquet files).
TABLE_NAME = "results.parquet"
# Written here first and moved into place with the other outputs, so a failed run leaves no half table.
_TMP_TABLE = ".spark-tmp-results.parquet"
# Chunks checked ahead of the one being written: the next one keeps every core busy while the driver
# writes, and the one after it fills the cores the next one's last tasks leave idle.
_CHUNKS_AHEAD = 2

Item = tuple[int, str]


def write_chunks(
    spark: SparkSession,
    chunks: Sequence[list[Item]],
    check: Callable[[list[Item]], DataFrame],
    redo: Callable[[list[Item]], DataFrame],
    plan: _Plan,
    progress: bool | None,
) -> AuditSummary:
    """Checks a folder chunk by chunk and writes each chunk's results while the next ones are checked.

    Each chunk (consecutive files of the path order) is a Spark job whose results come to the driver as
    Arrow; its rows go to the Parquet table and, file by file in path order, to the local audit's
    writers. Writing overlaps checking, as in the local audit, where the parent writes while workers check.

    Args:
        spark: The session.
        chunks: The files, ``(seq, source)``, in path order, cut into chunks.
        check: A chunk's results (lazy), internal columns first.
        redo: The results of files a chunk's job did not return (they went missing or unreadable after
            the listing: ``read_path`` names why).
        plan: The run.
        progress: Show progress on stderr; None shows it when stderr is a terminal.

    Returns:
        The summary also written to ``summary.json``.
    """
    tmp = _fresh(plan.out / _TMP_TABLE)
    group = f"tbs-doccheck-{uuid.uuid4().hex}"
    sc = spark.sparkContext

    def collect(chunk: list[Item]) -> pa.Table:
        # Runs in a pool thread: its jobs carry the run's group, so a failure elsewhere can cancel them.
        sc.setJobGroup(group, "tbs-doccheck audit", interruptOnCancel=True)
        started = time.monotonic()
        frame = check(chunk)
        planned = time.monotonic()
        table = frame.toArrow()
        log.debug("a chunk of %d files: planned in %.2f s, checked in %.2f s", len(chunk), planned - started,
                  time.monotonic() - planned)
        return table

    show = sys.stderr.isatty() if progress is None else progress
    pool = ThreadPoolExecutor(max_workers=_CHUNKS_AHEAD, thread_name_prefix="tbs-spark-chunk")
    try:
        with _Progress(show) as bar, _Outputs(plan.out) as outputs:
            advance = bar.task("Checking on Spark", total=len(plan.order))
            waited = time.monotonic()
            for number, (chunk, table) in enumerate(_ahead(pool, collect, chunks)):
                wrote = time.monotonic()
                table = _complete(table, chunk, redo)
                _write_part(table, tmp, number, AUDIT_COLUMNS)
                _add_files(outputs, _columns(table), advance)
                log.debug("chunk %d of %d: %d files; waited %.2f s for Spark, wrote in %.2f s", number + 1,
                          len(chunks), len(chunk), wrote - waited, time.monotonic() - wrote)
                waited = time.monotonic()
            summary = outputs.finish(partial(_summarise, plan))
        _move(tmp, plan.out / TABLE_NAME)
        return summary
    except BaseException:
        sc.cancelJobGroup(group)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _ahead(
    pool: ThreadPoolExecutor, collect: Callable[[list[Item]], pa.Table], chunks: Sequence[list[Item]]
) -> Iterator[tuple[list[Item], pa.Table]]:
    """Each chunk with its results, in order, with up to ``_CHUNKS_AHEAD`` chunks computing meanwhile."""
    pending: deque[tuple[list[Item], Future[pa.Table]]] = deque()
    upcoming = iter(chunks)
    for chunk in upcoming:
        pending.append((chunk, pool.submit(collect, chunk)))
        if len(pending) > _CHUNKS_AHEAD:
            break
    while pending:
        chunk, future = pending.popleft()
        table = future.result()
        following = next(upcoming, None)
        if following is not None:
            pending.append((following, pool.submit(collect, following)))
        yield chunk, table


def _complete(table: pa.Table, chunk: list[Item], redo: Callable[[list[Item]], DataFrame]) -> pa.Table:
    """The chunk's rows in path order, with the files Spark did not return checked again (every file once)."""
    import pyarrow as pa

    present = set(table.column("seq").to_pylist())
    missing = [item for item in chunk if item[0] not in present]
    if missing:
        log.warning("%d files were not returned by Spark's file source: read again", len(missing))
        table = pa.concat_tables([table, redo(missing).toArrow()])
    return table.sort_by([("seq", "ascending"), ("ordinal", "ascending")])


def _columns(table: pa.Table) -> Iterator[tuple[int, str, bytes]]:
    return zip(
        table.column("seq").to_pylist(),
        table.column("result_json").to_pylist(),
        table.column("html").to_pylist(),
        strict=True,
    )


def _add_files(outputs: _Outputs, rows: Iterable[tuple[int, str, bytes]], advance: Callable[[int], None]) -> int:
    """Hands each input's rows (consecutive, same ``seq``) to the local audit's writers; returns the inputs."""
    inputs = 0
    for _seq, group in groupby(rows, key=lambda row: row[0]):
        reports = list(group)
        # The same record the local audit's workers journal: its results' JSON lines and report.html lines.
        outputs.add({"results": [row[1] for row in reports], "html": [row[2].decode("utf-8") for row in reports]})
        inputs += 1
        advance(1)
    return inputs


def _write_part(table: pa.Table, folder: Path, number: int, columns: Sequence[tuple[str, str, str]]) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table.select([name for name, _, _ in columns]), folder / f"part-{number:05d}.parquet")


def write_sorted(spark: SparkSession, results: DataFrame, plan: _Plan, progress: bool | None) -> AuditSummary:
    """Writes a table audit: the Parquet table from the executors, then the local outputs in ``seq`` order.

    A table can hold any number of rows in one file, so instead of chunks the results are kept on the
    executors' disks, written as Parquet there, and streamed to the driver a partition at a time.

    Args:
        spark: The session.
        results: One row per input row, internal columns first (lazy); ``seq`` orders them.
        plan: The run (its ``order`` is empty: the summary counts rows as files).
        progress: Show progress on stderr; None shows it when stderr is a terminal.
    """
    from pyspark import StorageLevel

    tmp = _fresh(plan.out / _TMP_TABLE, create=False)
    # On disk, not in memory: read twice (the table, then the outputs), and larger than the heap at scale.
    results = results.persist(StorageLevel.DISK_ONLY)
    show = sys.stderr.isatty() if progress is None else progress
    try:
        with _Progress(show) as bar:
            results.select(*[f"`{name}`" for name, _, _ in RESULT_COLUMNS]).write.parquet(str(tmp))
            advance = bar.task("Writing outputs", total=results.count())
            ordered = results.select("seq", "result_json", "html").orderBy("seq")
            # A partition at a time, the next one fetched meanwhile: the driver never holds all the results.
            rows = ((row[0], row[1], bytes(row[2])) for row in ordered.toLocalIterator(prefetchPartitions=True))
            with _Outputs(plan.out) as outputs:
                inputs = _add_files(outputs, rows, advance)
                summary = outputs.finish(partial(_table_summary, plan, inputs))
        _move(tmp, plan.out / TABLE_NAME)
        return summary
    finally:
        results.unpersist()
        shutil.rmtree(tmp, ignore_errors=True)


def _table_summary(plan: _Plan, rows: int, tally: _Tally) -> AuditSummary:
    """The local audit's summary, a table's rows counting as its files."""
    summary = _summarise(plan, tally)
    rate = round(rows / summary.elapsed_seconds, 2) if rows and summary.elapsed_seconds > 0 else None
    return summary.model_copy(update={"files": rows, "files_per_second": rate})


def _fresh(path: Path, *, create: bool = True) -> Path:
    """``path`` emptied of what a killed run left there."""
    shutil.rmtree(path, ignore_errors=True)
    if create:
        path.mkdir()
    return path


def _move(tmp: Path, final: Path) -> None:
    """Puts the finished table in place of an earlier run's."""
    if final.is_dir() and not final.is_symlink():
        shutil.rmtree(final)
    else:
        final.unlink(missing_ok=True)
    os.replace(tmp, final)


def chunked(items: Sequence[Item], sizes: Sequence[int], cores: int) -> list[list[Item]]:
    """Consecutive files cut into chunks, each one Spark job whose results the driver collects at once.

    At most 2,000 files (or 16 MB of files) a chunk, more only on a cluster large enough to need them
    (32 files per core): a chunk's results pass through the JVM driver's heap in one piece, and chunks
    of 10,000 reports made a 1 GB heap collect garbage more than it worked (20,000 reports on
    ``local[2]``: 166 s against 70 s). At least two chunks, so the driver writes the first while the
    second is checked.

    Args:
        items: ``(seq, source)`` in path order.
        sizes: The files' sizes in bytes (0 when unknown).
        cores: Cores the jobs run on.
    """
    least = 32 * cores
    target = min(max(2_000, least), max(least, -(-len(items) // 2)))
    chunks: list[list[Item]] = [[]]
    size = 0
    for item, item_size in zip(items, sizes, strict=True):
        if len(chunks[-1]) >= target or (size >= 16 * 1024 * 1024 and len(chunks[-1]) >= least):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += item_size
    return chunks
