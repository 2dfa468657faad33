"""The worker processes: the fork-server pool that reads and checks files, a task at a time, in order."""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tbs_doccheck.audit.journal import _json_text
from tbs_doccheck.models import CheckResult, ErrorCode, ReadError, ReportInput
from tbs_doccheck.readers import read_path
from tbs_doccheck.render import html as report_html

if TYPE_CHECKING:
    from tbs_doccheck.checker.core import Checker

# Named as before the audit was split into modules, so its log lines (and any filter on the name) stay as they were.
log = logging.getLogger("tbs_doccheck.audit.run")

# Files per task handed to a worker: large enough to amortise the hand-over, small
# enough that the journal (fsync'd per task) loses little when the run is killed.
_FILES_PER_TASK = 8
# Tasks in flight per worker: keeps every worker busy while bounding what waits in memory.
_TASKS_IN_FLIGHT_PER_WORKER = 3
# Files a worker process checks before fresh ones take over. spaCy 3.7's vocabulary keeps every
# token string it has ever seen (``memory_zone`` needs spaCy 3.8, which medspaCy 1.3.1 excludes),
# so a worker's memory grows with the folder; a worker forked anew from the fork server starts
# from the built checker again, in milliseconds.
_FILES_PER_WORKER_LIFE = 2_000


class _Pipeline:
    """Reads and checks files; one per process, holding that process's Checker."""

    def __init__(self, checker: Checker, max_bytes: int) -> None:
        self.checker = checker
        self.max_bytes = max_bytes

    def run(self, sources: Sequence[str]) -> list[str]:
        """Journal lines, one per file of ``sources``, in order."""
        per_file = [read_path(source, max_bytes=self.max_bytes) for source in sources]
        results = self._check([report for reports in per_file for report in reports])
        lines = []
        for source, reports in zip(sources, per_file, strict=True):
            own = [next(results) for _ in reports]
            record = {
                "source": source,
                # Serialised here, in parallel, exactly as ``check --format jsonl`` writes them: the
                # final pass then copies each through and only has to validate it.
                "results": [_json_text(r.model_dump(mode="json")) for r in own],
                "html": [self._section(r, report.text) for r, report in zip(own, reports, strict=True)],
            }
            lines.append(_json_text(record) + "\n")
        return lines

    def _check(self, reports: list[ReportInput]) -> Iterator[CheckResult]:
        try:
            # check_many batches through nlp.pipe; a fault anywhere would lose the whole batch...
            return iter(list(self.checker.check_many(reports)))
        except Exception:  # noqa: BLE001 - "nothing lost" beats "fail fast" in an audit
            # ...so on a fault, go one report at a time and pin the fault on its report.
            return iter([self._check_one(report) for report in reports])

    def _check_one(self, report: ReportInput) -> CheckResult:
        try:
            return self.checker.check_input(report)
        except Exception as exc:  # noqa: BLE001 - becomes this report's E099 result
            # The type only: an exception's text may quote the report.
            log.error("internal error while checking %s (%s)", report.source, type(exc).__name__)
            problem = ReadError(
                code=ErrorCode.INTERNAL,
                message=f"{report.source}: internal error while checking ({type(exc).__name__})",
            )
            failed = ReportInput(id=report.id, source=report.source, position=report.position, error=problem)
            return self.checker.error_result(failed)

    @staticmethod
    def _section(result: CheckResult, text: str | None) -> str:
        try:
            return report_html.render_section(result, text)
        except Exception as exc:  # noqa: BLE001 - a rendering bug must not lose the result
            log.error("could not render %s for report.html (%s)", result.source, type(exc).__name__)
            return report_html.render_section(result, None)


_worker: _Pipeline | None = None


def _init_worker(max_bytes: int) -> None:
    """Sets up the worker process with its process-wide Checker."""
    global _worker
    # Ctrl-C goes to the whole process group; the parent alone decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from tbs_doccheck.checker.core import get_checker

    # Forked from the fork server, which built it already (``_prebuilt``); built here otherwise.
    _worker = _Pipeline(get_checker(), max_bytes)


def _run_in_worker(sources: list[str]) -> list[str]:
    assert _worker is not None, "worker not initialised"
    return _worker.run(sources)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _ordered(pool: _WorkerPools, tasks: Iterator[list[str]], window: int) -> Iterator[list[str]]:
    """Like ``pool.map`` but with at most ``window`` tasks submitted and unread at a time.

    ``Executor.map`` submits every task up front and ``Pool.imap`` queues them all and
    keeps finished results until their turn: either way memory grows with the folder.
    """
    pending: deque[Future[list[str]]] = deque()
    for task in tasks:
        pending.append(pool.submit(task))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: never a plain fork of this process.

    The parent may run threads (the progress display, a server's own), and forking a
    threaded process can deadlock the child. A fork server is a fresh, single-threaded
    process that imports the checker once and forks each worker from that, so workers
    start in a fraction of the time ``spawn`` takes (each ``spawn`` re-imports spaCy).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tbs_doccheck.audit.prebuilt"])
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


class _WorkerPools:
    """Worker processes that are replaced by fresh ones every ``tasks_per_pool`` tasks.

    ``ProcessPoolExecutor(max_tasks_per_child=...)`` would do this per process, but it can
    deadlock on Python 3.11 (cpython gh-115634). Here a whole pool retires at once: it
    finishes the tasks it was given and its workers exit before the next pool starts, so
    there are never more worker processes than ``workers`` (their finished results wait in
    their futures).
    """

    def __init__(self, workers: int, max_bytes: int, tasks_per_pool: int) -> None:
        self.workers = workers
        self.max_bytes = max_bytes
        self.tasks_per_pool = max(1, tasks_per_pool)
        self._pool: ProcessPoolExecutor | None = None
        self._submitted = 0

    def submit(self, task: list[str]) -> Future[list[str]]:
        """Hand ``task`` to the current pool, first replacing it when it has had its share."""
        if self._pool is None or self._submitted == self.tasks_per_pool:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=_worker_context(), initializer=_init_worker,
                initargs=(self.max_bytes,),
            )
            self._submitted = 0
        self._submitted += 1
        return self._pool.submit(_run_in_worker, task)

    def shutdown(self) -> None:
        """Stop the current pool, dropping tasks not yet started, and wait for its workers to exit."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _processed(todo: Sequence[str], workers: int, max_bytes: int) -> Iterator[Iterator[list[str]]]:
    """Journal lines for ``todo``, a task's worth at a time, in ``todo`` order."""
    tasks = _chunks(todo, _FILES_PER_TASK)
    if workers <= 1:
        from tbs_doccheck.checker.core import get_checker

        pipeline = _Pipeline(get_checker(), max_bytes)  # the process-wide one: built once per process
        yield (pipeline.run(task) for task in tasks)
        return
    pools = _WorkerPools(workers, max_bytes, workers * _FILES_PER_WORKER_LIFE // _FILES_PER_TASK)
    try:
        yield _ordered(pools, tasks, workers * _TASKS_IN_FLIGHT_PER_WORKER)
    finally:
        pools.shutdown()
