"""The ``audit`` command: a folder of reports in, resumable evidence outputs (JSONL, CSV, summary, HTML) out."""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Self

from pydantic import BaseModel, Field, ValidationError

from tbs_doccheck.models import ELEMENT_IDS, CheckResult, ElementId, ErrorCode, ReadError, ReportInput
from tbs_doccheck.readers.core import DEFAULT_MAX_BYTES, discover_sources, path_order, read_path
from tbs_doccheck.render import html as report_html
from tbs_doccheck.render.tabular import CSV_COLUMNS, csv_row

if TYPE_CHECKING:
    from tbs_doccheck.checker.core import Checker

__all__ = ["AuditError", "AuditSummary", "SignerStats", "run_audit"]

log = logging.getLogger("tbs_doccheck.audit.run")

#: The files an audit leaves in its output folder.
OUTPUT_NAMES = ("results.jsonl", "results.csv", "summary.json", "report.html")
#: Results of the run in progress, one line per finished input file; removed once the outputs are written.
JOURNAL_NAME = ".journal.jsonl"
# Every temporary file starts with this, so a run can sweep up what a killed run left.
_TMP_PREFIX = ".audit-tmp-"
_JOURNAL_FORMAT = 2  # 2: results stored as their JSON Lines text
# Every record line starts so (json.dumps keeps key order), which lets a scan read the
# source without parsing the whole line.
_RECORD_START = b'{"source": "'

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


def _load_result(line: str) -> CheckResult:
    try:
        return CheckResult.model_validate_json(line)  # the fast path
    except ValidationError:
        # pydantic's JSON parser refuses lone-surrogate escapes that json reads back fine.
        return CheckResult.model_validate(json.loads(line))


class AuditError(Exception):
    """The audit could not run at all (bad output folder, nothing to read...)."""


class SignerStats(BaseModel):
    """How one signer's reports fared."""

    reports: int = 0
    failed: int = 0


class AuditSummary(BaseModel):
    """Totals of one audit, as written to ``summary.json``."""

    paths: list[str]
    out_dir: str
    files: int = Field(description="Input files read (supported types, including unreadable ones)")
    reports: int = Field(description="Results: one per report, so a file holding several counts several times")
    passed: int
    failed: int
    errors: int
    pass_rate: float | None = Field(description="passed / reports (unreadable reports count as not passing)")
    missing_by_element: dict[ElementId, int] = Field(description="Failed reports missing each element")
    errors_by_code: dict[str, int]
    skipped: list[str] = Field(description="Files passed over: not a supported report type, or an audit's own output")
    by_signer: dict[str, SignerStats] = Field(description="Readable reports per signer, most failures first")
    versions: dict[str, str]
    workers: int
    resumed: bool
    resumed_files: int = Field(description="Files whose results came from the journal of an earlier, interrupted run")
    started_at: str
    finished_at: str
    elapsed_seconds: float = Field(description="Wall time of this run (not of an interrupted earlier one)")
    files_per_second: float | None = Field(description="Files checked by this run per second of its wall time")


# --------------------------------------------------------------------------- workers


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


# --------------------------------------------------------------------------- journal


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


# --------------------------------------------------------------------------- outputs


class _Tally:
    """The summary's counters: everything the summary needs, nothing per report."""

    def __init__(self) -> None:
        self.verdicts: Counter[str] = Counter()
        self.missing: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.signers: dict[str, SignerStats] = {}

    def add(self, result: CheckResult) -> None:
        self.verdicts[result.verdict] += 1
        if result.verdict == "error":
            self.errors[result.error_code.value if result.error_code else "unknown"] += 1
            return
        self.missing.update(result.missing)
        name = "(no signer found)"
        if result.signer:
            name = result.signer.name + (f", {result.signer.credential}" if result.signer.credential else "")
        stats = self.signers.setdefault(name, SignerStats())
        stats.reports += 1
        stats.failed += result.verdict == "fail"


def _tmp_path(out_dir: Path, name: str) -> Path:
    return out_dir / f"{_TMP_PREFIX}{os.getpid()}-{name}"


def _sweep_tmp(out_dir: Path) -> None:
    """Removes temporary files a killed run left (a normal run removes its own)."""
    for leftover in out_dir.glob(f"{_TMP_PREFIX}*"):
        leftover.unlink(missing_ok=True)


