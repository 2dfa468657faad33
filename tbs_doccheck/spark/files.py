"""A folder audit's files as a Spark DataFrame: read by ``binaryFile`` where Spark can, by ``read_path`` otherwise."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tbs_doccheck.spark.reading import CONTENT_SUFFIXES
from tbs_doccheck.spark.schema import AUDIT_COLUMNS
from tbs_doccheck.spark.worker import INTERNAL_COLUMNS, check_file_batches

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["PARTITIONS_PER_CORE", "checked_files", "file_listing", "path_rows"]

log = logging.getLogger(__name__)

#: Tasks per core in each chunk's job: two, so a core that finishes early takes another share (the next
#: chunk's tasks queue behind), but few, since each Python task costs a tenth of a second or more to start.
PARTITIONS_PER_CORE = 2
# Fewer files than this per task and the task's own costs start to show.
_MIN_FILES_PER_TASK = 16
# Hadoop reads these as a glob pattern, so such a path would name other files, or none.
_GLOB_CHARS = frozenset("*?[]{}\\")
_LISTING_THRESHOLD = "spark.sql.sources.parallelPartitionDiscovery.threshold"

Item = tuple[int, str]  # (seq, source): a file's index in the audit's path order, and its path


@contextmanager
def file_listing(spark: SparkSession) -> Iterator[None]:
    """Spark set to look up explicitly named files on the driver, restored on the way out.

    Past 32 paths Spark lists them with a distributed job of one task per path: for thousands of
    files that alone takes longer than checking them, where the driver ``stat``-s them in a moment.
    """
    before = spark.conf.get(_LISTING_THRESHOLD, None)
    spark.conf.set(_LISTING_THRESHOLD, str(2**31 - 1))
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(_LISTING_THRESHOLD)
        else:
            spark.conf.set(_LISTING_THRESHOLD, before)


def checked_files(spark: SparkSession, items: list[Item], max_bytes: int, cores: int) -> DataFrame:
    """The results of the files ``items`` (lazy): one row per report, internal columns first.

    Args:
        spark: The session.
        items: ``(seq, source)`` of each file, ``seq`` being its index in the audit's path order.
        max_bytes: Files larger than this are E004 error rows.
        cores: Cores the job runs on, for the number of tasks.
    """
    by_spark: list[tuple[int, str, str]] = []
    by_path: list[Item] = []
    for seq, source in items:
        absolute = _spark_readable(source, max_bytes)
        if absolute is None:
            by_path.append((seq, source))
        else:
            by_spark.append((seq, source, absolute))
    inputs = None
    if by_spark:
        inputs, left = _content_rows(spark, by_spark, max_bytes)
        by_path = sorted([*by_path, *left])
    if by_path:
        log.info("%d files are read by read_path on the executors, not by binaryFile", len(by_path))
        rows = path_rows(spark, by_path)
        inputs = rows if inputs is None else inputs.unionByName(rows)
    assert inputs is not None, "no files to check"
    tasks = max(1, min(cores * PARTITIONS_PER_CORE, len(items) // _MIN_FILES_PER_TASK))
    # Narrow: binaryFile's many small splits (and the read_path rows) are grouped into a few tasks per core.
    return check(inputs.coalesce(tasks), max_bytes)


def check(inputs: DataFrame, max_bytes: int) -> DataFrame:
    """``seq``/``source``/``content`` rows checked on the executors: the internal and audit columns."""
    ddl = ", ".join(f"`{name}` {kind}" for name, kind, _ in (*INTERNAL_COLUMNS, *AUDIT_COLUMNS))
    return inputs.mapInPandas(partial(check_file_batches, max_bytes=max_bytes), schema=ddl)


def path_rows(spark: SparkSession, items: list[Item]) -> DataFrame:
    """``seq``/``source`` rows without content: the executor reads each file with ``read_path``.

    The path travels as ``os.fsencode`` bytes: a name that is not UTF-8 cannot be a Spark string.
    """
    return spark.createDataFrame(
        [(seq, os.fsencode(source), None) for seq, source in items], "seq bigint, source binary, content binary"
    )


def _spark_readable(source: str, max_bytes: int) -> str | None:
    """The absolute path of ``source`` when Spark's ``binaryFile`` source can read it as given, else None.

    None for what Spark would skip or misread (names starting with ``_`` or ``.``, glob characters,
    names that are not UTF-8 or hold control characters), for formats :mod:`tbs_doccheck.spark.reading`
    does not parse, and for what ``read_path`` must name: missing, not a regular file, over ``max_bytes``,
    and empty (Spark plans no split for an empty file, so ``binaryFile`` never returns one).
    """
    if os.path.basename(source).startswith(("_", ".")) or Path(source).suffix.lower() not in CONTENT_SUFFIXES:
        return None
    absolute = os.path.abspath(source)
    if not absolute.isprintable() or not _GLOB_CHARS.isdisjoint(absolute):
        return None
    try:
        absolute.encode("utf-8")
        info = os.stat(source)
    except (UnicodeEncodeError, OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode) or not 0 < info.st_size <= max_bytes:
        return None
    return absolute


def _content_rows(
    spark: SparkSession, files: list[tuple[int, str, str]], max_bytes: int
) -> tuple[DataFrame | None, list[Item]]:
    """``seq``/``source``/``content`` rows read by ``binaryFile``, and the files it did not list.

    Returns:
        The rows (None when Spark cannot take the paths at all), and the files left to ``read_path``.
    """
    from pyspark.sql import functions as F

    reader = (
        spark.read.format("binaryFile")
        # A file removed or made unreadable after the listing is dropped, not a failed job: it is then
        # missing from the results and read again through read_path, which names the problem.
        .option("ignoreMissingFiles", "true")
        .option("ignoreCorruptFiles", "true")
    )
    try:
        found = reader.load(["file:" + absolute for _, _, absolute in files])
        listed = {_local_path(uri) for uri in found.inputFiles()}
    except Exception as exc:  # noqa: BLE001 - e.g. a file removed since the listing: Spark refuses all paths
        log.warning("Spark could not list the files (%s): read_path reads them", type(exc).__name__)
        return None, [(seq, source) for seq, source, _ in files]
    left = [(seq, source) for seq, source, absolute in files if absolute not in listed]
    keys = spark.createDataFrame(
        [("file:" + absolute, seq, os.fsencode(source)) for seq, source, absolute in files if absolute in listed],
        "path string, seq bigint, source binary",
    )
    # Broadcast: the content stays where binaryFile read it; only the small path -> seq table travels.
    joined = found.filter(F.col("length") <= max_bytes).select("path", "content").join(F.broadcast(keys), "path")
    return joined.select("seq", "source", "content"), left


def _local_path(uri: str) -> str | None:
    """The local path of a ``file:`` URI as ``DataFrame.inputFiles`` spells it (percent-encoded)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(uri)
    return unquote(parts.path) if parts.scheme == "file" else None
