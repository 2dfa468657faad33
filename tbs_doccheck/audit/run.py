"""The ``audit`` command: a folder of reports in, resumable evidence outputs (JSONL, CSV, summary, HTML) out."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO

from tbs_doccheck.audit.errors import AuditError
from tbs_doccheck.audit.journal import JOURNAL_NAME, _journal_header, _open_journal, _sync
from tbs_doccheck.audit.outputs import OUTPUT_NAMES, _Outputs, _sweep_tmp, _Tally, _write_outputs
from tbs_doccheck.audit.progress import _Progress
from tbs_doccheck.audit.workers import _processed
from tbs_doccheck.models import ELEMENT_IDS, AuditSummary
from tbs_doccheck.readers import DEFAULT_MAX_BYTES, discover_sources, path_order

__all__ = ["run_audit"]

# Named as before the audit was split into modules, so its log lines (and any filter on the name) stay as they were.
log = logging.getLogger("tbs_doccheck.audit.run")


def _is_audit_output(source: str, out_dir: Path) -> bool:
    """Whether ``source`` is an output of this or an earlier audit, not a report."""
    if os.path.basename(source) not in OUTPUT_NAMES:
        return False
    folder = Path(source).parent
    return os.path.abspath(folder) == os.path.abspath(out_dir) or (folder / "results.jsonl").is_file()


@dataclass(frozen=True)
class _Plan:
    """What one run audits and how, settled before the first file is checked."""

    paths: Sequence[str | os.PathLike[str]]
    out: Path
    order: list[str]
    skipped: list[str]
    todo: list[str]
    versions: dict[str, str]
    workers: int
    started: float
    started_at: str

    @property
    def journal_path(self) -> Path:
        """Where the run's journal is."""
        return self.out / JOURNAL_NAME

    @property
    def resumed_files(self) -> int:
        """Files whose results are already in the journal of an earlier, interrupted run."""
        return len(self.order) - len(self.todo)


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
    plan, journal = _plan(paths, out_dir, max(1, workers), resume, max_bytes)
    # Without an earlier run's records the results arrive in path order, so the outputs are written as
    # files finish (with workers, the parent is otherwise idle meanwhile); after a resume they are
    # written from the journal once every file is done.
    streamed = plan.resumed_files == 0
    show = sys.stderr.isatty() if progress is None else progress
    with journal, _Progress(show) as bar, _Outputs(plan.out) as outputs:
        if plan.todo:
            _check_files(plan, journal, outputs if streamed else None, bar, max_bytes)
        summary = _finish_outputs(plan, outputs, None if streamed else plan.journal_path, bar)
    plan.journal_path.unlink()
    return summary


def _plan(
    paths: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], workers: int, resume: bool, max_bytes: int
) -> tuple[_Plan, IO[str]]:
    """Settles what the run audits, opening its journal last.

    Returns:
        The plan, and the open journal (the caller's with-block closes it). The journal's
        offset per file already done is dropped on return, before the long checking pass.

    Raises:
        AuditError: ``out_dir`` cannot be used, or no supported file was found.
    """
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    out = _output_folder(out_dir)
    order, skipped = _sources(paths, out)
    versions = _versions()
    journal, done = _open_journal(out / JOURNAL_NAME, resume, _journal_header(versions, max_bytes))
    todo = [source for source in order if source not in done]
    plan = _Plan(paths, out, order, skipped, todo, versions, workers, started, started_at)
    log.info(
        "auditing %d files (%d skipped, %d already done) with %d worker(s)",
        len(order),
        len(skipped),
        plan.resumed_files,
        workers,
    )
    return plan, journal


def _output_folder(out_dir: str | os.PathLike[str]) -> Path:
    """Creates the output folder if missing and sweeps up the temporary files a killed run left there.

    Raises:
        AuditError: The folder cannot be created.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(f"cannot use {out} as the output folder: {exc.strerror or type(exc).__name__}") from None
    _sweep_tmp(out)
    return out


def _sources(paths: Sequence[str | os.PathLike[str]], out: Path) -> tuple[list[str], list[str]]:
    """The files to audit, in path order, and the files passed over (audit outputs among them).

    Raises:
        AuditError: No supported file was found.
    """
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
    return supported, skipped


def _versions() -> dict[str, str]:
    """The tool and pattern versions the results depend on (a journal from other versions is not resumed)."""
    from tbs_doccheck._version import __version__
    from tbs_doccheck.checker.patterns import load_patterns

    return {"tool_version": __version__, "patterns_version": load_patterns().manifest.version}


def _check_files(plan: _Plan, journal: IO[str], outputs: _Outputs | None, bar: _Progress, max_bytes: int) -> None:
    """Checks the files still to do, appending each task's lines to the journal as it finishes.

    Args:
        plan: The run.
        journal: The open journal.
        outputs: Where each file's results also go as it finishes; None after a resume, when the
            outputs are written from the journal at the end.
        bar: The progress display.
        max_bytes: Files larger than this are reported as E004 without being read.
    """
    advance = bar.task("Checking", total=len(plan.order), completed=plan.resumed_files)
    with _processed(plan.todo, plan.workers, max_bytes) as batches:
        for lines in batches:
            journal.writelines(lines)
            _sync(journal)  # a kill now loses at most the task in flight
            if outputs is not None:
                for line in lines:
                    outputs.add(json.loads(line))
            advance(len(lines))


def _finish_outputs(plan: _Plan, outputs: _Outputs, journal: Path | None, bar: _Progress) -> AuditSummary:
    """Completes the outputs, from ``journal`` when one is given (after a resume), and returns the summary."""
    make_summary = partial(_summarise, plan)
    if journal is None:
        return _write_outputs(outputs, None, plan.order, make_summary, lambda: None)
    advance = bar.task("Writing outputs", total=len(plan.order))
    return _write_outputs(outputs, journal, plan.order, make_summary, advance)


def _summarise(plan: _Plan, tally: _Tally) -> AuditSummary:
    """The summary of the run from its counters, timed at the moment it is called."""
    elapsed = time.monotonic() - plan.started
    reports = sum(tally.verdicts.values())
    return AuditSummary(
        paths=[os.fspath(p) for p in plan.paths],
        out_dir=os.fspath(plan.out),
        files=len(plan.order),
        reports=reports,
        passed=tally.verdicts["pass"],
        failed=tally.verdicts["fail"],
        errors=tally.verdicts["error"],
        needs_review=tally.needs_review,
        flags_by_id=dict(sorted(tally.flags.items())),
        pass_rate=round(tally.verdicts["pass"] / reports, 4) if reports else None,
        missing_by_element={e: tally.missing[e] for e in ELEMENT_IDS},
        errors_by_code=dict(tally.errors.most_common()),
        skipped=plan.skipped,
        by_signer=dict(sorted(tally.signers.items(), key=lambda kv: (-kv[1].failed, -kv[1].reports, kv[0]))),
        versions=plan.versions,
        workers=plan.workers,
        resumed=plan.resumed_files > 0,
        resumed_files=plan.resumed_files,
        started_at=plan.started_at,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        elapsed_seconds=round(elapsed, 3),
        files_per_second=round(len(plan.todo) / elapsed, 2) if plan.todo and elapsed > 0 else None,
    )