@contextmanager
def _temp_files(out_dir: Path, names: Iterable[str]) -> Iterator[dict[str, Path]]:
    """Temporary paths in ``out_dir``, deleted on the way out whatever happens."""
    paths = {name: _tmp_path(out_dir, name) for name in names}
    try:
        yield paths
    finally:
        for path in paths.values():
            path.unlink(missing_ok=True)


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


class _Outputs:
    """The four outputs, written record by record into temporary files and renamed into place at the end.

    A context manager: on the way out the temporary files are deleted whatever happened, so a
    failed run leaves only its journal (and :meth:`finish` has renamed them on success).
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.tally = _Tally()
        self._stack = ExitStack()

    def __enter__(self) -> Self:
        stack = self._stack
        try:
            self.tmp = stack.enter_context(_temp_files(self.out_dir, ("sections.html", *OUTPUT_NAMES)))
            self.jsonl = stack.enter_context(open(self.tmp["results.jsonl"], "w", encoding="utf-8"))
            # A byte-order mark is how Excel knows the file is UTF-8 (accented names stay intact);
            # CRLF rows (the csv default) are what RFC 4180 and spreadsheets expect.
            # errors="replace": a file name that is not UTF-8 shows as "?" in the CSV and the page
            # (results.jsonl keeps it exactly, as \u escapes) instead of stopping the audit.
            self.csv_file = stack.enter_context(
                open(self.tmp["results.csv"], "w", encoding="utf-8-sig", errors="replace", newline="")
            )
            self.sections = stack.enter_context(
                open(self.tmp["sections.html"], "w+", encoding="utf-8", errors="replace")
            )
        except BaseException:
            stack.close()
            raise
        self.writer = csv.writer(self.csv_file)
        self.writer.writerow(CSV_COLUMNS)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def add(self, record: dict[str, Any]) -> None:
        """Write one journal record's results (one file's reports)."""
        for line, html in zip(record["results"], record["html"], strict=True):
            result = _load_result(line)
            self.jsonl.write(line + "\n")
            self.writer.writerow(csv_row(result))
            self.sections.write(html)
            self.tally.add(result)

    def finish(self, make_summary: Callable[[_Tally], AuditSummary]) -> AuditSummary:
        """Write the page and the summary, then move all four outputs into place."""
        summary = make_summary(self.tally)
        self.sections.seek(0)
        with open(self.tmp["report.html"], "w", encoding="utf-8", errors="replace") as page:
            report_html.write_document(page, summary, self.sections)
            _sync(page)
        with open(self.tmp["summary.json"], "w", encoding="utf-8") as fh:
            fh.write(_json_text(summary.model_dump(mode="json"), indent=2) + "\n")
            _sync(fh)
        for fh in (self.jsonl, self.csv_file):
            _sync(fh)
        for name in OUTPUT_NAMES:
            os.replace(self.tmp[name], self.out_dir / name)
        return summary


def _write_outputs(
    outputs: _Outputs,
    journal: Path | None,
    order: Sequence[str],
    make_summary: Callable[[_Tally], AuditSummary],
    on_file: Callable[[], None],
) -> AuditSummary:
    """Completes ``outputs`` and returns the summary.

    ``journal`` is where the results are read from first (after a resume); None when they were
    added as files finished.
    """
    if journal is not None:
        for record in _journal_records(journal, order):
            outputs.add(record)
            on_file()
    return outputs.finish(make_summary)


# --------------------------------------------------------------------------- progress


class _Progress:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self._bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )

    def __enter__(self) -> Self:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def task(self, description: str, total: int, completed: int = 0) -> Callable[[int], None]:
        """Adds a bar; returns the function that advances it."""
        if self._bar is None:
            return lambda n=1: None
        bar = self._bar
        task_id = bar.add_task(description, total=total, completed=completed)
        return lambda n=1: bar.advance(task_id, n)


# --------------------------------------------------------------------------- the run


def _is_audit_output(source: str, out_dir: Path) -> bool:
    """Whether ``source`` is an output of this or an earlier audit, not a report."""
    if os.path.basename(source) not in OUTPUT_NAMES:
        return False
    folder = Path(source).parent
    return os.path.abspath(folder) == os.path.abspath(out_dir) or (folder / "results.jsonl").is_file()


def run_audit(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    workers: int = 1,
    resume: bool = False,
    progress: bool | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> AuditSummary:
    """Checks every report under ``paths`` and writes the audit outputs into ``out_dir``.

    Results are appended to ``out_dir/.journal.jsonl`` as files finish (fsync'd per
    task). ``results.jsonl``, ``results.csv``, ``report.html`` and ``summary.json`` are
    written in path order, each through a temporary file renamed into place at the end:
    as files finish, or, after a resume, from the journal once all are done. Then the
    journal is removed. Memory holds counters (and, after a resume whose folder changed,
    one journal offset per file), never the results.

    Args:
        paths: Files and/or folders (walked recursively).
        out_dir: Output folder, created if missing. Audit outputs found among the inputs
            (``summary.json`` of this or an earlier audit) are skipped, not audited.
        workers: Processes checking reports; each loads the checker once.
        resume: Continue an interrupted audit into the same ``out_dir``: files already in
            its journal are not checked again.
        progress: Show a progress bar on stderr; None shows one when stderr is a terminal.
        max_bytes: Files larger than this are reported as E004 without being read.

    Returns:
        The summary also written to ``summary.json``.

    Raises:
        AuditError: ``out_dir`` cannot be used, or no supported file was found.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # a lone path would otherwise be taken character by character
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    workers = max(1, workers)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(f"cannot use {out} as the output folder: {exc.strerror or type(exc).__name__}") from None
    _sweep_tmp(out)

    # Strings, not Paths: an audit of 20,000 files would otherwise hold ~8 MB of Path objects.
    supported, skipped = discover_sources(paths)
    ours = [p for p in supported if _is_audit_output(p, out)]
    if ours:
        # An audit's summary.json would otherwise be "audited" as a broken FHIR file.
        log.info("%d audit output files among the inputs are not audited", len(ours))
        supported = [p for p in supported if not _is_audit_output(p, out)]
        skipped = sorted([*skipped, *ours], key=path_order)
    if not supported:
        raise AuditError("no supported report files found in the given paths")
    order = supported

    from tbs_doccheck._version import __version__
    from tbs_doccheck.checker.patterns import load_patterns

    versions = {"tool_version": __version__, "patterns_version": load_patterns().manifest.version}
    journal_path = out / JOURNAL_NAME
    journal, done = _open_journal(journal_path, resume, _journal_header(versions, max_bytes))
    todo = [source for source in order if source not in done]
    resumed_files = len(order) - len(todo)
    del done
    log.info(
        "auditing %d files (%d skipped, %d already done) with %d worker(s)",
        len(order),
        len(skipped),
        resumed_files,
        workers,
    )

    # Without an earlier run's records the results arrive in path order, so the outputs are written as
    # files finish (with workers, the parent is otherwise idle meanwhile); after a resume they are
    # written from the journal once every file is done.
    streamed = resumed_files == 0
    show = sys.stderr.isatty() if progress is None else progress
    with journal, _Progress(show) as bar, _Outputs(out) as outputs:
        if todo:
            advance = bar.task("Checking", total=len(order), completed=resumed_files)
            with _processed(todo, workers, max_bytes) as batches:
                for lines in batches:
                    journal.writelines(lines)
                    _sync(journal)  # a kill now loses at most the task in flight
                    if streamed:
                        for line in lines:
                            outputs.add(json.loads(line))
                    advance(len(lines))

        def make_summary(tally: _Tally) -> AuditSummary:
            elapsed = time.monotonic() - started
            reports = sum(tally.verdicts.values())
            return AuditSummary(
                paths=[os.fspath(p) for p in paths],
                out_dir=os.fspath(out),
                files=len(order),
                reports=reports,
                passed=tally.verdicts["pass"],
                failed=tally.verdicts["fail"],
                errors=tally.verdicts["error"],
                pass_rate=round(tally.verdicts["pass"] / reports, 4) if reports else None,
                missing_by_element={e: tally.missing[e] for e in ELEMENT_IDS},
                errors_by_code=dict(tally.errors.most_common()),
                skipped=skipped,
                by_signer=dict(sorted(tally.signers.items(), key=lambda kv: (-kv[1].failed, -kv[1].reports, kv[0]))),
                versions=versions,
                workers=workers,
                resumed=resumed_files > 0,
                resumed_files=resumed_files,
                started_at=started_at,
                finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
                elapsed_seconds=round(elapsed, 3),
                files_per_second=round(len(todo) / elapsed, 2) if todo and elapsed > 0 else None,
            )

        if streamed:
            summary = _write_outputs(outputs, None, order, make_summary, lambda: None)
        else:
            advance = bar.task("Writing outputs", total=len(order))
            summary = _write_outputs(outputs, journal_path, order, make_summary, advance)
    journal_path.unlink()
    return summary


# --------------------------------------------------------------------------- CLI


