"""The ``audit`` command: a folder audit with evidence outputs."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tbs_doccheck.audit import AuditError, AuditSummary, run_audit
from tbs_doccheck.cli.exit_codes import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_PASS, for_counts
from tbs_doccheck.readers import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    pass


def _summary_line(summary: AuditSummary) -> str:
    rate = f"{100 * summary.pass_rate:.1f}%" if summary.pass_rate is not None else "–"
    missing = ", ".join(f"{e} {n}" for e, n in summary.missing_by_element.items() if n) or "none"
    lines = [
        (
            f"{summary.reports} report(s) in {summary.files} file(s): {summary.passed} pass, "
            f"{summary.failed} fail, {summary.errors} error (pass rate {rate})"
        ),
        f"missing: {missing}",
        *([f"needs review: {summary.needs_review} report(s) (passes among them are not to be released unseen)"]
          if summary.needs_review else []),
    ]
    if summary.errors_by_code:
        lines.append("unreadable: " + ", ".join(f"{code} {n}" for code, n in summary.errors_by_code.items()))
    if summary.skipped:
        lines.append(f"skipped: {len(summary.skipped)} file(s) of other types")
    lines.append(f"outputs: {Path(summary.out_dir) / 'report.html'} (+ results.jsonl, results.csv, summary.json)")
    lines.append(f"took {summary.elapsed_seconds:.1f} s with {summary.workers} worker(s)")
    return "\n".join(lines)


def audit_command(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders (searched recursively).")],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output folder: results.jsonl, results.csv, summary.json, report.html."),
    ],
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Processes checking reports.")] = 1,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted audit into the same --out without redoing files.")
    ] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when reports fail or cannot be read.")
    ] = False,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=1, help="Files larger than this are reported as E004, not read.")
    ] = DEFAULT_MAX_BYTES,
) -> None:
    """Audit a folder of reports: evidence outputs in OUTDIR; exit 0 all pass, 1 some fail, 2 some unreadable."""
    try:
        summary = run_audit(paths, out, workers=workers, resume=resume, max_bytes=max_bytes)
    except AuditError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except BrokenProcessPool:
        typer.echo("error: a worker process died; finished files are kept: run again with --resume", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except OSError as exc:
        # The OS's words and the path only: never anything read from a report.
        typer.echo(
            f"error: {exc.strerror or type(exc).__name__}: {exc.filename or out}; "
            "finished files are kept: run again with --resume",
            err=True,
        )
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: finished files are kept: run again with --resume", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    typer.echo(_summary_line(summary))
    code = for_counts(reports=summary.reports, failed=summary.failed, errors=summary.errors)
    raise typer.Exit(EXIT_PASS if exit_zero else code)
