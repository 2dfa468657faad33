"""Spark's Python worker daemon, with the checker built before it forks workers (as the audit's fork server does)."""

from __future__ import annotations

import gc


def main() -> None:
    """Builds the process-wide checker, then runs PySpark's own daemon, which forks each Python worker from here.

    Every worker then starts with the checker ready instead of importing spaCy and building its own
    (seconds per worker). Started by the JVM as ``python -m tbs_doccheck.spark.daemon`` when the
    session sets ``spark.python.daemon.module`` (:func:`tbs_doccheck.spark.start_session` does).
    """
    from pyspark import daemon

    from tbs_doccheck.checker.core import get_checker

    get_checker()
    # Frozen objects are left out of later collections, so a worker's first full collection does not
    # write to (and so copy) every page of the checker it shares with this process.
    gc.collect()
    gc.freeze()
    daemon.manager()


if __name__ == "__main__":
    main()
