"""The SparkSession the CLI, the bench and the tests start: loopback only, no UI, quiet, this Python on the workers."""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["ARROW_BATCH_ROWS", "is_local", "local_cores", "start_session"]

#: Rows per Arrow batch handed to a Python worker. The checker takes a few milliseconds a report, so
#: per-batch costs vanish long before this; smaller batches bound a worker's memory when files are large.
ARROW_BATCH_ROWS = 256
# A batch is also cut at this many bytes (Spark 4): 256 reports of up to 5 MB must not arrive at once.
_ARROW_BATCH_BYTES = 64 * 1024 * 1024

_LOCAL = re.compile(r"local(\[(\d+|\*)(,\d+)?\])?")


def is_local(master: str) -> bool:
    """Whether ``master`` runs everything in this machine's JVM (``local``, ``local[N]``, ``local[*]``)."""
    return _LOCAL.fullmatch(master) is not None


def local_cores(master: str) -> int:
    """The cores a ``local`` master uses (``local`` is 1, ``local[*]`` all of this machine's)."""
    match = _LOCAL.fullmatch(master)
    if match is None:
        raise ValueError(f"not a local master: {master!r}")
    if match.group(2) is None:
        return 1
    if match.group(2) == "*":
        return os.cpu_count() or 1
    return int(match.group(2))


def start_session(master: str = "local[2]", app_name: str = "tbs-doccheck", log_level: str = "ERROR") -> SparkSession:
    """A SparkSession for ``master``, set up for checking reports.

    With a ``local`` master everything stays on this machine: the driver binds to 127.0.0.1, the web UI
    is off, and the Python workers run this very interpreter (Spark would otherwise start ``python3``
    from PATH, which may lack this package). With a cluster master the executors' own Python must have
    tbs-doccheck installed (README, Spark).

    Args:
        master: ``local[N]``, ``local[*]`` or a cluster URL (``spark://host:7077``, ``yarn``...).
        app_name: The application's name in Spark's logs.
        log_level: Spark's log level once started (``ERROR`` keeps the terminal quiet; Spark never logs
            report text, and the Python side never puts any in an exception).

    Returns:
        The session (``getOrCreate``: an active session in this process is reused as it is).

    Raises:
        ImportError: pyspark is not installed (``pip install 'tbs-doccheck[spark]'``).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - the extra is part of the dev install
        raise ImportError("the Spark engine needs pyspark: pip install 'tbs-doccheck[spark]'") from exc

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(_shuffle_partitions(master)))
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
        .config("spark.sql.execution.arrow.maxBytesPerBatch", str(_ARROW_BATCH_BYTES))
        # One Python worker per core, kept for task after task, each forked from a daemon that built the
        # checker first: a worker starts with it ready (tbs_doccheck.spark.daemon).
        .config("spark.python.worker.reuse", "true")
        .config("spark.python.daemon.module", "tbs_doccheck.spark.daemon")
    )
    if is_local(master):
        # Read when the JVM starts the worker daemon; the setting alone is not passed on in local mode.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        builder = (
            builder.config("spark.pyspark.python", sys.executable)
            .config("spark.pyspark.driver.python", sys.executable)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
        )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(log_level)
    return session


def _shuffle_partitions(master: str) -> int:
    # Spark's default of 200 shuffle partitions means 200 near-empty tasks for the audit's one small sort.
    return 2 * local_cores(master) if is_local(master) else 200
